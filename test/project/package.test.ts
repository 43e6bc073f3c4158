/**
 * @module test/project/package — the package as a host gets it (the Ansible role installs the
 * `npm pack` tarball): packed (built by `prepack` in a temporary copy of the project), installed
 * into an empty prefix with its production dependencies and without a warning, holding only what
 * runs (no tsx, esbuild, redis or type packages), and its `fleet-rollback` bin — the bundle —
 * runs the demo end to end. Its version is package.json's on every
 * way to start it, and a Node older than 22.19 is told so plainly (exit 2) on every way too.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { parse as parseYaml } from "yaml"
import { MINIMUM_NODE } from "../../scripts/supported-node.js"
import { projectRoot } from "../cli/runCli.ts"
import { oldNodeDir } from "../support/oldNode.ts"
import { packProject } from "../support/packedTarball.ts"

const packageJson = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { readonly version: string; readonly engines: { readonly node: string } }

/** The bin's shell line (`":" //; …; exec node <flag> "$0" "$@"`, a string and a comment to JavaScript). */
const BIN_SHELL_LINE = readFileSync(join(projectRoot, "scripts/fleet-rollback.js"), "utf8").split("\n")[1] ?? ""

/** The V8 flag the bin's shell line starts Node with. */
const BIN_V8_FLAG = /^":" \/\/; .*; exec node (\S+) "\$0" "\$@"$/.exec(BIN_SHELL_LINE)?.[1] ?? "(no flag on the bin's exec line)"

const run = (file: string, args: ReadonlyArray<string>, cwd: string, env: Readonly<Record<string, string>> = {}): Promise<{ code: number; stdout: string; output: string }> =>
  new Promise((done) =>
    execFile(file, args, { cwd, timeout: 240_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1", ...env } }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, output: stdout + stderr })
    )
  )

const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-pack-"))
/** The compile cache of the installed bin goes here, not into the user's ~/.cache. */
const env = { XDG_CACHE_HOME: join(dir, "cache") }
const installedBin = join(dir, "host/node_modules/.bin/fleet-rollback")
let installOutput = ""

beforeAll(async () => {
  const tarball = await packProject(dir)
  const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", join(dir, "host"), tarball], dir)
  installOutput = installed.output
}, 300_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("the packed package", () => {
  it("npm pack → npm install → the installed bin prints package.json's version and runs the demo", async () => {
    assert.isTrue(existsSync(installedBin), installOutput)
    const version = await run(installedBin, ["--version"], dir, env)
    assert.strictEqual(version.code, 0, version.output)
    assert.strictEqual(version.stdout.trim(), `fleet-rollback v${packageJson.version}`)
    const demo = await run(installedBin, ["demo", "--deployment-ms", "100"], dir, env)
    assert.strictEqual(demo.code, 0, demo.output)
    assert.include(demo.output, "SUCCEEDED: rolled back 3 app(s)")
    assert.isTrue(existsSync(join(dir, "cache/fleet-rollback/node-compile-cache")), "the bin keeps Node's compile cache under XDG_CACHE_HOME")
  }, 300_000)

  it("installs without a warning, and with only what runs: the bin is one bundle, the library needs effect, undici and yaml", () => {
    assert.isTrue(existsSync(installedBin), installOutput)
    assert.notMatch(installOutput, /npm (warn|WARN)|install script|allow-scripts|allowScripts/i, installOutput)
    const installed = readdirSync(join(dir, "host/node_modules")).flatMap((name) =>
      name.startsWith("@") ? readdirSync(join(dir, "host/node_modules", name)).map((scoped) => `${name}/${scoped}`) : [name]
    )
    for (const unwanted of ["tsx", "esbuild", "redis", "@redis/client", "@effect/platform-node", "@effect/platform-node-shared", "@types/node", "@types/ws", "typescript"]) {
      assert.notInclude(installed, unwanted, `${unwanted} is installed with the package: ${installed.join(", ")}`)
    }
    for (const needed of ["effect", "undici", "yaml"]) assert.include(installed, needed)
    const manifest = JSON.parse(readFileSync(join(dir, "host/node_modules/fleet-rollback/package.json"), "utf8")) as { dependencies: Record<string, string> }
    assert.deepStrictEqual(Object.keys(manifest.dependencies).sort(), ["effect", "undici", "yaml"])
  })

  it("under Deno, scripts/fleet-rollback.ts prints package.json's version", async () => {
    const deno = await run(join(projectRoot, "node_modules/.bin/deno"), ["run", "--no-remote", "-A", "scripts/fleet-rollback.ts", "--version"], projectRoot, { DENO_NO_UPDATE_CHECK: "1" })
    assert.strictEqual(deno.code, 0, deno.output)
    assert.strictEqual(deno.stdout.trim(), `fleet-rollback v${packageJson.version}`)
  }, 120_000)

  it("on a Node older than 22.19, every way to start it says what it found and what it needs, and exits 2", async () => {
    const old = oldNodeDir(join(dir, "old-node"))
    const path = { ...env, PATH: `${old.dir}:${process.env["PATH"] ?? ""}` }
    const ways: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
      ["the installed bin", installedBin, ["--version"]],
      ["node scripts/fleet-rollback.js in a checkout", "node", [join(projectRoot, "scripts/fleet-rollback.js"), "--version"]],
      ["tsx scripts/fleet-rollback.ts", "node", [join(projectRoot, "node_modules/tsx/dist/cli.mjs"), join(projectRoot, "scripts/fleet-rollback.ts"), "get", "--registry", "https://registry.example.com", "--repo", "shop/api"]]
    ]
    for (const [way, file, args] of ways) {
      const result = await run(file, args, dir, path)
      assert.strictEqual(result.code, 2, `${way}: ${result.output}`)
      assert.include(result.output, `fleet-rollback needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${old.version}`, way)
      assert.include(result.output, "put it first on the PATH", way)
      assert.notInclude(result.output, "internal error", way)
      // the hint about the checkout's own Node 24 only where there is a checkout
      if (way === "the installed bin") assert.notInclude(result.output, "In this checkout", way)
      else assert.include(result.output, "In this checkout", way)
    }
  }, 120_000)

  it("the bin starts Node with its young-generation cap (--max-semi-space-size): installed, in a checkout, and under BusyBox's sh", async () => {
    // A probe preloaded into the bin's own Node process records the flags that Node started with.
    const probe = join(dir, "probe.cjs")
    const seen = join(dir, "exec-argv.json")
    writeFileSync(probe, `require("node:fs").writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.execArgv))\n`)
    const flag = BIN_V8_FLAG
    const checkoutBin = join(projectRoot, "scripts/fleet-rollback.js")
    // /bin/sh is dash here; BusyBox's sh is Alpine's (node:*-alpine images, CI agents)
    const ways: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
      ["the installed bin", installedBin, []],
      ["scripts/fleet-rollback.js executed in a checkout", checkoutBin, []],
      ["the bin run by BusyBox's sh", "busybox", ["sh", installedBin]]
    ]
    for (const [way, file, before] of ways) {
      rmSync(seen, { force: true })
      const result = await run(file, [...before, "--version"], dir, { ...env, NODE_OPTIONS: `--require ${probe}`, PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` })
      assert.strictEqual(result.code, 0, `${way}: ${result.output}`)
      assert.strictEqual(result.stdout.trim(), `fleet-rollback v${packageJson.version}`, way)
      assert.deepStrictEqual(JSON.parse(readFileSync(seen, "utf8")), [flag], way)
    }
  }, 120_000)

  it("whatever starts the bin through node explicitly passes the bin's V8 flag too: npm run demo, npm run fleet-rollback, the Ansible role", () => {
    const scripts = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts
    assert.strictEqual(scripts["demo"], `node ${BIN_V8_FLAG} scripts/fleet-rollback.js demo`)
    assert.strictEqual(scripts["fleet-rollback"], `node ${BIN_V8_FLAG} scripts/fleet-rollback.js`)
    const roleVars = parseYaml(readFileSync(join(projectRoot, "ansible/roles/fleet_rollback/vars/main.yml"), "utf8")) as Record<string, unknown>
    assert.deepStrictEqual(roleVars["fleet_rollback_node_flags"], [BIN_V8_FLAG])
    const install = readFileSync(join(projectRoot, "ansible/roles/fleet_rollback/tasks/install.yml"), "utf8")
    // every command line the role builds around an explicit Node.js
    const explicitNode = install.split("\n").filter((line) => line.includes("fleet_rollback_argv:") && line.includes("fleet_rollback_node_path"))
    assert.lengthOf(explicitNode, 2)
    for (const line of explicitNode) assert.include(line, "[fleet_rollback_node_path] + fleet_rollback_node_flags + [", line)
  })

  it("with no node on the PATH, the bin says what it needs and exits 2", async () => {
    // a PATH with a shell (the bin's `#!/usr/bin/env sh` finds it there) and no node
    const noNode = mkdtempSync(join(dir, "no-node-"))
    symlinkSync("/bin/sh", join(noNode, "sh"))
    const result = await run(installedBin, ["--version"], dir, { ...env, PATH: noNode })
    assert.strictEqual(result.code, 2, result.output)
    assert.include(result.output, `fleet-rollback needs Node.js ${MINIMUM_NODE} or newer; there is no node on the PATH.`)
    assert.include(result.output, "put it first on the PATH")
  })

  it("the minimum Node is one number: package.json engines, the version check, the bin's shell line, the Ansible role", () => {
    assert.strictEqual(packageJson.engines.node, `>=${MINIMUM_NODE}`)
    assert.strictEqual(BIN_SHELL_LINE.match(/\d+\.\d+/g)?.join(" "), `${MINIMUM_NODE} ${MINIMUM_NODE}`)
    const roleVars = parseYaml(readFileSync(join(projectRoot, "ansible/roles/fleet_rollback/vars/main.yml"), "utf8")) as Record<string, unknown>
    assert.strictEqual(roleVars["fleet_rollback_minimum_node"], MINIMUM_NODE)
  })
})
