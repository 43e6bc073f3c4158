/**
 * @module test/core/Schema1AndLast — seed 004 parity in the core: a schema1 image's history date
 * (`schema1-history`) is an effective time after the config's and before the tag's, written to
 * rollback.json and read back, and refused — naming the field — by a fleet-rollback from before
 * it (which reads files without such images as ever); and which tags `--last N` reads: the N
 * newest by build number (99 before 100 as numbers, not text), timestamp or version, or, for a
 * scheme whose tags carry none, the N newest by date after dating.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import {
  decodeRollbackFile,
  DATE_SOURCES,
  effectiveTime,
  keepNewestDated,
  lastRankOf,
  mergeTimeline,
  newestTagsFirst,
  parseTag,
  resolveTagScheme,
  TAG_SCHEME_PRESETS,
  toRollbackFile
} from "../../lib/core/index.ts"
import type { TagScheme } from "../../lib/core/index.ts"
import { at, built, buildBranch, service } from "./fleet.ts"
import * as OldReader from "./oldReader.ts"

const scheme = (spec: string | { pattern: string; order?: string }): TagScheme => {
  const resolved = resolveTagScheme(spec)
  if ("_tag" in resolved) throw new Error(resolved.message)
  return resolved
}

describe("schema1-history dates", () => {
  it("rank after annotation and config, before the tag's own timestamp and the push time", () => {
    assert.deepStrictEqual(DATE_SOURCES, ["annotation", "config", "schema1-history", "tag", "push", "imported"])
    assert.deepStrictEqual(effectiveTime({ schema1: "2016-05-01T10:00:00Z", push: "2020-01-01T00:00:00Z" }, at("2019-01-01T00:00:00Z")), {
      time: at("2016-05-01T10:00:00Z"),
      source: "schema1-history"
    })
    assert.deepStrictEqual(effectiveTime({ config: "2016-05-02T00:00:00Z", schema1: "2016-05-01T10:00:00Z" }), { time: at("2016-05-02T00:00:00Z"), source: "config" })
    // a 1970 placeholder is unknown, as from any source
    assert.isUndefined(effectiveTime({ schema1: "1970-01-01T00:00:00Z" }))
  })

  const merged = mergeTimeline({
    scheme: buildBranch,
    services: [service("old"), service("web")],
    images: {
      old: [
        built("old", "1-master", undefined, { dates: { schema1: "2016-05-01T10:00:00Z" } }),
        built("old", "2-master", "2017-01-10T08:00:00Z")
      ],
      web: [built("web", "7-master", "2016-06-01T00:00:00Z")]
    }
  })
  const header = { generatedAt: "2026-11-21T14:03:27.000Z", environment: "prod", registry: "https://registry.example.com", scheme: "build-branch" }
  const written = JSON.parse(JSON.stringify(toRollbackFile(merged.timeline, header, merged.ignored))) as unknown

  it("are written as dateSource schema1-history and read back by this version", () => {
    const decoded = decodeRollbackFile(written)
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    assert.deepStrictEqual(decoded.success.images["old"]!.map((i) => [i.tag, i.created, i.dateSource]), [
      ["2-master", "2017-01-10T08:00:00.000Z", "config"],
      ["1-master", "2016-05-01T10:00:00.000Z", "schema1-history"]
    ])
    assert.deepStrictEqual(decoded.success.points.map((p) => p.id), ["2017-01-10T08:00:00.000Z", "2016-06-01T00:00:00.000Z", "2016-05-01T10:00:00.000Z"])
  })

  it("make a fleet-rollback from before them refuse the file, naming the image's dateSource; a file without them it reads as ever", () => {
    const old = OldReader.decodeRollbackFile(written)
    assert.isTrue(Result.isFailure(old))
    if (Result.isFailure(old)) {
      assert.include(old.failure.message, '["images"]["old"][1]["dateSource"]')
      assert.include(old.failure.message, "fleet-rollback get")
    }
    const without = JSON.parse(JSON.stringify(written)) as { images: Record<string, unknown> }
    without.images = { ...without.images, old: (without.images["old"] as Array<unknown>).slice(0, 1) }
    assert.isTrue(Result.isSuccess(OldReader.decodeRollbackFile(without)))
  })
})

describe("which tags --last N reads", () => {
  it("ranks by the order's part; under created by the build number, else the timestamp; schemes with neither need dates", () => {
    assert.strictEqual(lastRankOf(TAG_SCHEME_PRESETS["build-branch"]!), "build")
    assert.strictEqual(lastRankOf(TAG_SCHEME_PRESETS["env-timestamp-sha"]!), "timestamp")
    assert.isUndefined(lastRankOf(TAG_SCHEME_PRESETS["branch-sha"]!))
    assert.isUndefined(lastRankOf(TAG_SCHEME_PRESETS["git-sha"]!))
    // under created a version is no date: a 1.2.4 backport can be built after 2.0.0
    assert.isUndefined(lastRankOf(TAG_SCHEME_PRESETS["semver"]!))
    assert.strictEqual(lastRankOf(scheme({ pattern: "v(?<version>\\d+\\.\\d+\\.\\d+)", order: "semver" })), "semver")
    assert.strictEqual(lastRankOf(scheme({ pattern: "(?<env>[a-z]+)-(?<timestamp>\\d{14})-(?<build>\\d+)", order: "timestamp" })), "timestamp")
  })

  it("puts 100-master before 99-master (seed 004 sorted them as text), tags the scheme does not parse last", () => {
    const s = TAG_SCHEME_PRESETS["build-branch"]!
    const tags = ["99-master", "100-master", "98-master", "latest", "101-master"]
    assert.deepStrictEqual(newestTagsFirst(s, tags, (t) => parseTag(s, t)), ["101-master", "100-master", "99-master", "98-master", "latest"])
  })

  it("orders versions by SemVer precedence and timestamps as instants", () => {
    const semver = scheme({ pattern: "v(?<version>.+)", order: "semver" })
    assert.deepStrictEqual(newestTagsFirst(semver, ["v1.10.0", "v1.9.0", "v2.0.0-rc.1", "v2.0.0"], (t) => parseTag(semver, t)), ["v2.0.0", "v2.0.0-rc.1", "v1.10.0", "v1.9.0"])
    const stamped = TAG_SCHEME_PRESETS["env-timestamp-sha"]!
    const tags = ["prod-20210929025643-7995c5b", "prod-20211001000000-26a4b87", "prod-20200101000000-abcdef0"]
    assert.deepStrictEqual(newestTagsFirst(stamped, tags, (t) => parseTag(stamped, t)), [tags[1], tags[0], tags[2]])
  })

  it("after dating keeps the N newest by effective time, and the undated ones (still reported as such)", () => {
    const images = [
      built("api", "master-aaaaaaa", "2026-01-01T00:00:00Z"),
      built("api", "master-bbbbbbb", "2026-03-01T00:00:00Z"),
      built("api", "master-ccccccc", undefined),
      built("api", "master-ddddddd", "2026-02-01T00:00:00Z")
    ]
    const kept = keepNewestDated(images, 2, () => undefined)
    assert.deepStrictEqual(kept.kept.map((i) => i.tag), ["master-bbbbbbb", "master-ddddddd", "master-ccccccc"])
    assert.strictEqual(kept.dropped, 1)
  })
})
