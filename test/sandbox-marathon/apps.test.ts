/**
 * @module apps.test — the app endpoints of the sandbox behave like a real Marathon: filters,
 * partial updates that replace whole fields, the array PUT as one deployment, locks, 422s and
 * the version rollback form.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { type MarathonSandbox, startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { call, shopApp, waitFor } from "./support.ts"

const LOCKED =
  "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'."

describe("Marathon apps in the sandbox", () => {
  let sb: MarathonSandbox
  beforeEach(async () => {
    sb = await startMarathonSandbox({
      deploymentMs: 150,
      apps: [
        shopApp("/prod/shop/api", "registry.example/shop/api:41-master"),
        shopApp("/prod/shop/web", "registry.example/shop/web:17-master", { labels: { team: "shop", env: "prod", tier: "frontend" } }),
        shopApp("/staging/shop/api", "registry.example/shop/api:42-master", { labels: { team: "shop", env: "staging" } }),
        { id: "/prod/billing", cmd: "billing --serve", instances: 1, labels: { team: "money" } }
      ]
    })
  })
  afterEach(() => sb.stop())

  const ids = async (query: string): Promise<ReadonlyArray<string>> => {
    const r = await call("GET", `${sb.url}/v2/apps${query}`)
    assert.strictEqual(r.status, 200, r.text)
    return r.body.apps.map((a: { id: string }) => a.id).sort()
  }

  it("seeded apps run all their instances healthy, with counts and deployments embedded, no deployment", async () => {
    const r = await call("GET", `${sb.url}/v2/apps`)
    const api = r.body.apps.find((a: { id: string }) => a.id === "/prod/shop/api")
    assert.include(api, { instances: 2, tasksRunning: 2, tasksHealthy: 2, tasksStaged: 0, tasksUnhealthy: 0 })
    assert.deepStrictEqual(api.deployments, [])
    const billing = r.body.apps.find((a: { id: string }) => a.id === "/prod/billing")
    assert.strictEqual(billing.tasksHealthy, 0, "no health checks → tasksHealthy stays 0, as in Marathon")
    assert.strictEqual(billing.tasksRunning, 1)
    assert.deepStrictEqual(sb.deployments(), [])
  })

  it("filters by id (case-insensitive substring) and by label selectors", async () => {
    assert.deepStrictEqual(await ids("?id=SHOP/API"), ["/prod/shop/api", "/staging/shop/api"])
    assert.deepStrictEqual(await ids("?id=/prod/"), ["/prod/billing", "/prod/shop/api", "/prod/shop/web"])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("env==prod")}`), ["/prod/shop/api", "/prod/shop/web"])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("env!=prod")}`), ["/staging/shop/api"])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("tier")}`), ["/prod/shop/web"])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("env in (staging, qa)")}`), ["/staging/shop/api"])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("team notin (money)")}`), [
      "/prod/shop/api",
      "/prod/shop/web",
      "/staging/shop/api"
    ])
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("team==shop,env==prod,tier!=backend")}`), ["/prod/shop/web"])
    // as in Marathon, `!=` (and `notin`) also require the label to exist: /prod/shop/api has no tier
    assert.deepStrictEqual(await ids(`?label=${encodeURIComponent("team==shop,env==prod,tier!=frontend")}`), [])
    assert.deepStrictEqual(await ids(`?id=prod&label=${encodeURIComponent("team==money")}`), ["/prod/billing"])
  })

  it("an unknown app is 404 with Marathon's message", async () => {
    const r = await call("GET", `${sb.url}/v2/apps/prod/nope`)
    assert.strictEqual(r.status, 404)
    assert.deepStrictEqual(r.body, { message: "App '/prod/nope' does not exist" })
  })

  it("a partial update replaces the whole container: sending only the image wipes port mappings and volumes", async () => {
    const before = sb.app("/prod/shop/api")!
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: { docker: { image: "registry.example/shop/api:40-master" } }
    })
    assert.strictEqual(r.status, 200, r.text)
    const after = (await call("GET", `${sb.url}/v2/apps/prod/shop/api`)).body.app
    // forcePullImage and privileged are Marathon's defaults (RAML DockerContainer), written out
    assert.deepStrictEqual(after.container, {
      type: "DOCKER",
      docker: { image: "registry.example/shop/api:40-master", forcePullImage: false, privileged: false }
    })
    // untouched top-level fields stay
    assert.deepStrictEqual(after.healthChecks, before.healthChecks)
    assert.deepStrictEqual(after.labels, before.labels)
    assert.strictEqual(after.instances, 2)
  })

  it("sending the complete current container with only the image changed keeps everything else", async () => {
    const current = sb.apps().find((a) => a.id === "/prod/shop/api")!
    const container = structuredClone(current.container) as { docker: { image: string } }
    container.docker.image = "registry.example/shop/api:40-master"
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { container })
    assert.strictEqual(r.status, 200, r.text)
    const after = sb.apps().find((a) => a.id === "/prod/shop/api")!
    assert.deepStrictEqual(after, { ...current, container })
  })

  it("the id in the path wins over the id in the body; PUT to a new id creates it (201)", async () => {
    const r = await call("PUT", `${sb.url}/v2/apps/prod/new`, { id: "/elsewhere", cmd: "sleep 1" })
    assert.strictEqual(r.status, 201, r.text)
    assert.isDefined(sb.app("/prod/new"))
    assert.isUndefined(sb.app("/elsewhere"))
  })

  it("an array PUT of several apps is exactly one deployment affecting all of them", async () => {
    const r = await call("PUT", `${sb.url}/v2/apps`, [
      { id: "/prod/shop/api", container: { type: "DOCKER", docker: { image: "registry.example/shop/api:40-master" } } },
      { id: "prod/shop/web", container: { type: "DOCKER", docker: { image: "registry.example/shop/web:16-master" } } }
    ])
    assert.strictEqual(r.status, 200, r.text)
    assert.strictEqual(r.headers.get("marathon-deployment-id"), r.body.deploymentId)
    const deployments = (await call("GET", `${sb.url}/v2/deployments`)).body
    assert.strictEqual(deployments.length, 1)
    assert.strictEqual(deployments[0].id, r.body.deploymentId)
    assert.deepStrictEqual(deployments[0].affectedApps, ["/prod/shop/api", "/prod/shop/web"])
    assert.deepStrictEqual(deployments[0].steps[0].actions.map((a: { action: string }) => a.action), [
      "RestartApplication",
      "RestartApplication"
    ])
    for (const id of ["/prod/shop/api", "/prod/shop/web"]) {
      const app = sb.app(id)!
      assert.strictEqual(app.version, r.body.version)
      assert.deepStrictEqual(app.deployments, [{ id: r.body.deploymentId }])
    }
    // the untouched apps stay untouched
    assert.deepStrictEqual(sb.app("/staging/shop/api")!.deployments, [])
  })

  it("an array PUT with partialUpdate needs an id in every element (422) and changes nothing", async () => {
    const before = sb.apps()
    const r = await call("PUT", `${sb.url}/v2/apps`, [{ id: "/prod/shop/api", instances: 3 }, { instances: 5 }])
    assert.strictEqual(r.status, 422)
    assert.strictEqual(r.body.message, "Object is not valid")
    assert.deepStrictEqual(r.body.details, [{ path: "/1/id", errors: ["must not be empty"] }])
    assert.deepStrictEqual(sb.apps(), before)
    assert.deepStrictEqual(sb.deployments(), [])
  })

  it("while a deployment runs the app is locked (409 naming the deployment); force=true overrides it", async () => {
    const first = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { instances: 3 })
    assert.strictEqual(first.status, 200)
    const blocked = await call("PUT", `${sb.url}/v2/apps`, [{ id: "/prod/shop/api", instances: 4 }])
    assert.strictEqual(blocked.status, 409)
    assert.deepStrictEqual(blocked.body, { message: LOCKED, deployments: [{ id: first.body.deploymentId }] })
    assert.strictEqual(sb.apps().find((a) => a.id === "/prod/shop/api")!.instances, 3)

    const forced = await call("PUT", `${sb.url}/v2/apps?force=true`, [{ id: "/prod/shop/api", instances: 4 }])
    assert.strictEqual(forced.status, 200, forced.text)
    const ds = sb.deployments()
    assert.deepStrictEqual(ds.map((d) => d.id), [forced.body.deploymentId], "the forced deployment replaced the first")
    assert.strictEqual(sb.apps().find((a) => a.id === "/prod/shop/api")!.instances, 4)
  })

  it("invalid definitions are 422 with details per path, and change nothing", async () => {
    const before = sb.apps()
    const negative = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { instances: -1 })
    assert.strictEqual(negative.status, 422)
    assert.deepStrictEqual(negative.body, {
      message: "Object is not valid",
      details: [{ path: "/instances", errors: ["got -1, expected 0 or more"] }]
    })

    const noImage = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { container: { type: "DOCKER", docker: {} } })
    assert.strictEqual(noImage.status, 422)
    assert.deepStrictEqual(noImage.body.details, [{ path: "/container/docker/image", errors: ["must not be empty"] }])

    const badId = await call("PUT", `${sb.url}/v2/apps/Prod_Shop`, { cmd: "sleep 1" })
    assert.strictEqual(badId.status, 422)
    assert.strictEqual(badId.body.details[0].path, "/id")
    assert.match(badId.body.details[0].errors[0], /^must fully match regular expression/)

    const wrongType = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { instances: "two" })
    assert.strictEqual(wrongType.status, 422)
    assert.deepStrictEqual(wrongType.body, {
      message: "Invalid JSON",
      details: [{ path: "/instances", errors: ["error.expected.jsnumber"] }]
    })

    const nothing = await call("PUT", `${sb.url}/v2/apps/prod/empty`, { instances: 1 })
    assert.strictEqual(nothing.status, 422)
    assert.deepStrictEqual(nothing.body.details, [
      { path: "/", errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."] }
    ])
    assert.deepStrictEqual(sb.apps(), before)
    assert.deepStrictEqual(sb.deployments(), [])
  })

  it("malformed JSON is 400 with details as a string", async () => {
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, "{\"instances\": 3,")
    assert.strictEqual(r.status, 400)
    assert.strictEqual(r.body.message, "Invalid JSON")
    assert.isString(r.body.details)
  })

  it("an AppInfo sent back with `version` is refused (422); without `version` its derived fields are ignored", async () => {
    const info = (await call("GET", `${sb.url}/v2/apps/prod/shop/api`)).body.app
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { ...info, instances: 3 })
    assert.strictEqual(r.status, 422)
    assert.deepStrictEqual(r.body.details, [{ path: "/", errors: ["The 'version' field may only be combined with the 'id' field."] }])
    assert.strictEqual(sb.apps().find((a) => a.id === "/prod/shop/api")!.instances, 2)
    // FACTS.md "Apps" (corrected): the PUT body is the full App type; versionInfo, counts, tasks
    // and deployments are accepted and ignored, the app's versionInfo is Marathon's own
    const { version: _version, ...withoutVersion } = info
    const r2 = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      ...withoutVersion,
      versionInfo: { lastScalingAt: "2001-01-01T00:00:00.000Z", lastConfigChangeAt: "2001-01-01T00:00:00.000Z" },
      instances: 3
    })
    assert.strictEqual(r2.status, 200, r2.text)
    const stored = sb.apps().find((a) => a.id === "/prod/shop/api")!
    assert.strictEqual(stored.instances, 3)
    for (const derived of ["versionInfo", "tasksRunning", "tasks", "deployments", "version"]) assert.notProperty(stored, derived)
    assert.deepStrictEqual(sb.app("/prod/shop/api")!.versionInfo, {
      lastScalingAt: r2.body.version,
      lastConfigChangeAt: info.versionInfo.lastConfigChangeAt
    })
  })

  it("versions: scale-only changes make versions too, and {version} restores the whole old definition", async () => {
    const v1 = sb.app("/prod/shop/api")!.version as string
    const image = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: { type: "DOCKER", docker: { image: "registry.example/shop/api:42-master" } }
    })
    await waitFor("the image change to finish", () => sb.deployments().length === 0)
    const scale = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { instances: 5 })
    await waitFor("the scale to finish", () => sb.deployments().length === 0)
    const info = sb.app("/prod/shop/api")!
    assert.deepStrictEqual(info.versionInfo, {
      lastScalingAt: scale.body.version,
      lastConfigChangeAt: image.body.version
    })

    const versions = await call("GET", `${sb.url}/v2/apps/prod/shop/api/versions`)
    assert.strictEqual(versions.status, 200)
    assert.sameMembers(versions.body.versions, [v1, image.body.version, scale.body.version])

    const old = await call("GET", `${sb.url}/v2/apps/prod/shop/api/versions/${v1}`)
    assert.strictEqual(old.status, 200)
    assert.strictEqual(old.body.container.docker.image, "registry.example/shop/api:41-master")
    assert.notProperty(old.body, "app")
    assert.notProperty(old.body, "tasksRunning")

    const mixed = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { version: v1, instances: 2 })
    assert.strictEqual(mixed.status, 422)
    assert.deepStrictEqual(mixed.body.details[0].errors, ["The 'version' field may only be combined with the 'id' field."])

    const back = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { id: "/prod/shop/api", version: v1 })
    assert.strictEqual(back.status, 200, back.text)
    const restored = sb.apps().find((a) => a.id === "/prod/shop/api")!
    assert.strictEqual(restored.instances, 2, "instances come back with the old version")
    const seeded = shopApp("/x", "registry.example/shop/api:41-master").container as { docker: object }
    assert.deepStrictEqual(restored.container, { ...seeded, docker: { ...seeded.docker, privileged: false } })
    assert.strictEqual(sb.app("/prod/shop/api")!.version, back.body.version)
  })

  it("partialUpdate=false replaces the definition: fields not sent fall back to defaults", async () => {
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api?partialUpdate=false`, {
      container: { type: "DOCKER", docker: { image: "registry.example/shop/api:41-master" } }
    })
    assert.strictEqual(r.status, 200, r.text)
    const app = sb.apps().find((a) => a.id === "/prod/shop/api")!
    assert.strictEqual(app.instances, 1)
    assert.deepStrictEqual(app.labels, {})
    assert.deepStrictEqual(app.healthChecks, [])
  })

  it("a change that changes nothing starts no deployment and makes no version", async () => {
    const before = sb.app("/prod/shop/api")!
    const r = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, { instances: 2 })
    assert.strictEqual(r.status, 200)
    assert.deepStrictEqual(sb.deployments(), [])
    assert.strictEqual(sb.app("/prod/shop/api")!.version, before.version)
  })

  it("DELETE /v2/apps/{id} removes the app with a StopApplication deployment", async () => {
    const r = await call("DELETE", `${sb.url}/v2/apps/prod/billing`)
    assert.strictEqual(r.status, 200)
    assert.isUndefined(sb.app("/prod/billing"))
    assert.deepStrictEqual(sb.deployments()[0]!.steps, [{ actions: [{ action: "StopApplication", app: "/prod/billing" }] }])
  })

  it("injected failures answer once with the given status and change nothing; the request log records calls", async () => {
    sb.failNext(503, 2, { method: "PUT", path: /\/v2\/apps$/ })
    const body = [{ id: "/prod/shop/api", instances: 3 }]
    assert.strictEqual((await call("GET", `${sb.url}/v2/apps`)).status, 200, "GET does not match the injection")
    assert.strictEqual((await call("PUT", `${sb.url}/v2/apps`, body)).status, 503)
    assert.strictEqual((await call("PUT", `${sb.url}/v2/apps`, body)).status, 503)
    assert.strictEqual(sb.apps().find((a) => a.id === "/prod/shop/api")!.instances, 2)
    assert.strictEqual((await call("PUT", `${sb.url}/v2/apps`, body)).status, 200)
    const puts = sb.requests.filter((r) => r.method === "PUT" && r.path === "/v2/apps")
    assert.strictEqual(puts.length, 3)
    assert.deepStrictEqual(puts[2]!.body, body)
    assert.strictEqual(puts[2]!.query, "")
  })

  it("a PUT without Content-Type application/json is 415, as Marathon's JAX-RS resources answer", async () => {
    const res = await fetch(`${sb.url}/v2/apps/prod/shop/api`, { method: "PUT", body: "{\"instances\":3}", headers: { "content-type": "text/plain" } })
    assert.strictEqual(res.status, 415)
    assert.strictEqual(sb.apps().find((a) => a.id === "/prod/shop/api")!.instances, 2)
  })
  it("POST /v2/apps creates (201 with the app) and refuses an existing id (409)", async () => {
    const created = await call("POST", `${sb.url}/v2/apps`, { id: "/prod/worker", cmd: "work", instances: 1 })
    assert.strictEqual(created.status, 201, created.text)
    assert.strictEqual(created.body.id, "/prod/worker")
    assert.isString(created.headers.get("marathon-deployment-id"))
    const again = await call("POST", `${sb.url}/v2/apps`, { id: "/prod/worker", cmd: "work" })
    assert.strictEqual(again.status, 409)
    assert.deepStrictEqual(again.body, { message: "An app with id [/prod/worker] already exists." })
  })

  it("two elements for one app in an array PUT apply in order, still one deployment", async () => {
    const r = await call("PUT", `${sb.url}/v2/apps`, [
      { id: "/prod/shop/api", instances: 3 },
      { id: "/prod/shop/api", labels: { team: "shop", env: "prod", note: "second" } }
    ])
    assert.strictEqual(r.status, 200, r.text)
    const app = sb.apps().find((a) => a.id === "/prod/shop/api")!
    assert.strictEqual(app.instances, 3)
    assert.strictEqual((app.labels as Record<string, string>).note, "second")
    assert.strictEqual(sb.deployments().length, 1)
  })

  it("a URL-encoded version in /versions/{v} is found", async () => {
    const v = sb.app("/prod/shop/api")!.version as string
    const r = await call("GET", `${sb.url}/v2/apps/prod/shop/api/versions/${encodeURIComponent(v)}`)
    assert.strictEqual(r.status, 200, r.text)
    assert.strictEqual(r.body.id, "/prod/shop/api")
  })

  it("an invalid seed app is refused when the sandbox starts, naming the app", async () => {
    const attempt = startMarathonSandbox({ apps: [{ id: "/prod/bad", instances: -2, cmd: "x" }] })
    let message = ""
    await attempt.then(
      (s) => s.stop(),
      (e: unknown) => {
        message = String(e)
      }
    )
    assert.include(message, "/prod/bad")
    assert.include(message, "/instances")
  })
})
