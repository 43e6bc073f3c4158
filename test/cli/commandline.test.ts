/**
 * @module test/cli/commandline — the command line around the commands: which config file is read
 * (`--config`, `$FLEET_ROLLBACK_CONFIG`, `./fleet-rollback.yaml`, `$XDG_CONFIG_HOME` or
 * `~/.config`, `/etc`) and that it says so on stderr; `NO_COLOR` only when not empty
 * (no-color.org), checked on a real pseudo-terminal (`script`); `--wizard` only where no fleet
 * changes; and the shipped completion files are what `--completions` prints today, and complete.
 */
import { execFile, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { configFileCandidates, findConfigFile } from "../../lib/cli/ConfigLookup.ts"
import { colourWanted } from "../../lib/cli/Output.ts"
import { COMPLETION_FILES, printedCompletions } from "../../scripts/generate-completions.ts"
import { bin, projectRoot, runCli } from "./runCli.ts"

const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-commandline-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let made = 0
const tmp = (): string => {
  const path = join(dir, String(made++))
  mkdirSync(path)
  return path
}

/** A config whose registry URL names where it came from: the error about it shows which file was read. */
const config = (path: string, name: string): string => {
  mkdirSync(join(path, ".."), { recursive: true })
  writeFileSync(path, `registry:\n  url: ftp://${name}.example\n`)
  return path
}

/** `get` with a config-supplied (bad) registry: reads the config, then stops with exit 2 before any request. */
const get = (cwd: string, env: Record<string, string> = {}, args: ReadonlyArray<string> = []) => runCli(["get", "--repo", "shop/api", ...args], { cwd, env })

describe("config file lookup", () => {
  it("the order: --config, FLEET_ROLLBACK_CONFIG, ./fleet-rollback.yaml, $XDG_CONFIG_HOME (else ~/.config)/fleet-rollback/config.yaml, /etc/fleet-rollback/config.yaml", () => {
    const paths = (flag: string | undefined, env: Record<string, string>) => configFileCandidates(flag, { env, homeDir: "/home/oncall" }).map((c) => `${c.path} (${c.source})`)
    assert.deepStrictEqual(paths("ops.yaml", { FLEET_ROLLBACK_CONFIG: "/srv/fr.yaml", XDG_CONFIG_HOME: "/xdg" }), [
      "ops.yaml (--config)",
      "/srv/fr.yaml (FLEET_ROLLBACK_CONFIG)",
      "fleet-rollback.yaml (working directory)",
      "/xdg/fleet-rollback/config.yaml (XDG_CONFIG_HOME)",
      "/etc/fleet-rollback/config.yaml (system)"
    ])
    // empty variables do not count
    assert.deepStrictEqual(paths(undefined, { FLEET_ROLLBACK_CONFIG: "", XDG_CONFIG_HOME: "" }), [
      "fleet-rollback.yaml (working directory)",
      "/home/oncall/.config/fleet-rollback/config.yaml (~/.config)",
      "/etc/fleet-rollback/config.yaml (system)"
    ])
  })

  it.effect("the first existing file wins; a named one is taken even when missing (reading it then fails); the system directory last", () =>
    Effect.gen(function*() {
      const existing = new Set(["/etc-test/config.yaml"])
      const exists = (path: string) => Effect.succeed(existing.has(path))
      const context = { env: {}, homeDir: "/home/oncall", systemDir: "/etc-test" }
      assert.strictEqual((yield* findConfigFile(undefined, context, exists))?.source, "system")
      existing.add("/home/oncall/.config/fleet-rollback/config.yaml")
      assert.strictEqual((yield* findConfigFile(undefined, context, exists))?.source, "~/.config")
      existing.add("fleet-rollback.yaml")
      assert.strictEqual((yield* findConfigFile(undefined, context, exists))?.source, "working directory")
      assert.deepInclude(yield* findConfigFile(undefined, { ...context, env: { FLEET_ROLLBACK_CONFIG: "/missing.yaml" } }, exists), { path: "/missing.yaml", explicit: true })
      assert.isUndefined(yield* findConfigFile(undefined, context, () => Effect.succeed(false)))
    }))

  it("the command line reads the first that applies and says which on stderr", async () => {
    const cwd = tmp()
    const xdg = join(cwd, "xdg")
    config(join(cwd, ".config/fleet-rollback/config.yaml"), "home-config")
    let result = await get(cwd)
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, `fleet-rollback: config file ${join(cwd, ".config/fleet-rollback/config.yaml")} (~/.config)`)
    assert.include(result.stderr, "ftp://home-config.example")

    config(join(xdg, "fleet-rollback/config.yaml"), "xdg")
    result = await get(cwd, { XDG_CONFIG_HOME: xdg })
    assert.include(result.stderr, `config file ${join(xdg, "fleet-rollback/config.yaml")} (XDG_CONFIG_HOME)`)
    assert.include(result.stderr, "ftp://xdg.example")

    config(join(cwd, "fleet-rollback.yaml"), "working-directory")
    result = await get(cwd, { XDG_CONFIG_HOME: xdg })
    assert.include(result.stderr, "config file fleet-rollback.yaml (working directory)")
    assert.include(result.stderr, "ftp://working-directory.example")

    const named = config(join(cwd, "named.yaml"), "named-by-variable")
    result = await get(cwd, { FLEET_ROLLBACK_CONFIG: named })
    assert.include(result.stderr, `config file ${named} (FLEET_ROLLBACK_CONFIG)`)
    assert.include(result.stderr, "ftp://named-by-variable.example")

    const flagged = config(join(cwd, "flag.yaml"), "named-by-flag")
    result = await get(cwd, { FLEET_ROLLBACK_CONFIG: named }, ["--config", flagged])
    assert.include(result.stderr, `config file ${flagged} (--config)`)
    assert.include(result.stderr, "ftp://named-by-flag.example")
  }, 60_000)

  it("a FLEET_ROLLBACK_CONFIG naming a missing file is bad input (exit 2) naming the variable, not a silent fallback", async () => {
    const cwd = tmp()
    config(join(cwd, "fleet-rollback.yaml"), "working-directory")
    const result = await get(cwd, { FLEET_ROLLBACK_CONFIG: join(cwd, "nope.yaml") })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, `cannot read the config file named by FLEET_ROLLBACK_CONFIG ${join(cwd, "nope.yaml")}`)
    assert.notInclude(result.stderr, "working-directory.example")
  })
})

/** Runs the demo on a pseudo-terminal (util-linux `script`), so stdout is a terminal. */
const demoOnTerminal = (noColor: string): Promise<string> =>
  new Promise((done, fail) => {
    const command = `'${process.execPath}' '${bin}' demo --deployment-ms 50`
    execFile("script", ["-qec", command, "/dev/null"], { cwd: tmp(), timeout: 120_000, env: { PATH: process.env["PATH"] ?? "", HOME: dir, NO_COLOR: noColor, NODE_DISABLE_COMPILE_CACHE: "1", TERM: "xterm" } }, (error, stdout) =>
      error === null ? done(stdout) : fail(new Error(`demo on a terminal failed: ${String(error)}\n${stdout}`))
    )
  })

describe("NO_COLOR", () => {
  it("counts only when set and not empty (no-color.org), and only on a terminal", () => {
    assert.isTrue(colourWanted(true, {}))
    assert.isTrue(colourWanted(true, { NO_COLOR: "" }))
    assert.isFalse(colourWanted(true, { NO_COLOR: "1" }))
    assert.isFalse(colourWanted(true, { NO_COLOR: "0" }))
    assert.isFalse(colourWanted(false, {}))
  })

  it("on a real terminal, the demo is coloured with NO_COLOR empty and plain with NO_COLOR=1", async () => {
    const coloured = await demoOnTerminal("")
    assert.include(coloured, "SUCCEEDED")
    assert.match(coloured, /\u001b\[\d+m/)
    const plain = await demoOnTerminal("1")
    assert.include(plain, "SUCCEEDED")
    assert.notMatch(plain, /\u001b\[\d+m/)
  }, 240_000)

  it("no command decides colour on its own (they all ask colourWanted)", () => {
    const grep = spawnSync("grep", ["-rn", "NO_COLOR", join(projectRoot, "lib/cli/commands")], { encoding: "utf8" })
    assert.strictEqual(grep.stdout, "", grep.stdout)
  })
})

describe("--wizard", () => {
  it("is not offered on run and undo (unknown flag, exit 2, not in their help), nor at the top", async () => {
    for (const command of [["run"], ["undo"], []]) {
      const result = await runCli([...command, "--wizard"], { cwd: tmp() })
      assert.strictEqual(result.code, 2, `${command.join(" ")}: ${result.stdout}${result.stderr}`)
      assert.include(result.stderr, "Unrecognized flag: --wizard")
      const help = await runCli([...command, "--help"], { cwd: tmp() })
      assert.notInclude(help.stdout, "--wizard", command.join(" "))
    }
  }, 60_000)

  it("is offered on get, choices, plan and demo (they change no fleet)", async () => {
    for (const command of ["get", "choices", "plan", "demo"]) {
      const help = await runCli([command, "--help"], { cwd: tmp() })
      assert.include(help.stdout, "--wizard", command)
    }
  }, 60_000)
})

describe("shell completions", () => {
  it("completions/ holds exactly what --completions prints for bash, zsh and fish (run `npm run completions` after changing a flag)", () => {
    for (const [shell, file] of COMPLETION_FILES) {
      assert.strictEqual(readFileSync(join(projectRoot, file), "utf8"), printedCompletions(shell), `${file} is stale: run npm run completions`)
    }
  }, 60_000)

  it("the bash file completes commands and flags in a real bash", () => {
    const complete = (line: string) => {
      const words = line.split(" ")
      const script = [
        `source '${join(projectRoot, "completions/fleet-rollback.bash")}'`,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}`,
        `_fleet_rollback fleet-rollback '${words.at(-1)}' '${words.at(-2)}'`,
        `printf '%s\\n' "\${COMPREPLY[@]}"`
      ].join("\n")
      const result = spawnSync("bash", ["-c", script], { encoding: "utf8" })
      assert.strictEqual(result.status, 0, result.stderr)
      return result.stdout.trim().split("\n")
    }
    assert.deepStrictEqual(complete("fleet-rollback pl"), ["plan"])
    assert.deepStrictEqual(complete("fleet-rollback get --reg"), ["--registry"])
    assert.include(complete("fleet-rollback run --"), "--point")
  })
})
