/**
 * `fleet-rollback demo` is the README's first command: it must tell the whole story, exit 0,
 * and leave no file and no server behind.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { runCli } from "./runCli.ts"

describe("demo", () => {
  it("rolls the sample fleet back and undoes it, exits 0, and leaves no demo directory behind", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-test-"))
    const demoDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith("fleet-rollback-demo-") && !name.startsWith("fleet-rollback-demo-test-"))
    const before = new Set(demoDirs())
    try {
      const result = await runCli(["demo", "--deployment-ms", "200"], { cwd, env: { TMPDIR: tmpdir() } })
      assert.strictEqual(result.code, 0, result.stderr + result.stdout)
      for (const step of ["1. Read every service", "2. The points", "3. The plan", "4. Roll back", "5. What runs now", "6. Undo"]) assert.include(result.stdout, step)
      assert.include(result.stdout, "SUCCEEDED: rolled back 3 app(s)")
      assert.match(result.stdout, /payments\s+\/shop\/prod\/payments\s+payments:17-master\s+payments:17-master\s+\S+ \S+\s+unchanged/, "the service unchanged all week keeps its image")
      assert.include(result.stdout, "SUCCEEDED: put back the previous images of 3 app(s)")
      assert.deepStrictEqual(demoDirs().filter((d) => !before.has(d)), [], "the demo removed its files")
      assert.deepStrictEqual(readdirSync(cwd), [], "nothing written in the working directory")
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})
