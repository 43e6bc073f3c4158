/**
 * @module demo-kubernetes.test — `fleet-rollback demo --target kubernetes` tells today's story on
 * the Kubernetes sandbox (the real bin, in a child process): the API server's dry run in the
 * plan, the rollback with the change-cause on each patched workload, the StatefulSet left
 * unchanged, the undo; it exits 0 and leaves no file behind.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { runCli } from "./runCli.ts"

describe("demo --target kubernetes", () => {
  it("runs get, plan with the server's dry run, run and undo on the Kubernetes sandbox, and leaves nothing behind", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-k8s-test-"))
    const temp = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-k8s-tmp-"))
    try {
      const result = await runCli(["demo", "--target", "kubernetes", "--deployment-ms", "200"], { cwd, env: { TMPDIR: temp }, timeoutMs: 120_000 })
      assert.strictEqual(result.code, 0, result.stdout + result.stderr)
      assert.include(result.stdout, "Server dry run (dryRun=All: the API server accepted 3 of 3 patches and stored nothing)")
      assert.match(result.stdout, /Deployment\/api\s+shop\/api:99-master\s+change-cause: fleet-rollback run to .* by demo/)
      assert.match(result.stdout, /payments\s+shop\/StatefulSet\/payments\s+payments:17-master\s+payments:17-master\s+.*unchanged/)
      assert.include(result.stdout, "SUCCEEDED: put back the previous images of 3 workload(s)")
      assert.include(result.stdout, "Demo finished")
      const dir = /Files in (\S+)\./.exec(result.stdout)?.[1]
      assert.isDefined(dir)
      assert.isFalse(existsSync(dir!), "the demo's files are removed")
    } finally {
      rmSync(cwd, { recursive: true, force: true })
      rmSync(temp, { recursive: true, force: true })
    }
  })
})
