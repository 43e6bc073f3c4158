/**
 * @module faults.test — the rehearsals the sandbox offers: a change applied whose answer is lost
 * (an error status or a reset connection), an outage, a late answer, a state snapshot that shows
 * whether anything changed, Marathon's limit of running deployments, and images that crash.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { type MarathonSandbox, type MarathonSandboxOptions, startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { call, shopApp, waitFor } from "./support.ts"

const V1 = "registry.example/shop/api:41-master"
const V2 = "registry.example/shop/api:40-master"

let sb: MarathonSandbox | undefined
const start = async (options: MarathonSandboxOptions = {}) => {
  sb = await startMarathonSandbox({ deploymentMs: 200, apps: [shopApp("/prod/shop/api", V1)], ...options })
  return sb
}
afterEach(async () => {
  await sb?.stop()
  sb = undefined
})

const imageChange = (image: string) => [{ id: "/prod/shop/api", container: { ...(shopApp("/prod/shop/api", image)["container"] as object) } }]
const imageOf = (s: MarathonSandbox) => ((s.app("/prod/shop/api")!["container"] as { docker: { image: string } }).docker.image)

/** A promise and whether it has settled yet. */
const settles = <A>(promise: Promise<A>) => {
  let done = false
  const tracked = promise.finally(() => {
    done = true
  })
  return { promise: tracked, settled: () => done }
}

/** A request whose connection is closed without an answer rejects (fetch: "fetch failed"). */
const lost = async (promise: Promise<unknown>): Promise<boolean> => promise.then(() => false, () => true)

describe("faults the sandbox injects", () => {
  it("a 503 after applying: the change is made and a deployment runs, the client only sees 503", async () => {
    const s = await start()
    s.failNext(503, 1, { method: "PUT", afterApplying: true })
    const put = await call("PUT", `${s.url}/v2/apps`, imageChange(V2))
    assert.strictEqual(put.status, 503)
    assert.strictEqual(imageOf(s), V2)
    assert.lengthOf(s.deployments(), 1)
  })

  it("a 503 without afterApplying changes nothing (no leader)", async () => {
    const s = await start()
    const before = s.snapshot()
    s.failNext(503, 1, { method: "PUT" })
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 503)
    assert.deepStrictEqual(s.snapshot(), before)
  })

  it("a reset: no answer at all; with afterApplying the change is made anyway", async () => {
    const s = await start()
    const before = s.snapshot()
    s.failNext("reset", 1, { method: "PUT" })
    assert.isTrue(await lost(call("PUT", `${s.url}/v2/apps`, imageChange(V2))))
    assert.deepStrictEqual(s.snapshot(), before, "a reset before applying changes nothing")
    s.failNext("reset", 1, { method: "PUT", afterApplying: true })
    assert.isTrue(await lost(call("PUT", `${s.url}/v2/apps`, imageChange(V2))))
    assert.strictEqual(imageOf(s), V2)
    assert.lengthOf(s.deployments(), 1)
  })

  it("thenUnreachable: after the fault every request is reset until recover()", async () => {
    const s = await start()
    s.failNext("reset", 1, { method: "PUT", afterApplying: true, thenUnreachable: true })
    assert.isTrue(await lost(call("PUT", `${s.url}/v2/apps`, imageChange(V2))))
    assert.isTrue(await lost(call("GET", `${s.url}/v2/apps/prod/shop/api`)))
    assert.isTrue(await lost(call("GET", `${s.url}/v2/deployments`)))
    s.recover()
    assert.strictEqual((await call("GET", `${s.url}/v2/apps/prod/shop/api`)).body.app.container.docker.image, V2)
    s.goDown()
    assert.isTrue(await lost(call("GET", `${s.url}/ping`)))
  })

  it("a custom body replaces Marathon's usual one for the status", async () => {
    const s = await start()
    const details = [{ path: "/0/container/docker/image", errors: ["must not be empty"] }]
    s.failNext(422, 1, { method: "PUT", body: { message: "Object is not valid", details } })
    const put = await call("PUT", `${s.url}/v2/apps`, imageChange(V2))
    assert.strictEqual(put.status, 422)
    assert.deepStrictEqual(put.body.details, details)
  })

  it("delayNext: the change is made at once, the answer is held until its time (or sendLateAnswers)", async () => {
    const s = await start()
    s.delayNext(600_000, 1, { method: "PUT" })
    const answer = settles(call("PUT", `${s.url}/v2/apps`, imageChange(V2)))
    await waitFor("the change to be applied", () => imageOf(s) === V2, 5_000)
    assert.isFalse(answer.settled(), "the change is made, its answer is still held")
    assert.strictEqual(s.sendLateAnswers(), 1)
    assert.strictEqual((await answer.promise).status, 200)
  })

  it("delayNext: a short delay ends by itself", async () => {
    const s = await start()
    s.delayNext(50, 1, { method: "PUT" })
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 200)
    assert.strictEqual(s.sendLateAnswers(), 0, "nothing left to send")
  })
})

describe("Marathon lists a deployment before it stores the new definitions (GroupManagerImpl.updateRoot)", () => {
  it("storeWhenReleased: the fault answers before the store; the deployment is listed while the app still shows its old definition", async () => {
    const s = await start()
    const versionBefore = s.app("/prod/shop/api")!["version"]
    s.failNext(504, 1, { method: "PUT", storeWhenReleased: true })
    // the store waits for releaseStore(): this 504 can only have come before it
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 504)
    const listed = (await call("GET", `${s.url}/v2/deployments`)).body as Array<{ id: string; affectedApps: Array<string> }>
    assert.lengthOf(listed, 1)
    assert.deepStrictEqual(listed[0]!.affectedApps, ["/prod/shop/api"])
    const during = (await call("GET", `${s.url}/v2/apps/prod/shop/api`)).body.app
    assert.strictEqual(during.container.docker.image, V1, "the definition is not stored yet")
    assert.strictEqual(during.version, versionBefore)
    assert.deepStrictEqual(during.deployments, [{ id: listed[0]!.id }])
    assert.isTrue(s.releaseStore())
    assert.strictEqual(imageOf(s), V2)
    assert.notStrictEqual(s.app("/prod/shop/api")!["version"], versionBefore)
    assert.isFalse(s.releaseStore(), "nothing left to store")
  })

  it("storeAfterMs: the store comes by itself after the delay", async () => {
    const s = await start({ deploymentMs: 5_000 })
    s.failNext(504, 1, { method: "PUT", storeAfterMs: 50 })
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 504)
    await s.whenStored()
    assert.strictEqual(imageOf(s), V2)
    assert.lengthOf(s.deployments(), 1)
  })

  it("whenDeploymentListed resolves once GET /v2/deployments has listed the deployment", async () => {
    const s = await start({ deploymentMs: 5_000 })
    const listed = settles(s.whenDeploymentListed())
    s.failNext(504, 1, { method: "PUT", storeWhenReleased: true })
    await call("PUT", `${s.url}/v2/apps`, imageChange(V2))
    await call("GET", `${s.url}/v2/apps`)
    assert.isFalse(listed.settled(), "not before anyone asked for the deployments")
    const body = (await call("GET", `${s.url}/v2/deployments`)).body as Array<{ id: string }>
    assert.deepStrictEqual(await listed.promise, [body[0]!.id])
    s.releaseStore()
  })

  it("a change sent in that window waits for the store and then sees the new root: the same images again are an empty plan, never listed", async () => {
    const s = await start({ deploymentMs: 5_000 })
    s.failNext(504, 1, { method: "PUT", storeWhenReleased: true })
    await call("PUT", `${s.url}/v2/apps`, imageChange(V2))
    const real = (s.deployments()[0] as { id: string }).id
    const repeat = settles(call("PUT", `${s.url}/v2/apps`, imageChange(V2)))
    await waitFor("the repeat to reach the sandbox", () => s.requests.filter((r) => r.method === "PUT").length === 2, 5_000)
    assert.isFalse(repeat.settled(), "the repeat waits for the store")
    s.releaseStore()
    const again = await repeat.promise
    assert.strictEqual(again.status, 200)
    assert.notStrictEqual(again.body.deploymentId, real)
    assert.deepStrictEqual(s.deployments().map((d) => d["id"]), [real], "only the real deployment is listed")
  })

  it("storeDelayMs: every change is listed first and answered once its definitions are stored", async () => {
    // a delay no test outlives: the store comes when the test releases it
    const s = await start({ storeDelayMs: 600_000, deploymentMs: 5_000 })
    const answer = settles(call("PUT", `${s.url}/v2/apps`, imageChange(V2)))
    await waitFor("the deployment to be listed", () => s.deployments().length === 1, 5_000)
    assert.strictEqual(imageOf(s), V1)
    assert.isFalse(answer.settled(), "no answer before the store")
    assert.isTrue(s.releaseStore())
    const put = await answer.promise
    assert.strictEqual(put.status, 200)
    assert.strictEqual(imageOf(s), V2)
    assert.strictEqual(put.body.deploymentId, s.deployments()[0]!["id"])
  })
})

describe("the sandbox's whole state", () => {
  it("snapshot() stays equal over reads and refusals and changes with a deployment", async () => {
    const s = await start({ deploymentMs: 5_000 })
    const before = s.snapshot()
    await call("GET", `${s.url}/v2/apps`)
    await call("GET", `${s.url}/v2/deployments`)
    assert.deepStrictEqual(s.snapshot(), before)
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 200)
    const during = s.snapshot()
    assert.notDeepEqual(during, before)
    // locked: a second change is refused with 409 and changes nothing, not even the deployments
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V1))).status, 409)
    assert.deepStrictEqual(s.snapshot(), during)
  })
})

describe("Marathon's limits and crashing images", () => {
  it("maxRunningDeployments: one more deployment is 403 'Max number (N) of running deployments', nothing changes", async () => {
    const s = await startMarathonSandbox({
      deploymentMs: 5_000,
      maxRunningDeployments: 1,
      apps: [shopApp("/prod/shop/api", V1), shopApp("/prod/shop/web", "registry.example/shop/web:17")]
    })
    sb = s
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps/prod/shop/web`, { instances: 3 })).status, 200)
    const before = s.snapshot()
    const refused = await call("PUT", `${s.url}/v2/apps`, imageChange(V2))
    assert.strictEqual(refused.status, 403)
    assert.match(refused.body.message, /^Max number \(1\) of running deployments is achieved/)
    assert.deepStrictEqual(s.snapshot(), before)
  })

  it("a crashing image without health checks: the deployment finishes, then no task runs and lastTaskFailure is set", async () => {
    const s = await start({ apps: [shopApp("/prod/shop/api", V1, { healthChecks: [] })] })
    s.markCrashing(V2)
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2).map((e) => ({ ...e, healthChecks: [] })))).status, 200)
    await waitFor("the deployment to finish", () => s.deployments().length === 0, 3000)
    const app = s.app("/prod/shop/api")!
    assert.strictEqual(app["tasksRunning"], 0)
    assert.include(String((app["lastTaskFailure"] as { message: string }).message), "crashes")
  })

  it("a crashing image with health checks never gets healthy: the deployment does not finish", async () => {
    const s = await start({ apps: [shopApp("/prod/shop/api", V1), shopApp("/prod/shop/web", "registry.example/shop/web:1")] })
    s.markCrashing(V2)
    assert.strictEqual((await call("PUT", `${s.url}/v2/apps`, imageChange(V2))).status, 200)
    const stuck = s.deployments()[0]!["id"]
    // a control deployment started later with the same duration: once it is done, the first
    // one would have been done too, had it been able to finish
    const control = await call("PUT", `${s.url}/v2/apps/prod/shop/web`, { instances: 3 })
    assert.strictEqual(control.status, 200, control.text)
    await waitFor("the control deployment to finish", () => !s.deployments().some((d) => d["id"] === control.body.deploymentId), 5_000)
    assert.deepStrictEqual(s.deployments().map((d) => d["id"]), [stuck])
  })
})
