/**
 * @module History — what actually ran together. Targets (and our own reports) remember when each
 * workload started running which image; this module merges those memories into one fleet
 * timeline of moments when the running set changed. Each moment is a set that really ran
 * together, from when until when; selection "as of T" on it is the set that was running at T.
 * Pure: no I/O, no clock (the caller says what "now" is).
 */
import { parseImageReference } from "./ImageReference.ts"
import { lastIndexAtOrBefore } from "./Search.ts"
import type { RollbackReport } from "./Report.ts"
import type { PointChange, ServiceSpec, SelectedImage, TimelineImage, TimelinePoint } from "./Timeline.ts"
import { pointLabel } from "./Timeline.ts"
import { formatIsoInstant, parseIsoInstant } from "./TimeZone.ts"

/** Who remembered a deployment. */
export type HistorySource = "marathon" | "kubernetes" | "swarm" | "gitops" | "pulumi" | "openshift" | "report"

/** Every history source, in the order `rollback.json` documents them. */
export const HISTORY_SOURCES: ReadonlyArray<HistorySource> = ["marathon", "kubernetes", "swarm", "gitops", "pulumi", "openshift", "report"]

/** One moment a service started running an image, as a target or a report remembers it. */
export interface Deployment {
  /** The service (already matched from the workload). */
  readonly service: string
  /** When it started running it, epoch milliseconds. */
  readonly at: number
  /** The tag it ran (from the image reference), when the reference has one. */
  readonly tag: string | undefined
  /** The manifest digest it ran, when the reference pins one. */
  readonly digest: string | undefined
  /** Who remembered it. */
  readonly source: HistorySource
  /** The orchestrator's revision of the workload then (Marathon version, ReplicaSet revision, commit). */
  readonly revision?: string | undefined
  /** Why it changed, when recorded (`kubernetes.io/change-cause`, a commit subject, a report's point). */
  readonly cause?: string | undefined
}

/** A set of images that ran together, from when until when. */
export interface RunningSet {
  /** When this set began running (the moment the last of its changes happened), epoch ms. */
  readonly from: number
  /** When the next set began; undefined while it still runs. */
  readonly until: number | undefined
  /** What each service ran (services with no known deployment yet are absent). */
  readonly images: Readonly<Record<string, Deployment>>
  /** The services whose image changed at `from`, with their new tag. */
  readonly changes: ReadonlyArray<PointChange>
}

/** True when two deployments ran the same image: the same digest when both have one, else the same tag. */
export const sameDeployedImage = (a: Deployment, b: Deployment): boolean =>
  a.digest !== undefined && b.digest !== undefined ? a.digest === b.digest : a.tag === b.tag && a.digest === b.digest

/**
 * Each service's deployments, oldest first, with the ones that changed nothing dropped (the same
 * image remembered twice, by a target and by a report, or a restart). Services not in `services`
 * are left out; deployments at the same instant keep the last one given.
 */
export const deploymentsByService = (
  deployments: ReadonlyArray<Deployment>,
  services: ReadonlyArray<ServiceSpec>
): Record<string, ReadonlyArray<Deployment>> => {
  const out: Record<string, Array<Deployment>> = {}
  for (const service of services) out[service.name] = []
  const sorted = deployments.map((d, i) => ({ d, i })).filter(({ d }) => out[d.service] !== undefined && Number.isFinite(d.at))
  sorted.sort((x, y) => x.d.at - y.d.at || x.i - y.i)
  for (const { d } of sorted) {
    const list = out[d.service]!
    const last = list[list.length - 1]
    if (last !== undefined && last.at === d.at) list[list.length - 1] = d
    else if (last === undefined || !sameDeployedImage(last, d)) list.push(d)
  }
  for (const list of Object.values(out)) {
    // dropping a same-instant replacement may leave two equal neighbours: keep the earlier
    for (let i = list.length - 1; i > 0; i--) if (sameDeployedImage(list[i - 1]!, list[i]!)) list.splice(i, 1)
  }
  return out
}

/**
 * Merges the services' deployments into the fleet's running sets, oldest first: a new set begins
 * at every instant at which at least one service started running another image.
 */
export const runningSets = (byService: Readonly<Record<string, ReadonlyArray<Deployment>>>): ReadonlyArray<RunningSet> => {
  const all = Object.values(byService).flat().sort((a, b) => a.at - b.at)
  const sets: Array<{ from: number; images: Record<string, Deployment>; changes: Array<PointChange> }> = []
  const current: Record<string, Deployment> = {}
  for (let i = 0; i < all.length;) {
    const at = all[i]!.at
    const changes: Array<PointChange> = []
    for (; i < all.length && all[i]!.at === at; i++) {
      const d = all[i]!
      current[d.service] = d
      changes.push({ service: d.service, tag: d.tag ?? d.digest ?? "?" })
    }
    changes.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
    sets.push({ from: at, images: { ...current }, changes })
  }
  return sets.map((s, i) => ({ ...s, until: sets[i + 1]?.from }))
}

/** The set running at `instant` (the last one that began at or before it), or undefined before the first. */
export const runningAt = (sets: ReadonlyArray<RunningSet>, instant: number): RunningSet | undefined =>
  sets[lastIndexAtOrBefore(sets, instant, (s) => s.from)]

/** How long a set ran (until `now` for the one still running), in milliseconds. */
export const ranForMs = (set: Pick<RunningSet, "from" | "until">, now: number): number => Math.max(0, (set.until ?? now) - set.from)

/** `3 d 4 h`, `2 h 5 min`, `10 min`, `45 s`: how long a set ran, for a dropdown (ASCII). */
export const formatRanFor = (ms: number): string => {
  const s = Math.floor(ms / 1000)
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`
  if (m > 0) return `${m} min`
  return `${s % 60} s`
}

/** The suffix a history point's label carries: ` (ran 3 d 4 h)`, or ` (running now)` for the current set. */
export const ranForSuffix = (set: Pick<RunningSet, "from" | "until">, now: number): string =>
  set.until === undefined ? " (running now)" : ` (ran ${formatRanFor(ranForMs(set, now))})`

/** A point's label without its ` (ran …)` / ` (running now)` suffix: what `run --point` also accepts. */
export const withoutRanFor = (label: string): string => label.replace(/ \((?:ran [0-9a-z ]+|running now)\)$/, "")

/** A point of a history timeline: a set that ran, with when it stopped running. */
export interface HistoryPoint extends TimelinePoint {
  /** Always `history`: the point is a set that ran together. */
  readonly source: "history"
  /** When the set stopped running (ISO-8601); absent while it still runs. */
  readonly ranUntil?: string | undefined
}

/**
 * The points of a history timeline, newest first: one per running set, labelled like any point
 * (time and what changed) plus how long the set ran, measured until `now` for the current one.
 */
export const historyPoints = (sets: ReadonlyArray<RunningSet>, timeZone: string, now: number): ReadonlyArray<HistoryPoint> => {
  const points: Array<HistoryPoint> = []
  for (let i = sets.length - 1; i >= 0; i--) {
    const set = sets[i]!
    points.push({
      id: formatIsoInstant(set.from),
      label: `${pointLabel(set.from, set.changes, "instant", timeZone)}${ranForSuffix(set, now)}`,
      changes: set.changes,
      source: "history",
      ...(set.until !== undefined ? { ranUntil: formatIsoInstant(set.until) } : {})
    })
  }
  return points
}

/** A point with the times a known-good hint needs. */
export interface PointSpan {
  readonly id: string
  readonly label: string
  /** Epoch ms the set began. */
  readonly from: number
  /** Epoch ms it stopped; undefined while it runs. */
  readonly until: number | undefined
}

/**
 * The known-good hint (seed 000's rule: what ran for long was probably good): the newest point,
 * older than the newest one (the current set), whose set ran at least `minMs` before the current
 * one began. `points` newest first. Undefined when none ran that long.
 */
export const knownGoodPoint = <P extends PointSpan>(points: ReadonlyArray<P>, minMs: number): P | undefined => {
  const current = points[0]
  if (current === undefined) return undefined
  return points.slice(1).find((p) => p.until !== undefined && p.until <= current.from && p.until - p.from >= minMs)
}

/** `--point previous`: the set that ran just before the current one (the second-newest point). */
export const previousPoint = <P>(points: ReadonlyArray<P>): P | undefined => points[1]

/**
 * The image a history deployment ran, as the timeline knows it: the registry's image with the
 * same digest (else the same tag) gives its build date and revision; an image the registry no
 * longer lists is taken as deployed, dated when it began running.
 */
export const imageOfDeployment = (images: ReadonlyArray<TimelineImage>, d: Deployment): SelectedImage => {
  const found = (d.digest !== undefined ? images.find((i) => i.digest === d.digest) : undefined) ??
    (d.tag !== undefined ? images.find((i) => i.tag === d.tag && (d.digest === undefined || i.digest === d.digest)) : undefined)
  if (found !== undefined) return found
  return { service: d.service, tag: d.tag ?? "", digest: d.digest ?? "", time: d.at, dateSource: "deployed", revision: d.revision }
}

/** What a rollback takes away from one service: the revisions between its target and what runs. */
export interface RevisionsUndone {
  /** Source revisions (short SHAs) of the images after the target up to what runs, oldest first. */
  readonly revisions: ReadonlyArray<string>
  /** A compare link, when the service has a source URL template. */
  readonly compareUrl?: string | undefined
}

/** A revision as people write it: the first 7 characters of a full SHA, other revisions as they are. */
export const shortRevision = (revision: string): string => (/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(revision) ? revision.slice(0, 7) : revision)

/**
 * The revisions a rollback from `current` to `target` takes away: the revisions of the service's
 * images after the target, up to and including the one that runs (images oldest first; repeats
 * and images without a revision left out). Empty when either image is not among `images` or the
 * target is not older.
 */
export const revisionsBetween = (
  images: ReadonlyArray<TimelineImage>,
  target: { readonly digest?: string | undefined; readonly tag?: string | undefined },
  current: { readonly digest?: string | undefined; readonly tag?: string | undefined }
): ReadonlyArray<string> => {
  const indexOf = (x: { readonly digest?: string | undefined; readonly tag?: string | undefined }) => {
    const byDigest = x.digest !== undefined ? images.findIndex((i) => i.digest === x.digest) : -1
    return byDigest >= 0 ? byDigest : x.tag !== undefined ? images.findIndex((i) => i.tag === x.tag) : -1
  }
  const from = indexOf(target)
  const to = indexOf(current)
  if (from < 0 || to < 0 || to <= from) return []
  const out: Array<string> = []
  const targetRevision = images[from]!.revision
  for (let i = from + 1; i <= to; i++) {
    const r = images[i]!.revision
    if (r !== undefined && r !== targetRevision && !out.includes(r)) out.push(r)
  }
  return out
}

/**
 * The compare link from the target's revision to the running one's, from a service's source URL
 * (`https://github.com/org/api` or a GitLab project URL; `{from}`/`{to}` placeholders are filled
 * when present). Undefined without both revisions or a usable URL.
 */
export const compareUrl = (source: string | undefined, fromRevision: string | undefined, toRevision: string | undefined): string | undefined => {
  if (source === undefined || fromRevision === undefined || toRevision === undefined || fromRevision === toRevision) return undefined
  if (source.includes("{from}") || source.includes("{to}")) return source.replaceAll("{from}", fromRevision).replaceAll("{to}", toRevision)
  let url: URL
  try {
    url = new URL(source)
  } catch {
    return undefined
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined
  const base = `${url.origin}${url.pathname.replace(/\.git$/, "").replace(/\/+$/, "")}`
  return url.hostname === "github.com" || url.hostname.startsWith("github.")
    ? `${base}/compare/${fromRevision}...${toRevision}`
    : `${base}/-/compare/${fromRevision}...${toRevision}`
}

/** What a target remembers one workload ran: the image reference and since when. */
export interface RememberedImage {
  /** The service the workload was matched to. */
  readonly service: string
  /** The complete image reference it ran. */
  readonly image: string
  /** When it started running it, epoch ms. */
  readonly at: number
  /** The orchestrator's revision then. */
  readonly revision?: string | undefined
  /** Why it changed, when recorded. */
  readonly cause?: string | undefined
}

/** A target's memory of one image as a deployment (tag and digest read from the reference); undefined for an unreadable reference. */
export const deploymentOfImage = (remembered: RememberedImage, source: HistorySource): Deployment | undefined => {
  const ref = parseImageReference(remembered.image)
  if (ref === undefined || (ref.tag === undefined && ref.digest === undefined)) return undefined
  return { service: remembered.service, at: remembered.at, tag: ref.tag, digest: ref.digest, source, revision: remembered.revision, cause: remembered.cause }
}

/**
 * The moments a `run` or `undo` report changed the fleet: every service it rolled back (or whose
 * undo put the previous image back) started running its `after` image when the run finished.
 * Services it did not change, or whose outcome is not known, add nothing.
 */
export const deploymentsOfReport = (report: Pick<RollbackReport, "finishedAt" | "services" | "label" | "point" | "kind">): ReadonlyArray<Deployment> => {
  const at = parseIsoInstant(report.finishedAt)
  if (at === undefined) return []
  const cause = `${report.kind} ${report.label ?? report.point ?? ""}`.trim()
  return report.services.flatMap((s) => {
    if (s.outcome !== "rolled-back" || s.after === null) return []
    const d = deploymentOfImage({ service: s.service, image: s.after, at, cause }, "report")
    return d === undefined ? [] : [d]
  })
}
