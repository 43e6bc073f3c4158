/**
 * @module examples.test — the sandbox against the published Marathon examples: every example
 * app is accepted and read back with every field it sent, and answers have the shapes of
 * `raml/v2/examples`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type MarathonSandbox, startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { call, exampleApps, keys, reference, shopApp, waitFor } from "./support.ts"

/** True when every field of `sent` is in `got` with the same value (objects compared deeply). */
const preserves = (sent: unknown, got: unknown): boolean => {
  if (Array.isArray(sent)) return Array.isArray(got) && sent.length === got.length && sent.every((x, i) => preserves(x, got[i]))
  if (typeof sent === "object" && sent !== null) {
    if (typeof got !== "object" || got === null) return false
    return Object.entries(sent).every(([k, v]) => preserves(v, (got as Record<string, unknown>)[k]))
  }
  return sent === got
}

const STATUS_FIELDS = ["version", "versionInfo", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments"]

describe("the sandbox accepts Marathon's own examples", () => {
  let sandbox: MarathonSandbox
  beforeAll(async () => {
    sandbox = await startMarathonSandbox({ deploymentMs: 50 })
  })
  afterAll(() => sandbox.stop())

  const files = [
    ...exampleApps().map((e) => ({ name: `example-apps/${e.file}`, app: e.app })),
    { name: "raml/v2/examples/app.json", app: reference<Record<string, unknown>>("raml/v2/examples/app.json") }
  ]

  it("has the reference files to test against", () => {
    assert.isAtLeast(files.length, 6, "expected the five example-apps and raml/v2/examples/app.json")
  })

  for (const { name, app } of files) {
    it(`${name}: PUT creates it (201) and GET returns every field that was sent`, async () => {
      const id = String(app.id)
      const put = await call("PUT", `${sandbox.url}/v2/apps${id}`, app)
      assert.strictEqual(put.status, 201, put.text)
      assert.deepStrictEqual(keys(put.body), ["deploymentId", "version"])
      assert.strictEqual(put.headers.get("marathon-deployment-id"), put.body.deploymentId)
      assert.isFalse(Number.isNaN(Date.parse(put.body.version)), "version is an ISO timestamp")

      const got = await call("GET", `${sandbox.url}/v2/apps${id}`)
      assert.strictEqual(got.status, 200)
      assert.isTrue(preserves(app, got.body.app), `GET ${id} lost or changed a field: ${JSON.stringify(got.body.app)}`)
      for (const field of STATUS_FIELDS) assert.property(got.body.app, field)
      assert.strictEqual(got.body.app.version, put.body.version)

      // the stored definition carries no read-only field
      const stored = sandbox.apps().find((a) => a.id === id)
      assert.isDefined(stored)
      for (const field of STATUS_FIELDS) assert.notProperty(stored, field)
    })
  }

  it("GET /v2/apps entries have the keys of raml/v2/examples/app_list.json", async () => {
    const example = reference<{ apps: Array<Record<string, unknown>> }>("raml/v2/examples/app_list.json").apps[0]!
    const definition = Object.fromEntries(
      Object.entries(example).filter(([k, v]) => v !== null && !STATUS_FIELDS.includes(k))
    )
    const put = await call("PUT", `${sandbox.url}/v2/apps/myapp`, definition)
    assert.strictEqual(put.status, 201, put.text)
    const list = await call("GET", `${sandbox.url}/v2/apps?id=/myapp`)
    assert.strictEqual(list.status, 200)
    assert.deepStrictEqual(keys(list.body), ["apps"])
    const entry = list.body.apps.find((a: { id: string }) => a.id === "/myapp")
    const expectedKeys = Object.entries(example).filter(([, v]) => v !== null).map(([k]) => k)
    for (const key of expectedKeys) assert.property(entry, key, `app_list.json has "${key}"`)
    assert.deepStrictEqual(keys(entry.versionInfo), keys(example.versionInfo))
    assert.isTrue(preserves(definition, entry))
  })

  it("GET /v2/deployments has the keys of raml/v2/examples/deployments.json", async () => {
    const example = reference<Array<Record<string, any>>>("raml/v2/examples/deployments.json")[0]!
    const slow = await startMarathonSandbox({ deploymentMs: 2000, apps: [shopApp("/shop/api", "registry.example/shop/api:7")] })
    try {
      const put = await call("PUT", `${slow.url}/v2/apps/shop/api`, { instances: 4 })
      assert.strictEqual(put.status, 200)
      const list = await call("GET", `${slow.url}/v2/deployments`)
      assert.strictEqual(list.status, 200)
      assert.strictEqual(list.body.length, 1)
      const d = list.body[0]
      assert.deepStrictEqual(keys(d), keys(example))
      assert.deepStrictEqual(keys(d.steps[0]), keys(example.steps[0]))
      assert.deepStrictEqual(keys(d.steps[0].actions[0]), keys(example.steps[0].actions[0]))
      assert.deepStrictEqual(keys(d.currentActions[0]), keys(example.currentActions[0]))
      assert.strictEqual(d.id, put.body.deploymentId)
      assert.strictEqual(d.version, put.body.version)
      assert.deepStrictEqual(d.affectedApps, ["/shop/api"])
      assert.deepStrictEqual(d.steps, [{ actions: [{ action: "ScaleApplication", app: "/shop/api" }] }])
      assert.strictEqual(d.currentStep, 1)
      assert.strictEqual(d.totalSteps, 1)
    } finally {
      await slow.stop()
    }
  })

  it("GET /v2/info has the keys of raml/v2/examples/info.json; /ping says pong; /v2/leader names the leader", async () => {
    const example = reference<Record<string, unknown>>("raml/v2/examples/info.json")
    const info = await call("GET", `${sandbox.url}/v2/info`)
    assert.strictEqual(info.status, 200)
    assert.deepStrictEqual(keys(info.body), keys(example))
    assert.strictEqual(info.body.elected, true)

    const ping = await call("GET", `${sandbox.url}/ping`)
    assert.strictEqual(ping.status, 200)
    assert.strictEqual(ping.text, "pong")
    assert.match(ping.headers.get("content-type") ?? "", /^text\/plain/)

    const leader = await call("GET", `${sandbox.url}/v2/leader`)
    assert.strictEqual(leader.status, 200)
    assert.strictEqual(leader.body.leader, new URL(sandbox.url).host)
  })

  it("the PUT answer matches raml/v2/examples/deployments_result.json", async () => {
    const example = reference<Record<string, unknown>>("raml/v2/examples/deployments_result.json")
    await waitFor("no deployment for /sleep", async () => (await call("GET", `${sandbox.url}/v2/deployments`)).body.length === 0)
    const put = await call("PUT", `${sandbox.url}/v2/apps/sleep`, { instances: 3 })
    assert.strictEqual(put.status, 200, put.text)
    assert.deepStrictEqual(keys(put.body), keys(example))
  })
})
