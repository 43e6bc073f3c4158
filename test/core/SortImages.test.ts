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

  it("a span of times too wide to pack still sorts (comparator fallback)", () => {
    const list = Array.from({ length: 100 }, (_, i) => image(i % 2 === 0 ? Date.UTC(1980, 0, 1) + i : Date.UTC(2200, 0, 1) - i, i, `t${i}`))
    assert.deepStrictEqual(sortImages([...list]), [...list].sort(compareImages))
  })
})
