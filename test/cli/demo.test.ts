/**
 * `fleet-rollback demo` is the README's first command: it must tell the whole story, exit 0,
 * and leave no file and no process behind; `demo --keep` serves the sandbox until Ctrl-C, the
 * commands it prints work against it, and Ctrl-C leaves nothing behind either.
 */
import { execFile } from "node:child_process"
import { randomUUID } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { type KeptDemo, projectRoot, runCli, startKeptDemo } from "./runCli.ts"

/** Environment variable every process of one demo inherits, to find any that outlives it. */
const MARKER = "FLEET_ROLLBACK_DEMO_TEST_MARKER"

/** Pids of the processes (other than this one) whose environment carries `marker` (Linux /proc). */
const processesMarked = (marker: string): Array<number> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${MARKER}=${marker}`)
      } catch {
        return false // gone meanwhile, or not ours to read
      }
    })
    .map(Number)


describe("demo", () => {
  it("rolls the sample fleet back and undoes it, exits 0, and leaves no demo directory and no process behind", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-test-"))
    // A temporary directory of the demo's own: what is left in it is the demo's, whatever other
    // tests and processes do in the shared one meanwhile.
    const demoTmp = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-test-tmp-"))
    const marker = randomUUID()
    try {
      const result = await runCli(["demo", "--deployment-ms", "200"], { cwd, env: { TMPDIR: demoTmp, [MARKER]: marker } })
      assert.strictEqual(result.code, 0, result.stderr + result.stdout)
      for (const step of ["1. Read every service", "2. The points", "3. The plan", "4. Roll back", "5. What runs now", "6. Undo"]) assert.include(result.stdout, step)
      assert.include(result.stdout, "SUCCEEDED: rolled back 3 app(s)")
      assert.match(result.stdout, /payments\s+\/shop\/prod\/payments\s+payments:17-master\s+payments:17-master\s+\S+ \S+\s+unchanged/, "the service unchanged all week keeps its image")
      assert.include(result.stdout, "SUCCEEDED: put back the previous images of 3 app(s)")
      assert.deepStrictEqual(readdirSync(demoTmp), [], "the demo removed its files")
      assert.deepStrictEqual(readdirSync(cwd), [], "nothing written in the working directory")
      assert.deepStrictEqual(processesMarked(marker), [], "no process of the demo is left")
    } finally {
      rmSync(cwd, { recursive: true, force: true })
      rmSync(demoTmp, { recursive: true, force: true })
    }
  })

  it("--keep: the printed URLs answer, a printed command runs against them, and Ctrl-C stops it all and removes its files", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-demo-test-"))
    const marker = randomUUID()
    const env = { PATH: process.env["PATH"] ?? "", HOME: cwd, USER: "oncall", NO_COLOR: "1", NODE_DISABLE_COMPILE_CACHE: "1", [MARKER]: marker }
    let demo: KeptDemo | undefined
    try {
      demo = await startKeptDemo(["--keep", "--deployment-ms", "100"], { cwd, env, withinMs: 60_000 })
      const output = demo.output()
      const demoDir = /export DEMO=(\S+)/.exec(output)?.[1]
      const marathonUrl = /curl (\S+)\/v2\/apps/.exec(output)?.[1]
      const registryUrl = /curl (\S+)\/v2\/shop\/api\/tags\/list/.exec(output)?.[1]
      const planLine = /^ {2}(npx fleet-rollback plan .*)$/m.exec(output)?.[1]
      assert.isDefined(demoDir, output)
      assert.isDefined(marathonUrl, output)
      assert.isDefined(registryUrl, output)
      assert.isDefined(planLine, output)
      assert.isTrue(existsSync(join(demoDir!, "rollback.json")))

      const apps = (await (await fetch(`${marathonUrl}/v2/apps`)).json()) as { apps: ReadonlyArray<{ id: string }> }
      assert.includeMembers(apps.apps.map((app) => app.id), ["/shop/prod/api", "/shop/prod/payments"])
      const tags = (await (await fetch(`${registryUrl}/v2/shop/api/tags/list`)).json()) as { tags: ReadonlyArray<string> }
      assert.include(tags.tags, "99-master")

      // The printed plan command, as an operator pastes it into a shell in this checkout.
      const plan = await new Promise<{ code: number; output: string }>((done) =>
        execFile("sh", ["-c", planLine!], { cwd: projectRoot, env: { ...env, DEMO: demoDir! }, timeout: 60_000 }, (error, stdout, stderr) =>
          done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
        )
      )
      assert.strictEqual(plan.code, 0, plan.output)
      assert.match(plan.output, /api\s+\/shop\/prod\/api\s+api:100-master\s+api:99-master\s+\S+ \S+\s+rollback/)

      demo.process.kill("SIGINT")
      const end = await demo.exited
      assert.isNull(end.signal, "Ctrl-C ends the demo itself, it is not killed by the signal")
      assert.isFalse(existsSync(demoDir!), "Ctrl-C removes the demo's files")
      const refused = await fetch(`${marathonUrl}/v2/apps`).then(() => "answered", (error: Error) => error.message)
      assert.notStrictEqual(refused, "answered", "the Marathon sandbox is stopped")
      assert.deepStrictEqual(processesMarked(marker), [], "no process of the demo is left")
    } finally {
      demo?.stop()
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 120_000)
})
