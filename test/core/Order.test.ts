/**
 * @module test/core/Order — the custom scheme's `order`, as Flux's ImagePolicy and Kargo order
 * images: an image is available at P when its effective time is ≤ P; the target is the greatest
 * available image by the order. A backport (1.2.4 built after 2.0.0) is listed but never
 * replaces 2.0.0 under `semver`, and makes no point.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { FleetSelection, MergeTimelineInput, RegistryImage, TagScheme, Timeline } from "../../lib/core/index.ts"
import {
  decodeRollbackFile,
  mergeTimeline,
  planRollback,
  resolveTagScheme,
  selectAsOf,
  timelineOfRollbackFile,
  toRollbackFile
} from "../../lib/core/index.ts"
import { at, built, service } from "./fleet.ts"

const scheme = (spec: Parameters<typeof resolveTagScheme>[0]): TagScheme => {
  const resolved = resolveTagScheme(spec)
  if ("_tag" in resolved) throw new Error(resolved.message)
  return resolved
}

const semver = scheme({ pattern: "v(?<version>\\d+\\.\\d+\\.\\d+)", order: "semver" })
const byBuild = scheme({ pattern: "(?<build>\\d+)-(?<env>[a-z]+)", order: "build" })
const byTimestamp = scheme({ pattern: "(?<env>[a-z]+)-(?<timestamp>\\d{12})", order: "timestamp", timestampFormat: "YYYYMMDDHHmm" })

/** Merges `{ service: [[tag, created], …] }` with a scheme. */
const merge = (
  scheme: TagScheme,
  images: Readonly<Record<string, ReadonlyArray<readonly [tag: string, created: string]>>>,
  options: Partial<Omit<MergeTimelineInput, "services" | "images" | "scheme">> = {}
) => {
  const services = Object.keys(images).map((name) => service(name))
  return mergeTimeline({
    ...options,
    scheme,
    services,
    images: Object.fromEntries(services.map((s) => [s.name, (images[s.name] ?? []).map(([tag, created]): RegistryImage => built(s.repository, tag, created))]))
  })
}

/** service → selected tag, or `unresolved`. */
const chosen = (selection: FleetSelection): Record<string, string> =>
  Object.fromEntries(selection.services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : "unresolved"]))
const tagsAt = (timeline: Timeline, instant: string, badTags?: ReadonlyArray<string>) => chosen(selectAsOf(timeline, at(instant), { badTags }))
const changesOf = (timeline: Timeline) => timeline.points.map((p) => [p.id, p.changes.map((c) => `${c.service} ${c.tag}`).join(", ")])

// 2.0.0 on 1 November; the 1.2.4 backport on the 5th; 2.1.0 on the 10th.
const releases = { api: [["v2.0.0", "2026-11-01T00:00:00Z"], ["v1.2.4", "2026-11-05T00:00:00Z"], ["v2.1.0", "2026-11-10T00:00:00Z"]] } as const

describe("order semver", () => {
  const { timeline } = merge(semver, releases)

  it("a backported 1.2.4 built after 2.0.0 does not replace it; 2.1.0 does", () => {
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-03T00:00:00Z"), { api: "v2.0.0" })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-06T00:00:00Z"), { api: "v2.0.0" })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-11T00:00:00Z"), { api: "v2.1.0" })
  })

  it("the backport is listed with the images, but is no point: nothing changes when it is pushed", () => {
    assert.deepStrictEqual(timeline.images.api?.map((i) => i.tag), ["v2.0.0", "v1.2.4", "v2.1.0"])
    assert.deepStrictEqual(changesOf(timeline), [["2026-11-10T00:00:00.000Z", "api v2.1.0"], ["2026-11-01T00:00:00.000Z", "api v2.0.0"]])
  })

  it("with order created (the default) the backport is the newest image, and a point", () => {
    const { timeline: created } = merge(scheme("v(?<version>\\d+\\.\\d+\\.\\d+)"), releases)
    assert.deepStrictEqual(tagsAt(created, "2026-11-06T00:00:00Z"), { api: "v1.2.4" })
    assert.strictEqual(created.points.length, 3)
  })

  it("semver precedence: a release candidate is below its release, 1.10.0 above 1.9.0", () => {
    const { timeline: t } = merge(scheme({ pattern: "v(?<version>\\d+\\.\\d+\\.\\d+(?:-rc\\.\\d+)?)", order: "semver" }), {
      api: [["v1.10.0", "2026-11-01T00:00:00Z"], ["v1.9.0", "2026-11-02T00:00:00Z"], ["v2.0.0", "2026-11-03T00:00:00Z"], ["v2.0.0-rc.1", "2026-11-04T00:00:00Z"]]
    })
    assert.deepStrictEqual(tagsAt(t, "2026-11-02T12:00:00Z"), { api: "v1.10.0" })
    assert.deepStrictEqual(tagsAt(t, "2026-11-05T00:00:00Z"), { api: "v2.0.0" })
  })

  it("a tag marked bad at selection is skipped: the greatest of the others", () => {
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-11T00:00:00Z", ["api:v2.1.0"]), { api: "v2.0.0" })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-11T00:00:00Z", ["v2.1.0", "v2.0.0"]), { api: "v1.2.4" })
  })
})

describe("order build", () => {
  it("a rebuild of an older build number pushed later does not replace the greater build", () => {
    const { timeline } = merge(byBuild, { api: [["10-master", "2026-11-01T00:00:00Z"], ["12-master", "2026-11-02T00:00:00Z"], ["11-master", "2026-11-03T00:00:00Z"], ["13-master", "2026-11-04T00:00:00Z"]] })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-03T12:00:00Z"), { api: "12-master" })
    assert.deepStrictEqual(changesOf(timeline).map(([, c]) => c), ["api 13-master", "api 12-master", "api 10-master"])
  })

  it("build numbers compare as numbers: 100 above 99", () => {
    const { timeline } = merge(byBuild, { api: [["100-master", "2026-11-01T00:00:00Z"], ["99-master", "2026-11-02T00:00:00Z"]] })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-03T00:00:00Z"), { api: "100-master" })
  })

  it("equal build numbers: the later effective time wins, then the greater tag", () => {
    const { timeline } = merge(byBuild, {
      api: [["12-master", "2026-11-01T00:00:00Z"], ["12-hotfix", "2026-11-02T00:00:00Z"]],
      web: [["7-blue", "2026-11-01T00:00:00Z"], ["7-green", "2026-11-01T00:00:00Z"], ["7-amber", "2026-11-01T00:00:00Z"]]
    })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-01T12:00:00Z"), { api: "12-master", web: "7-green" })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-03T00:00:00Z"), { api: "12-hotfix", web: "7-green" })
  })
})

describe("order timestamp", () => {
  it("the tag's own timestamp decides, not when the image was built", () => {
    // prod-202611011200 was re-built (config date) after prod-202611021200
    const { timeline } = merge(byTimestamp, { api: [["prod-202611021200", "2026-11-02T12:00:00Z"], ["prod-202611011200", "2026-11-03T12:00:00Z"]] })
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-04T00:00:00Z"), { api: "prod-202611021200" })
    assert.strictEqual(timeline.points.length, 1)
  })
})

describe("points are where some service's target changes", () => {
  it("a point lists only the services whose target changed; a shadowed image alone makes no point", () => {
    const { timeline } = merge(semver, {
      api: [["v2.0.0", "2026-11-01T00:00:00Z"], ["v1.2.4", "2026-11-05T00:00:00Z"], ["v2.1.0", "2026-11-07T00:00:00Z"]],
      web: [["v1.0.0", "2026-11-02T00:00:00Z"], ["v1.1.0", "2026-11-07T00:00:00Z"], ["v0.9.9", "2026-11-08T00:00:00Z"]]
    })
    assert.deepStrictEqual(changesOf(timeline), [
      ["2026-11-07T00:00:00.000Z", "api v2.1.0, web v1.1.0"],
      ["2026-11-02T00:00:00.000Z", "web v1.0.0"],
      ["2026-11-01T00:00:00.000Z", "api v2.0.0"]
    ])
  })

  it("day points show each service's target at the end of the day, and skip days without a change", () => {
    const { timeline } = merge(
      semver,
      { api: [["v2.0.0", "2026-11-01T09:00:00Z"], ["v1.9.0", "2026-11-01T17:00:00Z"], ["v1.2.4", "2026-11-05T09:00:00Z"], ["v2.0.1", "2026-11-06T09:00:00Z"]] },
      { granularity: "day" }
    )
    assert.deepStrictEqual(changesOf(timeline), [["2026-11-06T23:59:59.999Z", "api v2.0.1"], ["2026-11-01T23:59:59.999Z", "api v2.0.0"]])
    assert.deepStrictEqual(timeline.points.map((p) => p.label), ["2026-11-06 (UTC) - api v2.0.1", "2026-11-01 (UTC) - api v2.0.0"])
  })

  it("since: only targets built at or after it make points; older ones are still selected", () => {
    const { timeline } = merge(semver, releases, { since: at("2026-11-04T00:00:00Z") })
    assert.deepStrictEqual(changesOf(timeline), [["2026-11-10T00:00:00.000Z", "api v2.1.0"]])
    assert.deepStrictEqual(tagsAt(timeline, "2026-11-06T00:00:00Z"), { api: "v2.0.0" })
  })
})

describe("rollback.json carries the order", () => {
  const { timeline } = merge(semver, releases)
  const header = { generatedAt: "2026-11-21T00:00:00.000Z", environment: null, registry: "https://registry.example.com", scheme: "v(?<version>\\d+\\.\\d+\\.\\d+)" }

  it("in its scheme key, so plan and run select from the file as get did", () => {
    const file = toRollbackFile(timeline, header)
    assert.deepStrictEqual(file.scheme, { pattern: "v(?<version>\\d+\\.\\d+\\.\\d+)", order: "semver" })
    const decoded = decodeRollbackFile(JSON.parse(JSON.stringify(file)))
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    const back = timelineOfRollbackFile(decoded.success)
    assert.strictEqual(back.order, "semver")
    for (const instant of ["2026-11-03T00:00:00Z", "2026-11-06T00:00:00Z", "2026-11-11T00:00:00Z"]) {
      assert.deepStrictEqual(chosen(selectAsOf(back, at(instant))), chosen(selectAsOf(timeline, at(instant))), instant)
    }
  })

  it("a file whose scheme is a name or pattern selects the newest image (order created), as files before orders did", () => {
    const file = toRollbackFile(merge(scheme("v(?<version>\\d+\\.\\d+\\.\\d+)"), releases).timeline, header)
    assert.strictEqual(file.scheme, header.scheme)
    const decoded = decodeRollbackFile(JSON.parse(JSON.stringify({ ...file, scheme: "semver" })))
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    assert.deepStrictEqual(tagsAt(timelineOfRollbackFile(decoded.success), "2026-11-06T00:00:00Z"), { api: "v1.2.4" })
  })

  it("tag timestamps are kept per image, so order timestamp selects the same from the file", () => {
    const { timeline: t } = merge(byTimestamp, { api: [["prod-202611021200", "2026-11-02T12:00:00Z"], ["prod-202611011200", "2026-11-03T12:00:00Z"]] })
    const file = toRollbackFile(t, { ...header, scheme: { pattern: "(?<env>[a-z]+)-(?<timestamp>\\d{12})", order: "timestamp", timestampFormat: "YYYYMMDDHHmm" } })
    assert.deepStrictEqual(file.images.api?.map((i) => [i.tag, i.timestamp]), [["prod-202611011200", "2026-11-01T12:00:00.000Z"], ["prod-202611021200", "2026-11-02T12:00:00.000Z"]])
    const decoded = decodeRollbackFile(JSON.parse(JSON.stringify(file)))
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    assert.deepStrictEqual(tagsAt(timelineOfRollbackFile(decoded.success), "2026-11-04T00:00:00Z"), { api: "prod-202611021200" })
  })
})

describe("the plan compares by the order", () => {
  it("running the 1.2.4 backport, the point's target 2.0.0 is forward (greater by semver), though built earlier", () => {
    const { timeline } = merge(semver, releases)
    const plan = planRollback(timeline, selectAsOf(timeline, at("2026-11-06T00:00:00Z")), [{ service: "api", app: "/shop/api", image: "registry.example.com/shop/api:v1.2.4" }], {
      registry: "https://registry.example.com"
    })
    assert.deepStrictEqual([plan.services[0]!.target, plan.services[0]!.action], ["registry.example.com/shop/api:v2.0.0", "forward"])
  })
})
