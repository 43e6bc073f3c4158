/**
 * @module test/core/Plan — the selected set against what runs now: what gets rolled back, what is
 * left alone, what would move forward, and what cannot be planned.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PlanEntry, RunningService } from "../../lib/core/index.ts"
import { planRollback, planSummary, selectAsOf } from "../../lib/core/index.ts"
import { at, digestOf, fleet } from "./fleet.ts"

const REGISTRY = "https://registry.example.com:5000"
const HOST = "registry.example.com:5000"

// api: 1 (1 Nov), 2 (10 Nov), 3 (20 Nov, the bad release). web: 7 (5 Nov), 8 (20 Nov).
const { timeline } = fleet({
  api: [["1-master", "2026-11-01T00:00:00Z"], ["2-master", "2026-11-10T00:00:00Z"], ["3-master", "2026-11-20T00:00:00Z"]],
  web: [["7-master", "2026-11-05T00:00:00Z"], ["8-master", "2026-11-20T00:00:00Z"]],
  search: [["1-master", "2026-11-15T00:00:00Z"]]
})
const digest = (service: string, tag: string) => digestOf(`shop/${service}:${tag}`)
const running = (service: string, image: string | undefined): RunningService => ({ service, app: `/shop/prod/${service}`, image })

const planAt = (instant: string, now: ReadonlyArray<RunningService>, pinDigest = false) =>
  planRollback(timeline, selectAsOf(timeline, at(instant)), now, { registry: REGISTRY, pinDigest, label: "the label" })

const entry = (entries: ReadonlyArray<PlanEntry>, service: string): PlanEntry => {
  const found = entries.find((e) => e.service === service)
  if (found === undefined) throw new Error(`no plan entry for ${service}`)
  return found
}

describe("planRollback", () => {
  it("after the bad release of 20 November, going back to the 12th rolls api and web back, search is unresolved", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [
      running("api", `${HOST}/shop/api:3-master`),
      running("web", `${HOST}/shop/web:8-master`),
      running("search", `${HOST}/shop/search:1-master`)
    ])
    assert.strictEqual(plan.point, "2026-11-12T00:00:00.000Z")
    assert.strictEqual(plan.label, "the label")
    assert.deepStrictEqual(entry(plan.services, "api"), {
      service: "api",
      app: "/shop/prod/api",
      current: `${HOST}/shop/api:3-master`,
      target: `${HOST}/shop/api:2-master`,
      targetTag: "2-master",
      targetDigest: digest("api", "2-master"),
      builtAt: "2026-11-10T00:00:00.000Z",
      action: "rollback"
    })
    assert.strictEqual(entry(plan.services, "web").action, "rollback")
    assert.strictEqual(entry(plan.services, "web").target, `${HOST}/shop/web:7-master`)
    const search = entry(plan.services, "search")
    assert.strictEqual(search.action, "unresolved")
    assert.isUndefined(search.target)
    assert.include(search.reason, "no image of search at or before")
    assert.deepStrictEqual(planSummary(plan), { rollback: 2, unchanged: 0, forward: 0, unresolved: 1 })
  })

  it("a service already running its target is unchanged: same tag, same digest, or both", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [
      running("api", `${HOST}/shop/api:2-master`),
      running("web", `${HOST}/shop/web@${digest("web", "7-master")}`),
      running("search", `${HOST}/shop/search:1-master`)
    ])
    assert.strictEqual(entry(plan.services, "api").action, "unchanged")
    assert.strictEqual(entry(plan.services, "web").action, "unchanged")
  })

  it("the same digest under another tag (a re-tag) is unchanged", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:hotfix@${digest("api", "2-master")}`)])
    assert.strictEqual(entry(plan.services, "api").action, "unchanged")
  })

  it("the same tag pinned to another digest is not unchanged (the tag was moved after the build)", () => {
    const moved = digestOf("someone re-pushed 2-master")
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:2-master@${moved}`)])
    const api = entry(plan.services, "api")
    assert.strictEqual(api.action, "rollback")
    assert.include(api.reason, "is not in rollback.json")
  })

  it("a target newer than what runs is forward (needs --allow-forward)", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:1-master`), running("web", `${HOST}/shop/web:7-master`)])
    assert.strictEqual(entry(plan.services, "api").action, "forward")
    assert.strictEqual(entry(plan.services, "web").action, "unchanged")
  })

  it("a running image that is not in rollback.json (pushed after `get`) is treated as newer: rollback, with the reason", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:4-master`)])
    const api = entry(plan.services, "api")
    assert.strictEqual(api.action, "rollback")
    assert.include(api.reason, `the running image ${HOST}/shop/api:4-master is not in rollback.json`)
  })

  it("another repository's image with the same tag is not this service's build", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/legacy-api:1-master`)])
    const api = entry(plan.services, "api")
    assert.strictEqual(api.action, "rollback")
    assert.include(api.reason, "is not in rollback.json")
  })

  it("an unreadable running image is reported, not trusted", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", "NOT AN IMAGE")])
    assert.strictEqual(entry(plan.services, "api").action, "rollback")
    assert.include(entry(plan.services, "api").reason, "NOT AN IMAGE")
  })

  it("a service no Marathon app runs is unresolved, naming the config key to set", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [{ service: "api", app: undefined, image: undefined }])
    const api = entry(plan.services, "api")
    assert.strictEqual(api.action, "unresolved")
    assert.include(api.reason, "services.api.app")
    assert.strictEqual(entry(plan.services, "web").action, "unresolved", "a service missing from `running` has no app either")
  })

  it("--pin-digest deploys tag and digest", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:3-master`)], true)
    assert.strictEqual(entry(plan.services, "api").target, `${HOST}/shop/api:2-master@${digest("api", "2-master")}`)
  })

  it("images on Docker Hub are deployed without the host", () => {
    const plan = planRollback(timeline, selectAsOf(timeline, at("2026-11-12T00:00:00Z")), [running("api", "shop/api:3-master")], {
      registry: "https://registry-1.docker.io"
    })
    assert.strictEqual(entry(plan.services, "api").target, "shop/api:2-master")
    assert.strictEqual(entry(plan.services, "api").action, "rollback")
    assert.isUndefined(plan.label)
  })
})
