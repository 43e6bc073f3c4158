/**
 * `sortImages` (a packed native sort) must order exactly like sorting with `compareImages`,
 * ties included: a wrong order here would deploy the wrong build of a busy day.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { TimelineImage } from "../../lib/core/Timeline.ts"
import { compareImages, sortImages } from "../../lib/core/Timeline.ts"

const image = (time: number, build: number | undefined, tag: string): TimelineImage => ({
  service: "api",
  tag,
  digest: `sha256:${tag}`,
  time,
  dateSource: "config",
  build,
  version: undefined,
  revision: undefined
})

describe("sortImages", () => {
  it("orders like compareImages for any list: many equal times, builds and tags", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }), fc.stringMatching(/^[a-z0-9-]{1,6}$/)), { maxLength: 400 }),
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2030, 0, 1) }),
        (rows, base) => {
          const list = rows.map(([offset, build, tag]) => image(base + offset * 60_000, build, tag))
          const expected = [...list].sort(compareImages)
          assert.deepStrictEqual(sortImages([...list]).map((i) => [i.time, i.build, i.tag]), expected.map((i) => [i.time, i.build, i.tag]))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("orders by time, then build (none lowest), then tag — checked against keys, not compareImages", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), fc.stringMatching(/^[a-e]{1,3}$/)), { minLength: 60, maxLength: 300 }),
        (rows) => {
          // one service lists each tag once
          const unique = [...new Map(rows.map((row) => [row[2], row])).values()]
          const list = unique.map(([offset, build, tag]) => image(Date.UTC(2026, 0, 1) + offset * 1000, build, tag))
          const sorted = sortImages([...list])
          for (let i = 1; i < sorted.length; i++) {
            const [a, b] = [sorted[i - 1]!, sorted[i]!]
            const key = (x: TimelineImage) => [x.time, x.build ?? -1, x.tag] as const
            const [ka, kb] = [key(a), key(b)]
            const before = ka[0] < kb[0] || (ka[0] === kb[0] && (ka[1] < kb[1] || (ka[1] === kb[1] && ka[2] < kb[2])))
            assert.isTrue(before, `${JSON.stringify(ka)} before ${JSON.stringify(kb)}`)
          }
        }
      ),
      { numRuns: 300, seed: 20261121 }
    )
  })

  it("a span of times too wide to pack still sorts (comparator fallback)", () => {
    const list = Array.from({ length: 100 }, (_, i) => image(i % 2 === 0 ? Date.UTC(1980, 0, 1) + i : Date.UTC(2200, 0, 1) - i, i, `t${i}`))
    assert.deepStrictEqual(sortImages([...list]), [...list].sort(compareImages))
  })
})
