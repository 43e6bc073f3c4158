/**
 * @module test/core/RollbackFile — `rollback.json` v1: what `get` writes is what `plan` and `run`
 * read back; a damaged file is refused with the field and the problem; the JSON Schema in `docs/`
 * is exactly what the Schema generates.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { RollbackFile } from "../../lib/core/index.ts"
import {
  decodeRollbackFile,
  parseRollbackFile,
  RollbackFileError,
  selectAsOf,
  stripCredentials,
  timelineOfRollbackFile,
  toRollbackFile
} from "../../lib/core/index.ts"
import { ROLLBACK_SCHEMA_PATH, rollbackJsonSchemaText } from "../../scripts/generate-json-schema.ts"
import { at, fleet } from "./fleet.ts"

/** Points as plain data (timeline points format their text lazily). */
const plainPoints = (points: ReadonlyArray<unknown>): unknown => JSON.parse(JSON.stringify(points))

const merged = fleet(
  {
    api: [["1-master", "2026-11-01T00:00:00Z"], ["2-master", "2026-11-10T00:00:00.123Z"]],
    web: [["7-master", "2026-11-05T00:00:00Z"]]
  },
  { environment: "master" }
)
const header = { generatedAt: "2026-11-21T14:03:27.000Z", environment: "prod", registry: "https://registry.example.com:5000", scheme: "build-branch" }
const file = toRollbackFile(merged.timeline, header, merged.ignored)

const errorOf = (result: Result.Result<RollbackFile, RollbackFileError>): RollbackFileError => {
  if (Result.isSuccess(result)) throw new Error("expected the file to be refused")
  assert.instanceOf(result.failure, RollbackFileError)
  assert.strictEqual(result.failure._tag, "RollbackFileError")
  return result.failure
}
const withChange = (change: (json: any) => void): unknown => {
  const json = JSON.parse(JSON.stringify(file))
  change(json)
  return json
}

describe("rollback.json round trip", () => {
  it("what get writes, plan reads back to the same images and the same selection", () => {
    const text = JSON.stringify(file, null, 2)
    const decoded = parseRollbackFile(text)
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isFailure(decoded)) return
    const back = timelineOfRollbackFile(decoded.success)
    assert.deepStrictEqual(back.images, merged.timeline.images)
    assert.deepStrictEqual(plainPoints(back.points), plainPoints(merged.timeline.points))
    for (const instant of ["2026-11-01T00:00:00Z", "2026-11-07T00:00:00Z", "2026-11-10T00:00:00.123Z", "2030-01-01T00:00:00Z"]) {
      assert.deepStrictEqual(selectAsOf(back, at(instant)), selectAsOf(merged.timeline, at(instant)))
    }
  })

  it("images are newest first in the file, as an operator reads them", () => {
    assert.deepStrictEqual(file.images.api?.map((i) => [i.tag, i.created]), [
      ["2-master", "2026-11-10T00:00:00.123Z"],
      ["1-master", "2026-11-01T00:00:00.000Z"]
    ])
    assert.strictEqual(file.schemaVersion, 1)
    assert.deepStrictEqual(file.services, [{ name: "api", repository: "shop/api" }, { name: "web", repository: "shop/web" }])
  })

  it("credentials in the registry URL never reach the file", () => {
    const secret = toRollbackFile(merged.timeline, { ...header, registry: "https://robot:s3cr3t@registry.example.com:5000/" })
    assert.strictEqual(secret.registry, "https://registry.example.com:5000/")
    assert.notInclude(JSON.stringify(secret), "s3cr3t")
    assert.strictEqual(stripCredentials("http://registry.local"), "http://registry.local")
  })
})

describe("a damaged rollback.json is refused, naming the field", () => {
  const table: ReadonlyArray<readonly [what: string, json: unknown, mentions: ReadonlyArray<string>]> = [
    ["a point id that is a number", withChange((j) => (j.points[0].id = 3)), ['["points"][0]["id"]', "Expected string"]],
    ["a point id that is not an instant", withChange((j) => (j.points[0].id = "yesterday")), ['["points"][0]["id"]', "ISO-8601 instant"]],
    ["a created date that does not exist", withChange((j) => (j.images.api[0].created = "2026-02-30T00:00:00Z")), ['["images"]["api"][0]["created"]', "real calendar date"]],
    ["a created date before 1980 (get never writes one: such dates are unknown)", withChange((j) => (j.images.api[0].created = "1970-01-01T00:00:00.000Z")), ['["images"]["api"][0]["created"]', "from 1980-01-01T00:00:00Z on"]],
    ["a created date a millisecond before 1980", withChange((j) => (j.images.web[0].created = "1979-12-31T23:59:59.999Z")), ['["images"]["web"][0]["created"]', "from 1980-01-01T00:00:00Z on"]],
    ["a tag timestamp that is not an instant", withChange((j) => (j.images.web[0].timestamp = "20261105")), ['["images"]["web"][0]["timestamp"]', "ISO-8601 instant"]],
    ["an unknown order in the scheme", withChange((j) => (j.scheme = { pattern: "(?<build>\\d+)", order: "newest" })), ['["scheme"]', "order"]],
    ["a missing tag", withChange((j) => delete j.images.web[0].tag), ['["images"]["web"][0]["tag"]', "Missing key"]],
    ["an unknown date source", withChange((j) => (j.images.web[0].dateSource = "guess")), ['["images"]["web"][0]["dateSource"]']],
    ["a fractional build number", withChange((j) => (j.images.web[0].build = 1.5)), ['["images"]["web"][0]["build"]']],
    ["no services", withChange((j) => delete j.services), ['["services"]', "Missing key"]],
    ["an array instead of an object", [1, 2], ["Expected object"]]
  ]
  for (const [what, json, mentions] of table) {
    it(what, () => {
      const error = errorOf(decodeRollbackFile(json, "/tmp/rollback.json"))
      assert.include(error.message, "/tmp/rollback.json is not a valid rollback.json (schema version 1)")
      assert.include(error.message, "fleet-rollback get")
      for (const text of mentions) assert.include(error.message, text)
    })
  }

  it("1980-01-01T00:00:00.000Z itself is a known date", () => {
    assert.isTrue(Result.isSuccess(decodeRollbackFile(withChange((j) => (j.images.web[0].created = "1980-01-01T00:00:00.000Z")))))
  })

  it("images of a service the file does not list", () => {
    const error = errorOf(decodeRollbackFile(withChange((j) => (j.images.ghost = []))))
    assert.include(error.message, 'images of ghost but no such service in "services"')
  })

  it("an unknown time zone", () => {
    assert.include(errorOf(decodeRollbackFile(withChange((j) => (j.timeZone = "Mars/Olympus")))).message, 'unknown timeZone "Mars/Olympus"')
  })

  it("a file from a newer fleet-rollback (schemaVersion 2) says which version this one reads", () => {
    const error = errorOf(decodeRollbackFile(withChange((j) => (j.schemaVersion = 2))))
    assert.include(error.message, "rollback.json has schemaVersion 2; this fleet-rollback reads version 1")
  })

  it("a file that is not JSON", () => {
    const error = errorOf(parseRollbackFile("{\"schemaVersion\": 1,", "rollback.json"))
    assert.include(error.message, "rollback.json is not JSON")
    assert.include(error.message, "fleet-rollback get")
  })

  it("the seed's old format ({all, rollbacks}) is refused, not misread", () => {
    const error = errorOf(decodeRollbackFile({ all: ["repo1"], rollbacks: { "2026-11-20": [{ "1-master": "repo1" }] } }))
    assert.include(error.message, '["schemaVersion"]')
  })
})

describe("docs/rollback.schema.json", () => {
  it("is exactly what scripts/generate-json-schema.ts generates from the Schema (run `npm run schema` after a change)", () => {
    const committed = readFileSync(ROLLBACK_SCHEMA_PATH, "utf8")
    assert.strictEqual(committed, rollbackJsonSchemaText())
  })

  it("is a draft 2020-12 document with an id and a title, requiring the v1 fields", () => {
    const schema = JSON.parse(rollbackJsonSchemaText())
    assert.strictEqual(schema.$schema, "https://json-schema.org/draft/2020-12/schema")
    assert.strictEqual(schema.$id, "urn:fleet-rollback:rollback.json:v1")
    assert.strictEqual(schema.title, "fleet-rollback rollback.json")
    assert.deepStrictEqual(schema.required, ["schemaVersion", "generatedAt", "environment", "registry", "services", "images", "points"])
    assert.deepStrictEqual(schema.properties.schemaVersion.enum, [1])
    assert.match(file.generatedAt, new RegExp(schema.properties.generatedAt.pattern, "u"))
  })
})
