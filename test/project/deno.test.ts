/**
 * @module test/project/deno — the same sources under Deno: `deno check` type-checks the library
 * (both entry points) and the scripts, and the Deno tests run, importing `fleet-rollback` and
 * `fleet-rollback/promise` as a Deno user does: resolved through the `exports` of the project's
 * deno.json. For that they run in a temporary workspace whose members are the project and
 * test/deno (its deno.json maps the names to the project's JSR name), so deno.json itself stays
 * as published. Deno comes from npm (`npx deno`), reads `node_modules` (`"nodeModulesDir":
 * "manual"`) and never goes to the network.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const deno = `${root}node_modules/.bin/deno`

/** Runs deno offline (in the repository, or `cwd`) and returns its exit code and output. */
const runDeno = (args: ReadonlyArray<string>, cwd = root): { readonly status: number | null; readonly output: string } => {
  const result = spawnSync(deno, args, {
    cwd,
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

  it(`deno check lib/index.ts lib/promise.ts ${scripts.join(" ")} passes`, () => {
    const { status, output } = runDeno(["check", "--no-remote", "lib/index.ts", "lib/promise.ts", ...scripts])
    assert.strictEqual(status, 0, `deno check failed:\n${output}`)
  })

  it("the Deno tests (test/deno/: core smoke test; get, plan, run, undo through the Promise API against the sandbox) pass, importing fleet-rollback through deno.json exports", () => {
    // A workspace in a temporary directory: the project (through a link, so its deno.json is the
    // one published) and its test/deno as members; node_modules linked where Deno looks for it.
    const workspace = mkdtempSync(join(tmpdir(), "fleet-rollback-deno-"))
    try {
      symlinkSync(root, join(workspace, "fleet-rollback"), "dir")
      symlinkSync(join(root, "node_modules"), join(workspace, "node_modules"), "dir")
      writeFileSync(join(workspace, "deno.json"), JSON.stringify({ workspace: ["./fleet-rollback", "./fleet-rollback/test/deno"], nodeModulesDir: "manual" }))
      // Network only on loopback, where the sandboxes listen.
      const { status, output } = runDeno(
        ["test", "--no-remote", "--allow-read", "--allow-net=127.0.0.1", "--allow-env", "--allow-sys", "fleet-rollback/test/deno/"],
        workspace
      )
      assert.strictEqual(status, 0, `deno test failed:\n${output}`)
      assert.match(output, /ok \| 3 passed \| 0 failed/)
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  })
})
