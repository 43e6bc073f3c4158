/**
 * @module demo-kubernetes.test — `fleet-rollback demo --target kubernetes` tells today's story on
 * the Kubernetes sandbox (the real bin, in a child process): the API server's dry run in the
 * plan, the rollback with the change-cause on each patched workload, the StatefulSet left
 * unchanged, the undo; it exits 0 and leaves no file behind. With `--keep` the sandbox serves on:
 * the real kubectl and the printed commands work against it, and Ctrl-C leaves nothing behind.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { type KeptDemo, projectRoot, runCli, startKeptDemo } from "./runCli.ts"

const sh = (line: string, env: Record<string, string>) =>
  new Promise<{ code: number; output: string }>((done) =>
    execFile("sh", ["-c", line], { cwd: projectRoot, env, timeout: 60_000 }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
    )
  )

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

  it("--keep: the real kubectl and the printed plan work against the sandbox, and Ctrl-C stops it and removes its files", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-k8s-keep-"))
    const env = { PATH: process.env["PATH"] ?? "", HOME: cwd, USER: "oncall", NO_COLOR: "1", NODE_DISABLE_COMPILE_CACHE: "1" }
    let demo: KeptDemo | undefined
    try {
      demo = await startKeptDemo(["--target", "kubernetes", "--keep", "--deployment-ms", "200"], { cwd, env, withinMs: 90_000 })
      const output = demo.output()
      const exported = /export DEMO=(\S+) KUBECONFIG=(\S+)/.exec(output)
      const planLine = /^ {2}(npx fleet-rollback plan .*?)\s*$/m.exec(output)?.[1]
      assert.isNotNull(exported, output)
      assert.isDefined(planLine, output)
      const shell = { ...env, DEMO: exported![1]!, KUBECONFIG: exported![2]! }
      const kubectl = await sh("kubectl get deploy,sts -n shop -o name", shell)
      assert.strictEqual(kubectl.code, 0, kubectl.output)
      assert.deepStrictEqual(kubectl.output.trim().split("\n").sort(), ["deployment.apps/api", "deployment.apps/orders", "deployment.apps/web", "statefulset.apps/payments"])
      const plan = await sh(planLine!, shell)
      assert.strictEqual(plan.code, 0, plan.output)
      assert.match(plan.output, /api\s+shop\/Deployment\/api\s+api:100-master\s+api:99-master/)

      demo.process.kill("SIGINT")
      const end = await demo.exited
      assert.isNull(end.signal, "Ctrl-C ends the demo itself, it is not killed by the signal")
      assert.isFalse(existsSync(exported![1]!), "Ctrl-C removes the demo's files")
      const after = await sh("kubectl get deploy -n shop --request-timeout=5s", shell)
      assert.notStrictEqual(after.code, 0, "the sandbox is stopped")
    } finally {
      demo?.stop()
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 150_000)
})
