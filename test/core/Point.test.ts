/**
 * @module test/core/Point — what an operator types at 3 a.m.: a label from the dropdown, a point
 * id, an instant with or without offset, a date (end of that day in a zone), or a typo.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PointProblem, ResolvedPoint, Timeline } from "../../lib/core/index.ts"
import { calendarDayOf, endOfDay, parsePoint, selectAsOf, zoneOffsetAt } from "../../lib/core/index.ts"
import { at, fleet } from "./fleet.ts"

const { timeline } = fleet({
  api: [["1-master", "2026-11-20T09:00:00Z"], ["2-master", "2026-11-21T14:03:27Z"]],
  web: [["5-master", "2026-11-21T14:03:27Z"]]
})

/** service → selected tag at an instant, or `unresolved`. */
const tagsAt = (t: Timeline, instant: number): Record<string, string> =>
  Object.fromEntries(selectAsOf(t, instant).services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : "unresolved"]))

const ok = (text: string, timeZone?: string): ResolvedPoint => {
  const point = parsePoint(text, timeline.points, timeZone)
  if ("_tag" in point) throw new Error(point.message)
  return point
}
const refused = (text: string, timeZone?: string): string => {
  const point = parsePoint(text, timeline.points, timeZone)
  if (!("_tag" in point)) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${point.iso}`)
  assert.strictEqual((point as PointProblem)._tag, "PointProblem")
  return point.message
}

describe("labels and ids from `choices`", () => {
  it("a label printed by choices selects its point", () => {
    const label = "2026-11-21 14:03:27 UTC - api 2-master, web 5-master"
    assert.strictEqual(timeline.points[0]!.label, label)
    assert.deepStrictEqual(ok(label), { instant: at("2026-11-21T14:03:27Z"), iso: "2026-11-21T14:03:27.000Z", form: "label", label })
  })
  it("surrounding spaces (a copy from a terminal) are forgiven", () => {
    assert.strictEqual(ok(`  ${timeline.points[1]!.label}\n`).form, "label")
  })
  it("a point id selects its point and reports the label", () => {
    const point = ok("2026-11-20T09:00:00.000Z")
    assert.strictEqual(point.form, "id")
    assert.strictEqual(point.label, timeline.points[1]!.label)
  })
})

describe("instants", () => {
  const table: ReadonlyArray<readonly [text: string, timeZone: string, iso: string]> = [
    ["2026-11-21T14:03:00Z", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T14:03Z", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T14:03:00.5Z", "UTC", "2026-11-21T14:03:00.500Z"],
    ["2026-11-21 14:03:00Z", "UTC", "2026-11-21T14:03:00.000Z"],
    // RFC 3339 allows lower-case t and z; ISO 8601 a comma before the fraction
    ["2026-11-21t14:03:00z", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T14:03:00,25Z", "UTC", "2026-11-21T14:03:00.250Z"],
    ["2026-11-21T14:03:00.123456789Z", "UTC", "2026-11-21T14:03:00.123Z"],
    ["2026-11-21T15:03:00+01:00", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T19:33:00+0530", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T09:03:00-05:00", "Asia/Kolkata", "2026-11-21T14:03:00.000Z"],
    // without an offset: read in the zone
    ["2026-11-21T14:03:00", "UTC", "2026-11-21T14:03:00.000Z"],
    ["2026-11-21T15:03:00", "Europe/Berlin", "2026-11-21T14:03:00.000Z"],
    ["2026-07-21T16:03:00", "Europe/Berlin", "2026-07-21T14:03:00.000Z"],
    ["2026-11-21T19:33:00", "Asia/Kolkata", "2026-11-21T14:03:00.000Z"]
  ]
  for (const [text, timeZone, iso] of table) {
    it(`${text} in ${timeZone} is ${iso}`, () => {
      const point = ok(text, timeZone)
      assert.strictEqual(point.form, "instant")
      assert.strictEqual(point.iso, iso)
    })
  }
})

describe("dates mean the end of that day", () => {
  const table: ReadonlyArray<readonly [text: string, timeZone: string, iso: string]> = [
    ["2026-11-20", "UTC", "2026-11-20T23:59:59.999Z"],
    ["2026-11-20", "Europe/Berlin", "2026-11-20T22:59:59.999Z"], // CET, +01:00
    ["2026-07-20", "Europe/Berlin", "2026-07-20T21:59:59.999Z"], // CEST, +02:00
    ["2026-11-20", "Asia/Kolkata", "2026-11-20T18:29:59.999Z"], // +05:30
    ["2026-03-29", "Europe/Berlin", "2026-03-29T21:59:59.999Z"], // the day clocks go forward: 23 hours
    ["2026-10-25", "Europe/Berlin", "2026-10-25T22:59:59.999Z"], // the day clocks go back: 25 hours
    ["2024-02-29", "UTC", "2024-02-29T23:59:59.999Z"]
  ]
  for (const [text, timeZone, iso] of table) {
    it(`${text} in ${timeZone} ends at ${iso}`, () => {
      const point = ok(text, timeZone)
      assert.strictEqual(point.form, "date")
      assert.strictEqual(point.iso, iso)
    })
  }
})

describe("what cannot be read says what can", () => {
  const forms = ["label printed by `choices`", "ISO-8601 instant", "YYYY-MM-DD"]
  for (const text of ["2026-02-30", "2025-02-29", "2026-13-01", "2026-11-21T24:00:00Z", "2026-11-21T14:60Z", "2026-11-21T14:03:00+99:00"]) {
    it(`${text} is not a real date or time`, () => {
      const message = refused(text)
      assert.include(message, "is not a real calendar date or time")
      for (const form of forms) assert.include(message, form)
    })
  }
  for (const text of ["yesterday", "", "21.11.2026", "2026-11-21T14", "latest", "1234-master"]) {
    it(`${JSON.stringify(text)} is refused with the accepted forms and the newest labels`, () => {
      const message = refused(text)
      assert.include(message, `cannot read the point ${JSON.stringify(text)}`)
      for (const form of forms) assert.include(message, form)
      assert.include(message, timeline.points[0]!.label)
    })
  }
  it("an unknown time zone is refused with an example of a good one", () => {
    assert.include(refused("2026-11-20", "Mars/Olympus"), 'unknown time zone "Mars/Olympus"')
  })
})

describe("time zones", () => {
  it("offsets in Europe/Berlin and Asia/Kolkata", () => {
    assert.strictEqual(zoneOffsetAt(at("2026-01-15T12:00:00Z"), "Europe/Berlin"), 3_600_000)
    assert.strictEqual(zoneOffsetAt(at("2026-07-15T12:00:00Z"), "Europe/Berlin"), 7_200_000)
    assert.strictEqual(zoneOffsetAt(at("2026-07-15T12:00:00Z"), "Asia/Kolkata"), 19_800_000)
    // the exact minutes of the 2026 switches (01:00 UTC both times)
    assert.strictEqual(zoneOffsetAt(at("2026-03-29T00:59:59Z"), "Europe/Berlin"), 3_600_000)
    assert.strictEqual(zoneOffsetAt(at("2026-03-29T01:00:00Z"), "Europe/Berlin"), 7_200_000)
    assert.strictEqual(zoneOffsetAt(at("2026-10-25T00:59:59Z"), "Europe/Berlin"), 7_200_000)
    assert.strictEqual(zoneOffsetAt(at("2026-10-25T01:00:00Z"), "Europe/Berlin"), 3_600_000)
  })
  it("calendar days in a zone", () => {
    assert.strictEqual(calendarDayOf(at("2026-11-20T23:30:00Z"), "UTC"), "2026-11-20")
    assert.strictEqual(calendarDayOf(at("2026-11-20T23:30:00Z"), "Europe/Berlin"), "2026-11-21")
    assert.strictEqual(calendarDayOf(at("2026-11-20T18:29:59Z"), "Asia/Kolkata"), "2026-11-20")
    assert.strictEqual(calendarDayOf(at("2026-11-20T18:30:00Z"), "Asia/Kolkata"), "2026-11-21")
    assert.strictEqual(endOfDay("2026-11-20", "Asia/Kolkata"), at("2026-11-20T18:29:59.999Z"))
  })
})

describe("day points across daylight saving time in Europe/Berlin", () => {
  it("builds late on the night the clocks go back fall on the right local day", () => {
    const { timeline: berlin } = fleet(
      {
        api: [
          ["1-master", "2026-10-24T21:30:00Z"], // 23:30 CEST on the 24th
          ["2-master", "2026-10-24T22:30:00Z"], // 00:30 CEST on the 25th
          ["3-master", "2026-10-25T22:30:00Z"] // 23:30 CET on the 25th
        ],
        web: [
          ["8-master", "2026-10-25T23:30:00Z"], // 00:30 CET on the 26th
          ["9-master", "2026-03-28T23:30:00Z"] // 00:30 CET on 29 March, the day clocks go forward
        ]
      },
      { granularity: "day", timeZone: "Europe/Berlin" }
    )
    assert.deepStrictEqual(
      berlin.points.map((p) => [p.label, p.id]),
      [
        ["2026-10-26 (Europe/Berlin) - web 8-master", "2026-10-26T22:59:59.999Z"],
        ["2026-10-25 (Europe/Berlin) - api 3-master", "2026-10-25T22:59:59.999Z"],
        ["2026-10-24 (Europe/Berlin) - api 1-master", "2026-10-24T21:59:59.999Z"],
        ["2026-03-29 (Europe/Berlin) - web 9-master", "2026-03-29T21:59:59.999Z"]
      ]
    )
    // choosing the 25th takes the build of 23:30 CET, not the one of 00:30 CEST
    const point = parsePoint("2026-10-25", berlin.points, "Europe/Berlin")
    if ("_tag" in point) throw new Error(point.message)
    assert.strictEqual(point.iso, "2026-10-25T22:59:59.999Z")
    assert.deepStrictEqual(tagsAt(berlin, point.instant), { api: "3-master", web: "9-master" })
    // the 24th ends before 00:30 CEST on the 25th: api gets the build of 23:30 CEST on the 24th
    const day24 = parsePoint("2026-10-24", berlin.points, "Europe/Berlin")
    if ("_tag" in day24) throw new Error(day24.message)
    assert.deepStrictEqual(tagsAt(berlin, day24.instant), { api: "1-master", web: "9-master" })
  })

  it("instant labels show local time in the zone", () => {
    const { timeline: berlin } = fleet({ api: [["1-master", "2026-10-25T00:30:00Z"], ["2-master", "2026-10-25T01:30:00Z"]] }, { timeZone: "Europe/Berlin" })
    // 02:30 CEST and then 02:30 CET: the same wall-clock time, an hour apart
    assert.deepStrictEqual(berlin.points.map((p) => p.label), [
      "2026-10-25 02:30:00 Europe/Berlin - api 2-master",
      "2026-10-25 02:30:00 Europe/Berlin - api 1-master"
    ])
  })
})

describe("labels are ASCII, so a Jenkins agent whose Java charset is not UTF-8 passes them on intact", () => {
  it("instant and day labels, in UTC and in a zone, have only printable ASCII characters", () => {
    const images = { api: [["1-master", "2026-11-20T09:00:00Z"], ["2-master", "2026-11-21T14:03:27Z"]], web: [["5-master", "2026-11-21T14:03:27Z"]] } as const
    const labels = [
      ...timeline.points,
      ...fleet(images, { granularity: "day" }).timeline.points,
      ...fleet(images, { timeZone: "Asia/Kolkata" }).timeline.points,
      ...fleet(images, { granularity: "day", timeZone: "America/Santiago" }).timeline.points
    ].map((p) => p.label)
    assert.strictEqual(labels.length, 8)
    for (const label of labels) assert.match(label, /^[\x20-\x7e]+$/, label)
    assert.strictEqual(labels[0], "2026-11-21 14:03:27 UTC - api 2-master, web 5-master")
  })
})

describe("labels are unique, so every label names one point", () => {
  it("two points in the same second show milliseconds, so their labels never read the same", () => {
    // Service "x y" with tag 1-master and service "x" with tag "y 1-master" (a custom scheme that
    // accepts anything) print the same text in the same second.
    const anything = { name: "any", description: "any tag", pattern: /^(?<env>.+)$/, timestampFormat: "YYYYMMDDHHmmss", order: "created" } as const
    const { timeline: t } = fleet(
      { "x y": [["1-master", "2026-11-21T14:03:27.100Z"]], x: [["y 1-master", "2026-11-21T14:03:27.900Z"]] },
      { scheme: anything }
    )
    assert.deepStrictEqual(t.points.map((p) => [p.id, p.label]), [
      ["2026-11-21T14:03:27.900Z", "2026-11-21 14:03:27.900 UTC - x y 1-master"],
      ["2026-11-21T14:03:27.100Z", "2026-11-21 14:03:27.100 UTC - x y 1-master"]
    ])
    for (const p of t.points) {
      const point = parsePoint(p.label, t.points)
      assert.isFalse("_tag" in point)
      if (!("_tag" in point)) assert.strictEqual(point.iso, p.id)
    }
  })

  it("more than three changes are summarised as +N more", () => {
    const { timeline: t } = fleet(
      Object.fromEntries(["a", "b", "c", "d", "e"].map((name) => [name, [["1-master", "2026-11-21T14:03:27Z"]] as const]))
    )
    assert.deepStrictEqual(t.points.map((p) => p.label), ["2026-11-21 14:03:27 UTC - a 1-master, b 1-master, c 1-master +2 more"])
    assert.strictEqual(t.points[0]!.changes.length, 5)
  })
})

describe("years below 100 are those years, not 19xx", () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["0099-12-31", "UTC", "0099-12-31T23:59:59.999Z"],
    ["0001-01-01", "UTC", "0001-01-01T23:59:59.999Z"],
    ["0099-12-31T10:00:00Z", "UTC", "0099-12-31T10:00:00.000Z"],
    // Berlin before 1893 kept local mean time, +00:53:28
    ["0099-12-31", "Europe/Berlin", "0099-12-31T23:06:31.999Z"],
    ["0050-06-15T12:00:00", "Europe/Berlin", "0050-06-15T11:06:32.000Z"]
  ]
  for (const [input, zone, iso] of cases) {
    it(`${input} in ${zone} is ${iso}`, () => {
      const point = parsePoint(input, [], zone)
      assert.isFalse("_tag" in point, JSON.stringify(point))
      if (!("_tag" in point)) assert.strictEqual(point.iso, iso)
    })
  }

  it("endOfDay of 0099-12-31 is in year 99, and a zone's offset then is not the 1999 one", () => {
    assert.strictEqual(new Date(endOfDay("0099-12-31", "UTC")).toISOString(), "0099-12-31T23:59:59.999Z")
    assert.strictEqual(zoneOffsetAt(Date.parse("0099-06-01T00:00:00Z"), "Europe/Berlin"), 3208_000)
  })
})
