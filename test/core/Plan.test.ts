/**
 * @module test/core/Plan — the selected set against what runs now: what gets rolled back, what is
 * left alone, what would move forward, and what cannot be planned.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PlanEntry, RunningService } from "../../lib/core/index.ts"
import { mergeTimeline, planRollback, planSummary, refusalLine, runRefusals, selectAsOf } from "../../lib/core/index.ts"
import { at, buildBranch, built, digestOf, fleet } from "./fleet.ts"

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
    const both = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:2-master@${digest("api", "2-master")}`)])
    assert.strictEqual(entry(both.services, "api").action, "unchanged", "tag and digest together")
  })

  it("the same tag from another registry is not the target: evil.example.com/shop/api:2-master is rolled over", () => {
    for (const image of ["evil.example.com/shop/api:2-master", `registry.example.com/shop/api:2-master`, "shop/api:2-master"]) {
      const api = entry(planAt("2026-11-12T00:00:00Z", [running("api", image)]).services, "api")
      assert.strictEqual(api.action, "rollback", image)
      assert.strictEqual(api.target, `${HOST}/shop/api:2-master`)
      assert.include(api.reason, `another registry or repository than ${HOST}/shop/api`)
    }
    // not even as "the file's 1-master, so forward": another registry's build is unknown
    const older = entry(planAt("2026-11-12T00:00:00Z", [running("api", "evil.example.com/shop/api:1-master")]).services, "api")
    assert.strictEqual(older.action, "rollback")
    assert.include(older.reason, "is not in rollback.json")
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
    assert.include(api.reason, "no Marathon app runs api")
    assert.strictEqual(entry(plan.services, "web").action, "unresolved", "a service missing from `running` has no app either")
  })

  it("the target's own word for what runs a service: no Marathon in a Kubernetes plan", () => {
    const plan = planRollback(timeline, selectAsOf(timeline, at("2026-11-12T00:00:00Z")), [], { registry: REGISTRY, workloadName: "Kubernetes workload" })
    assert.match(entry(plan.services, "api").reason ?? "", /^no Kubernetes workload runs api \(none runs an image from shop\/api;/)
  })

  it("--pin-digest deploys tag and digest", () => {
    const plan = planAt("2026-11-12T00:00:00Z", [running("api", `${HOST}/shop/api:3-master`)], true)
    assert.strictEqual(entry(plan.services, "api").target, `${HOST}/shop/api:2-master@${digest("api", "2-master")}`)
  })

  it("a repository that names its host is not prefixed again, and matches what runs", () => {
    const api = { name: "api", repository: `${HOST}/shop/api` }
    const { timeline: t } = mergeTimeline({
      services: [api],
      scheme: buildBranch,
      images: { api: [built(api.repository, "1-master", "2026-11-01T00:00:00Z"), built(api.repository, "2-master", "2026-11-10T00:00:00Z")] }
    })
    const plan = (image: string) =>
      planRollback(t, selectAsOf(t, at("2026-11-05T00:00:00Z")), [running("api", image)], { registry: REGISTRY }).services[0]!
    assert.deepStrictEqual([plan(`${HOST}/shop/api:2-master`).target, plan(`${HOST}/shop/api:2-master`).action], [`${HOST}/shop/api:1-master`, "rollback"])
    assert.strictEqual(plan(`${HOST}/shop/api:1-master`).action, "unchanged")
  })

  it("Docker Hub: nginx running nginx:1-master, its target, is unchanged however the reference is written", () => {
    const nginx = { name: "nginx", repository: "nginx" }
    const { timeline: t } = mergeTimeline({
      services: [nginx],
      scheme: buildBranch,
      images: { nginx: [built("nginx", "1-master", "2026-11-01T00:00:00Z"), built("nginx", "2-master", "2026-11-10T00:00:00Z")] }
    })
    for (const registry of ["https://registry-1.docker.io", "https://index.docker.io/v1/", "docker.io"]) {
      for (const image of ["nginx:1-master", "docker.io/nginx:1-master", "docker.io/library/nginx:1-master", "index.docker.io/library/nginx:1-master", "registry-1.docker.io:443/nginx:1-master"]) {
        const e = planRollback(t, selectAsOf(t, at("2026-11-05T00:00:00Z")), [running("nginx", image)], { registry }).services[0]!
        assert.deepStrictEqual([e.target, e.action], ["nginx:1-master", "unchanged"], `${image} from ${registry}`)
      }
      const newer = planRollback(t, selectAsOf(t, at("2026-11-05T00:00:00Z")), [running("nginx", "library/nginx:2-master")], { registry }).services[0]!
      assert.strictEqual(newer.action, "rollback")
      assert.isUndefined(newer.reason, "library/nginx:2-master is the file's 2-master")
    }
  })

  it("the default HTTPS port is the same registry: registry.example.com:443 and registry.example.com", () => {
    for (const [registry, image] of [["https://registry.example.com:443", "registry.example.com/shop/api:2-master"], ["https://registry.example.com", "registry.example.com:443/shop/api:2-master"]] as const) {
      const e = planRollback(timeline, selectAsOf(timeline, at("2026-11-12T00:00:00Z")), [running("api", image)], { registry }).services[0]!
      assert.deepStrictEqual([e.target, e.action], ["registry.example.com/shop/api:2-master", "unchanged"], `${image} from ${registry}`)
    }
  })

  it("a selection at NaN plans every service as unresolved, without throwing", () => {
    const plan = planRollback(timeline, selectAsOf(timeline, Number.NaN), [running("api", `${HOST}/shop/api:3-master`)], { registry: REGISTRY })
    assert.strictEqual(plan.point, "NaN")
    assert.deepStrictEqual(planSummary(plan), { rollback: 0, unchanged: 0, forward: 0, unresolved: 3 })
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

describe("what a rollback undoes", () => {
  const sha = (c: string) => c.repeat(40)
  const merged = mergeTimeline({
    services: [{ name: "api", repository: "shop/api" }],
    scheme: buildBranch,
    images: {
      api: [
        built("shop/api", "1-master", "2026-11-01T00:00:00Z", { revision: sha("a") }),
        built("shop/api", "2-master", "2026-11-10T00:00:00Z", { revision: sha("b") }),
        built("shop/api", "3-master", "2026-11-20T00:00:00Z", { revision: sha("c") })
      ]
    }
  })
  const history = merged.timeline
  const planFrom = (sources?: Record<string, string>) =>
    planRollback(history, selectAsOf(history, at("2026-11-02T00:00:00Z")), [running("api", `${HOST}/shop/api:3-master`)], {
      registry: REGISTRY,
      ...(sources !== undefined ? { sources } : {})
    })

  it("a rollback lists the short revisions of every image after the target up to what runs, oldest first", () => {
    assert.deepStrictEqual(entry(planFrom().services, "api").undoes, { revisions: ["bbbbbbb", "ccccccc"] })
  })

  it("with a GitHub source the plan links the comparison from the target's revision to the running one's", () => {
    assert.strictEqual(entry(planFrom({ api: "https://github.com/shop/api" }).services, "api").undoes?.compareUrl, `https://github.com/shop/api/compare/${sha("a")}...${sha("c")}`)
  })

  it("an unchanged service undoes nothing", () => {
    const plan = planRollback(history, selectAsOf(history, at("2026-11-21T00:00:00Z")), [running("api", `${HOST}/shop/api:3-master`)], { registry: REGISTRY })
    assert.isUndefined(entry(plan.services, "api").undoes)
  })
})

describe("runRefusals: what run refuses a plan for, with its switches", () => {
  const line = (service: string, action: PlanEntry["action"], extra: Partial<PlanEntry> = {}): PlanEntry =>
    ({ service, app: `/shop/${service}`, current: `r/${service}:2`, target: action === "unresolved" ? undefined : `r/${service}:1`, action, ...extra })
  const plan = (...services: ReadonlyArray<PlanEntry>) => ({ point: "2026-11-12T00:00:00.000Z", services })
  const table: ReadonlyArray<readonly [string, ReadonlyArray<PlanEntry>, { allowPartial?: boolean; allowForward?: boolean }, ReadonlyArray<readonly [string, ReadonlyArray<string>]>]> = [
    ["nothing to refuse", [line("api", "rollback"), line("web", "unchanged")], {}, []],
    ["unresolved without --allow-partial", [line("api", "rollback"), line("web", "unresolved")], {}, [["unresolved", ["web"]]]],
    ["unresolved with --allow-partial", [line("web", "unresolved")], { allowPartial: true }, []],
    ["forward without --allow-forward", [line("api", "forward"), line("web", "forward")], {}, [["forward", ["api", "web"]]]],
    ["forward with --allow-forward", [line("api", "forward")], { allowForward: true }, []],
    ["both, in run's order: unresolved first", [line("api", "forward"), line("web", "unresolved")], {}, [["unresolved", ["web"]], ["forward", ["api"]]]],
    ["both, one allowed", [line("api", "forward"), line("web", "unresolved")], { allowPartial: true }, [["forward", ["api"]]]]
  ]
  for (const [what, services, allow, expected] of table) {
    it(what, () => {
      assert.deepStrictEqual<ReadonlyArray<unknown>>(runRefusals(plan(...services), allow).map((r) => [r.rule, r.services]), expected)
    })
  }
  it("the messages name the switch and every service, as run prints them", () => {
    const [unresolved, forward] = runRefusals(plan(line("web", "unresolved", { reason: "no image at or before the point" }), line("api", "forward")), {})
    assert.include(unresolved!.message, "--allow-partial")
    assert.include(unresolved!.message, "  web: no image at or before the point")
    assert.include(forward!.message, "--allow-forward")
    assert.include(forward!.message, "  api: r/api:2 → r/api:1")
    // in one line: the first line without the colon that introduces the list, then the services
    assert.strictEqual(refusalLine(forward!), "1 service(s) would move FORWARD to a newer image than runs now; nothing was changed. Allow it with --allow-forward (api)")
  })
})
