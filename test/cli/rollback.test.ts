/**
 * The whole command line on real components: Debian's docker-registry (htpasswd auth) holding
 * the shop's images, the Marathon sandbox running the broken release, a Slack webhook receiver.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { appId, expectedAfterRollback, running, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import type { FleetScenario, Service } from "../support/fleetScenario.ts"
import { pushFleet } from "../support/pushImage.ts"
import { runCli } from "./runCli.ts"

let dir: string
let scenario: FleetScenario

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-cli-"))
  scenario = await startFleetScenario(dir)
})
afterEach(async () => {
  await scenario.stop()
  rmSync(dir, { recursive: true, force: true })
})

const cli = (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) =>
  runCli(args, { cwd: dir, env: { ...scenario.secretEnvironment, ...extraEnv } })

const get = () => cli(["get", "--config", scenario.configFile, "--no-cache"])

const marathonPuts = () => scenario.marathon.requests.filter((r) => r.method === "PUT" || r.method === "POST" || r.method === "DELETE")

const assertNoSecrets = (...texts: ReadonlyArray<string>) => {
  for (const text of texts) for (const secret of secretValues) assert.notInclude(text, secret, "a secret leaked into output or a file")
}

/** Polls `condition` every 20 ms until it holds; fails after a generous 30 s (never a fixed sleep). */
const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 30_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const tagOf = (image: string) => image.slice(image.lastIndexOf(":") + 1)

describe("get writes rollback.json from the real registry", () => {
  it("records every image of the environment with its digest, date and date source, and the points newest first", async () => {
    const result = await get()
    assert.strictEqual(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    assert.strictEqual(file.schemaVersion, 1)
    assert.strictEqual(file.environment, "prod")
    assert.deepStrictEqual(
      Object.fromEntries(Object.entries(file.images as Record<string, Array<{ tag: string }>>).map(([s, l]) => [s, l.map((i) => i.tag)])),
      { api: ["100-master", "99-master"], web: ["42-master", "41-master"], worker: ["7-master"] }
    )
    for (const [service, images] of Object.entries(file.images as Record<string, Array<{ tag: string; digest: string; created: string; dateSource: string; build: number }>>)) {
      for (const image of images) {
        assert.strictEqual(image.digest, scenario.digests.get(`shop/${service}`)?.get(image.tag), `${service} ${image.tag} digest`)
        assert.strictEqual(image.dateSource, "annotation")
        assert.strictEqual(image.build, Number(image.tag.split("-")[0]))
      }
    }
    assert.strictEqual(file.images.api[1].created, "2026-11-18T10:00:00.000Z")
    assert.deepStrictEqual(file.points.map((p: { id: string }) => p.id), [
      "2026-11-20T16:00:00.000Z",
      "2026-11-20T15:30:00.000Z",
      "2026-11-18T11:00:00.000Z",
      "2026-11-18T10:00:00.000Z",
      "2026-11-10T08:00:00.000Z"
    ])
    assert.deepStrictEqual(file.ignored.api.otherEnvironment, 1, "101-develop is another environment")
    const choices = await cli(["choices"])
    assert.strictEqual(choices.code, 0)
    assert.deepStrictEqual(choices.stdout.trim().split("\n"), file.points.map((p: { label: string }) => p.label))
    assertNoSecrets(result.stdout, result.stderr, readFileSync(join(dir, "rollback.json"), "utf8"))
  })

  it("an unknown repository is bad input naming the repository and the registry, and writes no file", async () => {
    const result = await cli(["get", "--config", scenario.configFile, "--no-cache", "--repo", "shop/api,shop/nope"])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, "shop/nope")
    assert.include(result.stderr, scenario.registry.url)
    assert.isFalse(existsSync(join(dir, "rollback.json")))
  })

  it("wrong registry credentials are bad input that never shows the password", async () => {
    const result = await cli(["get", "--config", scenario.configFile, "--no-cache"], { REGISTRY_PASSWORD: "wrong-password-123" })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.match(result.stderr, /REGISTRY_USERNAME|REGISTRY_PASSWORD|credentials|unauthori/i)
    assert.notInclude(result.stderr, "wrong-password-123")
    assert.isFalse(existsSync(join(dir, "rollback.json")))
  })

  it("a typo in the config file names the key", async () => {
    const config = join(dir, "typo.yaml")
    const { writeFileSync } = await import("node:fs")
    writeFileSync(config, readFileSync(scenario.configFile, "utf8").replace("environments:", "enviroments:"))
    const result = await cli(["get", "--config", config])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "enviroments")
  })
})

describe("plan and run", () => {
  it("plan --json shows, per service, the documented fields and changes nothing", async () => {
    assert.strictEqual((await get()).code, 0)
    const before = scenario.marathon.apps()
    const result = await cli(["plan", "--config", scenario.configFile, "--point", "2026-11-19", "--json"])
    assert.strictEqual(result.code, 0, result.stderr)
    const plan = JSON.parse(result.stdout)
    assert.strictEqual(plan.point, "2026-11-19T23:59:59.999Z")
    assert.deepStrictEqual(
      plan.services.map((s: Record<string, unknown>) => [s.service, s.app, tagOf(String(s.current)), tagOf(String(s.target)), s.action]),
      [
        ["api", "/shop/prod/api", "100-master", "99-master", "rollback"],
        ["web", "/shop/prod/web", "42-master", "41-master", "rollback"],
        ["worker", "/shop/prod/worker", "7-master", "7-master", "unchanged"]
      ]
    )
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.lengthOf(marathonPuts(), 0)
  })

  it("run rolls every service back in ONE deployment, keeps whole containers, leaves the unchanged service alone, reports, tells Slack; undo restores", async () => {
    assert.strictEqual((await get()).code, 0)
    const workerBefore = scenario.marathon.apps().find((a) => a["id"] === appId("worker"))
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--user", "alice", "--poll-ms", "100"])
    assert.strictEqual(result.code, 0, result.stderr + result.stdout)
    const puts = marathonPuts()
    assert.lengthOf(puts, 1, "one deployment for the whole set")
    assert.strictEqual(puts[0]!.path, "/v2/apps")
    const body = puts[0]!.body as Array<Record<string, unknown>>
    assert.deepStrictEqual(body.map((a) => a["id"]).sort(), [appId("api"), appId("web")])
    for (const app of body) {
      const container = app["container"] as { portMappings?: unknown; docker?: { image?: string } }
      assert.deepStrictEqual(container.portMappings, [{ containerPort: 8080, hostPort: 0, protocol: "tcp", name: "http" }], "whole container kept")
    }
    const now = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as Array<Service>) assert.strictEqual(tagOf(now[service]), expectedAfterRollback[service], service)
    assert.deepStrictEqual(scenario.marathon.apps().find((a) => a["id"] === appId("worker")), workerBefore, "worker untouched")
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "succeeded")
    assert.strictEqual(report.user, "alice")
    assert.deepStrictEqual(report.services.map((s: { service: string; outcome: string }) => [s.service, s.outcome]), [["api", "rolled-back"], ["web", "rolled-back"], ["worker", "unchanged"]])
    assert.isString(report.deploymentId)
    const slack = scenario.slackMessages.map((m) => JSON.stringify(m))
    assert.lengthOf(slack, 2, "started and succeeded")
    assert.include(slack[0], "started")
    assert.include(slack[0], "api:99-master", "the started notice names the target images")
    assert.include(slack[1], "succeeded")
    assert.include(slack[1], "alice")
    assertNoSecrets(result.stdout, result.stderr, readFileSync(join(dir, "rollback-report.json"), "utf8"), ...slack)

    const undo = await cli(["undo", "--config", scenario.configFile, "--yes", "--poll-ms", "100"])
    assert.strictEqual(undo.code, 0, undo.stderr + undo.stdout)
    const restored = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as Array<Service>) assert.strictEqual(tagOf(restored[service]), running[service], service)
    assert.lengthOf(marathonPuts(), 2)
  })

  it("refuses without a terminal and without --yes, changing nothing", async () => {
    assert.strictEqual((await get()).code, 0)
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--yes")
    assert.lengthOf(marathonPuts(), 0)
  })

  it("refuses a point where a service has no image yet (unresolved) unless --allow-partial; plan says so beforehand with the same switches", async () => {
    assert.strictEqual((await get()).code, 0)
    const before = scenario.marathon.snapshot()
    const planned = await cli(["plan", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z", "--json"])
    assert.strictEqual(planned.code, 0, planned.stderr)
    const wouldRefuse = (JSON.parse(planned.stdout) as { wouldRefuse: Array<{ rule: string; services: Array<string>; message: string }> }).wouldRefuse
    assert.deepStrictEqual(wouldRefuse.map((r) => [r.rule, r.services]), [["unresolved", ["web"]]])
    const shown = await cli(["plan", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z"])
    assert.include(shown.stdout, "run would REFUSE this plan (with the same switches): 1 service(s) cannot be planned")
    const allowed = await cli(["plan", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z", "--json", "--allow-partial"])
    assert.deepStrictEqual((JSON.parse(allowed.stdout) as { wouldRefuse: Array<unknown> }).wouldRefuse, [])
    const refused = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z", "--yes"])
    assert.strictEqual(refused.code, 2, refused.stderr)
    // At Nov 18 10:30 web has no image yet (its first is 11:00): web is unresolved.
    assert.include(refused.stderr, "web")
    assert.include(refused.stderr, wouldRefuse[0]!.message, "run refuses with the message plan showed")
    assert.deepStrictEqual(scenario.marathon.snapshot(), before, "the sandbox is exactly as it was")
    assert.isFalse(existsSync(join(dir, "rollback-report.json")), "a refusal writes no report")
    const partial = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z", "--yes", "--allow-partial", "--poll-ms", "100"])
    assert.strictEqual(partial.code, 0, partial.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.deepStrictEqual(report.services.map((s: { service: string; outcome: string }) => [s.service, s.outcome]), [["api", "rolled-back"], ["web", "left-as-is"], ["worker", "unchanged"]])
    assert.strictEqual(tagOf(scenario.runningImages().web), "42-master")
  })

  it("refuses to move a service forward unless --allow-forward", async () => {
    assert.strictEqual((await get()).code, 0)
    assert.strictEqual((await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--poll-ms", "100"])).code, 0)
    const before = scenario.marathon.snapshot()
    const reportBefore = readFileSync(join(dir, "rollback-report.json"), "utf8")
    const planned = await cli(["plan", "--config", scenario.configFile, "--point", "2026-11-20T15:45:00Z", "--json"])
    const wouldRefuse = (JSON.parse(planned.stdout) as { wouldRefuse: Array<{ rule: string; services: Array<string>; message: string }> }).wouldRefuse
    assert.deepStrictEqual(wouldRefuse.map((r) => r.rule), ["forward"])
    const forward = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-20T15:45:00Z", "--yes"])
    assert.strictEqual(forward.code, 2, forward.stderr)
    assert.include(forward.stderr, wouldRefuse[0]!.message, "run refuses with the message plan showed")
    assert.deepStrictEqual(scenario.marathon.snapshot(), before, "the sandbox is exactly as it was")
    assert.strictEqual(readFileSync(join(dir, "rollback-report.json"), "utf8"), reportBefore, "the report undo needs is left as it was")
    const allowed = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-20T15:45:00Z", "--yes", "--allow-forward", "--poll-ms", "100"])
    assert.strictEqual(allowed.code, 0, allowed.stderr)
    assert.strictEqual(tagOf(scenario.runningImages().api), "100-master")
  })

  it("refuses when a tag now points to another image than rollback.json recorded; --pin-digest deploys the recorded one", async () => {
    assert.strictEqual((await get()).code, 0)
    // Someone re-pushes 99-master after `get`: the recorded digest is stale.
    await pushFleet(
      { url: scenario.registry.url, credentials: { username: "rollback-bot", password: "registry-pw-5f1c9e" } },
      { repositories: [{ name: "shop/api", images: [{ tag: "99-master", created: "2026-11-21T00:00:00Z" }] }] }
    )
    const before = scenario.marathon.snapshot()
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes"])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, "99-master")
    assert.include(result.stderr, "--allow-moved-tags")
    assert.deepStrictEqual(scenario.marathon.snapshot(), before, "the sandbox is exactly as it was")
    // --pin-digest deploys exactly what rollback.json recorded, so the moved tag does not matter
    const recorded = scenario.digests.get("shop/api")!.get("99-master")!
    const pinned = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--pin-digest", "--poll-ms", "100"])
    assert.strictEqual(pinned.code, 0, pinned.stderr)
    assert.strictEqual(scenario.runningImages().api, `${scenario.registry.host}/shop/api:99-master@${recorded}`)
  })

  it("a broken image times out without --revert-on-failure: the report says the fleet is half rolled back and the deployment still runs", async () => {
    assert.strictEqual((await get()).code, 0)
    scenario.marathon.markBroken(`${scenario.registry.host}/shop/api:99-master`)
    const failed = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--user", "alice", "--timeout", "2", "--poll-ms", "100"])
    assert.strictEqual(failed.code, 1, failed.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "STILL RUNNING")
    assert.include(report.message, "half rolled back")
    // The advice is a command to paste: the report's real path, not a placeholder.
    assert.include(report.message, "`fleet-rollback undo --report rollback-report.json`")
    assert.notInclude(report.message + failed.stdout, "<this report>")
    assert.deepStrictEqual(scenario.marathon.deployments().map((d) => d["id"]), [report.deploymentId], "the deployment goes on in Marathon")
    assert.strictEqual(report.services.find((s: { service: string }) => s.service === "api").outcome, "failed")
    assert.isFalse(marathonPuts().some((r) => r.method === "DELETE"), "nothing is cancelled without --revert-on-failure")
    const text = (scenario.slackMessages.at(-1) as { text: string }).text
    assert.match(text, /^:x: Rollback of prod to .+ failed — by alice\n/)
    assert.include(text, "• api: ")
    assert.include(text, "(failed)")
    assert.include(text, "STILL RUNNING")
    // Cancel the stuck deployment the way the operator would.
    for (const d of scenario.marathon.deployments()) await fetch(`${scenario.marathon.url}/v2/deployments/${String(d["id"])}?force=true`, { method: "DELETE", headers: { authorization: `token=${scenario.secretEnvironment.MARATHON_TOKEN}` } })
  })

  it("with --revert-on-failure a stuck deployment is cancelled with Marathon's rollback form and every app is checked back on its previous image", async () => {
    assert.strictEqual((await get()).code, 0)
    scenario.marathon.markBroken(`${scenario.registry.host}/shop/api:99-master`)
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--timeout", "2", "--poll-ms", "100", "--revert-on-failure"])
    assert.strictEqual(result.code, 1, result.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "reverted")
    const cancel = marathonPuts().filter((r) => r.method === "DELETE")
    assert.lengthOf(cancel, 1)
    assert.strictEqual(cancel[0]!.path, `/v2/deployments/${report.deploymentId}`)
    assert.strictEqual(cancel[0]!.query, "force=false", "the rollback form, not a plain cancel")
    assert.isString(report.revertDeploymentId)
    assert.notStrictEqual(report.revertDeploymentId, report.deploymentId)
    assert.deepStrictEqual(report.services.map((s: { service: string; outcome: string }) => [s.service, s.outcome]), [["api", "reverted"], ["web", "reverted"], ["worker", "unchanged"]])
    const now = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as Array<Service>) assert.strictEqual(tagOf(now[service]), running[service], service)
    for (const app of report.finalState) assert.strictEqual(app.tasksRunning, app.instances, `${app.app} runs every instance again`)
  })

  it("with --revert-on-failure a finished but unhealthy deployment is followed by one of the previous images, without force unless asked", async () => {
    assert.strictEqual((await get()).code, 0)
    // 99-master starts, Marathon finishes the deployment (no health checks), then its tasks crash
    scenario.marathon.markCrashing(`${scenario.registry.host}/shop/api:99-master`)
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--timeout", "5", "--poll-ms", "100", "--revert-on-failure"])
    assert.strictEqual(result.code, 1, result.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "reverted", report.message)
    const changes = marathonPuts()
    assert.deepStrictEqual(changes.map((r) => `${r.method} ${r.path}`), ["PUT /v2/apps", "PUT /v2/apps"])
    assert.strictEqual(changes[1]!.query, "partialUpdate=true", "no force=true: the user did not ask for it")
    assert.deepStrictEqual(report.services.map((s: { service: string; outcome: string }) => [s.service, s.outcome]), [["api", "reverted"], ["web", "reverted"], ["worker", "unchanged"]])
    const now = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as Array<Service>) assert.strictEqual(tagOf(now[service]), running[service], service)
  })

  it("a revert that does not bring an app back is reported as failed for that app, not as reverted", async () => {
    assert.strictEqual((await get()).code, 0)
    // the rollback target crashes, and so does the old image by now (its tasks die after the revert)
    scenario.marathon.markCrashing(`${scenario.registry.host}/shop/api:99-master`)
    scenario.marathon.markCrashing(`${scenario.registry.host}/shop/api:100-master`)
    const result = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--timeout", "5", "--poll-ms", "100", "--revert-on-failure"])
    assert.strictEqual(result.code, 1, result.stderr)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "the revert did not bring every app back")
    const api = report.services.find((s: { service: string }) => s.service === "api")
    assert.strictEqual(api.outcome, "failed")
    assert.include(api.problem, "not back on")
    assert.strictEqual(report.services.find((s: { service: string }) => s.service === "web").outcome, "reverted")
  })

  it("undo refuses when someone changed an app since the rollback, and changes nothing", async () => {
    assert.strictEqual((await get()).code, 0)
    assert.strictEqual((await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--poll-ms", "100"])).code, 0)
    // someone deploys web 43-develop by hand after the rollback
    const container = structuredClone(scenario.marathon.apps().find((a) => a["id"] === appId("web"))!["container"]) as { docker: { image: string } }
    container.docker.image = `${scenario.registry.host}/shop/web:43-develop`
    const put = await fetch(`${scenario.marathon.url}/v2/apps${appId("web")}`, { method: "PUT", headers: { "content-type": "application/json", authorization: `token=${scenario.secretEnvironment.MARATHON_TOKEN}` }, body: JSON.stringify({ container }) })
    assert.strictEqual(put.status, 200)
    // Waits for the event, not the clock: the hand deployment finished (new image, no deployment left).
    await waitFor(() =>
      scenario.marathon.deployments().length === 0 &&
      (scenario.marathon.app(appId("web")) as { container?: { docker?: { image?: string } } } | undefined)?.container?.docker?.image === container.docker.image
    , "the hand deployment of web 43-develop to finish")
    const before = scenario.marathon.snapshot()
    const undo = await cli(["undo", "--config", scenario.configFile, "--yes", "--poll-ms", "100"])
    assert.strictEqual(undo.code, 2, undo.stderr)
    assert.include(undo.stderr, "43-develop")
    assert.include(undo.stderr, "nothing was changed")
    assert.deepStrictEqual(scenario.marathon.snapshot(), before, "the sandbox is exactly as it was")
    assert.isFalse(existsSync(join(dir, "rollback-undo-report.json")))
  })

  it("a point that is not a point is bad input listing the accepted forms", async () => {
    assert.strictEqual((await get()).code, 0)
    const result = await cli(["plan", "--config", scenario.configFile, "--point", "last tuesday"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "ISO-8601")
    assert.include(result.stderr, "YYYY-MM-DD")
  })
})
