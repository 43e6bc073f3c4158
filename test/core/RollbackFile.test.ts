/**
 * @module test/core/RollbackFile — `rollback.json` v1 and v2: what `get` writes is what `plan`
 * and `run` read back; files of the default order stay version 1, readable by older
 * fleet-rollbacks; a damaged file is refused with the field and the problem; the JSON Schema in
 * `docs/` is exactly what the Schema generates.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { RollbackFile } from "../../lib/core/index.ts"
import {
  decodeRollbackFile,
  mergeTimeline,
  parseRollbackFile,
  resolveTagScheme,
  RollbackFileError,
  selectAsOf,
  stripCredentials,
  timelineOfRollbackFile,
  TAG_SCHEME_NAMES,
  TAG_SCHEME_PRESETS,
  toRollbackFile
} from "../../lib/core/index.ts"
import { ROLLBACK_SCHEMA_PATH, rollbackJsonSchemaText } from "../../scripts/generate-json-schema.ts"
import { at, built, fleet, service } from "./fleet.ts"
import * as OldReader from "./oldReader.ts"
import { assertValidRollbackFile, isValidRollbackFile } from "../support/JsonSchema.ts"

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
    ["a version 1 file with an ordered scheme (that takes version 2)", withChange((j) => (j.scheme = { pattern: "(?<build>\\d+)", order: "build" })), ['["scheme"]', "Expected string"]],
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

  it("a file from a newer fleet-rollback (schemaVersion 4) says which versions this one reads", () => {
    const error = errorOf(decodeRollbackFile(withChange((j) => (j.schemaVersion = 4))))
    assert.include(error.message, "rollback.json has schemaVersion 4; this fleet-rollback reads versions 1, 2, 3")
    assert.include(error.message, "fleet-rollback get")
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

  it("is a draft 2020-12 document with an id and a title: version 1, 2 or 3, each requiring its fields", () => {
    const schema = JSON.parse(rollbackJsonSchemaText())
    assert.strictEqual(schema.$schema, "https://json-schema.org/draft/2020-12/schema")
    assert.strictEqual(schema.$id, "urn:fleet-rollback:rollback.json")
    assert.strictEqual(schema.title, "fleet-rollback rollback.json")
    const [v1, v2, v3] = schema.anyOf
    assert.strictEqual(schema.anyOf.length, 3)
    assert.deepStrictEqual(v3.required, ["schemaVersion", "generatedAt", "environment", "registry", "services", "images", "points", "history"])
    assert.deepStrictEqual(v3.properties.schemaVersion.enum, [3])
    assert.deepStrictEqual(v1.required, ["schemaVersion", "generatedAt", "environment", "registry", "services", "images", "points"])
    assert.deepStrictEqual(v1.properties.schemaVersion.enum, [1])
    assert.deepStrictEqual(v1.properties.scheme, { type: "string" })
    assert.deepStrictEqual(v2.required, ["schemaVersion", "generatedAt", "environment", "registry", "scheme", "services", "images", "points"])
    assert.deepStrictEqual(v2.properties.schemaVersion.enum, [2])
    assert.deepStrictEqual(v2.properties.scheme.properties.order.enum, ["build", "timestamp", "semver"])
    assert.match(file.generatedAt, new RegExp(v1.properties.generatedAt.pattern, "u"))
  })
})

const customScheme = (spec: Parameters<typeof resolveTagScheme>[0]) => {
  const resolved = resolveTagScheme(spec)
  if ("_tag" in resolved) throw new Error(resolved.message)
  return resolved
}
/** `get`'s file for one service's tags under a scheme, with `notRead` in its summary. */
const fileUnder = (scheme: ReturnType<typeof customScheme>, schemeName: RollbackFileHeaderScheme, tags: ReadonlyArray<readonly [string, string]>) => {
  const merged = mergeTimeline({ services: [service("api")], scheme, images: { api: tags.map(([tag, created]) => built("shop/api", tag, created)) } })
  const ignored = { api: { ...merged.ignored.api!, notRead: [{ tag: "arm-only", reason: "no-platform", detail: "only linux/arm64" }] } }
  return toRollbackFile(merged.timeline, { ...header, scheme: schemeName }, ignored)
}
type RollbackFileHeaderScheme = Parameters<typeof toRollbackFile>[1]["scheme"]
const roundTrip = (written: RollbackFile) => JSON.parse(JSON.stringify(written)) as unknown

describe("schema versions: a new order is a new version, the default stays version 1", () => {
  const stamped = fileUnder(TAG_SCHEME_PRESETS["env-timestamp-sha"]!, "env-timestamp-sha", [
    ["production-20261101120000-7995c5bb", "2026-11-01T12:05:00Z"],
    ["production-20261102120000-26a4b87f", "2026-11-02T12:05:00Z"]
  ])

  it("every preset writes version 1 with the scheme as its name, as files always were", () => {
    for (const name of TAG_SCHEME_NAMES) {
      const written = fileUnder(TAG_SCHEME_PRESETS[name]!, name, [])
      assert.strictEqual(written.schemaVersion, 1, name)
      assert.strictEqual(written.scheme, name)
    }
  })

  it("a custom pattern of order created (the default) writes version 1 with the pattern as a string", () => {
    const pattern = "(?<build>\\d+)-(?<env>[a-z]+)"
    const written = fileUnder(customScheme({ pattern, order: "created" }), { pattern, order: "created" }, [["1-master", "2026-11-01T00:00:00Z"]])
    assert.strictEqual(written.schemaVersion, 1)
    assert.strictEqual(written.scheme, pattern)
  })

  it("a fleet-rollback from before orders (9f1ba64) reads a version 1 file of today, timestamp and notRead included", () => {
    assert.strictEqual(stamped.schemaVersion, 1)
    assert.deepStrictEqual(stamped.images.api?.map((i) => i.timestamp), ["2026-11-02T12:00:00.000Z", "2026-11-01T12:00:00.000Z"])
    assert.deepStrictEqual(stamped.ignored?.api?.notRead, [{ tag: "arm-only", reason: "no-platform", detail: "only linux/arm64" }])
    const old = OldReader.decodeRollbackFile(roundTrip(stamped))
    if (Result.isFailure(old)) throw new Error(old.failure.message)
    // it ignores the keys it does not know (Effect Schema drops excess keys) and reads the rest
    assert.deepStrictEqual(old.success.images.api?.map((i) => [i.tag, i.created, i.dateSource]), [
      ["production-20261102120000-26a4b87f", "2026-11-02T12:05:00.000Z", "config"],
      ["production-20261101120000-7995c5bb", "2026-11-01T12:05:00.000Z", "config"]
    ])
    assert.notProperty(old.success.images.api?.[0], "timestamp")
    assert.notProperty(old.success.ignored?.api, "notRead")
    assert.deepStrictEqual(old.success.points.map((p) => p.id), stamped.points.map((p) => p.id))
  })

  const semverPattern = "v(?<version>\\d+\\.\\d+\\.\\d+)"
  // 2.0.0 on 1 November, the 1.2.4 backport on the 5th: by semver the target stays 2.0.0
  const ordered = fileUnder(customScheme({ pattern: semverPattern, order: "semver" }), semverPattern, [
    ["v2.0.0", "2026-11-01T00:00:00Z"],
    ["v1.2.4", "2026-11-05T00:00:00Z"]
  ])

  it("a scheme of another order writes version 2, with the order in scheme", () => {
    assert.strictEqual(ordered.schemaVersion, 2)
    assert.deepStrictEqual(ordered.scheme, { pattern: semverPattern, order: "semver" })
    const decoded = decodeRollbackFile(roundTrip(ordered))
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    const back = timelineOfRollbackFile(decoded.success)
    assert.strictEqual(back.order, "semver")
    const target = selectAsOf(back, at("2026-11-06T00:00:00Z")).services[0]!
    assert.strictEqual(target._tag === "Selected" ? target.image.tag : target._tag, "v2.0.0")
  })

  it("a version 2 file of order timestamp keeps the timestamp format given", () => {
    const pattern = "(?<env>[a-z]+)-(?<timestamp>\\d{12})"
    const spec = { pattern, order: "timestamp", timestampFormat: "YYYYMMDDHHmm" } as const
    const written = fileUnder(customScheme(spec), spec, [["prod-202611011200", "2026-11-03T00:00:00Z"]])
    assert.strictEqual(written.schemaVersion, 2)
    assert.deepStrictEqual(written.scheme, spec)
  })

  it("a fleet-rollback from before orders refuses a version 2 file, saying which version it reads, instead of choosing other targets", () => {
    const old = OldReader.decodeRollbackFile(roundTrip(ordered))
    if (Result.isSuccess(old)) throw new Error("the old reader must refuse a version 2 file")
    assert.include(old.failure.message, "rollback.json has schemaVersion 2; this fleet-rollback reads version 1")
    assert.notInclude(old.failure.message, "Expected string")
  })

  it("version 2 needs the ordered scheme: a name, a missing scheme or order created is refused, naming the field", () => {
    const v2 = (change: (json: any) => void) => {
      const json = roundTrip(ordered) as any
      change(json)
      return json
    }
    for (const [what, json, mentions] of [
      ["a name", v2((j) => (j.scheme = "semver")), "Expected object"],
      ["no scheme", v2((j) => delete j.scheme), "Missing key"],
      ["order created (that is version 1)", v2((j) => (j.scheme.order = "created")), 'Expected "build" | "timestamp" | "semver"'],
      ["an unknown order", v2((j) => (j.scheme.order = "newest")), 'Expected "build" | "timestamp" | "semver"']
    ] as const) {
      const error = errorOf(decodeRollbackFile(json))
      assert.include(error.message, "is not a valid rollback.json (schema version 2)", what)
      assert.include(error.message, '["scheme"]', what)
      assert.include(error.message, mentions, what)
    }
  })
})

describe("hostile rollback.json: refused at load, naming the field", () => {
  const field: ReadonlyArray<readonly [string, unknown, ReadonlyArray<string>]> = [
    ["a tag with a space and a newline", withChange((j) => (j.images.web[0].tag = "bad tag\n")), ['["images"]["web"][0]["tag"]', "expected a tag"]],
    ["a tag starting with a dash (an option to a shell)", withChange((j) => (j.images.web[0].tag = "-rf")), ['["images"]["web"][0]["tag"]']],
    ["a digest that is not sha256", withChange((j) => (j.images.web[0].digest = "md5:abc")), ['["images"]["web"][0]["digest"]', "sha256:<64 hex digits>"]],
    ["a registry URL with credentials", withChange((j) => (j.registry = "https://user:pass@registry.example.com")), ['["registry"]', "without credentials"]],
    ["a registry URL with a newline", withChange((j) => (j.registry = "https://registry.example.com\nevil")), ['["registry"]']],
    ["a registry that is no URL", withChange((j) => (j.registry = "registry.example.com")), ['["registry"]']],
    ["a repository in upper case", withChange((j) => (j.services[0].repository = "Shop/API")), ['["services"][0]["repository"]']],
    ["a change's tag with an escape sequence", withChange((j) => (j.points[0].changes[0].tag = "\u001b[31mred")), ['["points"][0]["changes"][0]["tag"]']],
    ["a label with a newline (two Jenkins choices)", withChange((j) => (j.points[0].label = "2026-11-10 00:00\n2026-11-01 00:00")), ['["points"][0]["label"]', "no control characters"]],
    ["a label with an escape sequence", withChange((j) => (j.points[1].label = "\u001b]0;owned\u0007")), ['["points"][1]["label"]']],
    ["an empty label", withChange((j) => (j.points[1].label = "")), ['["points"][1]["label"]']],
    ["an app id with a carriage return", withChange((j) => (j.services[0].app = "/shop/api\r")), ['["services"][0]["app"]']]
  ]
  for (const [what, json, mentions] of field) {
    it(what, () => {
      const error = errorOf(decodeRollbackFile(json, "/tmp/rollback.json"))
      assert.include(error.message, "/tmp/rollback.json is not a valid rollback.json")
      for (const text of mentions) assert.include(error.message, text)
    })
  }

  const cross: ReadonlyArray<readonly [string, unknown, string]> = [
    ["two services of one name (plan would count wrong)", withChange((j) => j.services.push({ ...j.services[0] })), 'services[0] and services[2] are both named "api"'],
    ["two services naming one app", withChange((j) => {
      j.services[0].app = "/shop/api"
      j.services[1].app = "/shop/api"
    }), 'two services name the app "/shop/api"'],
    ["two points of one label (the second could never be chosen)", withChange((j) => (j.points[1].label = j.points[0].label)), "points[0] and points[1] have the same label"],
    ["two points of one id", withChange((j) => (j.points[1].id = j.points[0].id)), "points[0] and points[1] have the same id"],
    ["a change naming no listed service", withChange((j) => (j.points[0].changes[0].service = "ghost")), 'points[0].changes[0].service "ghost" is no service'],
    ["a change naming a tag the service has no image of", withChange((j) => (j.points[0].changes[0].tag = "99-master")), 'points[0].changes[0].tag "99-master" is no image of api'],
    ["one tag twice among a service's images", withChange((j) => j.images.web.push({ ...j.images.web[0] })), 'images.web[0] and images.web[1] are both tag "7-master"']
  ]
  for (const [what, json, mention] of cross) {
    it(what, () => {
      const error = errorOf(decodeRollbackFile(json, "/tmp/rollback.json"))
      assert.include(error.message, `/tmp/rollback.json: ${mention}`)
      assert.include(error.message, "fleet-rollback get")
    })
  }

  it("what get writes passes every check (and the JSON Schema in docs/, by Ajv)", () => {
    assert.isTrue(Result.isSuccess(decodeRollbackFile(JSON.parse(JSON.stringify(file)))))
    assertValidRollbackFile(JSON.parse(JSON.stringify(file)))
  })

  it("the JSON Schema in docs/ refuses the same hostile fields (Ajv 2020)", () => {
    for (const [what, json] of field) assert.isFalse(isValidRollbackFile(json), what)
  })
})
