/**
 * @module Swarm service rules — pure: label selectors, scope, when an update is done or failed,
 * and the X-Registry-Auth value the engine can decode.
 */
import { Redacted } from "effect"
import { assert, describe, it } from "vitest"
import type { SwarmService, TaskBody } from "../../lib/targets/swarm/Api.ts"
import { parseLabelSelector, registryAuthHeader, serviceInScope, updateProgress } from "../../lib/targets/swarm/Services.ts"

const service = (over: Partial<SwarmService> = {}): SwarmService => ({
  id: "svc1",
  name: "shop_api",
  version: 10,
  labels: { "com.docker.stack.namespace": "shop", tier: "edge" },
  image: "reg:5000/shop/api:1.0@sha256:" + "a".repeat(64),
  previousImage: undefined,
  hasPreviousSpec: false,
  replicas: 2,
  updateState: undefined,
  updateMessage: undefined,
  spec: {},
  ...over
})
const task = (id: string, state: string, image: string, desired = "running"): TaskBody => ({
  ID: id,
  ServiceID: "svc1",
  DesiredState: desired,
  Status: { State: state, Timestamp: "2026-12-04T10:00:00Z" },
  Spec: { ContainerSpec: { Image: image } }
})

describe("label selectors", () => {
  it("reads key and key=value (key==value too), all must hold", () => {
    assert.deepStrictEqual(parseLabelSelector("tier=edge, team==shop,critical"), [{ key: "tier", value: "edge" }, { key: "team", value: "shop" }, { key: "critical" }])
    assert.isTrue(serviceInScope(service(), { labelSelector: parseLabelSelector("tier=edge") }))
    assert.isFalse(serviceInScope(service(), { labelSelector: parseLabelSelector("tier=edge,critical") }))
  })
  it("refuses what Docker's label filter cannot say", () => {
    for (const bad of ["tier in (a,b)", "tier!=edge", "", "a,,b", "a=b=c"]) assert.isUndefined(parseLabelSelector(bad), bad)
  })
  it("a stack scope is the stack label", () => {
    assert.isTrue(serviceInScope(service(), { stack: "shop" }))
    assert.isFalse(serviceInScope(service(), { stack: "shop2" }))
  })
})

describe("when an update is done", () => {
  const image = service().image!
  it("done: completed and every replica runs the spec's image", () => {
    assert.deepStrictEqual(updateProgress(service({ updateState: "completed" }), [task("t1", "running", image), task("t2", "running", image)], { image, rollback: false }), { _tag: "Done" })
  })
  it("waiting: completed is not enough while a replica still starts", () => {
    assert.strictEqual(updateProgress(service({ updateState: "completed" }), [task("t1", "running", image), task("t2", "starting", image)], { image, rollback: false })._tag, "Waiting")
  })
  it("waiting: no UpdateStatus yet and the old tasks still run", () => {
    assert.strictEqual(updateProgress(service(), [task("t1", "running", "reg:5000/shop/api:0.9"), task("t2", "running", "reg:5000/shop/api:0.9")], { image, rollback: false })._tag, "Waiting")
  })
  it("failed: paused, or rolled back by the engine when we did not ask", () => {
    assert.strictEqual(updateProgress(service({ updateState: "paused", updateMessage: "update paused due to failure" }), [], { image, rollback: false })._tag, "Failed")
    assert.strictEqual(updateProgress(service({ updateState: "rollback_completed" }), [], { image, rollback: false })._tag, "Failed")
  })
  it("our own rollback: rollback_completed is done", () => {
    assert.deepStrictEqual(updateProgress(service({ updateState: "rollback_completed" }), [task("t1", "running", image), task("t2", "running", image)], { image, rollback: true }), { _tag: "Done" })
  })
  it("failed: someone put another image in", () => {
    const p = updateProgress(service({ image: "reg:5000/shop/api:9.9" }), [], { image, rollback: false })
    assert.strictEqual(p._tag, "Failed")
  })
})

describe("X-Registry-Auth", () => {
  it("is base64url with padding of Docker's auth config (Go's base64.URLEncoding)", () => {
    // this JSON is 64 bytes (two bytes of padding) and '??' gives a '/' in plain base64
    const header = registryAuthHeader({ username: "ops>", password: Redacted.make("p??w") }, "reg:5000")
    assert.match(header, /^[A-Za-z0-9_-]+=*$/)
    assert.strictEqual(header.length % 4, 0)
    const json = JSON.parse(Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"))
    assert.deepStrictEqual(json, { username: "ops>", password: "p??w", serveraddress: "reg:5000" })
  })
})
