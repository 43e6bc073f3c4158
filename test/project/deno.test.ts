/**
 * @module test/project/deno — the same sources under Deno: `deno check` type-checks the library
 * and the scripts, and the Deno smoke test runs. Deno comes from npm (`npx deno`), reads
 * `node_modules` (`"nodeModulesDir": "manual"` in deno.json) and never goes to the network.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const deno = `${root}node_modules/.bin/deno`

/** Runs deno offline in the repository and returns its exit code and output. */
const runDeno = (args: ReadonlyArray<string>): { readonly status: number | null; readonly output: string } => {
  const result = spawnSync(deno, args, {
    cwd: root,
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", NO_COLOR: "1" }
  })
  return { status: result.status, output: `${result.error !== undefined ? `${String(result.error)}\n` : ""}${result.stdout}${result.stderr}` }
}

const scripts = existsSync(`${root}scripts`) ? readdirSync(`${root}scripts`).filter((f) => f.endsWith(".ts")).map((f) => `scripts/${f}`) : []

describe("Deno", () => {
  it("deno is installed from npm (node_modules/.bin/deno)", () => {
    assert.isTrue(existsSync(deno), `${deno} is missing: run npm ci (deno is a devDependency)`)
  })

  it(`deno check lib/index.ts ${scripts.join(" ")} passes`, () => {
    const { status, output } = runDeno(["check", "--no-remote", "lib/index.ts", ...scripts])
    assert.strictEqual(status, 0, `deno check failed:\n${output}`)
  })

  it("the Deno tests (test/deno/: core smoke test; get, plan, run, undo through the Promise API against the sandbox) pass", () => {
    // Network only on loopback, where the sandboxes listen.
    const { status, output } = runDeno(["test", "--no-remote", "--allow-read", "--allow-net=127.0.0.1", "--allow-env", "--allow-sys", "test/deno/"])
    assert.strictEqual(status, 0, `deno test failed:\n${output}`)
    assert.match(output, /ok \| 3 passed \| 0 failed/)
  })
})
