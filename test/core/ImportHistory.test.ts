/**
 * @module test/core/ImportHistory — an ImageStream tag's import history as a service's images
 * (seed 003: the registry holds only `:prod`): one image per digest at its first import, dated by
 * the registry where it still has the digest, else `imported`; a timeline of points from it;
 * `imported` written to rollback.json, read back, and refused — naming the field — by a
 * fleet-rollback from before it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import {
  decodeRollbackFile,
  effectiveTime,
  IMPORTED_IMAGE_PATTERN,
  importedImageName,
  importHistoryImages,
  mergeTimeline,
  resolveTagScheme,
  toRollbackFile
} from "../../lib/core/index.ts"
import type { ImportEvent, TagScheme } from "../../lib/core/index.ts"
import { service } from "./fleet.ts"
import * as OldReader from "./oldReader.ts"

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`
const ev = (created: string, n: number): ImportEvent => ({ created, dockerImageReference: `quay.io/packit/worker@${d(n)}`, image: d(n) })

describe("importHistoryImages", () => {
  const table: ReadonlyArray<{
    readonly name: string
    readonly items: ReadonlyArray<ImportEvent>
    readonly registry: ReadonlyArray<readonly [number, { config?: string }]>
    readonly expected: ReadonlyArray<readonly [tag: string, digest: string, time: string, source: string]>
  }> = [
    {
      name: "three imports, registry knows none (only :prod, moved on): dated by import, oldest first",
      items: [ev("2026-03-03T10:00:00Z", 3), ev("2026-03-02T10:00:00Z", 2), ev("2026-03-01T10:00:00Z", 1)],
      registry: [],
      expected: [
        [importedImageName("prod", d(1)), d(1), "2026-03-01T10:00:00.000Z", "imported"],
        [importedImageName("prod", d(2)), d(2), "2026-03-02T10:00:00.000Z", "imported"],
        [importedImageName("prod", d(3)), d(3), "2026-03-03T10:00:00.000Z", "imported"]
      ]
    },
    {
      name: "a digest the registry still has takes the registry's date",
      items: [ev("2026-03-03T10:00:00Z", 3), ev("2026-03-01T10:00:00Z", 1)],
      registry: [[3, { config: "2026-03-02T23:00:00Z" }]],
      expected: [
        [importedImageName("prod", d(1)), d(1), "2026-03-01T10:00:00.000Z", "imported"],
        [importedImageName("prod", d(3)), d(3), "2026-03-02T23:00:00.000Z", "config"]
      ]
    },
    {
      name: "a rolled-back image re-imported on top counts once, at its first import",
      items: [ev("2026-03-04T10:00:00Z", 1), ev("2026-03-02T10:00:00Z", 2), ev("2026-03-01T10:00:00Z", 1)],
      registry: [],
      expected: [
        [importedImageName("prod", d(1)), d(1), "2026-03-01T10:00:00.000Z", "imported"],
        [importedImageName("prod", d(2)), d(2), "2026-03-02T10:00:00.000Z", "imported"]
      ]
    },
    {
      name: "an event without a readable date or a digest is left out",
      items: [ev("yesterday", 3), { created: "2026-03-02T10:00:00Z", dockerImageReference: "quay.io/x:prod", image: "" }, ev("2026-03-01T10:00:00Z", 1)],
      registry: [],
      expected: [[importedImageName("prod", d(1)), d(1), "2026-03-01T10:00:00.000Z", "imported"]]
    },
    { name: "no history, no images", items: [], registry: [], expected: [] }
  ]
  for (const row of table) {
    it(row.name, () => {
      const images = importHistoryImages({ repository: "packit/worker", tag: "prod", items: row.items, registryDates: new Map(row.registry.map(([n, dates]) => [d(n), dates])) })
      assert.deepStrictEqual(images.map((i) => {
        const t = effectiveTime(i.dates)!
        return [i.tag, i.digest, new Date(t.time).toISOString(), t.source]
      }), row.expected.map((e) => [...e]))
      assert.isTrue(images.every((i) => i.repository === "packit/worker"))
    })
  }
  it("names an image by its tag and the digest's first 12 hex", () => {
    assert.strictEqual(importedImageName("prod", `sha256:${"ab".repeat(32)}`), "prod-abababababab")
  })
})

describe("a timeline from import histories", () => {
  const scheme = resolveTagScheme({ pattern: IMPORTED_IMAGE_PATTERN }) as TagScheme
  const worker = importHistoryImages({ repository: "packit/worker", tag: "prod", items: [ev("2026-03-03T10:00:00Z", 3), ev("2026-03-01T10:00:00Z", 1)], registryDates: new Map([[d(3), { config: "2026-03-03T09:00:00Z" }]]) })
  const svc = importHistoryImages({ repository: "packit/service", tag: "prod", items: [ev("2026-03-02T10:00:00Z", 5), ev("2026-03-01T12:00:00Z", 4)], registryDates: new Map() })
  const merged = mergeTimeline({ scheme, services: [service("worker"), service("service")], images: { worker, service: svc } })
  const written = JSON.parse(JSON.stringify(toRollbackFile(merged.timeline, { generatedAt: "2026-03-05T00:00:00.000Z", environment: "prod", registry: "https://quay.io", scheme: "custom" }, merged.ignored))) as unknown

  it("has a point at every import, though the registry lists one tag", () => {
    assert.deepStrictEqual(merged.timeline.points.map((p) => p.id), ["2026-03-03T09:00:00.000Z", "2026-03-02T10:00:00.000Z", "2026-03-01T12:00:00.000Z", "2026-03-01T10:00:00.000Z"])
  })
  it("writes dateSource imported, which this version reads back", () => {
    const decoded = decodeRollbackFile(written)
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    assert.deepStrictEqual(decoded.success.images["worker"]!.map((i) => i.dateSource), ["config", "imported"])
  })
  it("makes a fleet-rollback from before it refuse the file, naming the image's dateSource", () => {
    const old = OldReader.decodeRollbackFile(written)
    assert.isTrue(Result.isFailure(old))
    if (Result.isFailure(old)) assert.include(old.failure.message, "dateSource")
  })
})

describe("imports within the same second", () => {
  it("keep the history's order (items are newest first)", () => {
    const same = "2026-03-01T10:00:00Z"
    const images = importHistoryImages({ repository: "r", tag: "prod", items: [ev(same, 1), ev(same, 9), ev(same, 5)], registryDates: new Map() })
    assert.deepStrictEqual(images.map((i) => i.digest), [d(5), d(9), d(1)])
  })
})
