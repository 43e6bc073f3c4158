/**
 * @module test/deno/core_smoke_test — the core under Deno: imports the library as `fleet-rollback`,
 * which Deno resolves through the `exports` of the project's deno.json (this directory is a member
 * of a workspace whose other member is the project; test/deno/deno.json maps the name), merges a
 * small fleet and selects as of a point (seed 004's special case). Run by
 * test/project/deno.test.ts, which makes that workspace. Small on purpose: the full suite runs on Node.
 */
import * as fleetRollback from "fleet-rollback"

const assertEqual = (actual: unknown, expected: unknown, what: string): void => {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

Deno.test("fleet-rollback and fleet-rollback/promise resolve through deno.json exports to lib/index.ts and lib/promise.ts", () => {
  // test/deno/deno.json names only the package (jsr:@fleet-rollback/fleet-rollback): the files come from its exports
  for (const [name, file] of [["fleet-rollback", "/lib/index.ts"], ["fleet-rollback/promise", "/lib/promise.ts"]] as const) {
    const resolved = import.meta.resolve(name)
    if (!resolved.endsWith(file)) throw new Error(`${name} resolved to ${resolved}, expected …${file}`)
  }
})

Deno.test("merge a fleet and select as of a day: a service without an image that day gets its earlier one", () => {
  const { mergeTimeline, selectAsOf, parsePoint, TAG_SCHEME_PRESETS } = fleetRollback
  const image = (repository: string, tag: string, created: string) => ({
    repository,
    tag,
    digest: `sha256:${tag.replace(/[^0-9]/g, "").padStart(64, "0")}`,
    dates: { config: created }
  })
  const { timeline } = mergeTimeline({
    services: [{ name: "repo1", repository: "shop/repo1" }, { name: "repo2", repository: "shop/repo2" }],
    scheme: TAG_SCHEME_PRESETS["build-branch"]!,
    environment: "master",
    granularity: "day",
    images: {
      repo1: [image("shop/repo1", "10-master", "2026-11-19T09:00:00Z"), image("shop/repo1", "11-master", "2026-11-20T09:00:00Z"), image("shop/repo1", "latest", "2026-11-20T09:00:00Z")],
      repo2: [image("shop/repo2", "20-master", "2026-11-19T09:30:00Z"), image("shop/repo2", "21-master", "2026-11-21T09:30:00Z")]
    }
  })
  assertEqual(timeline.points.map((p) => p.id), ["2026-11-21T23:59:59.999Z", "2026-11-20T23:59:59.999Z", "2026-11-19T23:59:59.999Z"], "points")
  const point = parsePoint("2026-11-20", timeline.points)
  if ("_tag" in point) throw new Error(point.message)
  const selected = selectAsOf(timeline, point.instant).services.map((s) => [s.service.name, s._tag === "Selected" ? s.image.tag : "unresolved"])
  assertEqual(selected, [["repo1", "11-master"], ["repo2", "20-master"]], "selection")
})
