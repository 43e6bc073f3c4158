/**
 * @module test/core/TagScheme — every preset against the tags of the seeds, custom schemes, tags
 * that are ignored, numeric build order (the seed's `99-master` bug) and semver precedence.
 */
import { assert, describe, it } from "@effect/vitest"
import type { IgnoredReason, ParsedTag, TagScheme, TagSchemeProblem } from "../../lib/core/index.ts"
import {
  classifyTag,
  compareSemver,
  mergeTimeline,
  parseTag,
  parseTagTimestamp,
  resolveTagScheme,
  selectAsOf,
  TAG_SCHEME_NAMES,
  TAG_SCHEME_PRESETS
} from "../../lib/core/index.ts"
import { built, service } from "./fleet.ts"

const preset = (name: string): TagScheme => {
  const scheme = TAG_SCHEME_PRESETS[name]
  if (scheme === undefined) throw new Error(`no preset ${name}`)
  return scheme
}

const scheme = (spec: Parameters<typeof resolveTagScheme>[0]): TagScheme => {
  const resolved = resolveTagScheme(spec)
  if ("_tag" in resolved) throw new Error(resolved.message)
  return resolved
}

const problemOf = (spec: Parameters<typeof resolveTagScheme>[0]): string => {
  const resolved = resolveTagScheme(spec)
  if (!("_tag" in resolved)) throw new Error(`expected a TagSchemeProblem for ${JSON.stringify(spec)}`)
  assert.strictEqual((resolved as TagSchemeProblem)._tag, "TagSchemeProblem")
  return resolved.message
}

describe("tag scheme presets parse the tags of the seeds", () => {
  const table: ReadonlyArray<readonly [scheme: string, tag: string, parsed: ParsedTag | undefined]> = [
    // seed 004: <host:port>/service-name:build-number-branch
    ["build-branch", "1234-master", { build: 1234, env: "master" }],
    ["build-branch", "99-master", { build: 99, env: "master" }],
    ["build-branch", "100-develop", { build: 100, env: "develop" }],
    ["build-branch", "7-release.1_x", { build: 7, env: "release.1_x" }],
    ["build-branch", "master-1234", undefined],
    ["build-branch", "latest", undefined],
    ["build-branch", "1234", undefined],
    ["build-branch", "99999999999999999999-master", undefined],
    // seed 000: production-<UTC timestamp>-<sha> on Docker Hub
    [
      "env-timestamp-sha",
      "production-20210929025643-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89",
      { env: "production", timestamp: Date.UTC(2021, 8, 29, 2, 56, 43), sha: "7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89" }
    ],
    ["env-timestamp-sha", "staging-eu-20210101000000-abcdef1", { env: "staging-eu", timestamp: Date.UTC(2021, 0, 1), sha: "abcdef1" }],
    ["env-timestamp-sha", "production-20210231025643-7995c5b", undefined], // 31 February
    ["env-timestamp-sha", "production-20211329025643-7995c5b", undefined], // month 13
    ["env-timestamp-sha", "production-20210929245643-7995c5b", undefined], // hour 24
    ["env-timestamp-sha", "production-2021092902564-7995c5b", undefined], // 13 digits
    ["env-timestamp-sha", "production", undefined],
    // seed 001: kustomize newTag master-26a4b87
    ["branch-sha", "master-26a4b87", { env: "master", sha: "26a4b87" }],
    ["branch-sha", "feature-x-26a4b87", { env: "feature-x", sha: "26a4b87" }],
    ["branch-sha", "master-26a4b8", undefined], // six hex digits is not a sha
    ["branch-sha", "master-26A4B87", undefined],
    ["branch-sha", "main", undefined],
    // seed 002: Pulumi image-tag git-<sha>
    ["git-sha", "git-abc1234", { sha: "abc1234" }],
    ["git-sha", "git-0123456789abcdef0123456789abcdef01234567", { sha: "0123456789abcdef0123456789abcdef01234567" }],
    ["git-sha", "git-xyz1234", undefined],
    ["git-sha", "abc1234", undefined],
    // semver
    ["semver", "v1.2.3", { version: "1.2.3" }],
    ["semver", "1.2.3", { version: "1.2.3" }],
    ["semver", "1.2.3-rc.1", { version: "1.2.3-rc.1" }],
    ["semver", "v10.0.0-alpha.beta+build.7", { version: "10.0.0-alpha.beta+build.7" }],
    ["semver", "1.2", undefined],
    ["semver", "01.2.3", undefined],
    ["semver", "v1.2.3.4", undefined],
    ["semver", "latest", undefined]
  ]
  for (const [name, tag, expected] of table) {
    it(`${name}: ${tag} → ${expected === undefined ? "no match" : JSON.stringify(expected)}`, () => {
      assert.deepStrictEqual(parseTag(preset(name), tag), expected)
    })
  }

  it("the preset list names exactly the five presets of the seeds", () => {
    assert.deepStrictEqual([...TAG_SCHEME_NAMES].sort(), ["branch-sha", "build-branch", "env-timestamp-sha", "git-sha", "semver"])
    for (const name of TAG_SCHEME_NAMES) {
      assert.strictEqual(scheme(name), preset(name), `resolveTagScheme("${name}") is the preset`)
    }
  })
})

describe("tags that match no scheme are ignored and counted, never an error", () => {
  const ignoredTable: ReadonlyArray<readonly [tag: string, reason: IgnoredReason]> = [
    ["latest", "no-scheme-match"],
    ["main", "no-scheme-match"],
    ["production", "no-scheme-match"],
    ["master", "no-scheme-match"],
    ["sha256:7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe897995c5bb123bbfc25e3d7f81", "digest-in-tag-list"],
    ["sha256-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe897995c5bb123bbfc25e3d7f81c46f.sig", "digest-in-tag-list"],
    ["1234-develop", "other-environment"]
  ]
  for (const [tag, reason] of ignoredTable) {
    it(`${tag} is ignored as ${reason} by build-branch in master`, () => {
      assert.deepStrictEqual(classifyTag(preset("build-branch"), tag, "master"), { _tag: "Ignored", reason })
    })
  }

  it("without an environment every branch is kept", () => {
    assert.deepStrictEqual(classifyTag(preset("build-branch"), "1234-develop", undefined), {
      _tag: "Parsed",
      parsed: { build: 1234, env: "develop" }
    })
  })

  it("mergeTimeline counts each kind of ignored tag per service and keeps the rest", () => {
    const api = service("api")
    const { timeline, ignored } = mergeTimeline({
      services: [api],
      scheme: preset("build-branch"),
      environment: "master",
      badTags: ["api:3-master"],
      images: {
        api: [
          built(api.repository, "1-master", "2026-01-01T00:00:00Z"),
          built(api.repository, "2-master", "2026-01-02T00:00:00Z"),
          built(api.repository, "3-master", "2026-01-03T00:00:00Z"),
          built(api.repository, "latest", "2026-01-03T00:00:00Z"),
          built(api.repository, "main", "2026-01-03T00:00:00Z"),
          built(api.repository, "production", "2026-01-03T00:00:00Z"),
          built(api.repository, "4-develop", "2026-01-04T00:00:00Z"),
          built(api.repository, `sha256-${"a".repeat(64)}.sig`, "2026-01-04T00:00:00Z"),
          built(api.repository, "5-master", undefined)
        ]
      }
    })
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["1-master", "2-master"])
    assert.deepStrictEqual(ignored.api, {
      noSchemeMatch: 3,
      otherEnvironment: 1,
      digestInTagList: 1,
      markedBad: 1,
      unknownDate: ["5-master"]
    })
  })
})

describe("build numbers compare as numbers (the seed sorted tags lexically)", () => {
  it("99-master is older than 100-master even though '100' < '99' as text", () => {
    // Same build time (a re-push of both), so only the build number can order them.
    const api = service("api")
    const { timeline } = mergeTimeline({
      services: [api],
      scheme: preset("build-branch"),
      images: {
        api: [
          built(api.repository, "100-master", "2026-03-01T10:00:00Z"),
          built(api.repository, "99-master", "2026-03-01T10:00:00Z"),
          built(api.repository, "1000-master", "2026-03-01T10:00:00Z"),
          built(api.repository, "9-master", "2026-03-01T10:00:00Z")
        ]
      }
    })
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["9-master", "99-master", "100-master", "1000-master"])
    // the seed's lexical order would have put 99-master last (and deployed it); selection takes 1000-master
    assert.strictEqual([...timeline.images.api!.map((i) => i.tag)].sort().at(-1), "99-master")
    const selected = selectAsOf(timeline, Date.UTC(2026, 2, 1, 10)).services[0]!
    assert.strictEqual(selected._tag === "Selected" ? selected.image.tag : "unresolved", "1000-master")
  })
})

describe("custom schemes", () => {
  it("named groups, timestamp format and order are taken from the spec", () => {
    const custom = scheme({ pattern: "(?<env>[a-z]+)_(?<timestamp>\\d{8})_(?<build>\\d+)", order: "timestamp", timestampFormat: "YYYYMMDD" })
    assert.strictEqual(custom.name, "custom")
    assert.strictEqual(custom.order, "timestamp")
    assert.strictEqual(custom.timestampFormat, "YYYYMMDD")
    assert.deepStrictEqual(parseTag(custom, "prod_20260115_42"), { build: 42, env: "prod", timestamp: Date.UTC(2026, 0, 15) })
    assert.isUndefined(parseTag(custom, "prod_20260115_42_extra"), "the pattern is anchored at both ends")
    assert.isUndefined(parseTag(custom, "prod_20260230_42"), "30 February is not a date")
  })

  const anchors: ReadonlyArray<readonly [pattern: string, tag: string, parsed: ParsedTag | undefined]> = [
    ["^(?<build>\\d+)", "12-anything-else", undefined],
    ["^(?<build>\\d+)", "12", { build: 12 }],
    ["(?<build>\\d+)$", "release-12", undefined],
    ["^(?<build>\\d+)$", "12", { build: 12 }],
    ["^(?<build>\\d+)-(?<env>[a-z]+)", "12-master-hotfix", undefined],
    ["^(?<build>\\d+)-(?<env>[a-z]+)", "12-master", { build: 12, env: "master" }],
    // an alternation matches the whole tag in either branch
    ["^v(?<version>\\d+\\.\\d+\\.\\d+)|(?<build>\\d+)$", "v1.2.3-extra", undefined],
    ["^v(?<version>\\d+\\.\\d+\\.\\d+)|(?<build>\\d+)$", "x12", undefined],
    ["^v(?<version>\\d+\\.\\d+\\.\\d+)|(?<build>\\d+)$", "v1.2.3", { version: "1.2.3" }]
  ]
  for (const [pattern, tag, parsed] of anchors) {
    it(`the pattern ${pattern} matches whole tags only: ${tag} → ${parsed === undefined ? "no match" : JSON.stringify(parsed)}`, () => {
      assert.deepStrictEqual(parseTag(scheme({ pattern }), tag), parsed)
      assert.deepStrictEqual(parseTag(scheme(pattern), tag), parsed, "the same as a --scheme string")
    })
  }

  it("a `branch` group is read as the environment", () => {
    assert.deepStrictEqual(parseTag(scheme("(?<branch>[a-z]+)\\.(?<sha>[0-9a-f]{7})"), "main.abcdef0"), { env: "main", sha: "abcdef0" })
  })

  it("the order is created (the newest image) unless the spec names another; presets keep created", () => {
    for (const pattern of ["(?<timestamp>\\d{14})-(?<build>\\d+)", "(?<timestamp>\\d{14})", "r(?<version>\\d+\\.\\d+\\.\\d+)", "(?<sha>[0-9a-f]{7})"]) {
      assert.strictEqual(scheme(pattern).order, "created", pattern)
      assert.strictEqual(scheme({ pattern }).order, "created", pattern)
    }
    assert.strictEqual(scheme({ pattern: "(?<build>\\d+)", order: "build" }).order, "build")
    for (const name of TAG_SCHEME_NAMES) assert.strictEqual(preset(name).order, "created", name)
  })

  const orderProblems: ReadonlyArray<readonly [order: string, pattern: string, group: string]> = [
    ["build", "(?<env>[a-z]+)-(?<sha>[0-9a-f]{7})", "build"],
    ["semver", "(?<build>\\d+)", "version"],
    ["timestamp", "(?<build>\\d+)", "timestamp"]
  ]
  for (const [order, pattern, group] of orderProblems) {
    it(`order ${order} needs a (?<${group}>…) group: refused with what to add`, () => {
      const message = problemOf({ pattern, order })
      assert.include(message, `the tag order "${order}" compares the (?<${group}>…) group`)
      assert.include(message, 'order "created"')
    })
  }

  it("a pattern may have unnamed groups, alternatives and classes with parentheses", () => {
    const tricky = scheme("(?:rel|release)-(\\d+)-(?<build>\\d+)[()]?-(?<env>prod|stage)")
    assert.deepStrictEqual(parseTag(tricky, "release-7-42(-prod"), { build: 42, env: "prod" })
    assert.deepStrictEqual(parseTag(tricky, "rel-7-43-stage"), { build: 43, env: "stage" })
  })

  it("an optional group that did not take part is absent, not empty", () => {
    const optional = scheme("(?<build>\\d+)(?:-(?<env>[a-z]+))?")
    assert.deepStrictEqual(parseTag(optional, "12"), { build: 12 })
    assert.deepStrictEqual(parseTag(optional, "12-prod"), { build: 12, env: "prod" })
  })

  const timestampTable: ReadonlyArray<readonly [format: string, text: string, expected: number | undefined]> = [
    ["YYYYMMDDHHmmss", "20210929025643", Date.UTC(2021, 8, 29, 2, 56, 43)],
    ["YYYYMMDDHHmm", "202109290256", Date.UTC(2021, 8, 29, 2, 56)],
    ["YYYYMMDD", "20210929", Date.UTC(2021, 8, 29)],
    ["YYYYMMDD", "20240229", Date.UTC(2024, 1, 29)],
    ["YYYYMMDD", "20230229", undefined],
    ["YYYY-MM-DDTHH-mm-ss", "2021-09-29T02-56-43", Date.UTC(2021, 8, 29, 2, 56, 43)],
    ["unix", "1632884203", Date.UTC(2021, 8, 29, 2, 56, 43)],
    ["unix", "16328842030", 16328842030000],
    ["unix", "abc", undefined],
    ["unixms", "1632884203123", 1632884203123],
    ["iso", "2021-09-29T02:56:43Z", Date.UTC(2021, 8, 29, 2, 56, 43)],
    ["iso", "2021-09-29T04:56:43+02:00", Date.UTC(2021, 8, 29, 2, 56, 43)],
    ["iso", "2021-02-30T02:56:43Z", undefined],
    ["iso", "2021-09-29", undefined]
  ]
  for (const [format, text, expected] of timestampTable) {
    it(`timestamp ${format}: ${text} → ${expected === undefined ? "not an instant" : new Date(expected).toISOString()}`, () => {
      assert.strictEqual(parseTagTimestamp(text, format), expected)
    })
  }

  const problems: ReadonlyArray<readonly [spec: Parameters<typeof resolveTagScheme>[0], mentions: ReadonlyArray<string>]> = [
    ["nope", ['unknown tag scheme "nope"', "build-branch", "semver", "named groups"]],
    [{ pattern: "(?<build>\\d+" }, ["not a valid regular expression", "(?<build>\\\\d+"]],
    [{ pattern: "(\\d+)-(\\w+)" }, ["has no named group", "(?<build>…)"]],
    [{ pattern: "(?<number>\\d+)" }, ["unknown group(s) number", "expected build, env, branch, timestamp, sha, version"]],
    [{ pattern: "(?<build>\\d+)", order: "newest" }, ['unknown tag order "newest"', "build, timestamp, semver, created"]],
    [{ pattern: "(?<timestamp>\\d+)", timestampFormat: "DD.MM.YYYY" }, ['unknown timestamp format "DD.MM.YYYY"', "YYYYMMDDHHmmss", "unix"]],
    [{ pattern: "(?<build>\\d+)-(?<build>\\d+)" }, ["not a valid regular expression"]]
  ]
  for (const [spec, mentions] of problems) {
    it(`a bad scheme ${JSON.stringify(spec)} is a TagSchemeProblem saying what is expected`, () => {
      const message = problemOf(spec)
      for (const text of mentions) assert.include(message, text)
    })
  }
})

describe("semantic version precedence (SemVer 2.0.0 §11)", () => {
  // Each version is lower than the next.
  const ascending = [
    "0.9.9",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2.3-rc.1",
    "1.2.3",
    "1.10.0",
    "2.0.0",
    "10.0.0"
  ]
  for (let i = 0; i + 1 < ascending.length; i++) {
    const lower = ascending[i]!
    const higher = ascending[i + 1]!
    it(`${lower} < ${higher}`, () => {
      assert.isBelow(compareSemver(lower, higher), 0)
      assert.isAbove(compareSemver(higher, lower), 0)
    })
  }
  it("build metadata does not count: 1.0.0+a equals 1.0.0+b", () => {
    assert.strictEqual(compareSemver("1.0.0+a", "1.0.0+b"), 0)
    assert.strictEqual(compareSemver("1.0.0", "1.0.0"), 0)
  })
  it("a version from a custom group that is not semver still compares, never NaN", () => {
    for (const [a, b] of [["1.x.0", "1.2.0"], ["abc", "1.0.0"], ["v2.0.0", "v10.0.0"]] as const) {
      const d = compareSemver(a, b)
      assert.isFalse(Number.isNaN(d), `${a} vs ${b}`)
      assert.strictEqual(Math.sign(compareSemver(b, a)), -Math.sign(d), `${a} vs ${b} is antisymmetric`)
    }
    assert.isBelow(compareSemver("v2.0.0", "v10.0.0"), 0)
  })
})
