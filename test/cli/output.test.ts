/**
 * @module output.test — the command line as people (and programs) expect it: the version from
 * package.json, help with examples and defaults, a mistyped flag answered on stderr with a
 * pointer to --help, logs never on stdout (a `--json` reader gets only the JSON), colour only on
 * a terminal (a real pseudo-terminal from `script`) and never with NO_COLOR.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import { bin, projectRoot, runCli } from "./runCli.ts"

const packageJson = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { readonly version: string }

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-output-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("the command line's output", () => {
  it("--version prints the version of package.json", async () => {
    const result = await runCli(["--version"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.strictEqual(result.stdout.trim(), `fleet-rollback v${packageJson.version}`)
  })

  it("--help shows examples of the whole flow, and every command's help the defaults of --file, --out and --report", async () => {
    const top = await runCli(["--help"], { cwd: dir })
    assert.strictEqual(top.code, 0, top.stderr)
    assert.include(top.stdout, "EXAMPLES")
    for (const command of ["fleet-rollback demo", "fleet-rollback get --registry", "fleet-rollback choices", "fleet-rollback plan", "fleet-rollback run", "fleet-rollback undo"]) {
      assert.include(top.stdout, `  ${command}`)
    }
    const defaults: ReadonlyArray<readonly [string, string, string]> = [
      ["get", "--out", "(default: rollback.json)"],
      ["choices", "--file", "(default: rollback.json)"],
      ["plan", "--file", "(default: rollback.json)"],
      ["run", "--report", "(default: rollback-report.json)"],
      ["undo", "--report", "(default: rollback-report.json)"],
      ["undo", "--out", "(default: rollback-undo-report.json)"]
    ]
    const helps = await Promise.all(defaults.map(([command]) => runCli([command, "--help"], { cwd: dir })))
    for (const [i, [command, flag, shown]] of defaults.entries()) {
      const help = helps[i]!
      assert.strictEqual(help.code, 0, help.stderr)
      const line = help.stdout.split("\n").find((l) => l.trimStart().startsWith(`${flag} `))
      assert.isDefined(line, `${command} --help lists ${flag}:\n${help.stdout}`)
      assert.include(line, shown, `${command} --help: ${line}`)
    }
  })

  it("a mistyped flag: exit 2, the error, the usage line and where to find help on stderr, nothing on stdout", async () => {
    const result = await runCli(["plan", "--pointt", "2026-11-18"], { cwd: dir })
    assert.strictEqual(result.code, 2)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, "--pointt")
    assert.include(result.stderr, "Usage: fleet-rollback plan [flags]")
    assert.include(result.stderr, "Run `fleet-rollback plan --help`")
    assert.isBelow(result.stderr.trim().split("\n").length, 10, result.stderr)
  })

  it("get --json: a warning goes to stderr, stdout is exactly one JSON document", async () => {
    const registry = await startSandboxRegistry({ images: [{ repository: "shop/api", tag: "1-master", created: "2026-11-10T10:00:00Z" }] })
    try {
      // HOME is `dir`: a Docker config that is not one makes the registry credentials log a warning.
      mkdirSync(join(dir, ".docker"))
      writeFileSync(join(dir, ".docker", "config.json"), "[]")
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--json"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stderr, "is not a Docker client config")
      const printed = JSON.parse(result.stdout) as { readonly points: number }
      assert.strictEqual(printed.points, 1)
    } finally {
      await registry.stop()
    }
  })
})

/** Runs the bin with `env` as the whole environment: on a pseudo-terminal (`script`), or piped. */
const runOn = (terminal: "pty" | "pipe", args: ReadonlyArray<string>, cwd: string, env: Record<string, string>): Promise<{ code: number; output: string }> => {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`
  const [file, argv] = terminal === "pty"
    ? ["script", ["-qec", [process.execPath, bin, ...args].map(quote).join(" "), "/dev/null"]]
    : [process.execPath, [bin, ...args]]
  return new Promise((done) =>
    execFile(file, argv, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
    )
  )
}

describe("colour", () => {
  it("plan is coloured on a terminal, plain with NO_COLOR, plain when piped", async () => {
    const registry = await startSandboxRegistry({
      images: [
        { repository: "shop/api", tag: "99-master", created: "2026-11-18T10:00:00Z" },
        { repository: "shop/api", tag: "100-master", created: "2026-11-20T10:00:00Z" }
      ]
    })
    const marathon = await startMarathonSandbox({ deploymentMs: 50, apps: [sampleApp("/shop/api", `${new URL(registry.url).host}/shop/api:100-master`)] })
    try {
      const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--env", "master", "--no-cache"], { cwd: dir })
      assert.strictEqual(got.code, 0, got.stderr)
      const plan = ["plan", "--marathon", marathon.url, "--point", "2026-11-19"]
      // No NO_COLOR, no FORCE_COLOR inherited from the test runner: only what each case sets.
      const env = { PATH: process.env["PATH"] ?? "", HOME: dir, TERM: "xterm-256color", NODE_DISABLE_COMPILE_CACHE: "1" }
      const ansi = /\u001b\[[0-9;]*m/
      const terminal = await runOn("pty", plan, dir, env)
      assert.strictEqual(terminal.code, 0, terminal.output)
      assert.include(terminal.output, "99-master")
      assert.match(terminal.output, ansi, "a terminal gets colour")
      const noColor = await runOn("pty", plan, dir, { ...env, NO_COLOR: "1" })
      assert.strictEqual(noColor.code, 0, noColor.output)
      assert.include(noColor.output, "99-master")
      assert.notMatch(noColor.output, ansi, "NO_COLOR: no colour, even on a terminal")
      const piped = await runOn("pipe", plan, dir, env)
      assert.strictEqual(piped.code, 0, piped.output)
      assert.include(piped.output, "99-master")
      assert.notMatch(piped.output, ansi, "piped: no colour")
    } finally {
      await Promise.allSettled([registry.stop(), marathon.stop()])
    }
  })
})
