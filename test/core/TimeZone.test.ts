/**
 * @module test/core/TimeZone — days in zones whose clocks change at local midnight (Santiago,
 * Havana, Asunción, Beirut, the Azores, Nuuk): a day that starts at 01:00 or has its midnight
 * twice still ends at its last millisecond, so "roll back to the 5th" includes the 5th's last hour.
 */
import { assert, describe, it } from "@effect/vitest"
import type { FleetSelection } from "../../lib/core/index.ts"
import { calendarDayOf, endOfDay, instantOfLocalTime, parseIsoInstant, parsePoint, selectAsOf } from "../../lib/core/index.ts"
import { at, fleet } from "./fleet.ts"

const iso = (millis: number) => new Date(millis).toISOString()
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

describe("endOfDay in zones whose clocks change at local midnight", () => {
  // zone, day, its last millisecond (UTC), what the clocks do. Expected values from the tz
  // database's transitions (e.g. Santiago 2026-09-06T04:00Z: 24:00 -04 becomes 01:00 -03).
  const table: ReadonlyArray<readonly [zone: string, day: string, end: string, what: string]> = [
    ["America/Santiago", "2026-09-05", "2026-09-06T03:59:59.999Z", "spring: the 6th starts at 01:00 -03"],
    ["America/Santiago", "2026-09-06", "2026-09-07T02:59:59.999Z", "the 23-hour day itself"],
    ["America/Santiago", "2026-04-04", "2026-04-05T03:59:59.999Z", "autumn: 24:00 -03 becomes 23:00 -04, a 25-hour day"],
    ["America/Santiago", "2026-04-05", "2026-04-06T03:59:59.999Z", "the day after autumn"],
    ["America/Havana", "2026-03-07", "2026-03-08T04:59:59.999Z", "spring: the 8th starts at 01:00 CDT"],
    ["America/Havana", "2026-10-31", "2026-11-01T03:59:59.999Z", "autumn: midnight of the 1st happens twice, the first one counts"],
    ["America/Havana", "2026-11-01", "2026-11-02T04:59:59.999Z", "the 25-hour day itself"],
    ["America/Asuncion", "2024-10-05", "2024-10-06T03:59:59.999Z", "spring: the 6th starts at 01:00 -03"],
    ["America/Asuncion", "2024-03-23", "2024-03-24T03:59:59.999Z", "autumn: 24:00 -03 becomes 23:00 -04"],
    ["Asia/Beirut", "2026-03-28", "2026-03-28T21:59:59.999Z", "spring: the 29th starts at 01:00 EEST"],
    ["Asia/Beirut", "2026-10-24", "2026-10-24T21:59:59.999Z", "autumn: 24:00 EEST becomes 23:00 EET"],
    ["Atlantic/Azores", "2026-03-28", "2026-03-29T00:59:59.999Z", "spring: the 29th starts at 01:00 +00"],
    ["Atlantic/Azores", "2026-10-24", "2026-10-24T23:59:59.999Z", "autumn: midnight of the 25th happens twice"],
    ["America/Nuuk", "2026-03-28", "2026-03-29T00:59:59.999Z", "spring: 23:00 to 24:00 does not exist, the 29th starts at 00:00 -01"],
    ["Europe/Berlin", "2026-03-29", "2026-03-29T21:59:59.999Z", "a change at 02:00, not midnight"],
    ["UTC", "2026-09-05", "2026-09-05T23:59:59.999Z", "no changes"]
  ]
  for (const [zone, day, end, what] of table) {
    it(`${day} in ${zone} ends at ${end} (${what})`, () => {
      const last = endOfDay(day, zone)
      assert.strictEqual(iso(last), end)
      // independent of the expected value: the last millisecond is in the day, the next is not
      assert.strictEqual(calendarDayOf(last, zone), day)
      assert.strictEqual(calendarDayOf(last + 1, zone), nextDay(day))
    })
  }
})

describe("local times that do not exist or happen twice", () => {
  const table: ReadonlyArray<readonly [local: string, zone: string, instant: string, why: string]> = [
    ["2026-09-06T00:30:00", "America/Santiago", "2026-09-06T04:30:00.000Z", "in the gap: moved forward by the hour, 01:30 -03"],
    ["2026-09-06T01:30:00", "America/Santiago", "2026-09-06T04:30:00.000Z", "just after the gap"],
    ["2026-09-05T23:30:00", "America/Santiago", "2026-09-06T03:30:00.000Z", "just before the gap"],
    ["2026-04-04T23:30:00", "America/Santiago", "2026-04-05T02:30:00.000Z", "twice: the first, -03"],
    ["2026-11-01T00:30:00", "America/Havana", "2026-11-01T04:30:00.000Z", "twice: the first, CDT"],
    ["2026-03-08T00:00:00", "America/Havana", "2026-03-08T05:00:00.000Z", "midnight in the gap: the day's first instant"],
    ["2026-03-29T02:30:00", "Europe/Berlin", "2026-03-29T01:30:00.000Z", "in the gap: 03:30 CEST"],
    ["2026-10-25T02:30:00", "Europe/Berlin", "2026-10-25T00:30:00.000Z", "twice: the first, CEST"]
  ]
  for (const [local, zone, instant, why] of table) {
    it(`${local} in ${zone} is ${instant} (${why})`, () => {
      assert.strictEqual(iso(instantOfLocalTime(Date.parse(`${local}Z`), zone)), instant)
      assert.strictEqual(iso(parseIsoInstant(local, zone)!), instant)
    })
  }
})

/** service → selected tag, or `unresolved`. */
const chosen = (selection: FleetSelection): Record<string, string> =>
  Object.fromEntries(selection.services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : "unresolved"]))

describe("day points in zones whose clocks change at local midnight", () => {
  const cases = [
    // 23:30 local on the last day before clocks go forward at midnight
    { zone: "America/Santiago", day: "2026-09-05", morning: "2026-09-05T12:00:00Z", lateEvening: "2026-09-06T03:30:00Z" },
    { zone: "America/Havana", day: "2026-03-07", morning: "2026-03-07T15:00:00Z", lateEvening: "2026-03-08T04:30:00Z" },
    { zone: "Asia/Beirut", day: "2026-03-28", morning: "2026-03-28T08:00:00Z", lateEvening: "2026-03-28T21:30:00Z" }
  ]
  for (const { zone, day, morning, lateEvening } of cases) {
    it(`the ${day} point in ${zone} selects that day's 23:30 build, by label and by --point ${day} --tz ${zone}`, () => {
      const { timeline } = fleet(
        { api: [["1-master", morning], ["2-master", lateEvening], ["3-master", "2026-12-01T12:00:00Z"]] },
        { granularity: "day", timeZone: zone }
      )
      const point = timeline.points.find((p) => p.label.startsWith(`${day} (${zone})`))
      assert.isDefined(point)
      assert.strictEqual(point!.label, `${day} (${zone}) - api 2-master`)
      assert.strictEqual(point!.id, iso(endOfDay(day, zone)))
      assert.deepStrictEqual(chosen(selectAsOf(timeline, at(point!.id))), { api: "2-master" })
      const byLabel = parsePoint(point!.label, timeline.points, zone)
      const byDate = parsePoint(day, timeline.points, zone)
      if ("_tag" in byLabel || "_tag" in byDate) throw new Error("the point was refused")
      assert.deepStrictEqual(chosen(selectAsOf(timeline, byLabel.instant)), { api: "2-master" })
      assert.deepStrictEqual(chosen(selectAsOf(timeline, byDate.instant)), { api: "2-master" })
    })
  }
})
