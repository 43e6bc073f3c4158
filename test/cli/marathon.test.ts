/**
 * What the operator sees when Marathon pushes back (409 locked, 422 invalid), when several apps
 * run one repository, and with `--pin-digest`. Fast: the sandbox registry and the Marathon sandbox.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import { spawn } from "node:child_process"
import { projectRoot, runCli } from "./runCli.ts"

let dir: string
let registry: SandboxRegistry
let marathon: MarathonSandbox
let host: string

const start = async (apps: (host: string) => ReadonlyArray<Record<string, unknown>>) => {
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  host = new URL(registry.url).host
  marathon = await startMarathonSandbox({ deploymentMs: 100, apps: apps(host) })
  const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--env", "master", "--no-cache"], { cwd: dir })
  assert.strictEqual(got.code, 0, got.stderr)
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-marathon-"))
})
afterEach(async () => {
  await Promise.allSettled([registry?.stop(), marathon?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

const run = (...extra: ReadonlyArray<string>) =>
  runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "50", ...extra], { cwd: dir })

const image = () => String((marathon.apps()[0]!["container"] as { docker: { image: string } }).docker.image)

describe("Marathon says no", () => {
  it("409 (app locked by another deployment): nothing changed, the blocking deployment is named, --force goes through", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    marathon.failNext(409, 1, { method: "PUT" })
    const locked = await run()
    assert.strictEqual(locked.code, 1, locked.stderr + locked.stdout)
    assert.include(locked.stdout, "nothing was changed")
    assert.include(locked.stdout + locked.stderr, "--force")
    assert.match(image(), /8-master$/)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "failed")
    assert.strictEqual(report.services[0].outcome, "not-started")
    const forced = await run("--force")
    assert.strictEqual(forced.code, 0, forced.stderr)
    assert.match(image(), /7-master$/)
    assert.include(marathon.requests.filter((r) => r.method === "PUT").at(-1)!.query, "force=true")
  })

  it("422 (Marathon rejects the definition): its details are shown and nothing changed", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    marathon.failNext(422, 1, { method: "PUT" })
    const invalid = await run()
    assert.strictEqual(invalid.code, 1)
    assert.match(invalid.stdout, /not valid|Invalid/i)
    assert.match(image(), /8-master$/)
  })

  it("two apps run the service's repository: bad input listing both, nothing changed", async () => {
    await start((h) => [sampleApp("/shop/prod/api", `${h}/shop/api:8-master`), sampleApp("/shop/canary/api", `${h}/shop/api:8-master`)])
    const ambiguous = await run()
    assert.strictEqual(ambiguous.code, 2)
    assert.include(ambiguous.stderr, "/shop/prod/api")
    assert.include(ambiguous.stderr, "/shop/canary/api")
    assert.isTrue(marathon.requests.every((r) => r.method === "GET"))
    const scoped = await run("--app-prefix", "/shop/prod/")
    assert.strictEqual(scoped.code, 0, scoped.stderr)
  })

  it("naming the app in the config resolves the ambiguity without a new get", async () => {
    await start((h) => [sampleApp("/shop/prod/api", `${h}/shop/api:8-master`), sampleApp("/shop/canary/api", `${h}/shop/api:8-master`)])
    writeFileSync(join(dir, "fleet-rollback.yaml"), "services:\n  api: { repository: shop/api, app: /shop/canary/api }\n")
    const named = await run()
    assert.strictEqual(named.code, 0, named.stderr)
    const canary = marathon.apps().find((a) => a["id"] === "/shop/canary/api")!
    assert.match(String((canary["container"] as { docker: { image: string } }).docker.image), /7-master$/)
  })

  it("a malformed label selector is bad input, not a silent match of nothing", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    const bad = await run("--label", "env=prod", "--allow-partial")
    assert.strictEqual(bad.code, 2, bad.stdout)
    assert.include(bad.stderr, "label selector")
    assert.isTrue(marathon.requests.every((r) => r.method === "GET"))
  })

  it("a report path in a directory that does not exist is refused before anything changes", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    const refused = await run("--report", join(dir, "no-such-dir", "report.json"))
    assert.strictEqual(refused.code, 2)
    assert.include(refused.stderr, "no-such-dir")
    assert.match(image(), /8-master$/)
  })

  it("--pin-digest deploys repository:tag@digest as recorded by get", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    const pinned = await run("--pin-digest")
    assert.strictEqual(pinned.code, 0, pinned.stderr)
    assert.strictEqual(image(), `${host}/shop/api:7-master@${file.images.api[1].digest}`)
  })
})

describe("interrupted mid-run", () => {
  it("Ctrl-C while the deployment runs still writes a report that says it goes on in Marathon", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)])
    marathon.markBroken(`${host}/shop/api:7-master`)
    const child = spawn(process.execPath, [join(projectRoot, "node_modules/tsx/dist/cli.mjs"), join(projectRoot, "scripts/fleet-rollback.ts"), "run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "50"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1" }
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    // wait until the deployment started, then interrupt as an operator would
    for (let i = 0; i < 300 && !stderr.includes("started; waiting"); i++) await new Promise((r) => setTimeout(r, 100))
    assert.include(stderr, "started; waiting")
    // tsx relays the signal to the program it runs
    child.kill("SIGINT")
    const code = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)))
    assert.notStrictEqual(code, 0)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "interrupted while deployment")
    assert.strictEqual(report.deploymentId, String(marathon.deployments()[0]!["id"]))
    assert.strictEqual(report.services[0].outcome, "failed")
  })
})
