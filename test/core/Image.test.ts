/**
 * @module test/core/Image — the effective time of an image: annotation, config, tag timestamp,
 * push time, in that order; dates before 1980 (reproducible-build placeholders) are unknown.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { effectiveTime, formatIsoInstant, parseIsoInstant, parseKnownInstant } from "../../lib/core/index.ts"

const T = (iso: string) => Date.parse(iso)

describe("effectiveTime", () => {
  it("a 1970 config date (reproducible build) with a real annotation takes the annotation", () => {
    assert.deepStrictEqual(effectiveTime({ annotation: "2026-03-01T10:00:00Z", config: "1970-01-01T00:00:00Z" }), {
      time: T("2026-03-01T10:00:00Z"),
      source: "annotation"
    })
  })
  it("a 1970 annotation falls through to the config date", () => {
    assert.deepStrictEqual(effectiveTime({ annotation: "1970-01-01T00:00:01Z", config: "2026-03-01T10:00:00Z" }), {
      time: T("2026-03-01T10:00:00Z"),
      source: "config"
    })
  })
  it("with 1970 everywhere, the tag's own timestamp counts, then the push time", () => {
    const dates = { annotation: "1970-01-01T00:00:00Z", config: "1970-01-01T00:00:00Z", push: "2026-03-02T00:00:00Z" }
    assert.deepStrictEqual(effectiveTime({ ...dates, tag: T("2026-03-01T10:00:00Z") }), { time: T("2026-03-01T10:00:00Z"), source: "tag" })
    assert.deepStrictEqual(effectiveTime(dates, T("2026-03-01T11:00:00Z")), { time: T("2026-03-01T11:00:00Z"), source: "tag" })
    assert.deepStrictEqual(effectiveTime(dates), { time: T("2026-03-02T00:00:00Z"), source: "push" })
  })
  it("pre-1980 everywhere is an unknown date", () => {
    assert.isUndefined(effectiveTime({ annotation: "1970-01-01T00:00:00Z", config: "1979-12-31T23:59:59Z", push: "0001-01-01T00:00:00Z", tag: 0 }))
    assert.isUndefined(effectiveTime({}))
  })
  it("1980-01-01T00:00:00Z itself is known", () => {
    assert.deepStrictEqual(effectiveTime({ config: "1980-01-01T00:00:00Z" }), { time: T("1980-01-01T00:00:00Z"), source: "config" })
  })
})

describe("parseKnownInstant and parseIsoInstant", () => {
  const table: ReadonlyArray<readonly [text: string, expected: number | undefined]> = [
    ["2021-09-29T02:56:43Z", T("2021-09-29T02:56:43Z")],
    ["2021-09-29T02:56:43.123456789Z", T("2021-09-29T02:56:43.123Z")],
    ["2021-09-29T04:56:43+02:00", T("2021-09-29T02:56:43Z")],
    ["2021-09-29T08:26:43+0530", T("2021-09-29T02:56:43Z")],
    ["2021-09-28T21:56:43-05:00", T("2021-09-29T02:56:43Z")],
    ["2021-09-29t02:56:43z", T("2021-09-29T02:56:43Z")],
    ["2021-09-29 02:56:43Z", T("2021-09-29T02:56:43Z")],
    ["2021-09-29T02:56Z", T("2021-09-29T02:56:00Z")],
    // No offset: UTC on every machine, whatever TZ says (Date.parse would use the local zone).
    ["2021-09-29T02:56:43", T("2021-09-29T02:56:43Z")],
    ["2024-02-29T00:00:00Z", T("2024-02-29T00:00:00Z")],
    ["2026-02-30T00:00:00Z", undefined], // Date.parse rolls this over to 2 March
    ["2023-02-29T00:00:00Z", undefined],
    ["2026-04-31T00:00:00Z", undefined],
    ["2026-01-01T24:00:00Z", undefined],
    ["2026-01-01T12:60:00Z", undefined],
    ["2026-01-01T12:00:60Z", undefined],
    ["2026-01-01T12:00:00+24:00", undefined],
    ["2026-01-01T12:00:00.Z", undefined],
    ["2026-01-01T12:00:00Zjunk", undefined],
    ["2026-01-01", undefined],
    ["yesterday", undefined],
    ["", undefined],
    ["1979-12-31T23:59:59.999Z", undefined]
  ]
  for (const [text, expected] of table) {
    it(`${JSON.stringify(text)} → ${expected === undefined ? "unknown" : new Date(expected).toISOString()}`, () => {
      assert.strictEqual(parseKnownInstant(text), expected)
    })
  }
  it("parseIsoInstant reads an instant without offset in the given zone", () => {
    assert.strictEqual(parseIsoInstant("2026-07-01T12:00:00", "Europe/Berlin"), T("2026-07-01T10:00:00Z"))
    assert.strictEqual(parseIsoInstant("2026-07-01T12:00:00", "Asia/Kolkata"), T("2026-07-01T06:30:00Z"))
    assert.strictEqual(parseIsoInstant("0050-01-01T00:00:00Z"), Date.UTC(2050, 0, 1) - 2000 * 365.2425 * 86_400_000)
  })
  it("formatIsoInstant writes exactly what toISOString writes", () => {
    for (const millis of [0, 1, 999, 86_399_999, 951_782_400_000, 1_632_884_203_123, 1_798_761_599_999, 253_402_300_799_999]) {
      assert.strictEqual(formatIsoInstant(millis), new Date(millis).toISOString())
    }
    // replayable: a fixed seed (fast-check prints it with any counterexample)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (millis) => {
        assert.strictEqual(formatIsoInstant(millis), new Date(millis).toISOString())
      }),
      { numRuns: 2000, seed: 1632884203 }
    )
    assert.strictEqual(formatIsoInstant(-1), new Date(-1).toISOString())
  })
})
