/**
 * @module targets.test — choosing the deployment target on the command line and in the config
 * (`--target`, `target:`), kinds not built in this version refused with exit 2, and `undo` that
 * sends credentials only to a target the operator named or accepted, and refuses a report whose
 * image references cannot be trusted. Fast: the sandbox registry and the Marathon sandbox.
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
import type { CliResult } from "./runCli.ts"
import { runCli } from "./runCli.ts"

let dir: string
let registry: SandboxRegistry
let marathon: MarathonSandbox
/** A second Marathon, the one a tampered report points to. */
let other: MarathonSandbox | undefined
let host: string

const TOKEN = "s3cret-marathon-token"

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-targets-"))
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  host = new URL(registry.url).host
  marathon = await startMarathonSandbox({ deploymentMs: 100, apps: [sampleApp("/shop/api", `${host}/shop/api:8-master`)] })
  const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--env", "master", "--no-cache"], { cwd: dir })
  assert.strictEqual(got.code, 0, got.stderr)
})
afterEach(async () => {
  await Promise.allSettled([registry?.stop(), marathon?.stop(), other?.stop()])
  other = undefined
  rmSync(dir, { recursive: true, force: true })
})

const all = (r: CliResult) => r.stdout + r.stderr
const image = (m: MarathonSandbox = marathon) => String((m.apps()[0]!["container"] as { docker: { image: string } }).docker.image)
const changes = (m: MarathonSandbox) => m.requests.filter((r) => r.method !== "GET")
const reportPath = () => join(dir, "rollback-report.json")

/** A successful run on `marathon` (7-master deployed), leaving its report. */
const rolledBack = async () => {
  const run = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir })
  assert.strictEqual(run.code, 0, all(run))
  assert.match(image(), /7-master$/)
  return JSON.parse(readFileSync(reportPath(), "utf8")) as Record<string, unknown> & { services: Array<Record<string, unknown>> }
}

describe("--target and the config's target:", () => {
  it("--target marathon works as --marathon alone did; the report records the target", async () => {
    const plan = await runCli(["plan", "--target", "marathon", "--marathon", marathon.url, "--point", "2026-11-15", "--json"], { cwd: dir })
    assert.strictEqual(plan.code, 0, all(plan))
    assert.strictEqual(JSON.parse(plan.stdout).services[0].action, "rollback")
    const report = await rolledBack()
    assert.deepStrictEqual(report["target"], { kind: "marathon", url: marathon.url })
    assert.strictEqual(report["marathon"], marathon.url)
  })

  it("target: {kind: marathon, url} in fleet-rollback.yaml names the Marathon", async () => {
    writeFileSync(join(dir, "fleet-rollback.yaml"), `target:\n  kind: marathon\n  url: ${marathon.url}\n`)
    const plan = await runCli(["plan", "--point", "2026-11-15", "--json"], { cwd: dir })
    assert.strictEqual(plan.code, 0, all(plan))
    assert.strictEqual(JSON.parse(plan.stdout).services[0].app, "/shop/api")
  })

  it("demo --target gitops (a target without a demo of its own): exit 2, no sandbox started", async () => {
    const demo = await runCli(["demo", "--target", "gitops"], { cwd: dir })
    assert.strictEqual(demo.code, 2, all(demo))
    assert.include(demo.stderr, "demo --target gitops: the demo of this target is not available in this version")
    assert.notInclude(demo.stdout, "Sandbox registry")
  })

  it("an unknown --target: exit 2 listing the kinds; target.kind in the config is checked at load", async () => {
    const bad = await runCli(["plan", "--target", "nomad", "--marathon", marathon.url, "--point", "2026-11-15"], { cwd: dir })
    assert.strictEqual(bad.code, 2, all(bad))
    assert.include(bad.stderr, "expected one of marathon, dcos, swarm, kubernetes")
    writeFileSync(join(dir, "fleet-rollback.yaml"), "target:\n  kind: nomad\n")
    const config = await runCli(["plan", "--point", "2026-11-15"], { cwd: dir })
    assert.strictEqual(config.code, 2, all(config))
    assert.include(config.stderr, "target")
  })

  it("--pin-digest, --force and --revert-on-failure still work on Marathon (it has those capabilities)", async () => {
    const run = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100", "--pin-digest", "--force", "--revert-on-failure"], { cwd: dir })
    assert.strictEqual(run.code, 0, all(run))
    assert.match(image(), /7-master@sha256:[0-9a-f]{64}$/)
  })

  it("plan --server-dry-run on Marathon: exit 2 naming the target and the flag, nothing asked", async () => {
    const before = marathon.requests.length
    const plan = await runCli(["plan", "--marathon", marathon.url, "--point", "2026-11-15", "--server-dry-run"], { cwd: dir })
    assert.strictEqual(plan.code, 2, all(plan))
    assert.include(plan.stderr, "--server-dry-run is not available with the marathon target: Marathon cannot validate a change without applying it")
    assert.strictEqual(marathon.requests.length, before)
  })
})

describe("undo goes only where the operator says, with credentials only for that target", () => {
  it("a report naming another Marathon than --marathon: exit 2 saying how to proceed; neither Marathon is changed", async () => {
    await rolledBack()
    other = await startMarathonSandbox({ deploymentMs: 100, apps: [sampleApp("/shop/api", `${host}/shop/api:7-master`)] })
    const before = changes(marathon).length
    const undo = await runCli(["undo", "--marathon", other.url, "--yes", "--poll-ms", "100"], { cwd: dir, env: { MARATHON_TOKEN: TOKEN } })
    assert.strictEqual(undo.code, 2, all(undo))
    assert.include(undo.stderr, `the report of a rollback on the marathon target at ${marathon.url}`)
    assert.include(undo.stderr, `--marathon ${marathon.url}`)
    assert.include(undo.stderr, "--target-from-report")
    assert.notInclude(all(undo), TOKEN)
    assert.strictEqual(other.requests.length, 0)
    assert.strictEqual(changes(marathon).length, before)
    assert.match(image(), /7-master$/)
  })

  it("no target named and a token in the environment: exit 2, the report's Marathon never sees the token; --target-from-report accepts it", async () => {
    await rolledBack()
    const before = marathon.requests.length
    const refusedUndo = await runCli(["undo", "--yes", "--poll-ms", "100"], { cwd: dir, env: { MARATHON_TOKEN: TOKEN } })
    assert.strictEqual(refusedUndo.code, 2, all(refusedUndo))
    assert.include(refusedUndo.stderr, "credentials from the environment are sent only to a target you name")
    assert.include(refusedUndo.stderr, `--marathon ${marathon.url}`)
    assert.strictEqual(marathon.requests.length, before)
    const accepted = await runCli(["undo", "--yes", "--poll-ms", "100", "--target-from-report"], { cwd: dir, env: { MARATHON_TOKEN: TOKEN } })
    assert.strictEqual(accepted.code, 0, all(accepted))
    assert.match(image(), /8-master$/)
    assert.isTrue(marathon.requests.slice(before).every((r) => r.authorization === `token=${TOKEN}`))
  })

  it("the same Marathon named by --marathon (trailing slash and all): undo goes ahead", async () => {
    await rolledBack()
    const undo = await runCli(["undo", "--marathon", `${marathon.url}/`, "--yes", "--poll-ms", "100"], { cwd: dir })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.match(image(), /8-master$/)
  })

  for (const [name, tamper] of [
    ["a newline and an escape sequence in before", (before: string) => `${before}\n\u001b[2J`],
    ["a before that is no image reference", () => "not an image!"],
    ["spaces around before", (before: string) => ` ${before}`]
  ] as const) {
    it(`a report with ${name}: exit 2 naming the field, nothing asked or changed`, async () => {
      const report = await rolledBack()
      report.services[0]!["before"] = tamper(String(report.services[0]!["before"]))
      writeFileSync(reportPath(), JSON.stringify(report))
      const before = marathon.requests.length
      const undo = await runCli(["undo", "--marathon", marathon.url, "--yes", "--poll-ms", "100"], { cwd: dir })
      assert.strictEqual(undo.code, 2, all(undo))
      assert.include(undo.stderr, "services[0] (\"api\").before")
      assert.include(undo.stderr, "nothing was changed")
      assert.notInclude(undo.stderr, "\u001b[2J")
      assert.strictEqual(marathon.requests.length, before)
      assert.match(image(), /7-master$/)
    })
  }
})
