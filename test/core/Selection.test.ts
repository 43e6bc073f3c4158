/**
 * @module test/core/Selection — the heart of the tool, as incidents: the seed's "special case",
 * services that did not change for weeks, two builds in one day, bad tags, unknown dates, and
 * services that cannot be resolved.
 */
import { assert, describe, it } from "@effect/vitest"
import type { FleetSelection, TagScheme } from "../../lib/core/index.ts"
import { classifyTag, mergeTimeline, parsePoint, resolveTagScheme, selectAsOf, TAG_SCHEME_PRESETS } from "../../lib/core/index.ts"
import { at, buildBranch, built, fleet, service } from "./fleet.ts"

/** service → selected tag, or `unresolved`. */
const chosen = (selection: FleetSelection): Record<string, string> =>
  Object.fromEntries(selection.services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : "unresolved"]))

const resolved = (spec: Parameters<typeof resolveTagScheme>[0]): TagScheme => {
  const scheme = resolveTagScheme(spec)
  if ("_tag" in scheme) throw new Error(scheme.message)
  return scheme
}

const pointAt = (text: string, points: Parameters<typeof parsePoint>[1], timeZone?: string): number => {
  const point = parsePoint(text, points, timeZone)
  if ("_tag" in point) throw new Error(point.message)
  return point.instant
}

describe("the seed's special case: a service with no image on the chosen date", () => {
  // Today-2: repo1, repo2, repo3 released. Today-1: repo1 and repo3 only. Today: all three.
  const { timeline } = fleet(
    {
      repo1: [["10-master", "2026-11-19T09:00:00Z"], ["11-master", "2026-11-20T09:00:00Z"], ["12-master", "2026-11-21T09:00:00Z"]],
      repo2: [["20-master", "2026-11-19T09:30:00Z"], ["21-master", "2026-11-21T09:30:00Z"]],
      repo3: [["30-master", "2026-11-19T10:00:00Z"], ["31-master", "2026-11-20T10:00:00Z"], ["32-master", "2026-11-21T10:00:00Z"]]
    },
    { granularity: "day" }
  )

  it("choosing Today-1 rolls repo2 back to its Today-2 build too, so the set stays compatible", () => {
    const selection = selectAsOf(timeline, pointAt("2026-11-20", timeline.points))
    assert.deepStrictEqual(chosen(selection), { repo1: "11-master", repo2: "20-master", repo3: "31-master" })
  })

  it("the Today-1 point lists only what changed that day, yet selects the whole fleet", () => {
    const today1 = timeline.points.find((p) => p.id.startsWith("2026-11-20"))!
    assert.deepStrictEqual(today1.changes, [{ service: "repo1", tag: "11-master" }, { service: "repo3", tag: "31-master" }])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, pointAt(today1.label, timeline.points))), {
      repo1: "11-master",
      repo2: "20-master",
      repo3: "31-master"
    })
  })

  it("day points are newest first and labelled with the date and what changed", () => {
    assert.deepStrictEqual(
      timeline.points.map((p) => p.label),
      [
        "2026-11-21 (UTC) - repo1 12-master, repo2 21-master, repo3 32-master",
        "2026-11-20 (UTC) - repo1 11-master, repo3 31-master",
        "2026-11-19 (UTC) - repo1 10-master, repo2 20-master, repo3 30-master"
      ]
    )
    assert.deepStrictEqual(timeline.points.map((p) => p.id), [
      "2026-11-21T23:59:59.999Z",
      "2026-11-20T23:59:59.999Z",
      "2026-11-19T23:59:59.999Z"
    ])
  })
})

describe("a service unchanged for weeks", () => {
  it("still gets the image that ran with the others at the point", () => {
    const { timeline } = fleet({
      api: [["500-master", "2026-10-01T08:00:00Z"], ["501-master", "2026-11-20T08:00:00Z"], ["502-master", "2026-11-21T08:00:00Z"]],
      billing: [["77-master", "2026-09-01T12:00:00Z"], ["78-master", "2026-11-21T08:05:00Z"]],
      web: [["900-master", "2026-10-15T12:00:00Z"]]
    })
    // The release of 21 November broke things: go back to the evening of the 20th.
    const selection = selectAsOf(timeline, at("2026-11-20T20:00:00Z"))
    assert.deepStrictEqual(chosen(selection), { api: "501-master", billing: "77-master", web: "900-master" })
  })
})

describe("two builds of one service on the same day", () => {
  const images = {
    api: [["41-master", "2026-11-20T09:00:00Z"], ["42-master", "2026-11-20T17:00:00Z"], ["43-master", "2026-11-21T09:00:00Z"]],
    web: [["7-master", "2026-11-20T12:00:00Z"]]
  } as const

  it("the day's point shows the later build, and selecting it picks the later build", () => {
    const { timeline } = fleet(images, { granularity: "day" })
    const day = timeline.points.find((p) => p.id.startsWith("2026-11-20"))!
    assert.deepStrictEqual(day.changes, [{ service: "api", tag: "42-master" }, { service: "web", tag: "7-master" }])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, pointAt(day.label, timeline.points))), { api: "42-master", web: "7-master" })
  })

  it("with instant points each build is its own point, and the morning point picks the morning build", () => {
    const { timeline } = fleet(images)
    assert.deepStrictEqual(timeline.points.map((p) => p.id), [
      "2026-11-21T09:00:00.000Z",
      "2026-11-20T17:00:00.000Z",
      "2026-11-20T12:00:00.000Z",
      "2026-11-20T09:00:00.000Z"
    ])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"))), { api: "41-master", web: "unresolved" })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T12:00:00Z"))), { api: "41-master", web: "7-master" })
  })

  it("two builds with the same build time: the higher build number wins", () => {
    const { timeline } = fleet({ api: [["100-master", "2026-11-20T09:00:00Z"], ["99-master", "2026-11-20T09:00:00Z"]] })
    assert.strictEqual(timeline.points.length, 1)
    assert.deepStrictEqual(timeline.points[0]!.changes, [{ service: "api", tag: "100-master" }])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"))), { api: "100-master" })
  })

  it("the same build time and the same build number (one build tagged twice): the greater tag name wins, whatever the registry's order", () => {
    const tags = [["12-master", "2026-11-20T09:00:00Z"], ["12-hotfix", "2026-11-20T09:00:00Z"], ["12-main", "2026-11-20T09:00:00Z"]] as const
    for (const listed of [tags, [...tags].reverse(), [tags[1], tags[0], tags[2]]]) {
      const { timeline } = fleet({ api: listed })
      assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["12-hotfix", "12-main", "12-master"])
      assert.deepStrictEqual(timeline.points.map((p) => p.changes), [[{ service: "api", tag: "12-master" }]])
      assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"))), { api: "12-master" })
      // marked bad, the next tag by name takes its place
      assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"), { badTags: ["12-master"] })), { api: "12-main" })
    }
  })

  it("the same build time, no build numbers (semver): the greater version wins, then the tag name", () => {
    const api = service("api")
    const { timeline } = mergeTimeline({
      services: [api],
      scheme: TAG_SCHEME_PRESETS["semver"]!,
      images: { api: ["1.2.3", "v1.2.3", "1.10.0", "1.9.0"].map((tag) => built(api.repository, tag, "2026-11-20T09:00:00Z")) }
    })
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["1.2.3", "v1.2.3", "1.9.0", "1.10.0"])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"))), { api: "1.10.0" })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T09:00:00Z"), { badTags: ["1.10.0", "1.9.0"] })), { api: "v1.2.3" })
  })
})

describe("dates", () => {
  it("a 1970 config date with a real annotation is placed by the annotation", () => {
    const api = service("api")
    const { timeline } = mergeTimeline({
      services: [api],
      scheme: buildBranch,
      images: {
        api: [
          built(api.repository, "1-master", undefined, { dates: { config: "2026-11-01T00:00:00Z" } }),
          built(api.repository, "2-master", undefined, { dates: { config: "1970-01-01T00:00:00Z", annotation: "2026-11-10T00:00:00Z" } })
        ]
      }
    })
    assert.deepStrictEqual(timeline.images.api?.map((i) => [i.tag, i.dateSource]), [["1-master", "config"], ["2-master", "annotation"]])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-15T00:00:00Z"))), { api: "2-master" })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-05T00:00:00Z"))), { api: "1-master" })
  })

  it("an image dated 1970 everywhere has an unknown date: excluded and reported in `ignored`, never selected", () => {
    const api = service("api")
    const { timeline, ignored } = mergeTimeline({
      services: [api],
      scheme: buildBranch,
      images: {
        api: [
          built(api.repository, "1-master", "2026-11-01T00:00:00Z"),
          built(api.repository, "2-master", undefined, { dates: { config: "1970-01-01T00:00:00Z", annotation: "1970-01-01T00:00:00Z" } })
        ]
      }
    })
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["1-master"])
    assert.deepStrictEqual(ignored.api?.unknownDate, ["2-master"])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2030-01-01T00:00:00Z"))), { api: "1-master" })
    assert.isFalse(timeline.points.some((p) => p.changes.some((c) => c.tag === "2-master")))
  })

  it("the env-timestamp-sha tag timestamp dates images whose config says 1970", () => {
    const api = service("api")
    const tag = "production-20210929025643-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89"
    const { timeline } = mergeTimeline({
      services: [api],
      scheme: TAG_SCHEME_PRESETS["env-timestamp-sha"]!,
      images: { api: [built(api.repository, tag, "1970-01-01T00:00:00Z")] }
    })
    const image = timeline.images.api![0]!
    assert.strictEqual(image.dateSource, "tag")
    assert.strictEqual(image.time, Date.UTC(2021, 8, 29, 2, 56, 43))
    assert.strictEqual(image.revision, "7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89")
  })
})

describe("tags marked bad", () => {
  const images = {
    api: [["1-master", "2026-11-19T09:00:00Z"], ["2-master", "2026-11-20T09:00:00Z"], ["3-master", "2026-11-21T09:00:00Z"]],
    web: [["2-master", "2026-11-20T10:00:00Z"], ["5-master", "2026-11-21T10:00:00Z"]]
  } as const

  it("a tag found bad after `get` is skipped: the service gets its previous image", () => {
    const { timeline } = fleet(images)
    const selection = selectAsOf(timeline, at("2026-11-22T00:00:00Z"), { badTags: ["api:3-master"] })
    assert.deepStrictEqual(chosen(selection), { api: "2-master", web: "5-master" })
  })

  it("a bare tag is bad in every service; `service:tag` only in that service", () => {
    const { timeline } = fleet(images)
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T12:00:00Z"), { badTags: ["2-master"] })), { api: "1-master", web: "unresolved" })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-20T12:00:00Z"), { badTags: ["web:2-master"] })), { api: "2-master", web: "unresolved" })
  })

  it("tags marked bad at `get` never reach the timeline and are counted", () => {
    const { timeline, ignored } = fleet(images, { badTags: ["api:3-master"] })
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["1-master", "2-master"])
    assert.strictEqual(ignored.api?.markedBad, 1)
    assert.strictEqual(ignored.web?.markedBad, 0)
  })
})

describe("unresolved services say why", () => {
  it("a service whose first image is after the point", () => {
    const { timeline } = fleet({
      api: [["1-master", "2026-11-01T00:00:00Z"]],
      search: [["1-master", "2026-11-10T00:00:00Z"]]
    })
    const selection = selectAsOf(timeline, at("2026-11-05T00:00:00Z"))
    const search = selection.services.find((s) => s.service.name === "search")!
    assert.strictEqual(search._tag, "Unresolved")
    if (search._tag === "Unresolved") {
      assert.include(search.reason, "no image of search at or before 2026-11-05T00:00:00.000Z")
      assert.include(search.reason, "its oldest known image is 1-master from 2026-11-10T00:00:00.000Z")
    }
  })

  it("a service with no usable image at all (only `latest`)", () => {
    const api = service("api")
    const { timeline, ignored } = mergeTimeline({
      services: [api],
      scheme: buildBranch,
      images: { api: [built(api.repository, "latest", "2026-11-01T00:00:00Z")] }
    })
    assert.strictEqual(ignored.api?.noSchemeMatch, 1)
    const only = selectAsOf(timeline, at("2026-11-05T00:00:00Z")).services[0]!
    assert.strictEqual(only._tag, "Unresolved")
    if (only._tag === "Unresolved") assert.include(only.reason, "no usable image of api in shop/api")
  })

  it("a service the registry returned nothing for is unresolved, not forgotten", () => {
    const { timeline } = mergeTimeline({ services: [service("api"), service("ghost")], scheme: buildBranch, images: { api: [] } })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-05T00:00:00Z"))), { api: "unresolved", ghost: "unresolved" })
  })

  it("the selection lists every service in the fleet's order", () => {
    const { timeline } = fleet({ zeta: [["1-master", "2026-11-01T00:00:00Z"]], alpha: [["1-master", "2026-11-02T00:00:00Z"]] })
    assert.deepStrictEqual(selectAsOf(timeline, at("2026-12-01T00:00:00Z")).services.map((s) => s.service.name), ["zeta", "alpha"])
  })
})

describe("an instant that is not one", () => {
  it("NaN selects nothing and says why, instead of throwing", () => {
    const { timeline } = fleet({ api: [["1-master", "2026-11-01T00:00:00Z"]], web: [] })
    const selection = selectAsOf(timeline, Number.NaN)
    assert.deepStrictEqual(selection.services.map((s) => s._tag), ["Unresolved", "Unresolved"])
    for (const s of selection.services) if (s._tag === "Unresolved") assert.include(s.reason, "the point is not an instant (got NaN)")
  })
  it("beyond what a Date holds: -Infinity resolves nothing, +Infinity takes the newest; reasons never throw", () => {
    const { timeline } = fleet({ api: [["1-master", "2026-11-01T00:00:00Z"], ["2-master", "2026-11-02T00:00:00Z"]] })
    const early = selectAsOf(timeline, Number.NEGATIVE_INFINITY).services[0]!
    assert.strictEqual(early._tag, "Unresolved")
    if (early._tag === "Unresolved") assert.include(early.reason, "at or before -Infinity")
    assert.deepStrictEqual(chosen(selectAsOf(timeline, Number.POSITIVE_INFINITY)), { api: "2-master" })
    assert.deepStrictEqual(chosen(selectAsOf(timeline, 1e300)), { api: "2-master" })
  })
})

describe("since", () => {
  it("older images make no points but are still selected for services that did not change", () => {
    const { timeline } = fleet(
      { api: [["1-master", "2026-01-01T00:00:00Z"], ["2-master", "2026-11-20T00:00:00Z"]], web: [["9-master", "2026-02-01T00:00:00Z"]] },
      { since: at("2026-11-01T00:00:00Z") }
    )
    assert.deepStrictEqual(timeline.points.map((p) => p.changes), [[{ service: "api", tag: "2-master" }]])
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-10T00:00:00Z"))), { api: "1-master", web: "9-master" })
  })
})

describe("environments", () => {
  const schemesWithoutEnv: ReadonlyArray<readonly [name: string, scheme: TagScheme, tags: ReadonlyArray<string>]> = [
    ["semver", TAG_SCHEME_PRESETS["semver"]!, ["v1.2.0", "v1.3.0-rc.1"]],
    ["git-sha", TAG_SCHEME_PRESETS["git-sha"]!, ["git-abc1234", "git-def5678"]],
    ["custom", resolved({ pattern: "r(?<build>\\d+)" }), ["r41", "r42"]]
  ]
  for (const [name, scheme, tags] of schemesWithoutEnv) {
    it(`a ${name} scheme has no environment part: environment "master" filters nothing, and the result says so`, () => {
      const api = service("api")
      const merged = mergeTimeline({
        services: [api],
        scheme,
        environment: "master",
        images: { api: tags.map((tag, i) => built(api.repository, tag, `2026-11-0${i + 1}T00:00:00Z`)) }
      })
      assert.deepStrictEqual(merged.timeline.images.api?.map((i) => i.tag), tags)
      assert.strictEqual(merged.ignored.api?.otherEnvironment, 0)
      assert.include(merged.environmentNote, `the ${scheme.name} tag scheme has no environment part, so tags are not filtered by "master"`)
      assert.deepStrictEqual(chosen(selectAsOf(merged.timeline, at("2026-11-05T00:00:00Z"))), { api: tags[1]! })
      // the registry adapter's filter (classifyTag) agrees: the tags are read
      for (const tag of tags) assert.strictEqual(classifyTag(scheme, tag, "master")._tag, "Parsed", tag)
    })
  }

  it("a scheme with an environment part filters by it, and there is nothing to note", () => {
    const merged = fleet({ api: [["1-master", "2026-11-01T00:00:00Z"], ["2-develop", "2026-11-02T00:00:00Z"]] }, { environment: "master" })
    assert.deepStrictEqual(merged.timeline.images.api?.map((i) => i.tag), ["1-master"])
    assert.isUndefined(merged.environmentNote)
    assert.isUndefined(fleet({ api: [["1-master", "2026-11-01T00:00:00Z"]] }).environmentNote, "no environment asked for")
    assert.strictEqual(classifyTag(buildBranch, "2-develop", "master")._tag, "Ignored")
  })

  it("--env master keeps master builds only; develop builds never get selected", () => {
    const { timeline, ignored } = fleet(
      { api: [["1-master", "2026-11-01T00:00:00Z"], ["2-develop", "2026-11-02T00:00:00Z"], ["3-master", "2026-11-03T00:00:00Z"]] },
      { environment: "master" }
    )
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["1-master", "3-master"])
    assert.strictEqual(ignored.api?.otherEnvironment, 1)
    assert.deepStrictEqual(chosen(selectAsOf(timeline, at("2026-11-02T12:00:00Z"))), { api: "1-master" })
  })
})
