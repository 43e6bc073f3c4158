/**
 * @module test/project/package — the package as a host gets it (the Ansible role installs the
 * `npm pack` tarball): packed, installed into an empty prefix with its production dependencies,
 * and its `fleet-rollback` bin runs the demo end to end.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { projectRoot } from "../cli/runCli.ts"

const run = (file: string, args: ReadonlyArray<string>, cwd: string): Promise<{ code: number; output: string }> =>
  new Promise((done) =>
    execFile(file, args, { cwd, timeout: 240_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
    )
  )

describe("the packed package", () => {
  it("npm pack → npm install → the installed fleet-rollback bin runs the demo", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-pack-"))
    try {
      const packed = await run("npm", ["pack", projectRoot, "--silent"], dir)
      assert.strictEqual(packed.code, 0, packed.output)
      const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))
      assert.isDefined(tarball, packed.output)
      const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", join(dir, "host"), join(dir, tarball!)], dir)
      assert.strictEqual(installed.code, 0, installed.output)
      const bin = join(dir, "host/node_modules/.bin/fleet-rollback")
      const version = await run(bin, ["--version"], dir)
      assert.strictEqual(version.code, 0, version.output)
      assert.include(version.output, "0.1.0")
      const demo = await run(bin, ["demo", "--deployment-ms", "100"], dir)
      assert.strictEqual(demo.code, 0, demo.output)
      assert.include(demo.output, "SUCCEEDED: rolled back 3 app(s)")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
