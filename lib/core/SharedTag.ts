/**
 * @module SharedTag — pure: when one configuration key holds the image tag of the whole fleet
 * (seed 002's `platform:image-tag` in a Pulumi stack), every service runs the same tag, so the
 * target at a point is not each service's newest image but the newest tag that EVERY service has
 * at or before the point. Mutable tags (`main`, `latest`, anything the tag scheme does not mark
 * immutable) are never a target: seed 002 — "set tag back to main does not restore a previous
 * build". No I/O, no clock.
 */
import type { FleetSelection, ServiceSelection } from "./Selection.ts"
import type { TagScheme } from "./TagScheme.ts"
import { isDigestTag, parseTag } from "./TagScheme.ts"
import type { Timeline, TimelineImage } from "./Timeline.ts"
import { isMarkedBad } from "./Timeline.ts"

/** One image of a service: its tag, digest and effective time (epoch ms). */
export interface SharedTagImage {
  readonly tag: string
  readonly digest?: string | undefined
  readonly time: number
}

/** The outcome of {@link sharedTagAsOf}. */
export type SharedTagResult<I extends SharedTagImage = SharedTagImage> =
  | {
    readonly _tag: "Found"
    readonly tag: string
    /** The newest effective time of the tag among the services (its build time). */
    readonly time: number
    /** Each service's image with that tag. */
    readonly images: ReadonlyMap<string, I>
    /** Tags that would have been newer but are mutable, skipped. */
    readonly skippedMutable: ReadonlyArray<string>
  }
  | { readonly _tag: "NotFound"; readonly message: string; readonly skippedMutable: ReadonlyArray<string> }

/** Tags that name a moving line of builds, never one build. */
const MUTABLE_NAMES = /^(latest|main|master|develop|development|dev|trunk|head|stable|edge|nightly|canary|next|beta|alpha|staging|stage|prod|production|release|current|test)$/i

/**
 * True when a tag may be moved to another image (a branch or channel name) and so cannot pin a
 * rollback: a well-known moving name, a digest-like tag, or — when the scheme is known — any tag
 * the scheme does not recognise.
 */
export const isMutableTag = (tag: string, scheme?: TagScheme): boolean => {
  if (MUTABLE_NAMES.test(tag) || isDigestTag(tag)) return true
  return scheme !== undefined && parseTag(scheme, tag) === undefined
}

/**
 * The newest tag that every service has at or before `point` (epoch ms), skipping mutable tags.
 * "Newest" = the latest effective time of the tag among the services; ties by tag name (greater wins).
 */
export const sharedTagAsOf = <I extends SharedTagImage>(
  imagesByService: ReadonlyMap<string, ReadonlyArray<I>>,
  point: number,
  isMutable: (tag: string) => boolean
): SharedTagResult<I> => {
  const services = [...imagesByService.keys()]
  if (services.length === 0) return { _tag: "NotFound", message: "no services to roll back", skippedMutable: [] }
  const available = new Map<string, Map<string, I>>()
  for (const [service, images] of imagesByService) {
    const tags = new Map<string, I>()
    for (const image of images) {
      if (image.time > point) continue
      const seen = tags.get(image.tag)
      if (seen === undefined || image.time > seen.time) tags.set(image.tag, image)
    }
    available.set(service, tags)
  }
  const first = available.get(services[0]!)!
  const common = [...first.keys()].filter((tag) => services.every((s) => available.get(s)!.has(tag)))
  const timeOf = (tag: string) => Math.max(...services.map((s) => available.get(s)!.get(tag)!.time))
  const ranked = common.map((tag) => ({ tag, time: timeOf(tag) })).sort((a, b) => b.time - a.time || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0))
  const skippedMutable: Array<string> = []
  for (const candidate of ranked) {
    if (isMutable(candidate.tag)) {
      skippedMutable.push(candidate.tag)
      continue
    }
    const images = new Map(services.map((s) => [s, available.get(s)!.get(candidate.tag)!] as const))
    return { _tag: "Found", tag: candidate.tag, time: candidate.time, images, skippedMutable }
  }
  const none = services.filter((s) => available.get(s)!.size === 0)
  const newest = services.map((s) => {
    const best = [...available.get(s)!.values()].sort((a, b) => b.time - a.time)[0]
    return `${s}: ${best === undefined ? "nothing" : best.tag}`
  })
  const message = none.length > 0
    ? `${none.join(", ")} ${none.length === 1 ? "has" : "have"} no image at or before the point, so no tag is shared by every service`
    : `no immutable tag is shared by every service at or before the point (the newest of each: ${newest.join(", ")}${skippedMutable.length > 0 ? `; mutable tags skipped: ${skippedMutable.join(", ")}` : ""})`
  return { _tag: "NotFound", message, skippedMutable }
}

/**
 * The fleet's selection when one key holds every service's tag: each service gets its image with
 * {@link sharedTagAsOf}'s tag (bad tags left out), or every service is unresolved with the reason.
 * The same shape as `selectAsOf`, so the plan, `run` and the report work unchanged.
 */
export const selectSharedTagAsOf = (
  timeline: Timeline,
  instant: number,
  options: { readonly badTags?: ReadonlyArray<string> | undefined; readonly isMutable: (tag: string) => boolean }
): FleetSelection => {
  const bad = new Set(options.badTags ?? [])
  const images = new Map<string, ReadonlyArray<TimelineImage>>(
    timeline.services.map((s) => [s.name, (timeline.images[s.name] ?? []).filter((i) => !isMarkedBad(bad, s.name, i.tag))])
  )
  const result = sharedTagAsOf(images, instant, options.isMutable)
  return {
    instant,
    services: timeline.services.map((service): ServiceSelection => {
      if (result._tag === "NotFound") return { _tag: "Unresolved", service, reason: `one tag for the whole fleet: ${result.message}` }
      const image = result.images.get(service.name)!
      return { _tag: "Selected", service, image }
    })
  }
}
