/**
 * The command line against a DC/OS cluster (the sandbox behind DC/OS login): a password login
 * and a service-account key login, with `plan` and `run`. Secrets only through the environment.
 */
import { generateKeyPairSync } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import { runCli } from "./runCli.ts"

const PASSWORD = "dcos-pw-0c9d8e7f"
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 })
const privateKeyPem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
const publicKeyPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString()

let dir: string
let registry: SandboxRegistry
let cluster: MarathonSandbox

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-dcos-"))
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  const host = new URL(registry.url).host
  cluster = await startMarathonSandbox({
    deploymentMs: 100,
    dcos: { users: { "rollback-bot": PASSWORD }, serviceAccounts: { "rollback-sa": publicKeyPem } },
    apps: [sampleApp("/shop/prod/api", `${host}/shop/api:8-master`)]
  })
  writeFileSync(join(dir, "sa.pem"), privateKeyPem)
})
afterEach(async () => {
  await Promise.allSettled([registry.stop(), cluster.stop()])
  rmSync(dir, { recursive: true, force: true })
})

const get = () => runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--env", "master", "--no-cache"], { cwd: dir })

describe("DC/OS", () => {
  it("logs in with uid + DCOS_PASSWORD, plans and rolls back through /service/marathon; the password is never printed", async () => {
    assert.strictEqual((await get()).code, 0)
    const env = { DCOS_PASSWORD: PASSWORD }
    const plan = await runCli(["plan", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15", "--json"], { cwd: dir, env })
    assert.strictEqual(plan.code, 0, plan.stderr)
    assert.strictEqual(JSON.parse(plan.stdout).services[0].action, "rollback")
    const run = await runCli(["run", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(String((cluster.apps()[0]!["container"] as { docker: { image: string } }).docker.image), /shop\/api:7-master$/)
    assert.isTrue(cluster.requests.filter((r) => r.path.startsWith("/service/marathon/")).every((r) => r.authorization?.startsWith("token=") === true))
    for (const text of [plan.stdout, plan.stderr, run.stdout, run.stderr, readFileSync(join(dir, "rollback-report.json"), "utf8")]) assert.notInclude(text, PASSWORD)
  })

  it("logs in as a service account with DCOS_PRIVATE_KEY_FILE", async () => {
    assert.strictEqual((await get()).code, 0)
    const plan = await runCli(["plan", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-sa", "--point", "2026-11-15", "--json"], {
      cwd: dir,
      env: { DCOS_PRIVATE_KEY_FILE: join(dir, "sa.pem") }
    })
    assert.strictEqual(plan.code, 0, plan.stderr)
    assert.strictEqual(JSON.parse(plan.stdout).services[0].action, "rollback")
  })

  it("undo after a DC/OS run goes back to the same cluster as the same uid, from the report with --target-from-report (no --dcos)", async () => {
    assert.strictEqual((await get()).code, 0)
    const env = { DCOS_PASSWORD: PASSWORD }
    const run = await runCli(["run", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, run.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.deepStrictEqual(report.target, { kind: "dcos", url: cluster.clusterUrl, dcosUid: "rollback-bot" })
    assert.notInclude(JSON.stringify(report), PASSWORD)
    const before = cluster.requests.length
    const undo = await runCli(["undo", "--yes", "--poll-ms", "100", "--target-from-report"], { cwd: dir, env })
    assert.strictEqual(undo.code, 0, undo.stderr + undo.stdout)
    assert.match(String((cluster.apps()[0]!["container"] as { docker: { image: string } }).docker.image), /shop\/api:8-master$/)
    const undoCalls = cluster.requests.slice(before)
    assert.deepStrictEqual(undoCalls.filter((r) => r.path === "/acs/api/v1/auth/login").map((r) => (r.body as { uid: string }).uid), ["rollback-bot"])
    assert.isTrue(undoCalls.filter((r) => r.path !== "/acs/api/v1/auth/login").every((r) => r.path.startsWith("/service/marathon/v2/") && r.authorization?.startsWith("token=") === true))
  })

  it("a token expiring mid-run: the run logs in again once and finishes; one deployment", async () => {
    assert.strictEqual((await get()).code, 0)
    // a slower cluster, so that the token can expire while the run waits for the deployment
    await cluster.stop()
    cluster = await startMarathonSandbox({
      deploymentMs: 1500,
      dcos: { users: { "rollback-bot": PASSWORD } },
      apps: [sampleApp("/shop/prod/api", `${new URL(registry.url).host}/shop/api:8-master`)]
    })
    const running = runCli(["run", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir, env: { DCOS_PASSWORD: PASSWORD } })
    for (let i = 0; i < 600 && !cluster.requests.some((r) => r.method === "PUT"); i++) await new Promise((r) => setTimeout(r, 20))
    cluster.expireTokens()
    const run = await running
    assert.strictEqual(run.code, 0, run.stderr + run.stdout)
    const logins = cluster.requests.filter((r) => r.path === "/acs/api/v1/auth/login")
    assert.lengthOf(logins, 2, "one login, and one more after the token expired")
    assert.isTrue(cluster.requests.some((r) => r.path.startsWith("/service/marathon/") && cluster.requests.indexOf(r) > cluster.requests.indexOf(logins[1]!)), "it carried on after the second login")
    assert.lengthOf(cluster.requests.filter((r) => r.method === "PUT"), 1)
    assert.match(String((cluster.apps()[0]!["container"] as { docker: { image: string } }).docker.image), /shop\/api:7-master$/)
    assert.strictEqual(JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8")).outcome, "succeeded")
    assert.notInclude(run.stdout + run.stderr, PASSWORD)
  })

  it("a wrong password is bad input naming DCOS_PASSWORD, and nothing changes", async () => {
    assert.strictEqual((await get()).code, 0)
    const run = await runCli(["run", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15", "--yes"], { cwd: dir, env: { DCOS_PASSWORD: "not-it-4711" } })
    assert.strictEqual(run.code, 2, run.stderr)
    assert.include(run.stderr, "DCOS_PASSWORD")
    assert.notInclude(run.stderr, "not-it-4711")
    assert.isTrue(cluster.requests.every((r) => r.method !== "PUT"))
  })

  it("without any DC/OS secret it says which variables to set", async () => {
    assert.strictEqual((await get()).code, 0)
    const plan = await runCli(["plan", "--dcos", cluster.clusterUrl, "--dcos-uid", "rollback-bot", "--point", "2026-11-15"], { cwd: dir })
    assert.strictEqual(plan.code, 2)
    assert.include(plan.stderr, "DCOS_PASSWORD")
    assert.include(plan.stderr, "DCOS_PRIVATE_KEY_FILE")
  })
})

describe("every command explains itself", () => {
  it("--help of every command shows a description and examples; --version prints the version", async () => {
    for (const command of ["get", "choices", "plan", "run", "undo", "demo"]) {
      const help = await runCli([command, "--help"], { cwd: dir })
      assert.strictEqual(help.code, 0, command)
      assert.include(help.stdout, "EXAMPLES", command)
      assert.include(help.stdout, `fleet-rollback ${command}`, command)
    }
    const version = await runCli(["--version"], { cwd: dir })
    assert.strictEqual(version.code, 0)
    assert.match(version.stdout, /0\.1\.0/)
  })
})
