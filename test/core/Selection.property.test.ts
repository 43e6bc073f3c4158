/**
 * @module test/core/Selection.property — the selection rules hold for any fleet, any order and
 * any point: the target is available at the point and the greatest available image by the
 * scheme's order, never smaller at a later point, unresolved exactly when nothing usable existed
 * yet, independent of the order of services and of their images, unchanged by a trip through
 * rollback.json; points are exactly the instants where some target changes, and a day point ends
 * at its day's last millisecond, also in zones whose clocks change at local midnight.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import type { FleetSelection, Granularity, RegistryImage, ServiceSpec, TagOrder, TagScheme, Timeline } from "../../lib/core/index.ts"
import { calendarDayOf, decodeRollbackFile, endOfDay, mergeTimeline, resolveTagScheme, selectAsOf, timelineOfRollbackFile, toRollbackFile } from "../../lib/core/index.ts"
import { digestOf } from "./fleet.ts"

/** Points as plain data (timeline points format their text lazily). */
const plainPoints = (points: ReadonlyArray<unknown>): unknown => JSON.parse(JSON.stringify(points))

const MINUTE = 60_000
const SPAN_MINUTES = 10 * 24 * 60

/**
 * Ten-day windows, each around clock changes (UTC instants from the tz database), in which
 * images are often placed within 90 minutes of a change: Berlin and the Azores at 01:00 UTC,
 * Beirut, Santiago and Havana at local midnight.
 */
const WINDOWS: ReadonlyArray<{ readonly start: number; readonly changes: ReadonlyArray<number> }> = [
  { start: Date.UTC(2026, 9, 20), changes: [Date.UTC(2026, 9, 24, 21), Date.UTC(2026, 9, 25, 1)] }, // Beirut, Berlin/Azores (autumn)
  { start: Date.UTC(2026, 2, 24), changes: [Date.UTC(2026, 2, 28, 22), Date.UTC(2026, 2, 29, 1)] }, // Beirut, Berlin/Azores (spring)
  { start: Date.UTC(2026, 8, 1), changes: [Date.UTC(2026, 8, 6, 4)] }, // Santiago (spring)
  { start: Date.UTC(2026, 3, 1), changes: [Date.UTC(2026, 3, 5, 3)] }, // Santiago (autumn)
  { start: Date.UTC(2026, 2, 3), changes: [Date.UTC(2026, 2, 8, 5)] }, // Havana (spring)
  { start: Date.UTC(2026, 9, 27), changes: [Date.UTC(2026, 10, 1, 5)] } // Havana (autumn)
]
const ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/Santiago", "America/Havana", "Asia/Beirut", "Atlantic/Azores"]
const ORDERS: ReadonlyArray<TagOrder> = ["created", "build", "semver", "timestamp"]

type DateKind = "config" | "annotation" | "annotation-over-1970" | "push-over-1970" | "unknown"

interface GeneratedImage {
  readonly build: number
  readonly minute: number
  readonly branch: "master" | "develop"
  readonly version: readonly [number, number, number]
  /** The tag's own timestamp, minutes from the window's start (only on images dated otherwise). */
  readonly stamp: number | undefined
  readonly dateKind: DateKind
  readonly bad: boolean
  /** Makes the tag unique; equal builds, versions, times and stamps then differ only by tag. */
  readonly id: string
}

interface GeneratedFleet {
  readonly start: number
  readonly services: ReadonlyArray<ServiceSpec>
  readonly generated: Readonly<Record<string, ReadonlyArray<GeneratedImage>>>
  readonly granularity: Granularity
  readonly timeZone: string
  readonly order: TagOrder
  readonly shuffleSeed: number
}

/** Minutes from the window's start: uniform, a few fixed ones (ties), or close to a clock change. */
const minuteArbitrary = (window: (typeof WINDOWS)[number]) =>
  fc.oneof(
    fc.integer({ min: 0, max: SPAN_MINUTES }),
    fc.constantFrom(0, 60, 24 * 60, 5 * 24 * 60 + 1),
    fc.tuple(fc.constantFrom(...window.changes), fc.integer({ min: -90, max: 90 })).map(([change, delta]) => Math.round((change - window.start) / MINUTE) + delta)
  )

const imageArbitrary = (window: (typeof WINDOWS)[number]) =>
  fc
    .record({
      // few distinct builds, versions and minutes, so equal ones (ties) are common
      build: fc.integer({ min: 1, max: 12 }),
      minute: minuteArbitrary(window),
      branch: fc.constantFrom<"master" | "develop">("master", "master", "master", "develop"),
      version: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 10 })),
      stamp: fc.option(fc.integer({ min: -3 * 24 * 60, max: SPAN_MINUTES }), { nil: undefined }),
      dateKind: fc.constantFrom<DateKind>("config", "config", "annotation", "annotation-over-1970", "push-over-1970", "unknown"),
      bad: fc.constantFrom(false, false, false, false, true)
    })
    // a tag timestamp would date push-over-1970 and unknown images (it comes before the push time)
    .map((image) => (image.dateKind === "push-over-1970" || image.dateKind === "unknown" ? { ...image, stamp: undefined } : image))

const fleetArbitrary: fc.Arbitrary<GeneratedFleet> = fc.constantFrom(...WINDOWS).chain((window) =>
  fc
    .record({
      count: fc.integer({ min: 1, max: 6 }),
      lists: fc.array(fc.array(imageArbitrary(window), { maxLength: 12 }), { minLength: 6, maxLength: 6 }),
      granularity: fc.constantFrom<Granularity>("instant", "day"),
      timeZone: fc.constantFrom(...ZONES),
      order: fc.constantFrom(...ORDERS),
      shuffleSeed: fc.integer()
    })
    .map(({ count, lists, granularity, timeZone, order, shuffleSeed }) => {
      const services = Array.from({ length: count }, (_, i) => ({ name: `svc${i}`, repository: `shop/svc${i}` }))
      const withIds = (list: ReadonlyArray<Omit<GeneratedImage, "id">>) => list.map((image, i): GeneratedImage => ({ ...image, id: letters(i) }))
      return { start: window.start, services, generated: Object.fromEntries(services.map((s, i) => [s.name, withIds(lists[i]!)])), granularity, timeZone, order, shuffleSeed }
    })
)

/** a, b, …, z, ba, bb, …: distinct lower-case ids whose text order is arbitrary w.r.t. the other fields. */
const letters = (n: number): string => (n < 26 ? String.fromCharCode(97 + n) : letters(Math.floor(n / 26)) + String.fromCharCode(97 + (n % 26)))

/** Points from before the first image to after the last, often exactly on an image's time. */
const instantArbitrary = (f: GeneratedFleet) => {
  const times = f.services.flatMap((s) => f.generated[s.name]!.map((i) => timeOf(f, i)))
  return fc.oneof(
    fc.integer({ min: -120, max: SPAN_MINUTES + 240 }).map((m) => f.start + m * MINUTE),
    ...(times.length > 0 ? [fc.constantFrom(...times), fc.constantFrom(...times).map((t) => t - 1)] : [])
  )
}
const fleetAndInstant = fleetArbitrary.chain((f) => fc.tuple(fc.constant(f), instantArbitrary(f)))
const fleetAndInstants = fleetArbitrary.chain((f) => fc.tuple(fc.constant(f), instantArbitrary(f), instantArbitrary(f)))

const iso = (millis: number) => new Date(millis).toISOString()
/** YYYYMMDDHHmm (UTC), the tag timestamp format of the generated scheme. */
const compact = (millis: number) => iso(millis).slice(0, 16).replace(/[-T:]/g, "")
const versionText = (image: GeneratedImage) => image.version.join(".")
const tagOf = (f: GeneratedFleet, image: GeneratedImage) =>
  `${image.build}-${image.branch}-${versionText(image)}${image.stamp !== undefined ? `-t${compact(stampOf(f, image)!)}` : ""}-${image.id}`
const timeOf = (f: GeneratedFleet, image: GeneratedImage) => f.start + image.minute * MINUTE
const stampOf = (f: GeneratedFleet, image: GeneratedImage) => (image.stamp === undefined ? undefined : f.start + image.stamp * MINUTE)

/** The generated tags: build, branch, version, optional tag timestamp, a unique id. */
const schemeOf = (order: TagOrder): TagScheme => {
  const scheme = resolveTagScheme({
    pattern: "(?<build>\\d+)-(?<env>[a-z]+)-(?<version>\\d+\\.\\d+\\.\\d+)(?:-t(?<timestamp>\\d{12}))?-[a-z]+",
    order,
    timestampFormat: "YYYYMMDDHHmm"
  })
  if ("_tag" in scheme) throw new Error(scheme.message)
  return scheme
}

const registryImage = (f: GeneratedFleet, service: ServiceSpec, image: GeneratedImage): RegistryImage => {
  const created = iso(timeOf(f, image))
  const placeholder = "1970-01-01T00:00:00Z"
  const dates = {
    config: { config: created },
    annotation: { annotation: created },
    "annotation-over-1970": { annotation: created, config: placeholder },
    "push-over-1970": { config: placeholder, push: created },
    unknown: { config: placeholder, annotation: placeholder }
  }[image.dateKind]
  const tag = tagOf(f, image)
  return { repository: service.repository, tag, digest: digestOf(`${service.name}:${tag}`), dates }
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

/** Merges the fleet; `shuffle` reorders the services, the keys of `images`, and each service's images. */
const merge = (f: GeneratedFleet, shuffle = false) => {
  const services = shuffle ? shuffled(f.services, f.shuffleSeed) : f.services
  const entries = services.map((s, i) => {
    const list = f.generated[s.name]!.map((image) => registryImage(f, s, image))
    return [s.name, shuffle ? shuffled(list, f.shuffleSeed + i + 1) : list] as const
  })
  return mergeTimeline({
    services,
    scheme: schemeOf(f.order),
    environment: "master",
    granularity: f.granularity,
    timeZone: f.timeZone,
    images: Object.fromEntries(shuffle ? shuffled(entries, f.shuffleSeed ^ 0x5bd1e995) : entries)
  }).timeline
}

const badTagsOf = (f: GeneratedFleet): Array<string> =>
  f.services.flatMap((s) => f.generated[s.name]!.filter((i) => i.bad).map((i) => `${s.name}:${tagOf(f, i)}`))

/** service → tag, or undefined when unresolved. */
const tags = (selection: FleetSelection): Record<string, string | undefined> =>
  Object.fromEntries(selection.services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : undefined]))

/**
 * The rule, written the slow and obvious way from the generator's own data: each order as a
 * tuple compared left to right (created: time, build, version, tag; build: build, time, tag;
 * semver: version, time, tag; timestamp: tag timestamp (none lowest), time, tag).
 */
const keyOf = (f: GeneratedFleet, image: GeneratedImage): ReadonlyArray<number | string> => {
  const time = timeOf(f, image)
  const tag = tagOf(f, image)
  switch (f.order) {
    case "created":
      return [time, image.build, ...image.version, tag]
    case "build":
      return [image.build, time, tag]
    case "semver":
      return [...image.version, time, tag]
    case "timestamp":
      return [stampOf(f, image) ?? -Infinity, time, tag]
  }
}
const compareKeys = (a: ReadonlyArray<number | string>, b: ReadonlyArray<number | string>): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return 0
}

const usableAt = (f: GeneratedFleet, service: string, instant: number, bad: boolean) =>
  f.generated[service]!.filter((i) => i.branch === "master" && i.dateKind !== "unknown" && !(bad && i.bad) && timeOf(f, i) <= instant)

const expectedImage = (f: GeneratedFleet, service: string, instant: number, bad = true): GeneratedImage | undefined =>
  usableAt(f, service, instant, bad).reduce<GeneratedImage | undefined>((top, i) => (top === undefined || compareKeys(keyOf(f, i), keyOf(f, top)) > 0 ? i : top), undefined)

const generatedByTag = (f: GeneratedFleet, service: string, tag: string) => f.generated[service]!.find((i) => tagOf(f, i) === tag)!

const runs = { numRuns: 300 }

describe("selection properties (fast-check)", () => {
  it("every service gets the greatest image by the order among those available at P (bad tags skipped)", () => {
    fc.assert(
      fc.property(fleetAndInstant, ([f, instant]) => {
        const selection = selectAsOf(merge(f), instant, { badTags: badTagsOf(f) })
        for (const s of f.services) {
          const expected = expectedImage(f, s.name, instant)
          assert.strictEqual(tags(selection)[s.name], expected === undefined ? undefined : tagOf(f, expected), `${s.name} (${f.order})`)
        }
      }),
      runs
    )
  })

  it("the target is available at the point: its time is never after it", () => {
    fc.assert(
      fc.property(fleetAndInstant, ([f, instant]) => {
        for (const s of selectAsOf(merge(f), instant, { badTags: badTagsOf(f) }).services) {
          if (s._tag === "Selected") assert.isAtMost(s.image.time, instant)
        }
      }),
      runs
    )
  })

  it("a later point never selects a smaller image by the order, and never unresolves a resolved service", () => {
    fc.assert(
      fc.property(fleetAndInstants, ([f, a, b]) => {
        const timeline = merge(f)
        const [early, late] = a <= b ? [a, b] : [b, a]
        const before = selectAsOf(timeline, early, { badTags: badTagsOf(f) }).services
        const after = selectAsOf(timeline, late, { badTags: badTagsOf(f) }).services
        before.forEach((s, i) => {
          const t = after[i]!
          if (s._tag === "Selected") {
            assert.strictEqual(t._tag, "Selected", `${s.service.name} resolved at ${iso(early)} but not at ${iso(late)}`)
            if (t._tag === "Selected") {
              const [x, y] = [generatedByTag(f, s.service.name, s.image.tag), generatedByTag(f, t.service.name, t.image.tag)]
              assert.isAtLeast(compareKeys(keyOf(f, y), keyOf(f, x)), 0, `${s.service.name} (${f.order})`)
            }
          }
        })
      }),
      runs
    )
  })

  it("a service is unresolved exactly when it had no usable image at or before the point", () => {
    fc.assert(
      fc.property(fleetAndInstant, ([f, instant]) => {
        for (const s of selectAsOf(merge(f), instant, { badTags: badTagsOf(f) }).services) {
          assert.strictEqual(s._tag === "Unresolved", usableAt(f, s.service.name, instant, true).length === 0, s.service.name)
          if (s._tag === "Unresolved") assert.include(s.reason, s.service.name)
        }
      }),
      runs
    )
  })

  it("the order of the services and of each service's tags changes nothing: same images, points and selection", () => {
    fc.assert(
      fc.property(fleetAndInstant, ([f, instant]) => {
        const listed = merge(f)
        const reordered = merge(f, true)
        const byName = (t: Timeline, i: number) => new Map(selectAsOf(t, i, { badTags: badTagsOf(f) }).services.map((s) => [s.service.name, s]))
        const pointsByName = (t: Timeline) => t.points.map((p) => ({ id: p.id, changes: [...p.changes].sort((a, b) => (a.service < b.service ? -1 : 1)) }))
        assert.deepStrictEqual(reordered.images, listed.images)
        assert.deepStrictEqual(pointsByName(reordered), pointsByName(listed))
        assert.deepStrictEqual(byName(reordered, instant), byName(listed, instant))
      }),
      runs
    )
  })

  it("a trip through rollback.json (write, JSON, decode, read) selects the same at every point", () => {
    fc.assert(
      fc.property(fleetArbitrary.chain((f) => fc.tuple(fc.constant(f), fc.array(instantArbitrary(f), { maxLength: 5 }))), ([f, instants]) => {
        const timeline = merge(f)
        const text = JSON.stringify(toRollbackFile(timeline, { generatedAt: iso(f.start), environment: "master", registry: "https://r.example.com", scheme: "(generated)" }))
        const decoded = decodeRollbackFile(JSON.parse(text))
        if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
        const back: Timeline = timelineOfRollbackFile(decoded.success)
        assert.strictEqual(back.order, f.order)
        assert.deepStrictEqual(plainPoints(back.points), plainPoints(timeline.points))
        assert.deepStrictEqual(back.images, timeline.images)
        for (const instant of [...instants, ...timeline.points.map((p) => Date.parse(p.id))]) {
          assert.deepStrictEqual(selectAsOf(back, instant), selectAsOf(timeline, instant))
        }
      }),
      { numRuns: 150 }
    )
  })

  it("points are exactly where targets change: each point's id selects its changes, the others keep theirs, and nothing changes between points", () => {
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
            if (changed.has(s.name)) {
              assert.strictEqual(now[s.name], changed.get(s.name), `${point.label}: ${s.name}`)
              assert.notStrictEqual(now[s.name], previous[s.name], `${point.label}: ${s.name} is listed, so its target changed`)
            } else assert.strictEqual(now[s.name], previous[s.name], `${point.label}: ${s.name} did not change`)
          }
        })
        // at every image's time and just before it (day points: at the end of its local day, the
        // instants a day point can be) the selection is that of the latest point at or before it
        for (const s of f.services) {
          for (const image of f.generated[s.name]!) {
            const time = timeOf(f, image)
            const probes = f.granularity === "instant" ? [time, time - 1] : [endOfDay(calendarDayOf(time, f.timeZone), f.timeZone)]
            for (const instant of probes) {
              const latest = ids.find((id) => id <= instant)
              const expected = latest === undefined ? Object.fromEntries(f.services.map((x) => [x.name, undefined])) : tags(selectAsOf(timeline, latest))
              assert.deepStrictEqual(tags(selectAsOf(timeline, instant)), expected, `at ${iso(instant)} (${f.granularity}, ${f.timeZone}, ${f.order})`)
            }
          }
        }
      }),
      runs
    )
  })

  it("a day point's id is the last millisecond of its local day, whatever the clocks do that night", () => {
    fc.assert(
      fc.property(fleetArbitrary.filter((f) => f.granularity === "day"), (f) => {
        const timeline = merge(f)
        for (const point of timeline.points) {
          const id = Date.parse(point.id)
          const day = point.label.slice(0, 10)
          assert.strictEqual(calendarDayOf(id, f.timeZone), day, point.label)
          assert.notStrictEqual(calendarDayOf(id + 1, f.timeZone), day, `${point.label}: ${point.id} is not the day's end`)
        }
        // and so is endOfDay for the day of every image, with or without a point
        for (const s of f.services) {
          for (const image of f.generated[s.name]!) {
            const day = calendarDayOf(timeOf(f, image), f.timeZone)
            const end = endOfDay(day, f.timeZone)
            assert.strictEqual(calendarDayOf(end, f.timeZone), day)
            assert.notStrictEqual(calendarDayOf(end + 1, f.timeZone), day, `${day} in ${f.timeZone}: ${iso(end)} is not the day's end`)
          }
        }
      }),
      { numRuns: 200 }
    )
  })
})
