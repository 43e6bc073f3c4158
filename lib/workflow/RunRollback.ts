/**
 * @module RunRollback — `run` and `undo` on any deployment target ({@link Target}): check, apply
 * the whole set in the fewest changes the target allows (Marathon: ONE deployment), wait with our
 * own timeout, verify every changed workload, optionally revert, and report service by service.
 * Every refusal happens before anything changes; every path after the change was sent ends in a
 * report that says exactly what runs now. Nothing here knows which target it drives.
 */
import { Clock, Effect, Result, Schedule } from "effect"
import { parseImageReference, sameImageText } from "../core/ImageReference.ts"
import type { PlanEntry, RollbackPlan } from "../core/Plan.ts"
import { runRefusals } from "../core/Plan.ts"
import type { ReportService, ReportTarget, RollbackReport, RunOutcome, ServiceOutcome } from "../core/Report.ts"
import type { RollbackFile } from "../core/RollbackFile.ts"
import type { AppliedChange, ChangeProgress, ImageChange, TargetShape, WorkloadVerification } from "../target/Target.ts"
import { Target } from "../target/Target.ts"
import { RETRYABLE_READ_REASONS, TargetError } from "../target/TargetError.ts"
import type { Workload } from "../target/Workload.ts"
import { containerImage } from "../target/Workload.ts"
import { checkCapabilities } from "./Capabilities.ts"
import type { RollbackNotice } from "../notify/Slack.ts"
import { Notifier } from "../notify/Slack.ts"
import { Registry } from "../registry/Registry.ts"
import type { PlanFleetOptions } from "./PlanFleet.ts"
import { imageChangeOf, planFleet } from "./PlanFleet.ts"
import type { RollbackError } from "./RollbackError.ts"
import { badInput, failed, refused } from "./RollbackError.ts"

/** Safety switches and settings of `run`. */
export interface RunOptions extends PlanFleetOptions {
  /** Leave unresolved services as they are instead of refusing. */
  readonly allowPartial?: boolean | undefined
  /** Allow targets newer than what runs. */
  readonly allowForward?: boolean | undefined
  /** Allow tags that now point to another digest than `rollback.json` recorded. */
  readonly allowMovedTags?: boolean | undefined
  /** Override the orchestrator's lock (Marathon: `force=true`); needs the target's `force` capability. */
  readonly force?: boolean | undefined
  /** Revert a failed or timed-out change (Marathon: cancel with rollback) and wait for it; needs the `revert` capability. */
  readonly revertOnFailure?: boolean | undefined
  /** Our own deployment timeout; default 10 minutes. */
  readonly timeoutMs?: number | undefined
  /** Poll interval; default 1 s. */
  readonly pollMs?: number | undefined
  /** Who runs it (report, Slack). */
  readonly user: string
  /** Environment name for the report. */
  readonly environment?: string | null | undefined
  /** The report's `marathon` field (no credentials); default: the target's URL. */
  readonly marathonUrl?: string | undefined
  /** How to reach the target again, for the report (`undo` uses it); never a secret. Default: the target's description. */
  readonly target?: ReportTarget | undefined
  /**
   * Asked after the plan is shown and the checks passed, only when something would change; false
   * stops the run with nothing changed, a failure (nobody can be asked) stops it with that error.
   */
  readonly confirm?: ((plan: RollbackPlan) => Effect.Effect<boolean, RollbackError>) | undefined
  /** Called once with the plan before any check (show it to the operator). */
  readonly onPlan?: ((plan: RollbackPlan) => Effect.Effect<void>) | undefined
  /** Progress of the change. */
  readonly onProgress?: ((progress: ChangeProgress) => void) | undefined
  /** Lines for the operator as the run goes. */
  readonly onStep?: ((line: string) => void) | undefined
  /** Called with the report when the run is interrupted after the deployment started (write it!). */
  readonly onInterrupted?: ((report: RollbackReport) => Effect.Effect<void>) | undefined
}

/** The outcome of `run` / `undo`: the report (always) and the plan it came from. */
export interface RunResult {
  readonly report: RollbackReport
  readonly plan: RollbackPlan
}

const DEFAULT_TIMEOUT_MS = 600_000

/** The shortest poll interval `run`/`undo` accept: anything shorter hammers the orchestrator mid-incident. */
export const MIN_POLL_MS = 100

/**
 * How long the check after a deployment may keep trying to read Marathon (a leader election
 * answers 503 for a while) before the result counts as "could not verify"; retried every
 * {@link VERIFY_RETRY_MS}.
 */
export const VERIFY_BUDGET_MS = 60_000
/** Pause between two attempts of the check after a deployment. */
export const VERIFY_RETRY_MS = 5_000
/** How long reading Marathon's final state for the report may take (all apps at once). */
export const FINAL_STATE_MS = 10_000
/** How long asking whether a deployment is still listed may take. */
const STILL_LISTED_MS = 15_000


/**
 * Refuses wait settings that cannot work, before anything is read or changed: a poll interval
 * under {@link MIN_POLL_MS} (a tight request loop against Marathon) or a timeout that is not
 * positive. `names` are what the caller calls them (`--poll-ms`, or the option names).
 */
export const checkWaitSettings = (
  settings: { readonly pollMs?: number | undefined; readonly timeoutMs?: number | undefined },
  names: { readonly pollMs: string; readonly timeoutMs: string } = { pollMs: "pollMs", timeoutMs: "timeoutMs" }
): Effect.Effect<void, RollbackError> => {
  const { pollMs, timeoutMs } = settings
  if (pollMs !== undefined && !(Number.isFinite(pollMs) && pollMs >= MIN_POLL_MS)) {
    return Effect.fail(badInput(`${names.pollMs} ${pollMs}: expected at least ${MIN_POLL_MS} milliseconds between two checks of the rollout (the default is 1000); a shorter interval floods the orchestrator with requests mid-incident. Nothing was changed.`))
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return Effect.fail(badInput(`${names.timeoutMs} ${timeoutMs}: expected a positive time to wait for the deployment (the default is 10 minutes). Nothing was changed.`))
  }
  return Effect.void
}

/** Rolls the fleet back to a point. Fails only on bad input before anything changed; otherwise returns the report. */
export const runRollback: (file: RollbackFile, pointText: string, options: RunOptions) => Effect.Effect<RunResult, RollbackError, Notifier | Registry | Target> = Effect.fn("runRollback")(function*(file: RollbackFile, pointText: string, options: RunOptions) {
  yield* checkWaitSettings(options)
  yield* checkCapabilities(yield* Target, options)
  const fleet = yield* planFleet(file, pointText, options)
  if (options.onPlan !== undefined) yield* options.onPlan(fleet.plan)
  const plan = fleet.plan
  const refusal = runRefusals(plan, options)[0]
  if (refusal !== undefined) return yield* refused(refusal.message)
  const toChange = plan.services.filter((s) => (s.action === "rollback" || s.action === "forward") && s.app !== undefined && s.target !== undefined)
  if (toChange.length > 0 && (options.allowMovedTags !== true || options.pinDigest === true)) {
    yield* checkTagsDidNotMove(file, toChange, options.pinDigest === true)
  }
  return yield* deployPlan(plan, toChange, fleet.apps, { ...options, kind: "run", point: plan.point, label: plan.label ?? null })
})

/**
 * Re-checks with one HEAD each that the tags about to be deployed still point to the recorded
 * digests — or, with `--pin-digest` (the recorded digest is what gets deployed), that those
 * digests still exist.
 */
const checkTagsDidNotMove = Effect.fn("checkTagsDidNotMove")(function*(file: RollbackFile, entries: ReadonlyArray<PlanEntry>, byDigest: boolean) {
  const registry = yield* Registry
  const repositories = new Map(file.services.map((s) => [s.name, s.repository]))
  const results = yield* Effect.forEach(
    entries,
    (entry) =>
      registry.headDigest(repositories.get(entry.service) ?? "", (byDigest ? entry.targetDigest : entry.targetTag) ?? "").pipe(
        Effect.map((digest) => ({ entry, digest, error: undefined as string | undefined })),
        Effect.catch((error) => Effect.succeed({ entry, digest: undefined as string | undefined, error: error.message }))
      ),
    { concurrency: 8 }
  )
  const moved = results.filter((r) => r.digest !== undefined && r.digest !== r.entry.targetDigest)
  const unreadable = results.filter((r) => r.error !== undefined)
  if (unreadable.length > 0) {
    return yield* refused(
      `cannot confirm that the tags to deploy still exist; nothing was changed:\n${unreadable.map((r) => `  ${r.entry.service} ${r.entry.targetTag ?? ""}: ${r.error ?? ""}`).join("\n")}\nSkip this check with --allow-moved-tags only if you trust the tags.`
    )
  }
  if (moved.length > 0) {
    return yield* refused(
      `tag(s) now point to another image than rollback.json recorded; nothing was changed. Run \`get\` again, deploy the recorded digests with --pin-digest, or accept with --allow-moved-tags:\n${moved.map((r) => `  ${r.entry.service} ${r.entry.targetTag ?? ""}: recorded ${r.entry.targetDigest ?? "?"}, now ${r.digest ?? "?"}`).join("\n")}`
    )
  }
})

interface DeployContext extends RunOptions {
  readonly kind: "run" | "undo"
  readonly point: string | null
  readonly label: string | null
}

/**
 * Why the change is made, for the orchestrator's own history (Kubernetes `kubernetes.io/change-cause`,
 * what `kubectl rollout history` prints): the command, the point and the user.
 */
const changeCause = (context: DeployContext): string =>
  `fleet-rollback ${context.kind} to ${context.label ?? context.point ?? "the report's images"} by ${context.user}`

/** Ids and durations of a run, for its report. */
interface RunIds {
  readonly deploymentId: string | null
  readonly revertDeploymentId: string | null
  readonly deployMs: number
  readonly waitMs: number
}

/** The target's words for messages: its name, what it calls a change and a workload, its hints. */
const wordsOf = (target: TargetShape) => {
  const change = target.changeNoun
  return {
    name: target.displayName,
    change,
    Change: change.charAt(0).toUpperCase() + change.slice(1),
    noun: target.workloadNoun ?? "workload",
    hints: target.hints ?? {}
  }
}

/** Deploys the changing entries of a plan in the fewest changes the target allows; returns the report whatever happens. */
export const deployPlan: (
  plan: RollbackPlan,
  toChange: ReadonlyArray<PlanEntry>,
  appsBefore: ReadonlyMap<string, Workload>,
  context: DeployContext
) => Effect.Effect<RunResult, RollbackError, Notifier | Target> = Effect.fn("deployPlan")(function*(
  plan: RollbackPlan,
  toChange: ReadonlyArray<PlanEntry>,
  appsBefore: ReadonlyMap<string, Workload>,
  context: DeployContext
) {
  const target = yield* Target
  const notifier = yield* Notifier
  const startedAt = yield* Clock.currentTimeMillis
  const { name, change, Change, noun, hints } = wordsOf(target)
  const step = (line: string) => Effect.sync(() => context.onStep?.(line))
  // the digest rollback.json recorded goes along: a target that pins (Swarm) deploys image@digest
  const changes: Array<ImageChange> = toChange.map((s) => imageChangeOf(s, s.target!, s.current, s.targetDigest))
  const changing = new Set(toChange)
  const appList = changes.map((c) => c.workload).join(", ")
  /** The workloads as the last successful check read them (the report's final state comes from there when complete). */
  const lastRead = new Map<string, Workload>()
  const remember = <E>(verified: Result.Result<ReadonlyArray<WorkloadVerification>, E>) => {
    lastRead.clear()
    if (Result.isSuccess(verified)) for (const v of verified.success) if (v.read !== undefined) lastRead.set(v.workload, v.read)
    return verified
  }
  /** Services whose change the target refused (its guard: the workload changed meanwhile), with why. */
  const refusedBy = new Map<string, string>()
  /**
   * One service's line; `after` is what it runs afterwards (by default: the target when deployed,
   * else what ran); `target` is what this run deploys to it (changed services only), so that
   * `undo` recognises it even when what runs afterwards could not be read.
   */
  const serviceLine = (entry: PlanEntry, outcome: ServiceOutcome, problem?: string, after?: string | null): ReportService => ({
    service: entry.service,
    app: entry.app ?? null,
    ...(entry.container !== undefined ? { container: entry.container } : {}),
    action: entry.action,
    before: entry.current ?? null,
    after: after !== undefined
      ? after
      : outcome === "rolled-back" || outcome === "failed" || outcome === "unknown"
      ? entry.target ?? null
      : entry.current ?? null,
    ...(changing.has(entry) && entry.target !== undefined ? { target: entry.target } : {}),
    outcome,
    ...(problem !== undefined ? { problem } : {})
  })
  const untouchedOutcome = (entry: PlanEntry): ServiceOutcome => (entry.action === "unresolved" ? "left-as-is" : "unchanged")
  /** Every service: the changing ones as `line` says (refused ones not started), the others untouched. */
  const lines = (line: (entry: PlanEntry) => ReportService): ReadonlyArray<ReportService> =>
    plan.services.map((s) => {
      if (!changing.has(s)) return serviceLine(s, untouchedOutcome(s))
      const refusal = s.app !== undefined ? refusedBy.get(s.app) : undefined
      return refusal !== undefined ? serviceLine(s, "not-started", refusal) : line(s)
    })
  const report = (
    at: number,
    outcome: RunOutcome,
    message: string,
    services: ReadonlyArray<ReportService>,
    ids: RunIds,
    finalState: RollbackReport["finalState"]
  ): RollbackReport => ({
    schemaVersion: 1,
    kind: context.kind,
    user: context.user,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(at).toISOString(),
    durationMs: at - startedAt,
    point: context.point,
    label: context.label,
    environment: context.environment ?? null,
    marathon: context.marathonUrl ?? target.description.url,
    target: context.target ?? target.description,
    outcome,
    message,
    deploymentId: ids.deploymentId,
    revertDeploymentId: ids.revertDeploymentId,
    durations: { deployMs: ids.deployMs, waitMs: ids.waitMs },
    services,
    finalState
  })
  /**
   * What the target says now about the changed workloads, read all at once within
   * {@link FINAL_STATE_MS}; one that cannot be read in that time is left out rather than shown as stopped.
   */
  const readFinalState = Effect.gen(function*() {
    // what the last check read a moment ago is not asked for again
    const missing = changes.filter((c) => !lastRead.has(c.workload))
    const fresh = missing.length === 0 ? new Map<string, Workload>() : yield* readWorkloads(target, missing)
    return changes.flatMap((c) => {
      const w = lastRead.get(c.workload) ?? fresh.get(c.workload)
      return w === undefined ? [] : [{ app: w.id, image: containerImage(w, c.container) ?? null, instances: w.health.desired, tasksRunning: w.health.running, tasksHealthy: w.health.healthy }]
    })
  })
  /** The report; `targetAnswers: false` (the target gave no answer at the end) skips reading its final state. */
  const finish = Effect.fn("deployPlan.finish")(function*(outcome: RunOutcome, message: string, services: ReadonlyArray<ReportService>, ids: RunIds, targetAnswers = true) {
    const finalState = targetAnswers && changes.length > 0 ? yield* readFinalState : []
    const finishedAt = yield* Clock.currentTimeMillis
    const result = report(finishedAt, outcome, message, services, ids, finalState)
    if (outcome !== "nothing-to-do" && outcome !== "refused") {
      yield* notifier.notify(notice(context, outcome === "succeeded" ? "succeeded" : "failed", services, outcome === "succeeded" ? undefined : message))
    }
    return { report: result, plan } satisfies RunResult
  })
  const noIds: RunIds = { deploymentId: null, revertDeploymentId: null, deployMs: 0, waitMs: 0 }

  if (changes.length === 0) {
    const leftAsIs = plan.services.filter((s) => s.action === "unresolved").length
    const message = leftAsIs > 0
      ? `nothing deployed: ${leftAsIs} service(s) left as they are (no image at the point), the others already run their images as of the point`
      : "nothing to do: every service already runs its image as of the point"
    yield* step(message)
    return yield* finish("nothing-to-do", message, lines((s) => serviceLine(s, untouchedOutcome(s))), noIds)
  }
  if (context.confirm !== undefined && !(yield* context.confirm(plan))) {
    return yield* finish("refused", "not confirmed; nothing was changed", lines((s) => serviceLine(s, "not-started")), noIds)
  }
  yield* notifier.notify(notice(context, "started", plan.services.filter((s) => changing.has(s)).map((s) => ({ ...serviceLine(s, "not-started"), after: s.target ?? null }))))

  yield* step(`Deploying ${changes.length} ${noun}(s) as one ${name} ${change}…`)
  const deployStart = yield* Clock.currentTimeMillis
  // What the interruption handler needs to know: has the target taken the change?
  const progress: { started: boolean; deploymentId: string | null; deployMs: number } = { started: false, deploymentId: null, deployMs: 0 }
  // From the change request on, the target may be changing the fleet: an interruption (Ctrl-C,
  // a killed job) must still leave a report that says so.
  const interrupted = Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    const message = progress.started
      ? `interrupted while ${change} ${progress.deploymentId ?? "(already finished)"} was running: it goes on in ${name} and the fleet may be half rolled back. Check ${appList} in ${name}, or put the previous images back with \`fleet-rollback undo --report <this report>\`.`
      : `interrupted while the ${change} request was being sent: ${name} MAY have started the ${change}. Check ${appList} in ${name} (${hints.checkStarted ?? "do they run the new images?"}); if they do, \`fleet-rollback undo --report <this report>\` puts the previous images back.`
    const services = lines((s) =>
      progress.started
        ? serviceLine(s, "failed", "interrupted before it was verified")
        : serviceLine(s, "unknown", `interrupted while the ${change} request was being sent: may run ${s.target ?? "?"} or still ${s.current ?? "?"}`)
    )
    const ids: RunIds = progress.started
      ? { deploymentId: progress.deploymentId, revertDeploymentId: null, deployMs: progress.deployMs, waitMs: at - deployStart - progress.deployMs }
      : { ...noIds, deployMs: at - deployStart }
    const result = report(at, "failed", message, services, ids, [])
    yield* step(message)
    yield* notifier.notify(notice(context, "failed", result.services, message)).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    if (context.onInterrupted !== undefined) yield* context.onInterrupted(result)
  })
  return yield* Effect.gen(function*() {
    const runTimeoutMs = context.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const deployed = yield* target.apply(changes, {
      force: context.force === true,
      cause: changeCause(context),
      timeoutMs: runTimeoutMs,
      purpose: context.kind,
      ...(context.point !== null ? { point: context.point } : {}),
      ...(context.label !== null ? { label: context.label } : {})
    }).pipe(Effect.result)
    const deployMs = (yield* Clock.currentTimeMillis) - deployStart
    if (Result.isFailure(deployed)) {
      const failure = deployed.failure
      if (failure.reason === "Indeterminate") {
        // The request went out and nobody can say what came of it: say so, service by service.
        const message = `${failure.message} If it did, \`fleet-rollback undo --report <this report>\` puts the previous images back.`
        yield* step(message)
        return yield* finish(
          "failed",
          message,
          lines((s) => serviceLine(s, "unknown", `may run ${s.target ?? "?"} or still ${s.current ?? "?"}: check ${s.app ?? `its ${noun}`} in ${name}`)),
          { ...noIds, deployMs },
          failure.noAnswer !== true
        )
      }
      // Every other failure of apply means that the change was not made (refused, or never sent).
      const message = `${name} did not start the ${change}; nothing was changed: ${failure.message}`
      return yield* finish("failed", message, lines((s) => serviceLine(s, "not-started", failure.message)), { ...noIds, deployMs })
    }
    const applied = deployed.success
    for (const w of applied.workloads) if (w.state === "refused") refusedBy.set(w.workload, w.problem ?? `${name} refused the change: it changed meanwhile`)
    const taken = changes.filter((c) => !refusedBy.has(c.workload))
    const deploymentId = applied.changeIds.length > 0 ? applied.changeIds.join(", ") : null
    Object.assign(progress, { started: true, deploymentId, deployMs })
    const shownId = deploymentId ?? "(finished before it could be seen)"
    if (applied.note !== undefined) yield* step(target.capabilities.watch ? `${applied.note}; following it.` : applied.note)
    if (taken.length === 0) {
      const message = `${name} refused every change (each ${noun} changed since the plan); nothing was changed: ${[...refusedBy.entries()].map(([id, why]) => `${id}: ${why}`).join("; ")}`
      yield* step(message)
      return yield* finish("failed", message, lines((s) => serviceLine(s, "not-started")), { ...noIds, deployMs })
    }
    // --timeout is for the whole run: the wait gets what the request left of it
    const timeoutMs = Math.max(1000, runTimeoutMs - deployMs)
    const waitOptions = { timeoutMs, ...(context.pollMs !== undefined ? { pollMs: context.pollMs } : {}) }
    const waitStart = yield* Clock.currentTimeMillis
    let waited: Result.Result<void, TargetError> = Result.succeed(undefined)
    if (deploymentId !== null) {
      if (target.capabilities.watch) yield* step(`${Change} ${deploymentId} started; waiting for it to finish (timeout ${Math.round(timeoutMs / 1000)} s)…`)
      waited = yield* target.watch(applied, { ...waitOptions, ...(context.onProgress !== undefined ? { onProgress: context.onProgress } : {}) }).pipe(Effect.result)
    }
    const waitMs = (yield* Clock.currentTimeMillis) - waitStart
    // Is the change still in progress? Only the target can say: a timeout of ours, or a poll
    // that failed (503, a lost leader), says nothing about it by itself.
    const running: "yes" | "no" | "unknown" = Result.isSuccess(waited) || deploymentId === null
      ? "no"
      : yield* target.inProgress(applied).pipe(
        Effect.map((listed) => (listed ? "yes" as const : "no" as const)),
        Effect.timeoutOption(STILL_LISTED_MS),
        Effect.map((listed) => (listed._tag === "Some" ? listed.value : "unknown" as const)),
        Effect.orElseSucceed(() => "unknown" as const)
      )
    const stillRunning = running === "yes"
    const verified = remember(yield* verifyWithin(target, taken, appsBefore))
    const problemOf = (entry: PlanEntry): string | undefined => {
      if (Result.isFailure(verified)) return `could not verify: ${verified.failure.message}`
      const v = verified.success.find((x) => x.workload === entry.app)
      return v === undefined ? "not verified" : v.ok ? undefined : v.problem ?? "not healthy"
    }
    const ids: RunIds = { deploymentId, revertDeploymentId: null, deployMs, waitMs }
    const toCheck = toChange.filter((e) => !refusedBy.has(e.app!))
    // verify also fails a workload that a change still touches: healthy means finished too.
    const allHealthy = running !== "yes" && Result.isSuccess(verified) && toCheck.every((e) => problemOf(e) === undefined)
    if (allHealthy && refusedBy.size === 0) {
      // A target that cannot watch (a GitOps commit) ends at its change: say so, with what it said (the pull request to open).
      const message = target.capabilities.watch
        ? `${context.kind === "undo" ? "put back the previous images of" : "rolled back"} ${changes.length} ${noun}(s); all healthy on their target images`
        : `${applied.note ?? `${change} ${shownId} made`}; it declares the ${context.kind === "undo" ? "previous" : "target"} images of ${changes.length} ${noun}(s), checked. ${name} does not wait for the fleet to run them: the run ends here.`
      yield* step(message)
      return yield* finish("succeeded", message, lines((s) => serviceLine(s, "rolled-back")), ids)
    }
    // Nothing seen failing, only nothing seen at all: never revert a rollback that may be healthy.
    if (Result.isFailure(verified) && running !== "yes") {
      const cause = verified.failure.message
      const state = running === "no" ? `${Change} ${shownId} finished` : `${Change} ${shownId} may still be running`
      const message = `could not verify the ${context.kind === "undo" ? "undo" : "rollback"}: ${cause}. ${state}, but whether every ${noun} runs its target image, ` +
        `all instances running and healthy, could not be read from ${name}` +
        `${RETRYABLE_READ_REASONS.has(verified.failure.reason) ? ` (tried for up to ${Math.round(VERIFY_BUDGET_MS / 1000)} s)` : ""}. ` +
        `Nothing was reverted${context.revertOnFailure === true ? " (--revert-on-failure reverts only a failure it has seen)" : ""}. ` +
        `Check ${appList} in ${name} (${hints.checkState ?? "the image it runs, its instances running and healthy"}); ` +
        "if they are not healthy, `fleet-rollback undo --report <this report>` puts the previous images back."
      yield* step(message)
      return yield* finish("failed", message, lines((s) => serviceLine(s, "failed", `could not verify: ${cause}`)), ids, verified.failure.noAnswer !== true)
    }
    const why = stillRunning && Result.isFailure(waited) && waited.failure.reason === "Timeout"
      ? waited.failure.message
      : stillRunning
      ? `${change} ${shownId} is still running${Result.isFailure(waited) ? ` (waiting for it failed: ${waited.failure.message})` : ""}`
      : allHealthy
      ? `${name} refused the change of ${[...refusedBy.keys()].join(", ")} (changed since the plan)`
      : `the ${change} finished but not every ${noun} is healthy on its target image`
    if (context.revertOnFailure === true) {
      yield* step(`${Change} ${shownId} failed (${why}); reverting it…`)
      // not known to have finished: cancel it (a change gone by then falls back to redeploying)
      lastRead.clear()
      const reverted = yield* revertChange(target, { remember, applied, stillRunning: running !== "no", waitOptions, toChange: toCheck, changes: taken, force: context.force === true })
      const how = reverted.note !== undefined ? ` (${reverted.note})` : ""
      const message = reverted.allBack
        ? `rollback failed (${why}); it was reverted${reverted.revertDeploymentId !== null ? ` (${change} ${reverted.revertDeploymentId})` : ""}${how} and every changed ${noun} runs its previous image again, checked running and healthy`
        : `rollback failed (${why}) AND ${reverted.attempted ? `the revert did not bring every ${noun} back` : "the previous images could not be put back"}${how}` +
          `${reverted.problem !== undefined ? ` (${reverted.problem})` : ""}: ` +
          `${reverted.notBack.join(", ")} not verified on the previous image — the fleet may be half rolled back; check in ${name} now`
      yield* step(message)
      return yield* finish(reverted.allBack ? "reverted" : "failed", message, lines((s) => reverted.line(s, serviceLine)), {
        ...ids,
        revertDeploymentId: reverted.revertDeploymentId
      }, !reverted.unanswered)
    }
    const cancel = hints.cancelByHand?.(shownId)
    const message = stillRunning
      ? `rollback failed: ${why}. ${Change} ${shownId} is STILL RUNNING in ${name} and the fleet is half rolled back. Revert it with \`fleet-rollback undo --report <this report>\` or cancel it in ${name}${cancel !== undefined ? ` (${cancel})` : ""}; next time use --revert-on-failure.`
      : `rollback failed: ${why}. The fleet is half rolled back: see each service below; \`fleet-rollback undo --report <this report>\` puts the previous images back.`
    yield* step(message)
    return yield* finish(
      "failed",
      message,
      lines((s) => serviceLine(s, problemOf(s) === undefined && !stillRunning ? "rolled-back" : "failed", problemOf(s) ?? (stillRunning ? why : undefined))),
      ids
    )
  }).pipe(Effect.onInterrupt(() => interrupted))
})

/**
 * The check after a change ({@link TargetShape.verify}), tried again while the target cannot be
 * read (503 in a leader election, no answer) for up to {@link VERIFY_BUDGET_MS}. A failure means
 * "could not verify", never "unhealthy"; `noAnswer` says the target gave no answer at all.
 */
const verifyWithin = (target: TargetShape, changes: ReadonlyArray<ImageChange>, before: ReadonlyMap<string, Workload>) => {
  // the last failure seen while trying, so that running out of time says what the target answered
  let last: TargetError | undefined
  // suspended: each try asks the target again
  return Effect.suspend(() => target.verify(changes, before)).pipe(
    Effect.tapError((e) => Effect.sync(() => void (last = e))),
    Effect.retry({ while: (e) => RETRYABLE_READ_REASONS.has(e.reason), schedule: Schedule.spaced(VERIFY_RETRY_MS) }),
    Effect.timeoutOrElse({
      duration: VERIFY_BUDGET_MS,
      orElse: () =>
        Effect.fail(
          last === undefined || last.noAnswer === true
            ? new TargetError({ reason: "Unreachable", noAnswer: true, message: `${target.displayName} did not answer within ${Math.round(VERIFY_BUDGET_MS / 1000)} s` })
            : new TargetError({ ...last, message: `${target.displayName} could not be read for ${Math.round(VERIFY_BUDGET_MS / 1000)} s; its last answer: ${last.message}` })
        )
    }),
    Effect.result
  )
}

/** What the revert found for one service. */
interface RevertOutcome {
  readonly ok: boolean
  readonly problem: string
  readonly image: string | null
}

/** The workloads of `changes` as the target shows them now, read all at once within FINAL_STATE_MS (unreadable ones left out). */
const readWorkloads = (target: TargetShape, changes: ReadonlyArray<ImageChange>) =>
  Effect.gen(function*() {
    const found = new Map<string, Workload>()
    yield* Effect.forEach(changes, (c) =>
      target.getWorkload(c.workload).pipe(Effect.tap((w) => Effect.sync(() => found.set(c.workload, w))), Effect.ignore), { concurrency: 16, discard: true }).pipe(
        Effect.timeoutOption(FINAL_STATE_MS)
      )
    return found
  })

/**
 * `--revert-on-failure`: the target puts the previous images back ({@link TargetShape.revert}:
 * Marathon cancels a running deployment with its rollback, or deploys the previous images), the
 * workflow waits for that, and then looks at every workload: a service counts as reverted only
 * when it runs its previous image again with every instance running (and healthy) and no new
 * failure. `note` says how it went when not as planned.
 */
const revertChange = Effect.fn("revertChange")(function*(target: TargetShape, args: {
  /** Keeps what the check read, for the report's final state. */
  readonly remember: <E>(verified: Result.Result<ReadonlyArray<WorkloadVerification>, E>) => Result.Result<ReadonlyArray<WorkloadVerification>, E>
  readonly applied: AppliedChange
  readonly stillRunning: boolean
  readonly waitOptions: { readonly timeoutMs: number; readonly pollMs?: number }
  readonly toChange: ReadonlyArray<PlanEntry>
  readonly changes: ReadonlyArray<ImageChange>
  readonly force: boolean
}) {
  const { name, change } = wordsOf(target)
  const back: Array<ImageChange> = args.toChange.flatMap((s) =>
    s.current !== undefined ? [imageChangeOf(s, s.current, s.target)] : []
  )
  // Failures up to now belong to the failed change; only new ones count against the revert.
  const markers = yield* readWorkloads(target, args.changes)
  const started = yield* target.revert({ applied: args.applied, stillInProgress: args.stillRunning, back, force: args.force }).pipe(Effect.result)
  const revertApplied = Result.isSuccess(started) ? started.success.applied : undefined
  const revertDeploymentId = revertApplied !== undefined && revertApplied.changeIds.length > 0 ? revertApplied.changeIds.join(", ") : null
  const waited = revertApplied !== undefined && revertDeploymentId !== null ? yield* target.watch(revertApplied, args.waitOptions).pipe(Effect.result) : Result.succeed(undefined)
  const problem = Result.isFailure(started)
    ? `the revert could not be started: ${started.failure.message}`
    : Result.isFailure(waited)
    ? `the revert ${change} ${revertDeploymentId ?? ""} did not finish: ${waited.failure.message}`
    : undefined
  // Whatever the target answered, look at what runs now.
  const verified = args.remember(yield* verifyWithin(target, back, markers))
  const outcomeOf = (s: PlanEntry): RevertOutcome => {
    if (s.current === undefined) return { ok: false, problem: `its previous image is unknown, so it could not be put back or checked: check it in ${name}`, image: null }
    if (Result.isFailure(verified)) return { ok: false, problem: `could not check the revert: ${verified.failure.message}`, image: null }
    const v: WorkloadVerification | undefined = verified.success.find((x) => x.workload === s.app)
    if (v?.ok === true) return { ok: true, problem: "the rollback failed; back on the previous image, checked running and healthy", image: s.current }
    return { ok: false, problem: `not back on ${s.current}: ${v?.problem ?? "not verified"}`, image: v?.image ?? null }
  }
  const notBack = args.toChange.filter((s) => !outcomeOf(s).ok).map((s) => s.service)
  const note = Result.isSuccess(started) ? started.success.note : undefined
  return {
    allBack: notBack.length === 0,
    notBack,
    problem,
    /** False when no revert could even be started. */
    attempted: Result.isSuccess(started),
    note,
    /** The target gave no answer to the last check. */
    unanswered: Result.isFailure(verified) && verified.failure.noAnswer === true,
    revertDeploymentId,
    /** The report line of a changed service, from what was found. */
    line: (s: PlanEntry, serviceLine: (entry: PlanEntry, outcome: ServiceOutcome, problem?: string, after?: string | null) => ReportService): ReportService => {
      const o = outcomeOf(s)
      return serviceLine(s, o.ok ? "reverted" : "failed", o.problem, o.image)
    }
  }
})


const notice = (context: DeployContext, stage: RollbackNotice["stage"], services: ReadonlyArray<ReportService>, detail?: string): RollbackNotice => ({
  stage,
  kind: context.kind,
  point: context.label ?? context.point,
  environment: context.environment ?? null,
  user: context.user,
  services: services.filter((s) => s.outcome !== "unchanged" && s.outcome !== "left-as-is").map((s) => ({ service: s.service, from: s.before, to: s.action === "unresolved" ? null : s.after ?? s.before, outcome: stage === "started" ? undefined : s.outcome })),
  ...(detail !== undefined ? { detail } : {})
})

/** Options of undo. */
export interface UndoOptions extends Omit<RunOptions, "allowPartial" | "allowForward" | "allowMovedTags" | "pinDigest" | "badTags" | "timeZone" | "scope"> {}

/** A reason an image reference from a report cannot be deployed, or undefined when it is a clean, parseable reference. */
const badReference = (reference: string): string | undefined => {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(reference)) return "it contains control characters (a newline, an escape sequence)"
  if (reference.trim() !== reference || reference === "") return "it is empty or has spaces around it"
  if (parseImageReference(reference) === undefined) return "it is not an image reference (host/repository:tag[@sha256:…])"
  return undefined
}

/**
 * Refuses a report whose image references cannot be trusted (reports are archived build artifacts):
 * every `before`, `after` and `target` of a service undo would touch must be a clean, parseable
 * image reference. BadInput naming the service and field; nothing is read or changed.
 */
export const checkReportImages = (report: Pick<RollbackReport, "services">): Effect.Effect<void, RollbackError> => {
  const problems: Array<string> = []
  for (const [i, s] of report.services.entries()) {
    for (const field of ["before", "after", "target"] as const) {
      const value = s[field]
      if (value === null || value === undefined) continue
      const why = badReference(value)
      if (why !== undefined) problems.push(`  services[${i}] (${JSON.stringify(s.service)}).${field} ${JSON.stringify(value)}: ${why}`)
    }
  }
  return problems.length === 0
    ? Effect.void
    : Effect.fail(badInput(`the report holds image references that cannot be deployed; nothing was changed. Use a report written by fleet-rollback, unedited:\n${problems.join("\n")}`))
}

/**
 * Puts back what ran before a rollback, from its report: every service the report changed
 * returns to its `before` image, with the same checks (a service whose workload now runs something
 * else than its `before`, its `after` or the `target` the run deployed is refused: someone
 * changed it since). Every image reference of the report is checked first ({@link checkReportImages}).
 */
export const undoRollback: (report: RollbackReport, options: UndoOptions) => Effect.Effect<RunResult, RollbackError, Notifier | Target> = Effect.fn("undoRollback")(function*(report: RollbackReport, options: UndoOptions) {
  yield* checkWaitSettings(options)
  yield* checkReportImages(report)
  const target = yield* Target
  yield* checkCapabilities(target, options)
  const { noun } = wordsOf(target)
  // Every service the run meant to change, whatever the report says came of it (a failed, an
  // interrupted or an unknown change may have changed it): the check below tells from what runs.
  const candidates = report.services.filter((s) => s.app !== null && s.before !== null && (s.action === "rollback" || s.action === "forward") && s.outcome !== "unchanged" && s.outcome !== "left-as-is")
  const workloads = new Map<string, Workload>()
  const entries: Array<PlanEntry> = []
  const drifted: Array<string> = []
  // read all at once (in the report's order; the first that cannot be read stops the undo)
  const read = yield* Effect.forEach(candidates, (s) =>
    target.getWorkload(s.app!).pipe(
      Effect.mapError((e) =>
        e.reason === "Unauthorized" || e.reason === "Forbidden"
          ? badInput(e.message)
          : failed(`cannot read ${noun} ${s.app!} for undo; nothing was changed: ${e.message}`)
      )
    ), { concurrency: 16 })
  for (const [i, s] of candidates.entries()) {
    const workload = read[i]!
    workloads.set(workload.id, workload)
    const now = containerImage(workload, s.container)
    const container = s.container !== undefined ? { container: s.container } : {}
    if (sameImageText(now, s.before)) {
      entries.push({ service: s.service, app: workload.id, ...container, current: now, target: s.before!, action: "unchanged" })
    } else if (sameImageText(now, s.after) || sameImageText(now, s.target)) {
      entries.push({ service: s.service, app: workload.id, ...container, current: now, target: s.before!, action: "rollback" })
    } else {
      const said = [s.after !== null ? `runs ${s.after} afterwards` : undefined, s.target !== undefined && s.target !== s.after ? `deployed ${s.target}` : undefined]
        .filter((x) => x !== undefined)
      drifted.push(`  ${s.service} (${workload.id}): the report says it ran ${s.before} before${said.length > 0 ? ` and ${said.join(", ")}` : ""}; it runs ${now ?? "(none)"} now`)
    }
  }
  if (drifted.length > 0) {
    return yield* refused(`the fleet changed since that rollback; undo would overwrite someone's change, so nothing was changed:\n${drifted.join("\n")}\nUse \`plan\`/\`run\` with a point instead.`)
  }
  const plan: RollbackPlan = { point: report.point ?? "", label: `undo of ${report.label ?? report.point ?? "rollback"}`, services: entries }
  if (options.onPlan !== undefined) yield* options.onPlan(plan)
  return yield* deployPlan(plan, entries.filter((e) => e.action === "rollback"), workloads, { ...options, kind: "undo", point: report.point, label: plan.label ?? null })
})
