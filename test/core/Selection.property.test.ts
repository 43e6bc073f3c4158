/**
 * @module test/core/Selection.property — the selection rules hold for any fleet and any point:
 * never an image from after the point, never older at a later point, unresolved exactly when
 * nothing usable existed yet, independent of input order, unchanged by a trip through
 * rollback.json, and every point's id selects exactly the changes it lists.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import type { FleetSelection, Granularity, RegistryImage, ServiceSpec, Timeline } from "../../lib/core/index.ts"
import { compareImages, decodeRollbackFile, mergeTimeline, selectAsOf, timelineOfRollbackFile, toRollbackFile } from "../../lib/core/index.ts"
import { buildBranch, digestOf } from "./fleet.ts"

/** Points as plain data (timeline points format their text lazily). */
const plainPoints = (points: ReadonlyArray<unknown>): unknown => JSON.parse(JSON.stringify(points))

const START = Date.UTC(2026, 9, 20) // 20 October 2026: the window spans the end of summer time in Berlin
const SPAN_MINUTES = 10 * 24 * 60
const MINUTE = 60_000

type DateKind = "config" | "annotation" | "annotation-over-1970" | "push-over-1970" | "unknown"

interface GeneratedImage {
  readonly build: number
  readonly minute: number
  readonly branch: "master" | "develop"
  readonly dateKind: DateKind
  readonly bad: boolean
}

interface GeneratedFleet {
  readonly services: ReadonlyArray<ServiceSpec>
  readonly generated: Readonly<Record<string, ReadonlyArray<GeneratedImage>>>
  readonly granularity: Granularity
  readonly timeZone: string
  readonly shuffleSeed: number
}

const imageArbitrary: fc.Arbitrary<GeneratedImage> = fc.record({
  build: fc.integer({ min: 1, max: 400 }),
  // few distinct minutes, so equal times (ties) and several builds a day are common
  minute: fc.oneof(fc.integer({ min: 0, max: SPAN_MINUTES }), fc.constantFrom(0, 60, 24 * 60, 5 * 24 * 60 + 1)),
  branch: fc.constantFrom("master", "master", "master", "develop"),
  dateKind: fc.constantFrom("config", "config", "annotation", "annotation-over-1970", "push-over-1970", "unknown"),
  bad: fc.constantFrom(false, false, false, false, true)
})

const fleetArbitrary: fc.Arbitrary<GeneratedFleet> = fc
  .record({
    count: fc.integer({ min: 1, max: 6 }),
    lists: fc.array(fc.uniqueArray(imageArbitrary, { selector: (i) => i.build, maxLength: 12 }), { minLength: 6, maxLength: 6 }),
    granularity: fc.constantFrom<Granularity>("instant", "day"),
    timeZone: fc.constantFrom("UTC", "Europe/Berlin", "Asia/Kolkata"),
    shuffleSeed: fc.integer()
  })
  .map(({ count, lists, granularity, timeZone, shuffleSeed }) => {
    const services = Array.from({ length: count }, (_, i) => ({ name: `svc${i}`, repository: `shop/svc${i}` }))
    return { services, generated: Object.fromEntries(services.map((s, i) => [s.name, lists[i]!])), granularity, timeZone, shuffleSeed }
  })

/** Points from before the first image to after the last, often exactly on an image's time. */
const instantArbitrary = fc.oneof(
  fc.integer({ min: -120, max: SPAN_MINUTES + 120 }).map((m) => START + m * MINUTE),
  fc.constantFrom(0, 60, 24 * 60).map((m) => START + m * MINUTE),
  fc.integer({ min: -120, max: SPAN_MINUTES + 120 }).map((m) => START + m * MINUTE - 1)
)

const iso = (millis: number) => new Date(millis).toISOString()
const tagOf = (image: GeneratedImage) => `${image.build}-${image.branch}`
const timeOf = (image: GeneratedImage) => START + image.minute * MINUTE

const registryImage = (service: ServiceSpec, image: GeneratedImage): RegistryImage => {
  const created = iso(timeOf(image))
  const placeholder = "1970-01-01T00:00:00Z"
  const dates = {
    config: { config: created },
    annotation: { annotation: created },
    "annotation-over-1970": { annotation: created, config: placeholder },
    "push-over-1970": { config: placeholder, push: created },
    unknown: { config: placeholder, annotation: placeholder }
  }[image.dateKind]
  return { repository: service.repository, tag: tagOf(image), digest: digestOf(`${service.name}:${tagOf(image)}`), dates }
}

/** Deterministic Fisher–Yates shuffle (mulberry32), so a failing case replays. */
const shuffled = <A>(items: ReadonlyArray<A>, seed: number): Array<A> => {
  const out = [...items]
  let state = seed | 0
  const next = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const merge = (f: GeneratedFleet, shuffle = false) =>
  mergeTimeline({
    services: f.services,
    scheme: buildBranch,
    environment: "master",
    granularity: f.granularity,
    timeZone: f.timeZone,
    images: Object.fromEntries(
      f.services.map((s) => {
        const list = f.generated[s.name]!.map((image) => registryImage(s, image))
        return [s.name, shuffle ? shuffled(list, f.shuffleSeed) : list]
      })
    )
  }).timeline

const badTagsOf = (f: GeneratedFleet): Array<string> =>
  f.services.flatMap((s) => f.generated[s.name]!.filter((i) => i.bad).map((i) => `${s.name}:${tagOf(i)}`))

/** service → tag, or undefined when unresolved. */
const tags = (selection: FleetSelection): Record<string, string | undefined> =>
  Object.fromEntries(selection.services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : undefined]))

/** The rule of DESIGN.md, written the slow and obvious way, from the generator's own data. */
const expectedTag = (f: GeneratedFleet, service: string, instant: number): string | undefined => {
  const usable = f.generated[service]!.filter((i) => i.branch === "master" && i.dateKind !== "unknown" && !i.bad && timeOf(i) <= instant)
  usable.sort((a, b) => timeOf(a) - timeOf(b) || a.build - b.build)
  const last = usable[usable.length - 1]
  return last === undefined ? undefined : tagOf(last)
}

const runs = { numRuns: 300 }

describe("selection properties (fast-check)", () => {
  it("every service gets the image the rule names: greatest effective time ≤ P, ties by build, bad tags skipped", () => {
    fc.assert(
      fc.property(fleetArbitrary, instantArbitrary, (f, instant) => {
        const selection = selectAsOf(merge(f), instant, { badTags: badTagsOf(f) })
        for (const s of f.services) assert.strictEqual(tags(selection)[s.name], expectedTag(f, s.name, instant), s.name)
      }),
      runs
    )
  })

  it("the target's time is never after the point", () => {
    fc.assert(
      fc.property(fleetArbitrary, instantArbitrary, (f, instant) => {
        for (const s of selectAsOf(merge(f), instant, { badTags: badTagsOf(f) }).services) {
          if (s._tag === "Selected") assert.isAtMost(s.image.time, instant)
        }
      }),
      runs
    )
  })

  it("a later point never selects an older image, and never unresolves a resolved service", () => {
    fc.assert(
      fc.property(fleetArbitrary, instantArbitrary, instantArbitrary, (f, a, b) => {
        const timeline = merge(f)
        const [early, late] = a <= b ? [a, b] : [b, a]
        const before = selectAsOf(timeline, early, { badTags: badTagsOf(f) }).services
        const after = selectAsOf(timeline, late, { badTags: badTagsOf(f) }).services
        before.forEach((s, i) => {
          const t = after[i]!
          if (s._tag === "Selected") {
            assert.strictEqual(t._tag, "Selected", `${s.service.name} resolved at ${iso(early)} but not at ${iso(late)}`)
            if (t._tag === "Selected") assert.isAtLeast(compareImages(t.image, s.image), 0, s.service.name)
          }
        })
      }),
      runs
    )
  })

  it("a service is unresolved exactly when it had no usable image at or before the point", () => {
    fc.assert(
      fc.property(fleetArbitrary, instantArbitrary, (f, instant) => {
        for (const s of selectAsOf(merge(f), instant, { badTags: badTagsOf(f) }).services) {
          const usable = f.generated[s.service.name]!.some((i) => i.branch === "master" && i.dateKind !== "unknown" && !i.bad && timeOf(i) <= instant)
          assert.strictEqual(s._tag === "Unresolved", !usable, s.service.name)
          if (s._tag === "Unresolved") assert.include(s.reason, s.service.name)
        }
      }),
      runs
    )
  })

  it("the order in which the registry lists tags changes nothing: same images, points and selection", () => {
    fc.assert(
      fc.property(fleetArbitrary, instantArbitrary, (f, instant) => {
        const listed = merge(f)
        const reordered = merge(f, true)
        assert.deepStrictEqual(reordered.images, listed.images)
        assert.deepStrictEqual(plainPoints(reordered.points), plainPoints(listed.points))
        assert.deepStrictEqual(selectAsOf(reordered, instant, { badTags: badTagsOf(f) }), selectAsOf(listed, instant, { badTags: badTagsOf(f) }))
      }),
      runs
    )
  })

  it("a trip through rollback.json (write, JSON, decode, read) selects the same at every point", () => {
    fc.assert(
      fc.property(fleetArbitrary, fc.array(instantArbitrary, { maxLength: 5 }), (f, instants) => {
        const timeline = merge(f)
        const text = JSON.stringify(toRollbackFile(timeline, { generatedAt: iso(START), environment: "master", registry: "https://r.example.com" }))
        const decoded = decodeRollbackFile(JSON.parse(text))
        if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
        const back: Timeline = timelineOfRollbackFile(decoded.success)
        assert.deepStrictEqual(plainPoints(back.points), plainPoints(timeline.points))
        assert.deepStrictEqual(back.images, timeline.images)
        for (const instant of [...instants, ...timeline.points.map((p) => Date.parse(p.id))]) {
          assert.deepStrictEqual(selectAsOf(back, instant), selectAsOf(timeline, instant))
        }
      }),
      { numRuns: 150 }
    )
  })

  it("every point's id selects exactly its changes: listed services get those tags, the others what they had", () => {
    fc.assert(
      fc.property(fleetArbitrary, (f) => {
        const timeline = merge(f)
        const points = timeline.points
        const ids = points.map((p) => Date.parse(p.id))
        for (let i = 1; i < ids.length; i++) assert.isBelow(ids[i]!, ids[i - 1]!, "points are newest first, distinct")
        assert.strictEqual(new Set(points.map((p) => p.label)).size, points.length, "labels are unique")
        points.forEach((point, i) => {
          const now = tags(selectAsOf(timeline, ids[i]!))
          const previous = i + 1 < points.length ? tags(selectAsOf(timeline, ids[i + 1]!)) : {}
          const changed = new Map(point.changes.map((c) => [c.service, c.tag]))
          assert.isAbove(changed.size, 0)
          assert.strictEqual(changed.size, point.changes.length, "a service appears once per point")
          for (const s of f.services) {
            if (changed.has(s.name)) assert.strictEqual(now[s.name], changed.get(s.name), `${point.label}: ${s.name}`)
            else assert.strictEqual(now[s.name], previous[s.name], `${point.label}: ${s.name} did not change`)
          }
        })
      }),
      runs
    )
  })
})
