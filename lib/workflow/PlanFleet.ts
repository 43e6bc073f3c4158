/**
 * @module PlanFleet — `plan`: read `rollback.json`, resolve the point, select the fleet as of it,
 * find each service's workload on the deployment target, and compare with what runs now. Changes
 * nothing.
 */
import { Effect, Result } from "effect"
import { registryHostOf } from "../core/ImageReference.ts"
import type { PlanEntry, RollbackPlan, RunningService } from "../core/Plan.ts"
import { planRollback } from "../core/Plan.ts"
import type { ResolvedPoint } from "../core/Point.ts"
import { parsePoint } from "../core/Point.ts"
import type { RollbackFile } from "../core/RollbackFile.ts"
import { timelineOfRollbackFile } from "../core/RollbackFile.ts"
import { selectAsOf } from "../core/Selection.ts"
import { formatRanFor, knownGoodPoint } from "../core/History.ts"
import { parseIsoInstant } from "../core/TimeZone.ts"
import { selectSharedTagAsOf } from "../core/SharedTag.ts"
import type { Timeline } from "../core/Timeline.ts"
import { matchServiceToWorkload } from "../target/Matching.ts"
import type { AppliedChange, ImageChange, TargetScope, TargetShape } from "../target/Target.ts"
import { Target } from "../target/Target.ts"
import type { Workload } from "../target/Workload.ts"
import { checkCapabilities } from "./Capabilities.ts"
import type { RollbackError } from "./RollbackError.ts"
import { badInput, failed } from "./RollbackError.ts"
import { containerImage } from "../target/Workload.ts"

/** What `plan` needs besides the file and the point. */
export interface PlanFleetOptions {
  /** Zone for bare dates and instants without offset; default: the file's zone, else UTC. */
  readonly timeZone?: string | undefined
  /** Which workloads belong to the environment (Marathon: app group and label selector). */
  readonly scope?: TargetScope | undefined
  /** Deploy `repository:tag@digest`. */
  readonly pinDigest?: boolean | undefined
  /** Tags never to select (found bad after `get`). */
  readonly badTags?: ReadonlyArray<string> | undefined
  /** Also ask the target to validate the changes without applying them (needs its `serverDryRun` capability). */
  readonly serverDryRun?: boolean | undefined
  /** Per service, its source repository URL (`services.NAME.source`) for the compare link of what a rollback undoes. */
  readonly sources?: Readonly<Record<string, string>> | undefined
  /** How long a set must have run to count as known good (history timelines); default 24 hours. */
  readonly knownGoodMs?: number | undefined
}

/** The known-good time when none is given: a set that ran a day was probably good (seed 000). */
export const DEFAULT_KNOWN_GOOD_MS = 86_400_000

/** The known-good hint of a history timeline (see `knownGoodPoint`); undefined on build-date timelines. */
const knownGoodOf = (timeline: Timeline, minMs: number): RollbackPlan["knownGood"] => {
  if (!timeline.points.some((p) => p.source === "history")) return undefined
  const spans = timeline.points.map((p) => ({ id: p.id, label: p.label, from: parseIsoInstant(p.id) ?? 0, until: p.ranUntil === undefined ? undefined : parseIsoInstant(p.ranUntil) }))
  const found = knownGoodPoint(spans, minMs)
  return found === undefined || found.until === undefined ? undefined : { id: found.id, label: found.label, ranFor: formatRanFor(found.until - found.from) }
}

/** A plan plus what it was made from, for `run`. */
export interface FleetPlan {
  readonly plan: RollbackPlan
  readonly point: ResolvedPoint
  readonly timeline: Timeline
  /** The workloads read while planning, by id. */
  readonly apps: ReadonlyMap<string, Workload>
  /** With `serverDryRun`: what the target's dry run said, workload by workload. */
  readonly serverDryRun?: AppliedChange | undefined
}

/** Resolves a point against a file; a bad point is BadInput listing the accepted forms. */
export const resolvePoint = (file: RollbackFile, text: string, timeZone?: string): Result.Result<{ timeline: Timeline; point: ResolvedPoint }, RollbackError> => {
  const timeline = timelineOfRollbackFile(file)
  // DESIGN.md: a bare date or an instant without offset is read in UTC unless --tz says otherwise
  // (the file's zone is only for its labels).
  const point = parsePoint(text, timeline.points, timeZone ?? "UTC")
  return "_tag" in point ? Result.fail(badInput(point.message)) : Result.succeed({ timeline, point })
}

/** Makes the plan for a point. */
export const planFleet: (file: RollbackFile, pointText: string, options?: PlanFleetOptions) => Effect.Effect<FleetPlan, RollbackError, Target> = Effect.fn("planFleet")(function*(file: RollbackFile, pointText: string, options: PlanFleetOptions = {}) {
  const target = yield* Target
  yield* checkCapabilities(target, { pinDigest: options.pinDigest, serverDryRun: options.serverDryRun })
  const { timeline, point } = yield* Effect.fromResult(resolvePoint(file, pointText, options.timeZone))
  const selection = target.sharedTag !== undefined
    ? selectSharedTagAsOf(timeline, point.instant, { badTags: options.badTags, isMutable: target.sharedTag.isMutable })
    : selectAsOf(timeline, point.instant, { badTags: options.badTags })
  const name = target.displayName
  const noun = target.workloadNoun ?? "workload"
  const workloads = yield* target.listWorkloads(options.scope ?? {}).pipe(
    Effect.mapError((error) =>
      error.reason === "Unauthorized" || error.reason === "Forbidden" || error.reason === "Invalid"
        ? badInput(error.message)
        : failed(`cannot read the running ${noun}s: ${error.message}`)
    )
  )
  const registryHost = registryHostOf(file.registry)
  const canonicalId = target.canonicalId ?? ((id: string) => id)
  const byId = new Map(workloads.map((w) => [canonicalId(w.id), w]))
  const running: Array<RunningService> = []
  const ambiguous: Array<string> = []
  const missingNamed: Array<string> = []
  for (const service of timeline.services) {
    const match = matchServiceToWorkload({ ...service, registryHost }, workloads, canonicalId)
    if (match._tag === "Found") {
      const workload = byId.get(match.workload)
      const image = workload === undefined ? undefined : containerImage(workload, match.container)
      running.push({ service: service.name, app: match.workload, ...(match.container !== undefined ? { container: match.container } : {}), image })
    } else if (match._tag === "Ambiguous") {
      ambiguous.push(`  ${service.name} (${service.repository}): ${match.candidates.join(", ")}`)
    } else {
      if (service.app !== undefined) missingNamed.push(`  ${service.name}: ${noun} ${service.app} does not exist in ${name}`)
      running.push({ service: service.name, app: undefined, image: undefined })
    }
  }
  if (ambiguous.length > 0) {
    return yield* badInput(
      `several ${name} ${noun}s run the same repository; name the ${noun} with services.<name>.app in the config, or narrow the environment (${target.hints?.narrowScope ?? "the environment's scope in the config"}):\n${ambiguous.join("\n")}`
    )
  }
  if (missingNamed.length > 0) {
    return yield* badInput(`the config names ${noun}s that ${name} does not have:\n${missingNamed.join("\n")}`)
  }
  const planned = planRollback(timeline, selection, running, { registry: file.registry, pinDigest: options.pinDigest, label: point.label, sources: options.sources, workloadName: `${name} ${noun}` })
  const knownGood = knownGoodOf(timeline, options.knownGoodMs ?? DEFAULT_KNOWN_GOOD_MS)
  // where each change lands, as the target says (a GitOps file and line)
  const withWhere = {
    ...planned,
    services: planned.services.map((s) => {
      const where = s.app !== undefined ? byId.get(s.app)?.where : undefined
      return where !== undefined && (s.action === "rollback" || s.action === "forward") ? { ...s, where } : s
    })
  }
  const plan: RollbackPlan = knownGood === undefined ? withWhere : { ...withWhere, knownGood }
  const serverDryRun = options.serverDryRun === true ? yield* dryRun(target, plan) : undefined
  return { plan, point, timeline, apps: byId, ...(serverDryRun !== undefined ? { serverDryRun } : {}) } satisfies FleetPlan
})

/**
 * The change a plan entry asks of its workload: `image`, guarded by `expected` (what should run
 * now), and pinned by `digest` when one is known (a target that pins, Swarm, deploys image@digest).
 * One shape for run, its dry run, revert and undo.
 */
export const imageChangeOf = (entry: PlanEntry, image: string, expected: string | undefined, digest?: string | undefined): ImageChange => ({
  workload: entry.app!,
  ...(entry.container !== undefined ? { container: entry.container } : {}),
  image,
  ...(expected !== undefined ? { expected } : {}),
  ...(digest !== undefined ? { digest } : {})
})

/** The target's own validation of the plan's changes (nothing applied); a refusal is BadInput with its words. */
const dryRun = (target: TargetShape, plan: RollbackPlan) => {
  // exactly what run would send, digest included
  const changes: Array<ImageChange> = plan.services
    .filter((s) => (s.action === "rollback" || s.action === "forward") && s.app !== undefined && s.target !== undefined)
    .map((s) => imageChangeOf(s, s.target!, s.current, s.targetDigest))
  if (changes.length === 0) return Effect.succeed(undefined)
  return target.apply(changes, { force: false, dryRun: true }).pipe(
    Effect.mapError((error) =>
      error.reason === "Invalid" || error.reason === "Forbidden" || error.reason === "Conflict"
        ? badInput(`${target.displayName} refused the changes in its dry run (nothing was applied): ${error.message}`)
        : failed(`${target.displayName}'s dry run failed (nothing was applied): ${error.message}`)
    )
  )
}
