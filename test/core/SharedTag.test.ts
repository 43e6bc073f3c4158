/**
 * @module SharedTag.test — table tests of the one-key-for-the-fleet selection (seed 002): the
 * newest tag every service has at or before the point; mutable tags never chosen.
 */
import { assert, describe, it } from "vitest"
import { isMutableTag, selectSharedTagAsOf, sharedTagAsOf } from "../../lib/core/SharedTag.ts"
import type { SharedTagImage } from "../../lib/core/SharedTag.ts"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"

const T = (iso: string) => Date.parse(iso)
const img = (tag: string, iso: string): SharedTagImage => ({ tag, time: T(iso) })
const gitSha = TAG_SCHEME_PRESETS["git-sha"]!
const mutable = (tag: string) => isMutableTag(tag, gitSha)

const FLEET = new Map<string, ReadonlyArray<SharedTagImage>>([
  ["api", [img("git-aaaaaaa", "2024-05-01T10:00:00Z"), img("git-bbbbbbb", "2024-05-02T10:00:00Z"), img("git-ccccccc", "2024-05-03T10:00:00Z"), img("main", "2024-05-03T10:00:00Z")]],
  // web's build of git-bbbbbbb failed: it never got that tag
  ["web", [img("git-aaaaaaa", "2024-05-01T10:05:00Z"), img("git-ccccccc", "2024-05-03T10:04:00Z"), img("main", "2024-05-03T10:04:00Z")]],
  ["worker", [img("git-aaaaaaa", "2024-05-01T10:02:00Z"), img("git-bbbbbbb", "2024-05-02T10:01:00Z"), img("git-ccccccc", "2024-05-03T10:09:00Z"), img("main", "2024-05-03T10:09:00Z")]]
])

describe("sharedTagAsOf: one key, one tag for the whole fleet", () => {
  const cases: ReadonlyArray<readonly [string, string, string | undefined]> = [
    ["after the newest build of every service", "2024-05-04T00:00:00Z", "git-ccccccc"],
    ["a tag only some services have at the point is not shared: the one before it", "2024-05-03T10:05:00Z", "git-aaaaaaa"],
    ["web never built git-bbbbbbb: a point on 05-02 falls back to git-aaaaaaa", "2024-05-02T23:00:00Z", "git-aaaaaaa"],
    ["every service has git-aaaaaaa only once the last of them was built", "2024-05-01T10:04:59Z", undefined],
    ["at the moment the last service got it", "2024-05-01T10:05:00Z", "git-aaaaaaa"]
  ]
  for (const [name, point, expected] of cases) {
    it(name, () => {
      const result = sharedTagAsOf(FLEET, T(point), mutable)
      assert.strictEqual(result._tag === "Found" ? result.tag : undefined, expected)
    })
  }

  it("main, shared by every service and newest, is skipped as mutable and said so", () => {
    const result = sharedTagAsOf(FLEET, T("2024-05-04T00:00:00Z"), mutable)
    assert.strictEqual(result._tag, "Found")
    assert.deepStrictEqual(result.skippedMutable, ["main"])
  })

  it("only mutable tags shared: NotFound naming what was skipped", () => {
    const only = new Map([["api", [img("main", "2024-05-01T00:00:00Z")]], ["web", [img("main", "2024-05-01T00:00:00Z")]]])
    const result = sharedTagAsOf(only, T("2024-05-02T00:00:00Z"), mutable)
    assert.strictEqual(result._tag, "NotFound")
    assert.match(result._tag === "NotFound" ? result.message : "", /mutable tags skipped: main/)
  })

  it("a service with nothing at the point is named", () => {
    const result = sharedTagAsOf(FLEET, T("2024-04-01T00:00:00Z"), mutable)
    assert.match(result._tag === "NotFound" ? result.message : "", /^api, web, worker have no image at or before the point/)
  })

  it("the chosen tag carries each service's own image (digest, time)", () => {
    const result = sharedTagAsOf(FLEET, T("2024-05-04T00:00:00Z"), mutable)
    assert.strictEqual(result._tag === "Found" ? result.images.get("web")?.time : 0, T("2024-05-03T10:04:00Z"))
    assert.strictEqual(result._tag === "Found" ? result.time : 0, T("2024-05-03T10:09:00Z"))
  })
})

describe("isMutableTag", () => {
  it("moving names and unrecognised tags are mutable; the scheme's tags are not", () => {
    assert.deepStrictEqual(["main", "latest", "Production", "git-abc1234", "nightly-2", `sha256-${"a".repeat(64)}`].map((t) => isMutableTag(t, gitSha)), [true, true, true, false, true, true])
    assert.deepStrictEqual(["main", "v1.2.3", "1234-master"].map((t) => isMutableTag(t)), [true, false, false])
  })
})

describe("selectSharedTagAsOf: the fleet's selection with one shared key", () => {
  const timeline = {
    services: [{ name: "api", repository: "sprocketbot/api" }, { name: "web", repository: "sprocketbot/web" }],
    images: {
      api: [
        { service: "api", tag: "git-aaaaaaa", digest: "sha256:a1", time: T("2024-05-01T10:00:00Z"), dateSource: "config" as const },
        { service: "api", tag: "git-bbbbbbb", digest: "sha256:a2", time: T("2024-05-02T10:00:00Z"), dateSource: "config" as const }
      ],
      web: [
        { service: "web", tag: "git-aaaaaaa", digest: "sha256:w1", time: T("2024-05-01T10:00:00Z"), dateSource: "config" as const },
        { service: "web", tag: "git-bbbbbbb", digest: "sha256:w2", time: T("2024-05-02T10:00:00Z"), dateSource: "config" as const }
      ]
    },
    points: [],
    granularity: "instant" as const,
    timeZone: "UTC"
  }
  it("every service gets its own image of the shared tag", () => {
    const s = selectSharedTagAsOf(timeline, T("2024-05-03T00:00:00Z"), { isMutable: mutable })
    assert.deepStrictEqual(s.services.map((x) => (x._tag === "Selected" ? x.image.digest : x.reason)), ["sha256:a2", "sha256:w2"])
  })
  it("a tag marked bad for one service is not shared any more", () => {
    const s = selectSharedTagAsOf(timeline, T("2024-05-03T00:00:00Z"), { isMutable: mutable, badTags: ["web:git-bbbbbbb"] })
    assert.deepStrictEqual(s.services.map((x) => (x._tag === "Selected" ? x.image.tag : x.reason)), ["git-aaaaaaa", "git-aaaaaaa"])
  })
  it("nothing shared: every service unresolved with the reason", () => {
    const s = selectSharedTagAsOf(timeline, T("2024-04-01T00:00:00Z"), { isMutable: mutable })
    assert.match(s.services[0]!._tag === "Unresolved" ? s.services[0]!.reason : "", /^one tag for the whole fleet: api, web have no image/)
  })
})
