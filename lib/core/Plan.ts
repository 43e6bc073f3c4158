/**
 * @module Plan — the selected set compared with what runs now: per service, roll back, leave
 * unchanged, move forward (needs `--allow-forward`) or unresolved (needs `--allow-partial`).
 */
import type { RevisionsUndone } from "./History.ts"
import { compareUrl, revisionsBetween, shortRevision } from "./History.ts"
import type { FleetSelection } from "./Selection.ts"
import type { ImageReference } from "./ImageReference.ts"
import { formatImageReference, parseImageReference, sameImage, sameRepository, serviceRepository } from "./ImageReference.ts"
import type { ImageFacts, Timeline, TimelineImage } from "./Timeline.ts"
import { compareImagesBy } from "./Timeline.ts"
import { describeInstant, formatIsoInstant } from "./TimeZone.ts"

/** What `run` will do to one service. */
export type PlanAction = "rollback" | "unchanged" | "forward" | "unresolved"

/** What runs now for a service: its Marathon app and image, or nothing found. */
export interface RunningService {
  /** Service name. */
  readonly service: string
  /** The workload id on the target (Marathon: the app id); undefined when no workload runs the service. */
  readonly app: string | undefined
  /** The container running the service, when the workload has several; undefined: its main container. */
  readonly container?: string | undefined
  /** The image reference the app runs now. */
  readonly image: string | undefined
}

/** One line of the plan. */
export interface PlanEntry {
  /** Service name. */
  readonly service: string
  /** The workload id on the target (Marathon: the app id; undefined when none was found). */
  readonly app: string | undefined
  /** The container of that workload, when it has several; undefined: its main container. */
  readonly container?: string | undefined
  /** Image running now. */
  readonly current: string | undefined
  /** Image to deploy (undefined when unresolved). */
  readonly target: string | undefined
  /** What run does. */
  readonly action: PlanAction
  /** Target tag. */
  readonly targetTag?: string | undefined
  /** Target manifest digest as recorded by `get`. */
  readonly targetDigest?: string | undefined
  /** Effective time of the target, ISO-8601. */
  readonly builtAt?: string | undefined
  /** Where the change lands when the workload id does not say it all (a GitOps file and line, automation on it). */
  readonly where?: string | undefined
  /** Why the action was chosen when it is not obvious (unresolved, unknown running image). */
  readonly reason?: string | undefined
  /** A rollback: the source revisions it takes away (what ran after the target), and a compare link. */
  readonly undoes?: RevisionsUndone | undefined
}

/** The plan for one point. */
export interface RollbackPlan {
  /** The point as ISO-8601 instant. */
  readonly point: string
  /** The point's label, when the operator chose one. */
  readonly label?: string | undefined
  /** One entry per service. */
  readonly services: ReadonlyArray<PlanEntry>
  /**
   * On a history timeline: the newest earlier set that ran at least the known-good time
   * (`--known-good`, default 24 h) before the current one began — probably a good point.
   */
  readonly knownGood?: { readonly id: string; readonly label: string; readonly ranFor: string } | undefined
}

/** Options of planRollback. */
export interface PlanOptions {
  /** Registry URL or host the images are pulled from (from `rollback.json`). */
  readonly registry: string
  /** Deploy `repository:tag@sha256:…` instead of `repository:tag`. */
  readonly pinDigest?: boolean | undefined
  /** The point's label. */
  readonly label?: string | undefined
  /**
   * Per service, its source repository URL (`services.NAME.source`: a GitHub or GitLab project
   * URL, or a template with `{from}` and `{to}`), for the compare link of what a rollback undoes.
   */
  readonly sources?: Readonly<Record<string, string>> | undefined
  /** What runs a service, for messages: `Marathon app` (the default), `Kubernetes workload`, `GitOps repository image line`. */
  readonly workloadName?: string | undefined
}

/**
 * The reference to deploy for a selected image, digest included (what sameImage compares): the
 * service's repository normalised as app matching reads it (a repository that names its own
 * host keeps it; Docker Hub's `library/`), with the image's tag. Undefined when the repository
 * is not a valid repository name.
 */
const targetImageReference = (registry: string, repository: string, image: ImageFacts): ImageReference | undefined => {
  const repo = serviceRepository(repository, registry)
  return repo === undefined ? undefined : { host: repo.host, repository: repo.repository, tag: image.tag, digest: image.digest }
}

/**
 * Compares the selection with what runs now. The same image ({@link sameImage}: same registry
 * host with port, repository, and digest, or tag when the running reference has no digest) →
 * unchanged; a target older than the running image (by the timeline's order: effective time
 * for `created`, else build number, version or tag timestamp) → rollback; newer → forward; no
 * image or no app → unresolved with the reason.
 */
export const planRollback = (
  timeline: Timeline,
  selection: FleetSelection,
  running: ReadonlyArray<RunningService>,
  options: PlanOptions
): RollbackPlan => {
  const runningByService = new Map(running.map((r) => [r.service, r]))
  const services = selection.services.map((selected): PlanEntry => {
    const name = selected.service.name
    const now = runningByService.get(name)
    const app = now?.app
    const container = now?.container
    const current = now?.image
    if (selected._tag === "Unresolved") {
      return { service: name, app, ...(container !== undefined ? { container } : {}), current, target: undefined, action: "unresolved", reason: selected.reason }
    }
    const image = selected.image
    const targetRef = targetImageReference(options.registry, selected.service.repository, image)
    if (targetRef === undefined) {
      return {
        service: name,
        app,
        ...(container !== undefined ? { container } : {}),
        current,
        target: undefined,
        action: "unresolved",
        reason: `the repository ${JSON.stringify(selected.service.repository)} of ${name} is not a valid image repository name (lower-case path segments such as shop/api)`
      }
    }
    const target = formatImageReference(options.pinDigest === true ? targetRef : { ...targetRef, digest: undefined })
    const base = { service: name, app, ...(container !== undefined ? { container } : {}), current, target, targetTag: image.tag, targetDigest: image.digest, builtAt: formatIsoInstant(image.time) }
    if (app === undefined) {
      return { ...base, action: "unresolved", reason: `no ${options.workloadName ?? "Marathon app"} runs ${name} (none runs an image from ${selected.service.repository}; name it with services.${name}.app in the config)` }
    }
    const runningRef = current === undefined ? undefined : parseImageReference(current)
    if (runningRef !== undefined && sameImage(runningRef, targetRef)) return { ...base, action: "unchanged" }
    const runningImage = runningRef === undefined ? undefined : findRunningImage(timeline.images[name] ?? [], runningRef, targetRef)
    if (runningImage === undefined) {
      return {
        ...base,
        action: "rollback",
        reason: `the running image ${current ?? "(none)"} is not in rollback.json (pushed after \`get\`, a tag outside the scheme, or another registry or repository than ${formatImageReference({ host: targetRef.host, repository: targetRef.repository })}); treated as newer than the target`
      }
    }
    // found by its tag: the file knows its digest, and the same digest is the same image
    if (sameImage({ ...runningRef!, digest: runningImage.digest }, targetRef)) return { ...base, action: "unchanged" }
    // older or newer by the order targets are chosen by (a backported 1.2.4 is below 2.0.0 by semver)
    const order = compareImagesBy(timeline.order ?? "created")(image, runningImage)
    if (order < 0) return { ...base, action: "rollback", ...undoneBy(timeline.images[name] ?? [], image, runningImage, options.sources?.[name]) }
    return { ...base, action: order > 0 ? "forward" : "unchanged" }
  })
  return { point: describeInstant(selection.instant), ...(options.label !== undefined ? { label: options.label } : {}), services }
}

/**
 * The image of the file that runs now. Only images of the service's own repository on its own
 * registry count: `evil.example.com/shop/api:1-master` is not this service's 1-master.
 */
const findRunningImage = (images: ReadonlyArray<TimelineImage>, running: ImageReference, target: ImageReference): TimelineImage | undefined => {
  if (!sameRepository(running, target)) return undefined
  // a pinned digest is the identity: `2-master@<other digest>` is not the 2-master of the file
  // (the tag was moved), and calling it unchanged would leave the unknown image running
  if (running.digest !== undefined) return images.find((i) => i.digest === running.digest)
  return running.tag !== undefined ? images.find((i) => i.tag === running.tag) : undefined
}

/**
 * What rolling back from `running` to `target` takes away: the source revisions of the images
 * after the target up to the one that runs (short SHAs), and the compare link when the service
 * has a source URL. Nothing when no revision is known.
 */
const undoneBy = (
  images: ReadonlyArray<TimelineImage>,
  target: ImageFacts,
  running: ImageFacts,
  source: string | undefined
): { readonly undoes?: RevisionsUndone } => {
  const revisions = revisionsBetween(images, target, running)
  if (revisions.length === 0) return {}
  const link = compareUrl(source, target.revision, running.revision)
  return { undoes: { revisions: revisions.map(shortRevision), ...(link !== undefined ? { compareUrl: link } : {}) } }
}

/** Counts of each action in a plan. */
export const planSummary = (plan: RollbackPlan): Record<PlanAction, number> => {
  const counts: Record<PlanAction, number> = { rollback: 0, unchanged: 0, forward: 0, unresolved: 0 }
  for (const entry of plan.services) counts[entry.action]++
  return counts
}

/** What `run` would refuse a plan for (nothing changed): its rule, the services, and the message it gives. */
export interface RunRefusal {
  /** `unresolved`: services with no target and no `--allow-partial`; `forward`: a newer image than runs, without `--allow-forward`. */
  readonly rule: "unresolved" | "forward"
  readonly services: ReadonlyArray<string>
  readonly message: string
}

/** A refusal in one line (its message's first line, without the colon that introduces the list), naming the services. */
export const refusalLine = (refusal: RunRefusal): string => `${refusal.message.split("\n")[0]!.replace(/:\s*$/, "")} (${refusal.services.join(", ")})`

/** The switches of `run` that lift its refusals. */
export interface RunAllowances {
  readonly allowPartial?: boolean | undefined
  readonly allowForward?: boolean | undefined
}

/**
 * Why `run` with these switches would refuse the plan, in the order it checks (it stops at the
 * first); empty when it would go on. The one statement of these rules: `run` refuses by it, and
 * `plan --json` shows it (`wouldRefuse`) to the pipelines that ask before running.
 */
export const runRefusals = (plan: RollbackPlan, allow: RunAllowances): ReadonlyArray<RunRefusal> => {
  const refusals: Array<RunRefusal> = []
  const unresolved = plan.services.filter((s) => s.action === "unresolved")
  const forward = plan.services.filter((s) => s.action === "forward")
  if (unresolved.length > 0 && allow.allowPartial !== true) {
    refusals.push({
      rule: "unresolved",
      services: unresolved.map((s) => s.service),
      message: `${unresolved.length} service(s) cannot be planned at ${plan.point}; nothing was changed. Roll back with the others left as they are with --allow-partial` +
        `${unresolved.some((s) => s.target === undefined) ? ", or pick a later point (a service with no image at or before it)" : ""}` +
        `${unresolved.some((s) => s.target !== undefined) ? ", or fix what the line of each service says (a later point does not help there)" : ""}:\n${unresolved.map((s) => `  ${s.service}: ${s.reason ?? ""}`).join("\n")}`
    })
  }
  if (forward.length > 0 && allow.allowForward !== true) {
    refusals.push({
      rule: "forward",
      services: forward.map((s) => s.service),
      message: `${forward.length} service(s) would move FORWARD to a newer image than runs now; nothing was changed. Allow it with --allow-forward:\n${forward.map((s) => `  ${s.service}: ${s.current ?? "(none)"} → ${s.target ?? ""}`).join("\n")}`
    })
  }
  return refusals
}
