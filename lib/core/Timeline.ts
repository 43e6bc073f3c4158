/**
 * @module Timeline — every service's images merged into one chronological history, and the
 * points (instants at which at least one service's target changes) an operator can roll back to.
 *
 * An image is available at a point P when its effective time is ≤ P; a service's target at P is
 * the greatest of its available images by the scheme's order ({@link compareImagesBy}). With the
 * default order `created` that is the newest image; with `build`, `semver` or `timestamp` (as
 * Flux's ImagePolicy and Kargo order images) a later build with a smaller number, version or tag
 * timestamp (a backport) is available but does not replace the greater one.
 */
import type { Deployment } from "./History.ts"
import type { DateSource, RegistryImage } from "./Image.ts"
import { EARLIEST_KNOWN_TIME, parseKnownInstant } from "./Image.ts"
import type { ParsedTag, TagOrder, TagScheme } from "./TagScheme.ts"
import { compareSemver, effectiveEnvironmentFilter, environmentNote, isDigestTag, parseTag } from "./TagScheme.ts"
import { endOfDay, formatIsoInstant, makeDayKeyer, zoneOffsetAt } from "./TimeZone.ts"

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
  /** The tag's own timestamp (epoch ms), when the scheme has one; what order `timestamp` compares. */
  readonly timestamp?: number | undefined
  /** Source revision (annotation, label or tag sha). */
  readonly revision?: string | undefined
}

/** What orders and plans read of an image: everything but where its date came from. */
export type ImageFacts = Omit<TimelineImage, "dateSource">

/**
 * An image a history timeline selected that the registry no longer lists: known only from what
 * ran, dated when it began running. Never part of a timeline's `images` (nor of `rollback.json`).
 */
export interface DeployedImage extends ImageFacts {
  /** Dated by the deployment, not by the registry. */
  readonly dateSource: "deployed"
}

/** What a selection picks: a registry image, or (history timelines only) a {@link DeployedImage}. */
export type SelectedImage = TimelineImage | DeployedImage

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
  /** The services whose target changed at this point (or on this day), with the new target. */
  readonly changes: ReadonlyArray<PointChange>
  /** `history`: the point is a set that ran together (`get --from history`); absent: a moment in the build dates. */
  readonly source?: "history" | undefined
  /** A history point's set stopped running then (ISO-8601); absent while it runs, and on build points. */
  readonly ranUntil?: string | undefined
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
  /** Images per service name, oldest first (equal times ordered by {@link compareImages}). */
  readonly images: Readonly<Record<string, ReadonlyArray<TimelineImage>>>
  /** Points, newest first. */
  readonly points: ReadonlyArray<TimelinePoint>
  /** How points were formed. */
  readonly granularity: Granularity
  /** Time zone of day points and labels. */
  readonly timeZone: string
  /** How a service's target is chosen among its available images; default `created` (the newest). */
  readonly order?: TagOrder | undefined
  /**
   * What each service ran when, oldest first (`get --from history`): when present, the target at
   * a point is what the service ran at that instant (see `selectAsOf`), not the newest build.
   */
  readonly history?: Readonly<Record<string, ReadonlyArray<Deployment>>> | undefined
}

/** What mergeTimeline needs. */
export interface MergeTimelineInput {
  /** The services of the fleet. */
  readonly services: ReadonlyArray<ServiceSpec>
  /** What the registry returned, per service name. */
  readonly images: Readonly<Record<string, ReadonlyArray<RegistryImage>>>
  /** The tag scheme. */
  readonly scheme: TagScheme
  /**
   * Keep only tags of this environment/branch (the scheme's `env` group). A scheme without an
   * env/branch group cannot tell environments apart: then nothing is filtered, and
   * {@link MergedTimeline.environmentNote} says so.
   */
  readonly environment?: string | undefined
  /** Tags never to select: `tag` (any service) or `service:tag`. */
  readonly badTags?: ReadonlyArray<string> | undefined
  /** Instant or day points; default instant. */
  readonly granularity?: Granularity | undefined
  /** Overrides the scheme's order (how targets are chosen); default the scheme's. */
  readonly order?: TagOrder | undefined
  /** Zone for day grouping and labels; default UTC. */
  readonly timeZone?: string | undefined
  /** Only images at or after this instant (epoch ms) make points; older ones are still kept for selection. */
  readonly since?: number | undefined
  /**
   * Per service, tags already parsed with this scheme (by `parseTag` or `classifyTag`, as `get`
   * does when it decides which tags to read): they are taken as parsed instead of parsed again.
   * Tags not in it are parsed here.
   */
  readonly parsedTags?: Readonly<Record<string, ReadonlyMap<string, ParsedTag>>> | undefined
}

/** The merged timeline plus, per service, what was ignored and why. */
export interface MergedTimeline {
  /** The timeline. */
  readonly timeline: Timeline
  /** Ignored tags per service. */
  readonly ignored: Readonly<Record<string, IgnoredSummary>>
  /**
   * Set when an environment was asked for but the scheme has no env/branch part, so tags were
   * not filtered by it: a sentence for operators (`get` prints it).
   */
  readonly environmentNote: string | undefined
}

/** True when `tag` of `service` is in the bad list (`tag` or `service:tag`). */
export const isMarkedBad = (badTags: ReadonlySet<string>, service: string, tag: string): boolean =>
  badTags.size > 0 && (badTags.has(tag) || badTags.has(`${service}:${tag}`))

/**
 * Orders two images of one service: by effective time, then build number (numerically; an
 * image with one above an image without), then semantic version (likewise), then tag name.
 * Negative when a < b. A total order, so sorting never depends on the order images came in.
 * This is order `created`, and the order of each service's list in a {@link Timeline}.
 */
export const compareImages = (a: ImageFacts, b: ImageFacts): number => {
  if (a.time !== b.time) return a.time - b.time
  if (a.build !== b.build) return a.build === undefined ? -1 : b.build === undefined ? 1 : a.build - b.build
  if (a.version !== b.version) {
    if (a.version === undefined) return -1
    if (b.version === undefined) return 1
    const d = compareSemver(a.version, b.version)
    if (d !== 0) return d
  }
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0
}

const compareTimeThenTag = (a: ImageFacts, b: ImageFacts): number =>
  a.time !== b.time ? a.time - b.time : a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0

/** Undefined below any number. */
const compareOptional = (x: number | undefined, y: number | undefined): number =>
  x === y ? 0 : x === undefined ? -1 : y === undefined ? 1 : x - y

const compareByBuild = (a: ImageFacts, b: ImageFacts): number =>
  a.build !== b.build ? compareOptional(a.build, b.build) : compareTimeThenTag(a, b)

const compareByTimestamp = (a: ImageFacts, b: ImageFacts): number =>
  a.timestamp !== b.timestamp ? compareOptional(a.timestamp, b.timestamp) : compareTimeThenTag(a, b)

const compareBySemver = (a: ImageFacts, b: ImageFacts): number => {
  if (a.version !== b.version) {
    if (a.version === undefined) return -1
    if (b.version === undefined) return 1
    const d = compareSemver(a.version, b.version)
    if (d !== 0) return d
  }
  return compareTimeThenTag(a, b)
}

const COMPARATORS: Readonly<Record<TagOrder, (a: ImageFacts, b: ImageFacts) => number>> = {
  created: compareImages,
  build: compareByBuild,
  semver: compareBySemver,
  timestamp: compareByTimestamp
}

/**
 * The comparator of an order: which of two images of one service is the greater target.
 * `created`: {@link compareImages}. `build`: build number (an image without one below any),
 * `semver`: SemVer precedence (likewise), `timestamp`: the tag's timestamp (likewise); ties by
 * effective time, then tag. Negative when a < b; total, so the target never depends on input order.
 */
export const compareImagesBy = (order: TagOrder): ((a: ImageFacts, b: ImageFacts) => number) => COMPARATORS[order]

/** Per image list and order: index of the greatest image (by the order) among list[0..i]. */
const prefixTargets = new WeakMap<ReadonlyArray<TimelineImage>, Map<TagOrder, Int32Array>>()

/**
 * For a service's images (oldest first, as in a {@link Timeline}), the index of its target once
 * image i is available: the greatest by the order among images 0..i. Computed once per list and
 * order, then every selection is a binary search. Undefined for `created`, where it is i itself.
 */
export const targetIndices = (images: ReadonlyArray<TimelineImage>, order: TagOrder): Int32Array | undefined => {
  if (order === "created") return undefined
  let byOrder = prefixTargets.get(images)
  if (byOrder === undefined) {
    byOrder = new Map()
    prefixTargets.set(images, byOrder)
  }
  let best = byOrder.get(order)
  if (best === undefined) {
    const compare = COMPARATORS[order]
    best = new Int32Array(images.length)
    let top = 0
    for (let i = 0; i < images.length; i++) {
      if (compare(images[i]!, images[top]!) > 0) top = i
      best[i] = top
    }
    byOrder.set(order, best)
  }
  return best
}

/**
 * Merges per-service image lists into one timeline: parses tags with the scheme, keeps the
 * environment's tags (when the scheme has an environment part), gives each image its effective time (annotation, config, schema1-history, tag, push;
 * before 1980 = unknown), drops images with no known time (reported in `ignored`), orders
 * every service's images, and derives the points newest first: the instants (or days) at which
 * a service's target, by the scheme's order, changes.
 */
export const mergeTimeline = (input: MergeTimelineInput): MergedTimeline => {
  const granularity = input.granularity ?? "instant"
  const timeZone = input.timeZone ?? "UTC"
  const order = input.order ?? input.scheme.order
  const badTags = new Set(input.badTags ?? [])
  const environment = effectiveEnvironmentFilter(input.scheme, input.environment)
  const images: Record<string, Array<TimelineImage>> = {}
  const ignored: Record<string, IgnoredSummary> = {}
  for (const service of input.services) {
    const counts = { noSchemeMatch: 0, otherEnvironment: 0, digestInTagList: 0, markedBad: 0 }
    const unknownDate: Array<string> = []
    const kept: Array<TimelineImage> = []
    const seen = new Set<string>()
    const known = input.parsedTags?.[service.name]
    for (const raw of input.images[service.name] ?? []) {
      if (seen.has(raw.tag)) continue
      seen.add(raw.tag)
      // classifyTag, inlined without its result object (a million tags on big fleets)
      if (isDigestTag(raw.tag)) {
        counts.digestInTagList++
        continue
      }
      const parsed = known?.get(raw.tag) ?? parseTag(input.scheme, raw.tag)
      if (parsed === undefined) {
        counts.noSchemeMatch++
        continue
      }
      if (environment !== undefined && parsed.env !== environment) {
        counts.otherEnvironment++
        continue
      }
      if (isMarkedBad(badTags, service.name, raw.tag)) {
        counts.markedBad++
        continue
      }
      // effectiveTime, inlined without its result object: annotation, config, schema1-history, tag, push
      let time = parseKnownInstant(raw.dates.annotation)
      let source: DateSource = "annotation"
      if (time === undefined) {
        time = parseKnownInstant(raw.dates.config)
        source = "config"
      }
      if (time === undefined) {
        time = parseKnownInstant(raw.dates.schema1)
        source = "schema1-history"
      }
      if (time === undefined && parsed.timestamp !== undefined && parsed.timestamp >= EARLIEST_KNOWN_TIME) {
        time = parsed.timestamp
        source = "tag"
      }
      if (time === undefined) {
        time = parseKnownInstant(raw.dates.push)
        source = "push"
      }
      if (time === undefined) {
        time = parseKnownInstant(raw.dates.imported)
        source = "imported"
      }
      if (time === undefined) {
        unknownDate.push(raw.tag)
        continue
      }
      // One object shape for every image (absent fields are undefined, not missing): sorting a
      // million of them stays on V8's fast path.
      kept.push({
        service: service.name,
        tag: raw.tag,
        digest: raw.digest,
        time,
        dateSource: source,
        build: parsed.build,
        version: parsed.version,
        timestamp: parsed.timestamp,
        revision: raw.revision ?? parsed.sha
      })
    }
    images[service.name] = sortImages(kept)
    ignored[service.name] = { ...counts, unknownDate }
  }
  const table = derivePointTable(input.services, images, granularity, timeZone, input.since, order)
  // The point objects are made on first use: selection never needs them.
  let points: ReadonlyArray<TimelinePoint> | undefined
  const timeline: Timeline = {
    services: input.services,
    images,
    get points() {
      return (points ??= pointsOf(table))
    },
    granularity,
    timeZone,
    order
  }
  return { timeline, ignored, environmentNote: environmentNote(input.scheme, input.environment) }
}

/**
 * Orders one service's images by {@link compareImages}. Most of the work is a native numeric
 * sort: each image's time (relative to the earliest) and its index are packed into one double,
 * and only runs of equal times are then ordered by the comparator. Falls back to a plain
 * comparator sort when the span of times is too wide to pack (over ~34 years for 5,000 images).
 */
export const sortImages = (list: Array<TimelineImage>): Array<TimelineImage> => {
  const n = list.length
  if (n < 64) return list.sort(compareImages)
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    const t = list[i]!.time
    if (t < min) min = t
    if (t > max) max = t
  }
  const slots = 2 ** Math.ceil(Math.log2(n))
  if ((max - min + 1) * slots > Number.MAX_SAFE_INTEGER) return list.sort(compareImages)
  const packed = new Float64Array(n)
  for (let i = 0; i < n; i++) packed[i] = (list[i]!.time - min) * slots + i
  packed.sort()
  const out: Array<TimelineImage> = new Array(n)
  for (let i = 0; i < n; i++) out[i] = list[packed[i]! % slots]!
  // equal times: order the run by compareImages (build, version, tag)
  for (let i = 0; i < n;) {
    let j = i + 1
    while (j < n && out[j]!.time === out[i]!.time) j++
    if (j - i > 1) {
      const run = out.slice(i, j).sort(compareImages)
      for (let k = 0; k < run.length; k++) out[i + k] = run[k]!
    }
    i = j
  }
  return out
}


/**
 * Derives the points of a timeline: each distinct effective time (or calendar day in the zone)
 * at which at least one service's target changes, newest first, with dropdown labels. Each
 * service's images must be oldest first (as in a {@link Timeline}). When a service has several
 * images at one point (two builds on one day), the point shows its target there — the one
 * selection takes; an image that never becomes a target (a greater one by the order is already
 * available) makes no point.
 */
export const derivePoints = (
  services: ReadonlyArray<ServiceSpec>,
  images: Readonly<Record<string, ReadonlyArray<TimelineImage>>>,
  granularity: Granularity,
  timeZone: string,
  since?: number | undefined,
  order: TagOrder = "created"
): ReadonlyArray<TimelinePoint> => pointsOf(derivePointTable(services, images, granularity, timeZone, since, order))

/** One point object per row of the table, each formatting itself on first use. */
const pointsOf = (table: PointTable): ReadonlyArray<TimelinePoint> => {
  const points: Array<TimelinePoint> = new Array(table.count)
  for (let i = 0; i < table.count; i++) points[i] = new LazyPoint(table, i)
  return points
}

/** The points of a timeline as columns (see {@link derivePoints}). */
const derivePointTable = (
  services: ReadonlyArray<ServiceSpec>,
  images: Readonly<Record<string, ReadonlyArray<TimelineImage>>>,
  granularity: Granularity,
  timeZone: string,
  since: number | undefined,
  order: TagOrder
): PointTable => {
  // Per service, its changes oldest first: the point key (instant, or end of its day) of each
  // run of images with one key after which the target differs from before it, and that target.
  // Then the points come from a k-way merge, newest first: a max heap of services keyed by the
  // key of their next (newest remaining) change.
  const names: Array<string> = []
  const lists: Array<ReadonlyArray<TimelineImage>> = []
  const keys: Array<Float64Array> = []
  const targets: Array<Int32Array> = []
  const seen = new Set<string>()
  const dayKey = granularity === "day" ? makeDayKeyer(timeZone) : undefined
  const dayEnds = new Map<string, number>()
  const keyOf = (time: number): number => {
    if (dayKey === undefined) return time
    const day = dayKey(time)
    let end = dayEnds.get(day)
    if (end === undefined) {
      end = endOfDay(day, timeZone)
      dayEnds.set(day, end)
    }
    return end
  }
  for (const service of services) {
    if (seen.has(service.name)) continue
    seen.add(service.name)
    const list = images[service.name] ?? []
    const n = list.length
    if (n === 0) continue
    const best = targetIndices(list, order)
    const changeKeys = new Float64Array(n)
    const changeTargets = new Int32Array(n)
    let count = 0
    let previous = -1
    for (let i = 0; i < n;) {
      const key = keyOf(list[i]!.time)
      let j = i + 1
      while (j < n && keyOf(list[j]!.time) === key) j++
      const target = best === undefined ? j - 1 : best[j - 1]!
      // only images at or after `since` make points (older ones are still targets before them)
      if (target !== previous && (since === undefined || list[target]!.time >= since)) {
        changeKeys[count] = key
        changeTargets[count] = target
        count++
      }
      previous = target
      i = j
    }
    if (count === 0) continue
    names.push(service.name)
    lists.push(list)
    keys.push(count === n ? changeKeys : changeKeys.slice(0, count))
    targets.push(count === n ? changeTargets : changeTargets.slice(0, count))
  }
  const position = Int32Array.from(keys, (k) => k.length - 1)
  // the key of each service's next change, so comparisons read one typed array
  const head = Float64Array.from(keys, (k) => k[k.length - 1]!)
  const heap = Int32Array.from(keys, (_, i) => i)
  let size = heap.length
  // a before b: the greater key first; on equal keys the earlier service (changes in service order)
  const before = (a: number, b: number) => head[a]! > head[b]! || (head[a] === head[b] && a < b)
  const siftDown = (at: number) => {
    const item = heap[at]!
    for (;;) {
      let child = 2 * at + 1
      if (child >= size) break
      if (child + 1 < size && before(heap[child + 1]!, heap[child]!)) child++
      if (!before(heap[child]!, item)) break
      heap[at] = heap[child]!
      at = child
    }
    heap[at] = item
  }
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i)
  // Points live in typed columns; each point object formats its id, label and changes on first
  // use (selection never needs them, and a fleet with a million builds has ~a million points).
  let total = 0
  for (const k of keys) total += k.length
  const table: PointTable = {
    keys: new Float64Array(total),
    changeStart: new Int32Array(total + 1),
    changeService: new Int32Array(total),
    changePosition: new Int32Array(total),
    names,
    lists,
    granularity,
    timeZone,
    count: 0
  }
  let count = 0
  let changeCount = 0
  while (size > 0) {
    const key = head[heap[0]!]!
    table.keys[count] = key
    table.changeStart[count] = changeCount
    // a service has at most one change per key
    while (size > 0 && head[heap[0]!] === key) {
      const s = heap[0]!
      table.changeService[changeCount] = s
      table.changePosition[changeCount] = targets[s]![position[s]!]!
      changeCount++
      const next = --position[s]!
      if (next < 0) {
        size--
        if (size === 0) break
        heap[0] = heap[size]!
      } else {
        head[s] = keys[s]![next]!
      }
      siftDown(0)
    }
    count++
  }
  table.changeStart[count] = changeCount
  table.count = count
  return table
}

/** The points of a timeline in columns: key (instant or day end), and the changes of each. */
interface PointTable {
  readonly keys: Float64Array
  /** Changes of point i are entries changeStart[i] until changeStart[i + 1]. */
  readonly changeStart: Int32Array
  readonly changeService: Int32Array
  readonly changePosition: Int32Array
  readonly names: ReadonlyArray<string>
  readonly lists: ReadonlyArray<ReadonlyArray<TimelineImage>>
  readonly granularity: Granularity
  readonly timeZone: string
  /** Number of points (the columns are sized for the worst case). */
  count: number
}

/**
 * A point formatted on first use. Labels are unique: two instant points in the same second
 * (neighbours, as points are ordered) show milliseconds.
 */
class LazyPoint implements TimelinePoint {
  /** id, label and changes once formatted (one slot keeps a million unformatted points small). */
  private text: { id: string; label?: string; changes?: ReadonlyArray<PointChange> } | undefined = undefined
  private readonly table: PointTable
  private readonly index: number
  constructor(table: PointTable, index: number) {
    this.table = table
    this.index = index
  }
  get id(): string {
    return (this.text ??= { id: formatIsoInstant(this.table.keys[this.index]!) }).id
  }
  get changes(): ReadonlyArray<PointChange> {
    const text = (this.text ??= { id: formatIsoInstant(this.table.keys[this.index]!) })
    if (text.changes === undefined) {
      const t = this.table
      const out: Array<PointChange> = []
      for (let c = t.changeStart[this.index]!; c < t.changeStart[this.index + 1]!; c++) {
        const s = t.changeService[c]!
        out.push({ service: t.names[s]!, tag: t.lists[s]![t.changePosition[c]!]!.tag })
      }
      text.changes = out
    }
    return text.changes
  }
  get label(): string {
    const text = (this.text ??= { id: formatIsoInstant(this.table.keys[this.index]!) })
    if (text.label === undefined) {
      const t = this.table
      const key = t.keys[this.index]!
      const second = Math.floor(key / 1000)
      const sameSecond = (i: number) => i >= 0 && i < t.count && Math.floor(t.keys[i]! / 1000) === second
      const showMillis = t.granularity === "instant" && (sameSecond(this.index - 1) || sameSecond(this.index + 1))
      text.label = labelOf(key, text.id, this.changes, t.granularity, t.timeZone, showMillis)
    }
    return text.label
  }
  /** Plain data for JSON. */
  toJSON(): { id: string; label: string; changes: ReadonlyArray<PointChange> } {
    return { id: this.id, label: this.label, changes: this.changes }
  }
}

const MAX_CHANGES_IN_LABEL = 3

/** Between the time and what changed in a point label: ASCII, so no charset can mangle it. */
export const LABEL_SEPARATOR = " - "

/**
 * A dropdown label: `2026-11-21 14:03:27 UTC - api 1234-master, web 99-master +2 more`
 * (day points: `2026-11-21 (UTC) - …`). Times are shown in the zone. The text the label adds is
 * ASCII: labels travel through Jenkins (`sh(returnStdout)`, an `input` choice, environment
 * variables) on agents whose Java charset may not be UTF-8, and must arrive as `choices` printed them.
 */
export const pointLabel = (
  instant: number,
  changes: ReadonlyArray<PointChange>,
  granularity: Granularity,
  timeZone: string
): string => labelOf(instant, formatIsoInstant(instant), changes, granularity, timeZone, false)

const labelOf = (
  instant: number,
  iso: string,
  changes: ReadonlyArray<PointChange>,
  granularity: Granularity,
  timeZone: string,
  showMillis: boolean
): string => {
  const local = timeZone === "UTC" ? iso : formatIsoInstant(instant + zoneOffsetAt(instant, timeZone))
  const when = granularity === "day"
    ? `${local.slice(0, 10)} (${timeZone})`
    : `${local.slice(0, 10)} ${local.slice(11, showMillis ? 23 : 19)} ${timeZone}`
  let shown = ""
  const count = Math.min(changes.length, MAX_CHANGES_IN_LABEL)
  for (let i = 0; i < count; i++) shown += `${i > 0 ? ", " : ""}${changes[i]!.service} ${changes[i]!.tag}`
  const more = changes.length > MAX_CHANGES_IN_LABEL ? ` +${changes.length - MAX_CHANGES_IN_LABEL} more` : ""
  return `${when}${LABEL_SEPARATOR}${shown}${more}`
}
