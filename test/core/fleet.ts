/**
 * @module test/core/fleet — small builders for fleets, registry images and timelines, so the core
 * tests read like the incidents they guard against.
 */
import type { MergeTimelineInput, MergedTimeline, RegistryImage, ServiceSpec, TagScheme } from "../../lib/core/index.ts"
import { mergeTimeline, TAG_SCHEME_PRESETS } from "../../lib/core/index.ts"

/** The seed's `build-branch` scheme (`1234-master`). */
export const buildBranch: TagScheme = TAG_SCHEME_PRESETS["build-branch"]!

/** A service of the fleet whose repository is `shop/<name>`. */
export const service = (name: string, app?: string): ServiceSpec => ({
  name,
  repository: `shop/${name}`,
  ...(app !== undefined ? { app } : {})
})

let digestCounter = 0

/**
 * A digest unique within the test run (or derived from `seed` when given): eight FNV-1a hashes
 * of the whole text, so seeds that share a long prefix (`registry:5000/shop/api:1-master` and
 * `…:2-master`) still differ.
 */
export const digestOf = (seed?: string): string => {
  const text = seed ?? `image-${++digestCounter}`
  let hex = ""
  for (let round = 0; round < 8; round++) {
    let hash = (0x811c9dc5 ^ Math.imul(round, 0x9e3779b1)) >>> 0
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0
    hex += hash.toString(16).padStart(8, "0")
  }
  return `sha256:${hex}`
}

/** An image whose config says it was built at `created` (RFC 3339), as a registry adapter yields it. */
export const built = (
  repository: string,
  tag: string,
  created: string | undefined,
  extra: Partial<Omit<RegistryImage, "repository" | "tag" | "dates">> & { readonly dates?: RegistryImage["dates"] } = {}
): RegistryImage => ({
  repository,
  tag,
  digest: extra.digest ?? digestOf(`${repository}:${tag}`),
  dates: extra.dates ?? (created !== undefined ? { config: created } : {}),
  ...(extra.revision !== undefined ? { revision: extra.revision } : {})
})

/** Merges a fleet given as `{ service: [[tag, created], …] }` with the build-branch scheme. */
export const fleet = (
  images: Readonly<Record<string, ReadonlyArray<readonly [tag: string, created: string]>>>,
  options: Partial<Omit<MergeTimelineInput, "services" | "images">> = {}
): MergedTimeline => {
  const services = Object.keys(images).map((name) => service(name))
  return mergeTimeline({
    scheme: buildBranch,
    ...options,
    services,
    images: Object.fromEntries(
      services.map((s) => [s.name, (images[s.name] ?? []).map(([tag, created]) => built(s.repository, tag, created))])
    )
  })
}

/** Epoch milliseconds of an ISO instant (test inputs are always valid). */
export const at = (iso: string): number => {
  const millis = Date.parse(iso)
  if (!Number.isFinite(millis)) throw new Error(`bad test instant ${iso}`)
  return millis
}
