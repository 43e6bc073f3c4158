/**
 * @module test/core/History — what actually ran together: deployments remembered by targets and
 * reports merge into running sets; selection as of T on a history timeline is the set that was
 * running at T (not the newest builds); how long each set ran; the known-good hint; `previous`;
 * what a rollback takes away (revisions and compare links); rollback.json version 3 round trip.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as OldReader from "./oldReader.ts"
import fc from "fast-check"
import type { Deployment, ServiceSpec, Timeline, TimelineImage } from "../../lib/core/index.ts"
import {
  compareUrl,
  decodeRollbackFile,
  deploymentsByService,
  formatRanFor,
  historyPoints,
  knownGoodPoint,
  parsePoint,
  revisionsBetween,
  runningAt,
  runningSets,
  selectAsOf,
  timelineOfRollbackFile,
  toRollbackFile,
  withoutRanFor
} from "../../lib/core/index.ts"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 10, 20, 12)
const services: ReadonlyArray<ServiceSpec> = [{ name: "api", repository: "shop/api" }, { name: "web", repository: "shop/web" }]
const dep = (service: string, at: number, tag: string, source: Deployment["source"] = "marathon"): Deployment => ({
  service,
  at,
  tag,
  digest: `sha256:${tag.padStart(64, "0").slice(-64).replace(/[^0-9a-f]/g, "a")}`,
  source
})
const image = (service: string, tag: string, time: number, revision?: string): TimelineImage => ({
  service,
  tag,
  digest: `sha256:${tag.padStart(64, "0").slice(-64).replace(/[^0-9a-f]/g, "a")}`,
  time,
  dateSource: "config",
  revision
})

/** The incident: api 2 was built Monday but deployed only Wednesday; hotfix api 3 was built Tuesday and never deployed. */
const incident = () => {
  const images: Record<string, ReadonlyArray<TimelineImage>> = {
    api: [image("api", "1", T0 - 5 * DAY, "a".repeat(40)), image("api", "2", T0, "b".repeat(40)), image("api", "3", T0 + DAY, "c".repeat(40))],
    web: [image("web", "7", T0 - 5 * DAY), image("web", "8", T0 + 2 * DAY + HOUR)]
  }
  const deployments = [
    dep("api", T0 - 4 * DAY, "1"),
    dep("web", T0 - 4 * DAY, "7"),
    dep("api", T0 + 2 * DAY, "2"),
    dep("web", T0 + 2 * DAY + 2 * HOUR, "8")
  ]
  const history = deploymentsByService(deployments, services)
  const sets = runningSets(history)
  const now = T0 + 3 * DAY
  const timeline: Timeline = { services, images, points: historyPoints(sets, "UTC", now), granularity: "instant", timeZone: "UTC", history }
  return { timeline, sets, now }
}

describe("history", () => {
  it("where build dates and deployment times disagree, a history point selects the set that ran, and the build timeline does not", () => {
    const { timeline } = incident()
    const at = T0 + 1.5 * DAY // api 2 and the hotfix api 3 were both built, neither deployed
    const byHistory = selectAsOf(timeline, at)
    const byBuild = selectAsOf({ ...timeline, history: undefined }, at)
    const tags = (s: typeof byHistory) => s.services.map((x) => (x._tag === "Selected" ? `${x.service.name} ${x.image.tag}` : `${x.service.name} -`))
    assert.deepStrictEqual(tags(byHistory), ["api 1", "web 7"])
    assert.deepStrictEqual(tags(byBuild), ["api 3", "web 7"])
  })

  it("a service with nothing remembered before the point is unresolved, saying when its history begins", () => {
    const { timeline } = incident()
    const selection = selectAsOf(timeline, T0 - 10 * DAY)
    const api = selection.services[0]!
    assert.strictEqual(api._tag, "Unresolved")
    if (api._tag === "Unresolved") assert.match(api.reason, /history begins with 1 at 2026-11-16T12:00:00.000Z/)
  })

  it("a deployment of a tag marked bad is passed over for the one before it", () => {
    const { timeline } = incident()
    const selection = selectAsOf(timeline, T0 + 2.5 * DAY, { badTags: ["api:2"] })
    const api = selection.services[0]!
    assert.strictEqual(api._tag === "Selected" ? api.image.tag : undefined, "1")
  })

  it("an image the registry no longer lists is still selected from what ran: dated when it began running, and never written to images", () => {
    const { timeline } = incident()
    // web 6 ran for a while but its tag was deleted from the registry since
    const history = deploymentsByService([...Object.values(timeline.history!).flat(), dep("web", T0 - 6 * DAY, "6")], services)
    const withGone: Timeline = { ...timeline, history, points: historyPoints(runningSets(history), "UTC", T0 + 3 * DAY) }
    const web = selectAsOf(withGone, T0 - 5 * DAY - HOUR).services[1]!
    assert.strictEqual(web._tag, "Selected")
    if (web._tag === "Selected") {
      assert.deepStrictEqual(
        { tag: web.image.tag, digest: web.image.digest, time: web.image.time, dateSource: web.image.dateSource },
        { tag: "6", digest: dep("web", 0, "6").digest, time: T0 - 6 * DAY, dateSource: "deployed" }
      )
    }
    const file = toRollbackFile(withGone, { generatedAt: "2026-11-23T12:00:00.000Z", environment: null, registry: "https://r.example" })
    assert.deepStrictEqual(file.images["web"]!.map((i) => [i.tag, i.dateSource]), [["8", "config"], ["7", "config"]])
  })

  it("each point says how long its set ran, the current one that it runs now", () => {
    const { timeline } = incident()
    const labels = timeline.points.map((p) => p.label)
    assert.match(labels[0]!, / - web 8 \(running now\)$/)
    assert.match(labels[1]!, / - api 2 \(ran 2 h\)$/)
    assert.match(labels[2]!, / - api 1, web 7 \(ran 6 d\)$/)
    assert.strictEqual(timeline.points[0]!.ranUntil, undefined)
    assert.strictEqual(timeline.points[1]!.ranUntil, "2026-11-22T14:00:00.000Z")
  })

  it("a point is found by its label with or without the ran-for suffix, and `previous` is the set before the current one", () => {
    const { timeline } = incident()
    const full = parsePoint(timeline.points[1]!.label, timeline.points)
    const bare = parsePoint(withoutRanFor(timeline.points[1]!.label), timeline.points)
    const previous = parsePoint("previous", timeline.points)
    for (const p of [full, bare, previous]) assert.strictEqual("instant" in p ? p.instant : undefined, T0 + 2 * DAY)
    const none = parsePoint("previous", timeline.points.slice(0, 1))
    assert.isTrue("_tag" in none && none._tag === "PointProblem")
  })

  it("the known-good hint names the newest set that ran at least the given time (3 days, not 10 minutes)", () => {
    const sets = runningSets(deploymentsByService([
      dep("api", T0, "1"),
      dep("api", T0 + 3 * DAY, "2"), // ran 10 minutes
      dep("api", T0 + 3 * DAY + 10 * 60_000, "3")
    ], services))
    const points = [...sets].reverse().map((s) => ({ id: String(s.from), label: String(s.from), from: s.from, until: s.until }))
    assert.strictEqual(knownGoodPoint(points, DAY)?.from, T0)
    assert.strictEqual(knownGoodPoint(points, 5 * 60_000)?.from, T0 + 3 * DAY)
    assert.strictEqual(knownGoodPoint(points, 4 * DAY), undefined)
  })

  it("durations read as an operator says them", () => {
    const table: ReadonlyArray<[number, string]> = [[45_000, "45 s"], [10 * 60_000, "10 min"], [2 * HOUR + 5 * 60_000, "2 h 5 min"], [3 * DAY + 4 * HOUR, "3 d 4 h"], [2 * DAY, "2 d"]]
    for (const [ms, text] of table) assert.strictEqual(formatRanFor(ms), text)
  })

  it("the same image remembered twice (a target and a report) is one deployment; a redeploy of an older image is a new one", () => {
    const byService = deploymentsByService([
      dep("api", T0, "1"),
      dep("api", T0 + HOUR, "1", "report"),
      dep("api", T0 + 2 * HOUR, "2"),
      dep("api", T0 + 3 * HOUR, "1", "report")
    ], services)
    assert.deepStrictEqual(byService.api!.map((d) => [d.at - T0, d.tag]), [[0, "1"], [2 * HOUR, "2"], [3 * HOUR, "1"]])
  })

  it("what a rollback takes away: the revisions after the target up to what runs, and the compare link", () => {
    const { timeline } = incident()
    const images = timeline.images.api!
    const revisions = revisionsBetween(images, { tag: "1" }, { tag: "3" })
    assert.deepStrictEqual(revisions, ["b".repeat(40), "c".repeat(40)])
    assert.deepStrictEqual(revisionsBetween(images, { tag: "3" }, { tag: "1" }), [])
    assert.strictEqual(compareUrl("https://github.com/shop/api", "aaaaaaa", "ccccccc"), "https://github.com/shop/api/compare/aaaaaaa...ccccccc")
    assert.strictEqual(compareUrl("https://gitlab.example.com/shop/api.git", "aaaaaaa", "ccccccc"), "https://gitlab.example.com/shop/api/-/compare/aaaaaaa...ccccccc")
    assert.strictEqual(compareUrl("https://x.example/{from}..{to}", "a1", "b2"), "https://x.example/a1..b2")
    assert.strictEqual(compareUrl("javascript:alert(1)", "a", "b"), undefined)
  })

  it("a history timeline survives rollback.json version 3 and selects the same sets", () => {
    const { timeline } = incident()
    const file = toRollbackFile(timeline, { generatedAt: "2026-11-23T12:00:00.000Z", environment: null, registry: "https://r.example" })
    assert.strictEqual(file.schemaVersion, 3)
    const decoded = decodeRollbackFile(JSON.parse(JSON.stringify(file)))
    assert.isTrue(Result.isSuccess(decoded))
    if (!Result.isSuccess(decoded)) return
    const old = OldReader.decodeRollbackFile(JSON.parse(JSON.stringify(file)))
    assert.isTrue(Result.isFailure(old), "a reader of version 1 refuses version 3 instead of choosing by build date")
    const back = timelineOfRollbackFile(decoded.success)
    for (const at of [T0 - 4 * DAY, T0 + 1.5 * DAY, T0 + 2 * DAY + HOUR, T0 + 3 * DAY]) {
      assert.deepStrictEqual(JSON.stringify(selectAsOf(back, at)), JSON.stringify(selectAsOf(timeline, at)))
    }
  })
})

describe("history properties", () => {
  const arbDeployments = fc.array(
    fc.record({ service: fc.constantFrom("api", "web", "db"), minute: fc.integer({ min: 0, max: 500 }), tag: fc.constantFrom("1", "2", "3", "4") }),
    { maxLength: 40 }
  ).map((xs) => xs.map((x) => dep(x.service, T0 + x.minute * 60_000, x.tag)))
  const fleet: ReadonlyArray<ServiceSpec> = [...services, { name: "db", repository: "shop/db" }]

  it("every point's set is exactly what each workload ran at that instant", () => {
    fc.assert(fc.property(arbDeployments, (deployments) => {
      const sets = runningSets(deploymentsByService(deployments, fleet))
      for (const set of sets) {
        for (const s of fleet) {
          // what this service ran at set.from, straight from the raw deployments (last one at or before; the last given wins a tie)
          const mine = deployments.filter((d) => d.service === s.name && d.at <= set.from)
          const latest = mine.reduce<Deployment | undefined>((a, d) => (a === undefined || d.at >= a.at ? d : a), undefined)
          assert.strictEqual(set.images[s.name]?.tag, latest?.tag)
        }
      }
    }))
  })

  it("consecutive sets differ, and each set runs until the next begins", () => {
    fc.assert(fc.property(arbDeployments, (deployments) => {
      const sets = runningSets(deploymentsByService(deployments, fleet))
      for (let i = 1; i < sets.length; i++) {
        assert.strictEqual(sets[i - 1]!.until, sets[i]!.from)
        assert.notDeepEqual(Object.fromEntries(Object.entries(sets[i - 1]!.images).map(([k, v]) => [k, v.tag])), Object.fromEntries(Object.entries(sets[i]!.images).map(([k, v]) => [k, v.tag])))
        assert.strictEqual(runningAt(sets, sets[i]!.from), sets[i])
      }
      if (sets.length > 0) assert.strictEqual(sets[sets.length - 1]!.until, undefined)
    }))
  })
})
