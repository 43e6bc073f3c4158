/**
 * @module test/core/RollbackFileDecode.property — reading rollback.json checks its images and points by hand
 * (fast in a fresh process: `choices` in Jenkins) and the rest with the Schema; for any file,
 * valid or broken anywhere in its images, the result is exactly what the Schema alone gives:
 * the same images (unknown keys dropped) when it is valid, a refusal when the Schema refuses.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import fc from "fast-check"
import { crossCheck, decodeRollbackFile, RollbackFileV1, RollbackFileV2 } from "../../lib/core/index.ts"
import type { RollbackFile } from "../../lib/core/index.ts"

/** What the Schema alone says about a file (the checks decodeRollbackFile adds hold for these files). */
const bySchemaAlone = (json: { readonly schemaVersion: 1 | 2 }): Result.Result<RollbackFile, Schema.SchemaError> =>
  json.schemaVersion === 1
    ? Schema.decodeUnknownResult(RollbackFileV1)(json, { errors: "all" })
    : Schema.decodeUnknownResult(RollbackFileV2)(json, { errors: "all" })

const instant = fc.oneof(
  fc.constantFrom("2026-11-20T15:00:00.000Z", "2026-11-20T15:00:00Z", "2026-02-28T23:59:59.999+01:00", "1999-12-31T23:00:00.123456789-05:00"),
  // broken ones: no such day, before 1980, not the ISO shape, not a string
  fc.constantFrom("2026-02-30T10:00:00Z", "1979-12-31T23:59:59Z", "2026-11-20 15:00:00Z", "2026-11-20T25:00:00Z", "", 20261120),
  fc.date({ min: new Date(Date.UTC(1975, 0, 1)), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString())
)

/** An image: mostly right, sometimes wrong in one field, sometimes with keys the file does not know. */
const anyImage = fc.record(
  {
    tag: fc.oneof(fc.string(), fc.constant(42 as unknown as string)),
    digest: fc.string(),
    created: instant,
    dateSource: fc.constantFrom("annotation", "config", "schema1-history", "tag", "push", "guess", null),
    build: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 2), fc.string()),
    version: fc.oneof(fc.string(), fc.integer()),
    timestamp: instant,
    revision: fc.oneof(fc.string(), fc.constant(null)),
    extra: fc.anything()
  },
  { requiredKeys: [] }
)

/** A tag the distribution spec allows, and a sha256 digest. */
const goodTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}$/)
const goodDigest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`)

/** A right image, with some optional keys. */
const goodImage = fc.record(
  {
    tag: goodTag,
    digest: goodDigest,
    created: fc.constantFrom("2026-11-20T15:00:00.000Z", "2001-02-03T04:05:06+02:00"),
    dateSource: fc.constantFrom("annotation", "config", "schema1-history", "tag", "push"),
    build: fc.integer(),
    version: fc.stringMatching(/^[a-z0-9.]{1,8}$/),
    timestamp: fc.constantFrom("2026-11-20T15:00:00.000Z", "1970-01-01T00:00:00Z"),
    revision: fc.stringMatching(/^[0-9a-f]{7}$/),
    extra: fc.anything()
  },
  { requiredKeys: ["tag", "digest", "created", "dateSource"] }
)

/** Wrong values for each field of an image. */
const WRONG: Readonly<Record<string, ReadonlyArray<unknown>>> = {
  tag: [42, null, "bad tag\n", "-rf"],
  digest: [undefined, 7, "md5:abc"],
  created: ["2026-02-30T10:00:00Z", "1979-12-31T23:59:59Z", "2026-11-20 15:00:00Z", "2026-11-20T25:00:00Z", ""],
  dateSource: ["guess", null],
  build: [1.5, Number.MAX_SAFE_INTEGER + 2, "12", Number.NaN],
  version: [1, null],
  timestamp: ["2026-13-01T00:00:00Z", 0],
  revision: [null, {}]
}

/** A right image with exactly one field wrong (or missing, for a required one). */
const oneFieldWrong = fc.tuple(goodImage, fc.constantFrom(...Object.keys(WRONG)), fc.nat()).map(([good, field, pick]) => {
  const values = WRONG[field]!
  const wrong = values[pick % values.length]
  return { ...good, [field]: wrong }
})

const image = fc.oneof({ arbitrary: goodImage, weight: 4 }, { arbitrary: oneFieldWrong, weight: 2 }, { arbitrary: anyImage, weight: 1 })

/** A point: mostly right, sometimes with one thing wrong, sometimes with keys the file does not know. */
const point = fc.oneof(
  { arbitrary: fc.record({ id: fc.constantFrom("2026-11-20T15:00:00.000Z", "2026-11-20T16:00:00+01:00"), label: fc.string(), changes: fc.array(fc.record({ service: fc.string(), tag: fc.string() }), { maxLength: 3 }) }), weight: 4 },
  {
    arbitrary: fc.record(
      {
        id: fc.oneof(instant, fc.constant("yesterday")),
        label: fc.oneof(fc.string(), fc.constant(null)),
        changes: fc.oneof(fc.array(fc.record({ service: fc.oneof(fc.string(), fc.constant(3)), tag: fc.string(), extra: fc.anything() }, { requiredKeys: ["tag"] }), { maxLength: 2 }), fc.constant("none")),
        extra: fc.anything()
      },
      { requiredKeys: [] }
    ),
    weight: 1
  }
)

const file = fc.record({
  schemaVersion: fc.constantFrom(1 as const, 2 as const),
  images: fc.dictionary(fc.constantFrom("api", "web"), fc.array(image, { maxLength: 4 }), { maxKeys: 2 }),
  points: fc.array(point, { maxLength: 3 })
}).map(({ schemaVersion, images, points }) => ({
  schemaVersion,
  generatedAt: "2026-11-21T14:03:27.000Z",
  environment: null,
  registry: "https://registry.example.com",
  ...(schemaVersion === 2 ? { scheme: { pattern: "(?<build>\\d+)-master", order: "build" } } : { scheme: "build-branch" }),
  services: [{ name: "api", repository: "shop/api" }, { name: "web", repository: "shop/web" }],
  images,
  points
}))

describe("reading rollback.json", () => {
  it("gives what the Schema alone gives, for any file: valid ones equal, broken ones refused", () => {
    let valid = 0
    let validWithImages = 0
    let broken = 0
    fc.assert(
      fc.property(file, (json) => {
        // The Schema alone, then the checks across fields (unique names, changes naming images…) on what it decoded.
        const schemaAlone = bySchemaAlone(json)
        const expected: Result.Result<RollbackFile, unknown> = Result.isSuccess(schemaAlone) && crossCheck(schemaAlone.success) !== undefined
          ? Result.fail("cross-check")
          : schemaAlone
        const got = decodeRollbackFile(json)
        assert.strictEqual(Result.isSuccess(got), Result.isSuccess(expected), JSON.stringify(json))
        if (Result.isSuccess(got) && Result.isSuccess(expected)) {
          valid++
          if (Object.values(got.success.images).some((list) => list.length > 0)) validWithImages++
          assert.deepStrictEqual(got.success, expected.success)
        } else broken++
      }),
      { numRuns: 2000 }
    )
    // both kinds were tried
    assert.isAbove(valid, 50)
    assert.isAbove(validWithImages, 20, "valid files with images were tried")
    assert.isAbove(broken, 50)
  })
})
