/**
 * @module output.test — the command line as people (and programs) expect it: the version from
 * package.json, help with examples and defaults, a mistyped flag answered on stderr with a
 * pointer to --help, logs never on stdout (a `--json` reader gets only the JSON).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { projectRoot, runCli } from "./runCli.ts"

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
