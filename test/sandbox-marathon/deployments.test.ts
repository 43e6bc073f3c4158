/**
 * @module deployments.test — deployments in the sandbox progress and disappear, a broken image
 * never finishes, and cancelling rolls back (or not, with force) as Marathon does.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { type MarathonSandbox, startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { call, shopApp, waitFor } from "./support.ts"

const GOOD = "registry.example/shop/api:41-master"
const BAD = "registry.example/shop/api:42-master"

const withImage = (app: Record<string, unknown> | undefined, image: string) => {
  const container = structuredClone(app!.container) as { docker: { image: string } }
  container.docker.image = image
  return container
}

describe("Marathon deployments in the sandbox", () => {
  let sb: MarathonSandbox
  beforeEach(async () => {
    sb = await startMarathonSandbox({
      deploymentMs: 400,
      brokenImages: [BAD],
      apps: [shopApp("/prod/shop/api", GOOD, { instances: 4 }), shopApp("/prod/shop/web", "registry.example/shop/web:17")]
    })
  })
  afterEach(() => sb.stop())

  const imageOf = (id: string): string => (sb.app(id)!.container as { docker: { image: string } }).docker.image

  /**
   * Starts a scale of `appId` (a deployment of the same length, started later) and waits until it
   * has finished: by then a deployment started before it would have finished too, had it been
   * able to. An event to wait on instead of a sleep.
   */
  const outlast = async (appId: string) => {
    const control = await call("PUT", `${sb.url}/v2/apps${appId}`, { instances: 5 })
    assert.strictEqual(control.status, 200, control.text)
    await waitFor("a later deployment of the same length to finish", () => !sb.deployments().some((d) => d.id === control.body.deploymentId), 10_000)
  }

  it("a rolling restart progresses over deploymentMs and then the deployment is gone with all tasks healthy", async () => {
    const started = Date.now()
    const put = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: withImage(sb.apps().find((a) => a.id === "/prod/shop/api"), "registry.example/shop/api:40-master")
    })
    assert.strictEqual(put.status, 200, put.text)
    const during = sb.app("/prod/shop/api")!
    assert.strictEqual(imageOf("/prod/shop/api"), "registry.example/shop/api:40-master", "the new definition is visible at once")
    assert.deepStrictEqual(during.deployments, [{ id: put.body.deploymentId }])
    assert.strictEqual(during.tasksStaged, 1, "new tasks are being staged")

    const seen = new Set<number>()
    await waitFor("the deployment to disappear", async () => {
      const ds = (await call("GET", `${sb.url}/v2/deployments`)).body as Array<{ currentStep: number }>
      const app = (await call("GET", `${sb.url}/v2/apps/prod/shop/api`)).body.app
      seen.add(app.tasksRunning)
      return ds.length === 0
    })
    assert.isAtLeast(Date.now() - started, 350, "the deployment took about deploymentMs")
    const done = sb.app("/prod/shop/api")!
    assert.include(done, { tasksRunning: 4, tasksHealthy: 4, tasksStaged: 0, tasksUnhealthy: 0 })
    assert.deepStrictEqual(done.deployments, [])
    assert.isUndefined(done.lastTaskFailure)
    assert.isTrue([...seen].some((n) => n >= 4), "a rolling restart keeps capacity while it runs")
  })

  it("a new app is started in two steps (StartApplication, then ScaleApplication)", async () => {
    const put = await call("PUT", `${sb.url}/v2/apps/prod/shop/cart`, shopApp("/prod/shop/cart", "registry.example/shop/cart:3"))
    assert.strictEqual(put.status, 201)
    const d = sb.deployments()[0]!
    assert.deepStrictEqual(d.steps, [
      { actions: [{ action: "StartApplication", app: "/prod/shop/cart" }] },
      { actions: [{ action: "ScaleApplication", app: "/prod/shop/cart" }] }
    ])
    assert.strictEqual(d.totalSteps, 2)
    assert.strictEqual(d.currentStep, 1)
    await waitFor("the second step", () => sb.deployments()[0]?.currentStep === 2 || sb.deployments().length === 0)
    await waitFor("the deployment to finish", () => sb.deployments().length === 0)
    assert.strictEqual(sb.app("/prod/shop/cart")!.tasksRunning, 2)
  })

  it("a broken image never finishes: tasks fail, lastTaskFailure names the new version, fewer tasks run than wanted", async () => {
    const put = await call("PUT", `${sb.url}/v2/apps`, [
      { id: "/prod/shop/api", container: withImage(sb.apps().find((a) => a.id === "/prod/shop/api"), BAD) }
    ])
    assert.strictEqual(put.status, 200)
    await outlast("/prod/shop/web")
    const ds = (await call("GET", `${sb.url}/v2/deployments`)).body
    assert.strictEqual(ds.length, 1, "the deployment is still there")
    assert.strictEqual(ds[0].id, put.body.deploymentId)
    const app = (await call("GET", `${sb.url}/v2/apps/prod/shop/api`)).body.app
    assert.isBelow(app.tasksRunning, app.instances)
    assert.isBelow(app.tasksHealthy, app.instances)
    assert.include(app.lastTaskFailure, { appId: "/prod/shop/api", state: "TASK_FAILED", version: put.body.version })
    assert.deepStrictEqual(Object.keys(app.lastTaskFailure).sort(), [
      "appId",
      "host",
      "message",
      "slaveId",
      "state",
      "taskId",
      "timestamp",
      "version"
    ])
    // as in Marathon, the list embeds lastTaskFailure only when asked for
    const plain = (await call("GET", `${sb.url}/v2/apps?id=/prod/shop/api`)).body.apps[0]
    assert.notProperty(plain, "lastTaskFailure")
    const embedded = (await call("GET", `${sb.url}/v2/apps?id=/prod/shop/api&embed=apps.lastTaskFailure`)).body.apps[0]
    assert.strictEqual(embedded.lastTaskFailure.version, put.body.version)
  })

  it("markBroken makes an image fail from then on", async () => {
    sb.markBroken("registry.example/shop/web:16")
    await call("PUT", `${sb.url}/v2/apps/prod/shop/web`, {
      container: withImage(sb.apps().find((a) => a.id === "/prod/shop/web"), "registry.example/shop/web:16")
    })
    await outlast("/prod/shop/api")
    assert.strictEqual(sb.deployments().length, 1)
    assert.isDefined(sb.app("/prod/shop/web")!.lastTaskFailure)
  })

  it("DELETE /v2/deployments/{id} cancels a stuck deployment and rolls back to the old image", async () => {
    const original = sb.apps().find((a) => a.id === "/prod/shop/api")
    const put = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: withImage(sb.apps().find((a) => a.id === "/prod/shop/api"), BAD)
    })
    await outlast("/prod/shop/web") // past its time: it is stuck, not slow
    const del = await call("DELETE", `${sb.url}/v2/deployments/${put.body.deploymentId}`)
    assert.strictEqual(del.status, 200, del.text)
    assert.deepStrictEqual(Object.keys(del.body).sort(), ["deploymentId", "version"])
    assert.notStrictEqual(del.body.deploymentId, put.body.deploymentId)
    const ds = sb.deployments()
    assert.deepStrictEqual(ds.map((d) => d.id), [del.body.deploymentId], "only the revert deployment runs")
    assert.strictEqual(imageOf("/prod/shop/api"), GOOD, "the revert restores the old image at once")
    await waitFor("the revert to finish", () => sb.deployments().length === 0)
    const app = sb.app("/prod/shop/api")!
    assert.include(app, { tasksRunning: 4, tasksHealthy: 4, version: del.body.version })
    assert.deepStrictEqual(sb.apps().find((a) => a.id === "/prod/shop/api"), original, "the whole old definition is back")
    const versions = (await call("GET", `${sb.url}/v2/apps/prod/shop/api/versions`)).body.versions
    assert.include(versions, del.body.version)
  })

  it("reverting a deployment that created an app removes the app again", async () => {
    const put = await call("PUT", `${sb.url}/v2/apps/prod/shop/cart`, shopApp("/prod/shop/cart", BAD))
    assert.strictEqual(put.status, 201)
    const del = await call("DELETE", `${sb.url}/v2/deployments/${put.body.deploymentId}`)
    assert.strictEqual(del.status, 200)
    assert.isUndefined(sb.app("/prod/shop/cart"))
    assert.deepStrictEqual(sb.deployments()[0]!.steps, [{ actions: [{ action: "StopApplication", app: "/prod/shop/cart" }] }])
  })

  it("DELETE with force=true cancels without rollback: 202, empty body, the new definition stays", async () => {
    const put = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: withImage(sb.apps().find((a) => a.id === "/prod/shop/api"), BAD)
    })
    const del = await call("DELETE", `${sb.url}/v2/deployments/${put.body.deploymentId}?force=true`)
    assert.strictEqual(del.status, 202)
    assert.strictEqual(del.text, "")
    assert.deepStrictEqual(sb.deployments(), [])
    assert.strictEqual(imageOf("/prod/shop/api"), BAD)
    assert.isBelow(sb.app("/prod/shop/api")!.tasksRunning as number, 4)
  })

  it("an unknown deployment is 404 with Marathon's message", async () => {
    const del = await call("DELETE", `${sb.url}/v2/deployments/nope-123`)
    assert.strictEqual(del.status, 404)
    assert.deepStrictEqual(del.body, { message: "DeploymentPlan nope-123 does not exist" })
  })
  it("GET /v2/events streams deployment_success and deployment_failed frames; without text/event-stream it is 405", async () => {
    assert.strictEqual((await call("GET", `${sb.url}/v2/events`)).status, 405)
    const controller = new AbortController()
    const res = await fetch(`${sb.url}/v2/events?event_type=deployment_success&event_type=deployment_failed`, {
      headers: { accept: "text/event-stream" },
      signal: controller.signal
    })
    assert.strictEqual(res.status, 200)
    const reader = res.body!.getReader()
    const frames: Array<{ event: string; data: Record<string, unknown> }> = []
    const reading = (async () => {
      let buffer = ""
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) return
        buffer += new TextDecoder().decode(value)
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(frame)?.[1] ?? ""
          const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}")
          frames.push({ event, data })
        }
      }
    })()
    const ok = await call("PUT", `${sb.url}/v2/apps/prod/shop/web`, { instances: 3 })
    const stuck = await call("PUT", `${sb.url}/v2/apps/prod/shop/api`, {
      container: withImage(sb.apps().find((a) => a.id === "/prod/shop/api"), BAD)
    })
    await call("DELETE", `${sb.url}/v2/deployments/${stuck.body.deploymentId}`)
    await waitFor("the success event", () => frames.some((f) => f.event === "deployment_success" && f.data.id === ok.body.deploymentId))
    const failed = frames.find((f) => f.event === "deployment_failed")
    assert.strictEqual(failed?.data.id, stuck.body.deploymentId)
    assert.deepStrictEqual(Object.keys(failed!.data).sort(), ["eventType", "id", "plan", "reason", "timestamp"])
    assert.isTrue(frames.every((f) => f.event === f.data.eventType))
    assert.isFalse(frames.some((f) => f.event === "event_stream_attached"), "event_type filters the stream")
    controller.abort()
    await reading
  })
})
