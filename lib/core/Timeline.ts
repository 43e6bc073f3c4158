/**
 * @module Timeline — every service's images merged into one chronological history, and the
 * points (instants at which at least one service got a new image) an operator can roll back to.
 */
import type { DateSource, RegistryImage } from "./Image.ts"
import { effectiveTime } from "./Image.ts"
import type { IgnoredReason, TagScheme } from "./TagScheme.ts"
import { classifyTag, compareSemver } from "./TagScheme.ts"
import { endOfDay, makeDayKeyer, zoneOffsetAt } from "./TimeZone.ts"

/** A service of the fleet: its name, its repository in the registry, and optionally its Marathon app. */
export interface ServiceSpec {
  /** The service name operators use (`api`). */
  readonly name: string
  /** Repository path in the registry (`shop/api`). */
  readonly repository: string
  /** Marathon app id when the config names it (`/shop/prod/api`). */
  readonly app?: string | undefined
}

/** One image of one service on the timeline, with its effective time. */
export interface TimelineImage {
  /** The service this image belongs to. */
  readonly service: string
  /** The tag. */
  readonly tag: string
  /** Manifest digest the tag pointed to when read. */
  readonly digest: string
  /** Effective time, epoch milliseconds. */
  readonly time: number
  /** Where the effective time came from. */
  readonly dateSource: DateSource
  /** Build number from the tag, when the scheme has one. */
  readonly build?: number | undefined
  /** Semantic version from the tag, when the scheme has one. */
  readonly version?: string | undefined
  /** Source revision (annotation, label or tag sha). */
  readonly revision?: string | undefined
}

/** What changed at a point: a service and its new tag. */
export interface PointChange {
  /** Service name. */
  readonly service: string
  /** The tag it got. */
  readonly tag: string
}

/** A point an operator can roll back to. */
export interface TimelinePoint {
  /** The instant selected when this point is chosen (ISO-8601, UTC). */
  readonly id: string
  /** Label for a dropdown: date, time and what changed; accepted by `run --point`. */
  readonly label: string
  /** The services that got a new image at this point (or on this day). */
  readonly changes: ReadonlyArray<PointChange>
}

/** How points are formed: one per instant, or one per calendar day (seed 004). */
export type Granularity = "instant" | "day"

/** Why tags of a service were left out, with counts and (for unknown dates) the tags. */
export interface IgnoredSummary {
  /** Tags that match no scheme (`latest`, `main`). */
  readonly noSchemeMatch: number
  /** Tags of other environments or branches. */
  readonly otherEnvironment: number
  /** Digests that appeared in the tag list. */
  readonly digestInTagList: number
  /** Tags marked bad by the operator. */
  readonly markedBad: number
  /** Tags whose image has no known date (all sources missing or before 1980). */
  readonly unknownDate: ReadonlyArray<string>
}

/** The merged timeline: per-service images in ascending order and the points, newest first. */
export interface Timeline {
  /** The services, in the order given. */
  readonly services: ReadonlyArray<ServiceSpec>
  /** Images per service name, oldest first (ties ordered by the scheme's order, then tag). */
  readonly images: Readonly<Record<string, ReadonlyArray<TimelineImage>>>
  /** Points, newest first. */
  readonly points: ReadonlyArray<TimelinePoint>
  /** How points were formed. */
  readonly granularity: Granularity
  /** Time zone of day points and labels. */
  readonly timeZone: string
}

/** What mergeTimeline needs. */
export interface MergeTimelineInput {
  /** The services of the fleet. */
  readonly services: ReadonlyArray<ServiceSpec>
  /** What the registry returned, per service name. */
  readonly images: Readonly<Record<string, ReadonlyArray<RegistryImage>>>
  /** The tag scheme. */
  readonly scheme: TagScheme
  /** Keep only tags of this environment/branch (the scheme's `env` group). */
  readonly environment?: string | undefined
  /** Tags never to select: `tag` (any service) or `service:tag`. */
  readonly badTags?: ReadonlyArray<string> | undefined
  /** Instant or day points; default instant. */
  readonly granularity?: Granularity | undefined
  /** Zone for day grouping and labels; default UTC. */
  readonly timeZone?: string | undefined
  /** Only images at or after this instant (epoch ms) make points; older ones are still kept for selection. */
  readonly since?: number | undefined
}

/** The merged timeline plus, per service, what was ignored and why. */
export interface MergedTimeline {
  /** The timeline. */
  readonly timeline: Timeline
  /** Ignored tags per service. */
  readonly ignored: Readonly<Record<string, IgnoredSummary>>
}

/** True when `tag` of `service` is in the bad list (`tag` or `service:tag`). */
export const isMarkedBad = (badTags: ReadonlySet<string>, service: string, tag: string): boolean =>
  badTags.size > 0 && (badTags.has(tag) || badTags.has(`${service}:${tag}`))

/**
 * Orders two images of one service: by effective time, then by the scheme's order (build
 * number numerically, semantic version, tag timestamp), then by tag name. Negative when a < b.
 */
export const compareImages = (a: TimelineImage, b: TimelineImage): number => {
  if (a.time !== b.time) return a.time - b.time
  if (a.build !== undefined && b.build !== undefined && a.build !== b.build) return a.build - b.build
  if (a.version !== undefined && b.version !== undefined) {
    const d = compareSemver(a.version, b.version)
    if (d !== 0) return d
  }
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0
}

/**
 * Merges per-service image lists into one timeline: parses tags with the scheme, keeps the
 * environment's tags, gives each image its effective time (annotation, config, tag, push;
 * before 1980 = unknown), drops images with no known time (reported in `ignored`), orders
 * every service's images, and derives the points newest first.
 */
export const mergeTimeline = (input: MergeTimelineInput): MergedTimeline => {
  const granularity = input.granularity ?? "instant"
  const timeZone = input.timeZone ?? "UTC"
  const badTags = new Set(input.badTags ?? [])
  const images: Record<string, Array<TimelineImage>> = {}
  const ignored: Record<string, IgnoredSummary> = {}
  for (const service of input.services) {
    const counts = { noSchemeMatch: 0, otherEnvironment: 0, digestInTagList: 0, markedBad: 0 }
    const unknownDate: Array<string> = []
    const kept: Array<TimelineImage> = []
    const seen = new Set<string>()
    for (const raw of input.images[service.name] ?? []) {
      if (seen.has(raw.tag)) continue
      seen.add(raw.tag)
      const classified = classifyTag(input.scheme, raw.tag, input.environment)
      if (classified._tag === "Ignored") {
        counts[IGNORED_KEYS[classified.reason]]++
        continue
      }
      if (isMarkedBad(badTags, service.name, raw.tag)) {
        counts.markedBad++
        continue
      }
      const parsed = classified.parsed
      const effective = effectiveTime({ ...raw.dates, tag: parsed.timestamp })
      if (effective === undefined) {
        unknownDate.push(raw.tag)
        continue
      }
      const revision = raw.revision ?? parsed.sha
      kept.push({
        service: service.name,
        tag: raw.tag,
        digest: raw.digest,
        time: effective.time,
        dateSource: effective.source,
        ...(parsed.build !== undefined ? { build: parsed.build } : {}),
        ...(parsed.version !== undefined ? { version: parsed.version } : {}),
        ...(revision !== undefined ? { revision } : {})
      })
    }
    kept.sort(compareImages)
    images[service.name] = kept
    ignored[service.name] = { ...counts, unknownDate }
  }
  const points = derivePoints(input.services, images, granularity, timeZone, input.since)
  return { timeline: { services: input.services, images, points, granularity, timeZone }, ignored }
}

const IGNORED_KEYS: Record<IgnoredReason, "noSchemeMatch" | "otherEnvironment" | "digestInTagList" | "markedBad"> = {
  "no-scheme-match": "noSchemeMatch",
  "other-environment": "otherEnvironment",
  "digest-in-tag-list": "digestInTagList",
  "marked-bad": "markedBad"
}

/**
 * Derives the points of a timeline: each distinct effective time (or calendar day in the zone)
 * at which at least one service got an image, newest first, with dropdown labels.
 */
export const derivePoints = (
  services: ReadonlyArray<ServiceSpec>,
  images: Readonly<Record<string, ReadonlyArray<TimelineImage>>>,
  granularity: Granularity,
  timeZone: string,
  since?: number | undefined
): ReadonlyArray<TimelinePoint> => {
  // Group changes by instant (or by day end), then sort the distinct keys numerically.
  // Per key, service -> tag; a later image of the same service in the same group replaces the
  // earlier one (two builds on one day: the day's point shows the one selection would take).
  const groups = new Map<number, Map<string, string>>()
  const dayKey = granularity === "day" ? makeDayKeyer(timeZone) : undefined
  const dayEnds = new Map<string, number>()
  for (const service of services) {
    for (const image of images[service.name] ?? []) {
      if (since !== undefined && image.time < since) continue
      let key = image.time
      if (dayKey !== undefined) {
        const day = dayKey(image.time)
        let end = dayEnds.get(day)
        if (end === undefined) {
          end = endOfDay(day, timeZone)
          dayEnds.set(day, end)
        }
        key = end
      }
      let group = groups.get(key)
      if (group === undefined) {
        group = new Map()
        groups.set(key, group)
      }
      group.set(service.name, image.tag)
    }
  }
  const keys = Float64Array.from(groups.keys()).sort().reverse()
  const points: Array<TimelinePoint> = []
  const usedLabels = new Set<string>()
  for (const key of keys) {
    const changes = Array.from(groups.get(key) ?? [], ([service, tag]) => ({ service, tag }))
    let label = pointLabel(key, changes, granularity, timeZone)
    if (usedLabels.has(label)) {
      let n = 2
      while (usedLabels.has(`${label} #${n}`)) n++
      label = `${label} #${n}`
    }
    usedLabels.add(label)
    points.push({ id: new Date(key).toISOString(), label, changes })
  }
  return points
}

const MAX_CHANGES_IN_LABEL = 3

/**
 * A dropdown label: `2026-11-21 14:03:27 UTC · api 1234-master, web 99-master +2 more`
 * (day points: `2026-11-21 (UTC) · …`). Times are shown in the zone.
 */
export const pointLabel = (
  instant: number,
  changes: ReadonlyArray<PointChange>,
  granularity: Granularity,
  timeZone: string
): string => {
  const when =
    granularity === "day"
      ? `${localIso(instant, timeZone).slice(0, 10)} (${timeZone})`
      : `${localIso(instant, timeZone).slice(0, 19).replace("T", " ")} ${timeZone}`
  const shown = changes.slice(0, MAX_CHANGES_IN_LABEL).map((c) => `${c.service} ${c.tag}`)
  const more = changes.length > MAX_CHANGES_IN_LABEL ? ` +${changes.length - MAX_CHANGES_IN_LABEL} more` : ""
  return `${when} · ${shown.join(", ")}${more}`
}

const localIso = (instant: number, timeZone: string): string =>
  timeZone === "UTC" ? new Date(instant).toISOString() : new Date(instant + zoneOffsetAt(instant, timeZone)).toISOString()
