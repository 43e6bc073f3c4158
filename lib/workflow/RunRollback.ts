/**
 * @module RunRollback — `run` and `undo`: check, deploy the whole set as ONE Marathon
 * deployment, wait with our own timeout, verify every changed app, optionally revert, and
 * report service by service. Every refusal happens before anything changes; every path after
 * the deployment started ends in a report that says exactly what runs now.
 */
import { Clock, Effect, Result, Schedule } from "effect"
import { parseImageReference, sameImage } from "../core/ImageReference.ts"
import type { PlanEntry, RollbackPlan } from "../core/Plan.ts"
import type { ReportService, ReportTarget, RollbackReport, RunOutcome, ServiceOutcome } from "../core/Report.ts"
import type { RollbackFile } from "../core/RollbackFile.ts"
import type { AppVerification, DeploymentProgress, ImageChange, MarathonApp } from "../targets/marathon/Marathon.ts"
import { lastFailureMarker, Marathon, MarathonError } from "../targets/marathon/Marathon.ts"
import type { RollbackNotice } from "../notify/Slack.ts"
import { Notifier } from "../notify/Slack.ts"
import { Registry } from "../registry/Registry.ts"
import type { PlanFleetOptions } from "./PlanFleet.ts"
import { planFleet } from "./PlanFleet.ts"
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
  /** Override Marathon's deployment lock (`force=true`). */
  readonly force?: boolean | undefined
  /** Cancel a failed or timed-out deployment with Marathon's rollback and wait for the revert. */
  readonly revertOnFailure?: boolean | undefined
  /** Our own deployment timeout; default 10 minutes. */
  readonly timeoutMs?: number | undefined
  /** Poll interval; default 1 s. */
  readonly pollMs?: number | undefined
  /** Who runs it (report, Slack). */
  readonly user: string
  /** Environment name for the report. */
  readonly environment?: string | null | undefined
  /** Marathon URL for the report (no credentials). */
  readonly marathonUrl: string
  /** How to reach that Marathon again, for the report (`undo` uses it); never a secret. */
  readonly target?: ReportTarget | undefined
  /**
   * Asked after the plan is shown and the checks passed, only when something would change; false
   * stops the run with nothing changed, a failure (nobody can be asked) stops it with that error.
   */
  readonly confirm?: ((plan: RollbackPlan) => Effect.Effect<boolean, RollbackError>) | undefined
  /** Called once with the plan before any check (show it to the operator). */
  readonly onPlan?: ((plan: RollbackPlan) => Effect.Effect<void>) | undefined
  /** Deployment progress. */
  readonly onProgress?: ((progress: DeploymentProgress) => void) | undefined
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

/** The shortest poll interval `run`/`undo` accept: anything shorter hammers Marathon mid-incident. */
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

/** Read failures worth another try within the budget: Marathon busy, leaderless or unreachable. */
const RETRYABLE_READS: ReadonlySet<MarathonError["reason"]> = new Set(["Unavailable", "Unreachable", "BadResponse"])

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
    return Effect.fail(badInput(`${names.pollMs} ${pollMs}: expected at least ${MIN_POLL_MS} milliseconds between two polls of Marathon (the default is 1000); a shorter interval floods Marathon with requests mid-incident. Nothing was changed.`))
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return Effect.fail(badInput(`${names.timeoutMs} ${timeoutMs}: expected a positive time to wait for the deployment (the default is 10 minutes). Nothing was changed.`))
  }
  return Effect.void
}

/** Rolls the fleet back to a point. Fails only on bad input before anything changed; otherwise returns the report. */
export const runRollback = Effect.fn("runRollback")(function*(file: RollbackFile, pointText: string, options: RunOptions) {
  yield* checkWaitSettings(options)
  const fleet = yield* planFleet(file, pointText, options)
  if (options.onPlan !== undefined) yield* options.onPlan(fleet.plan)
  const plan = fleet.plan
  const unresolved = plan.services.filter((s) => s.action === "unresolved")
  const forward = plan.services.filter((s) => s.action === "forward")
  if (unresolved.length > 0 && options.allowPartial !== true) {
    return yield* refused(
      `${unresolved.length} service(s) have no image at or before ${plan.point}; nothing was changed. Roll back with the others left as they are with --allow-partial, or pick a later point:\n${unresolved.map((s) => `  ${s.service}: ${s.reason ?? ""}`).join("\n")}`
    )
  }
  if (forward.length > 0 && options.allowForward !== true) {
    return yield* refused(
      `${forward.length} service(s) would move FORWARD to a newer image than runs now; nothing was changed. Allow it with --allow-forward:\n${forward.map((s) => `  ${s.service}: ${s.current ?? "(none)"} → ${s.target ?? ""}`).join("\n")}`
    )
  }
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

/** Ids and durations of a run, for its report. */
interface RunIds {
  readonly deploymentId: string | null
  readonly revertDeploymentId: string | null
  readonly deployMs: number
  readonly waitMs: number
}

/** Deploys the changing entries of a plan as one deployment; returns the report whatever happens. */
export const deployPlan = Effect.fn("deployPlan")(function*(
  plan: RollbackPlan,
  toChange: ReadonlyArray<PlanEntry>,
  appsBefore: ReadonlyMap<string, MarathonApp>,
  context: DeployContext
) {
  const marathon = yield* Marathon
  const notifier = yield* Notifier
  const startedAt = yield* Clock.currentTimeMillis
  const step = (line: string) => Effect.sync(() => context.onStep?.(line))
  const changes: Array<ImageChange> = toChange.map((s) => ({ appId: s.app!, image: s.target! }))
  const changing = new Set(toChange)
  const appList = changes.map((c) => c.appId).join(", ")
  /**
   * One service's line; `after` is what it runs afterwards (by default: the target when deployed,
   * else what ran); `target` is what this run deploys to it (changed services only), so that
   * `undo` recognises it even when what runs afterwards could not be read.
   */
  const serviceLine = (entry: PlanEntry, outcome: ServiceOutcome, problem?: string, after?: string | null): ReportService => ({
    service: entry.service,
    app: entry.app ?? null,
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
  /** Every service: the changing ones as `line` says, the others untouched. */
  const lines = (line: (entry: PlanEntry) => ReportService): ReadonlyArray<ReportService> =>
    plan.services.map((s) => (changing.has(s) ? line(s) : serviceLine(s, untouchedOutcome(s))))
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
    marathon: context.marathonUrl,
    ...(context.target !== undefined ? { target: context.target } : {}),
    outcome,
    message,
    deploymentId: ids.deploymentId,
    revertDeploymentId: ids.revertDeploymentId,
    durations: { deployMs: ids.deployMs, waitMs: ids.waitMs },
    services,
    finalState
  })
  /**
   * What Marathon says now about the changed apps, read all at once within {@link FINAL_STATE_MS};
   * an app that cannot be read in that time is left out rather than shown as stopped.
   */
  const readFinalState = Effect.gen(function*() {
    const found: Array<RollbackReport["finalState"][number] | undefined> = changes.map(() => undefined)
    yield* Effect.forEach(changes, (c, i) =>
      marathon.getApp(c.appId).pipe(
        Effect.tap((app) =>
          Effect.sync(() => {
            found[i] = { app: app.id, image: app.image ?? null, instances: app.instances, tasksRunning: app.tasksRunning, tasksHealthy: app.tasksHealthy }
          })
        ),
        Effect.ignore
      ), { concurrency: 16, discard: true }).pipe(Effect.timeoutOption(FINAL_STATE_MS))
    return found.filter((a) => a !== undefined)
  })
  /** The report; `marathonAnswers: false` (Marathon gave no answer at the end) skips reading its final state. */
  const finish = Effect.fn("deployPlan.finish")(function*(outcome: RunOutcome, message: string, services: ReadonlyArray<ReportService>, ids: RunIds, marathonAnswers = true) {
    const finalState = marathonAnswers && changes.length > 0 ? yield* readFinalState : []
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
  const previousFailures: Record<string, string | undefined> = {}
  for (const c of changes) previousFailures[c.appId] = lastFailureMarker(appsBefore.get(c.appId) ?? { lastTaskFailure: undefined })

  yield* step(`Deploying ${changes.length} app(s) as one Marathon deployment…`)
  const deployStart = yield* Clock.currentTimeMillis
  // What the interruption handler needs to know: has Marathon taken the deployment?
  const progress: { started: boolean; deploymentId: string | null; deployMs: number } = { started: false, deploymentId: null, deployMs: 0 }
  // From the deployment request on, Marathon may be changing the fleet: an interruption (Ctrl-C,
  // a killed job) must still leave a report that says so.
  const interrupted = Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    const message = progress.started
      ? `interrupted while deployment ${progress.deploymentId ?? "(already finished)"} was running: it goes on in Marathon and the fleet may be half rolled back. Check ${appList} in Marathon, or put the previous images back with \`fleet-rollback undo --report <this report>\`.`
      : `interrupted while the deployment request was being sent: Marathon MAY have started the deployment. Check ${appList} in Marathon (do they run the new images? GET /v2/deployments); if they do, \`fleet-rollback undo --report <this report>\` puts the previous images back.`
    const services = lines((s) =>
      progress.started
        ? serviceLine(s, "failed", "interrupted before it was verified")
        : serviceLine(s, "unknown", `interrupted while the deployment request was being sent: may run ${s.target ?? "?"} or still ${s.current ?? "?"}`)
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
    const deployed = yield* marathon.deployImages(changes, { force: context.force === true }).pipe(Effect.result)
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
          lines((s) => serviceLine(s, "unknown", `may run ${s.target ?? "?"} or still ${s.current ?? "?"}: check ${s.app ?? "its app"} in Marathon`)),
          { ...noIds, deployMs },
          failure.noAnswer !== true
        )
      }
      // Every other failure of deployImages means that Marathon did not take the change.
      const message = `Marathon did not take the deployment; nothing was changed: ${failure.message}`
      return yield* finish("failed", message, lines((s) => serviceLine(s, "not-started", failure.message)), { ...noIds, deployMs })
    }
    const started = deployed.success
    const deploymentId = started.deploymentId ?? null
    Object.assign(progress, { started: true, deploymentId, deployMs })
    const shownId = deploymentId ?? "(finished before it could be seen)"
    if (started.answerLost !== undefined) yield* step(`${started.answerLost}; following it.`)
    const timeoutMs = context.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const waitOptions = { timeoutMs, ...(context.pollMs !== undefined ? { pollMs: context.pollMs } : {}) }
    const waitStart = yield* Clock.currentTimeMillis
    let waited: Result.Result<void, MarathonError> = Result.succeed(undefined)
    if (deploymentId !== null) {
      yield* step(`Deployment ${deploymentId} started; waiting for it to finish (timeout ${Math.round(timeoutMs / 1000)} s)…`)
      waited = yield* marathon.waitForDeployment(deploymentId, {
        ...waitOptions,
        ...(context.onProgress !== undefined ? { onProgress: context.onProgress } : {}),
        apps: changes.map((c) => c.appId)
      }).pipe(Effect.result)
    }
    const waitMs = (yield* Clock.currentTimeMillis) - waitStart
    // Is the deployment still running? Only Marathon's list can say: a timeout of ours, or a poll
    // that failed (503, a lost leader), says nothing about it by itself.
    const running: "yes" | "no" | "unknown" = Result.isSuccess(waited) || deploymentId === null
      ? "no"
      : yield* marathon.deployments.pipe(
        Effect.map((ds) => (ds.some((d) => d.id === deploymentId) ? "yes" as const : "no" as const)),
        Effect.timeoutOption(STILL_LISTED_MS),
        Effect.map((listed) => (listed._tag === "Some" ? listed.value : "unknown" as const)),
        Effect.orElseSucceed(() => "unknown" as const)
      )
    const stillRunning = running === "yes"
    const verified = yield* verifyWithin(changes, previousFailures)
    const problemOf = (entry: PlanEntry): string | undefined => {
      if (Result.isFailure(verified)) return `could not verify: ${verified.failure.message}`
      const v = verified.success.find((x) => x.appId === entry.app)
      return v === undefined ? "not verified" : v.ok ? undefined : v.problem ?? "not healthy"
    }
    const ids: RunIds = { deploymentId, revertDeploymentId: null, deployMs, waitMs }
    // verifyApps also fails an app that a deployment still touches: healthy means finished too.
    const allHealthy = running !== "yes" && Result.isSuccess(verified) && toChange.every((e) => problemOf(e) === undefined)
    if (allHealthy) {
      const message = `${context.kind === "undo" ? "put back the previous images of" : "rolled back"} ${changes.length} app(s); all healthy on their target images`
      yield* step(message)
      return yield* finish("succeeded", message, lines((s) => serviceLine(s, "rolled-back")), ids)
    }
    // Nothing seen failing, only nothing seen at all: never revert a rollback that may be healthy.
    if (Result.isFailure(verified) && running !== "yes") {
      const cause = verified.failure.message
      const state = running === "no" ? `Deployment ${shownId} finished` : `Deployment ${shownId} may still be running`
      const message = `could not verify the ${context.kind === "undo" ? "undo" : "rollback"}: ${cause}. ${state}, but whether every app runs its target image, ` +
        `all instances running and healthy, could not be read from Marathon (tried for up to ${Math.round(VERIFY_BUDGET_MS / 1000)} s). ` +
        `Nothing was reverted${context.revertOnFailure === true ? " (--revert-on-failure reverts only a failure it has seen)" : ""}. ` +
        `Check ${appList} in Marathon (container.docker.image, tasks running and healthy, GET /v2/deployments); ` +
        "if they are not healthy, `fleet-rollback undo --report <this report>` puts the previous images back."
      yield* step(message)
      return yield* finish("failed", message, lines((s) => serviceLine(s, "failed", `could not verify: ${cause}`)), ids, verified.failure.noAnswer !== true)
    }
    const why = stillRunning && Result.isFailure(waited) && waited.failure.reason === "DeploymentTimeout"
      ? waited.failure.message
      : stillRunning
      ? `deployment ${shownId} is still running${Result.isFailure(waited) ? ` (waiting for it failed: ${waited.failure.message})` : ""}`
      : "the deployment finished but not every app is healthy on its target image"
    if (context.revertOnFailure === true) {
      yield* step(`Deployment ${shownId} failed (${why}); reverting it…`)
      // not known to have finished: cancel it (a deployment gone by then falls back to redeploying)
      const reverted = yield* revertDeployment({ deploymentId, stillRunning: running !== "no", why, waitOptions, toChange, changes, force: context.force === true })
      const how = reverted.note !== undefined ? ` (${reverted.note})` : ""
      const message = reverted.allBack
        ? `rollback failed (${why}); it was reverted${reverted.revertDeploymentId !== null ? ` (deployment ${reverted.revertDeploymentId})` : ""}${how} and every changed app runs its previous image again, checked running and healthy`
        : `rollback failed (${why}) AND ${reverted.attempted ? "the revert did not bring every app back" : "the previous images could not be put back"}${how}` +
          `${reverted.problem !== undefined ? ` (${reverted.problem})` : ""}: ` +
          `${reverted.notBack.join(", ")} not verified on the previous image — the fleet may be half rolled back; check in Marathon now`
      yield* step(message)
      return yield* finish(reverted.allBack ? "reverted" : "failed", message, lines((s) => reverted.line(s, serviceLine)), {
        ...ids,
        revertDeploymentId: reverted.revertDeploymentId
      }, !reverted.unanswered)
    }
    const message = stillRunning
      ? `rollback failed: ${why}. Deployment ${shownId} is STILL RUNNING in Marathon and the fleet is half rolled back. Revert it with \`fleet-rollback undo --report <this report>\` or cancel it in Marathon (DELETE /v2/deployments/${shownId}); next time use --revert-on-failure.`
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
 * The check after a deployment ({@link Marathon.verifyApps}), tried again while Marathon cannot be
 * read (503 in a leader election, no answer) for up to {@link VERIFY_BUDGET_MS}. A failure means
 * "could not verify", never "unhealthy"; `noAnswer` says Marathon gave no answer at all.
 */
const verifyWithin = (changes: ReadonlyArray<ImageChange>, previousFailures: Record<string, string | undefined>) =>
  Effect.gen(function*() {
    const marathon = yield* Marathon
    // suspended: each try asks Marathon again
    return yield* Effect.suspend(() => marathon.verifyApps(changes, { previousFailures })).pipe(
      Effect.retry({ while: (e) => RETRYABLE_READS.has(e.reason), schedule: Schedule.spaced(VERIFY_RETRY_MS) }),
      Effect.timeoutOrElse({
        duration: VERIFY_BUDGET_MS,
        orElse: () =>
          Effect.fail(
            new MarathonError({ reason: "Unreachable", noAnswer: true, message: `Marathon did not answer within ${Math.round(VERIFY_BUDGET_MS / 1000)} s` })
          )
      }),
      Effect.result
    )
  })

/** What the revert found for one service. */
interface RevertOutcome {
  readonly ok: boolean
  readonly problem: string
  readonly image: string | null
}

/**
 * `--revert-on-failure`: puts the previous images back — a deployment still running is cancelled
 * with Marathon's rollback (`DELETE /v2/deployments/{id}`); after a finished one, or when the
 * cancel finds it gone without a revert (it finished meanwhile), the previous images are deployed
 * (with force only when the user asked for it) — waits for that, and then looks at every app: a
 * service counts as reverted only when it runs its previous image again with every instance
 * running (and healthy) and no new task failure. `note` says how it went when not as planned.
 */
const revertDeployment = Effect.fn("revertDeployment")(function*(args: {
  readonly deploymentId: string | null
  readonly stillRunning: boolean
  readonly why: string
  readonly waitOptions: { readonly timeoutMs: number; readonly pollMs?: number }
  readonly toChange: ReadonlyArray<PlanEntry>
  readonly changes: ReadonlyArray<ImageChange>
  readonly force: boolean
}) {
  const marathon = yield* Marathon
  const back: Array<ImageChange> = args.toChange.flatMap((s) => (s.current !== undefined ? [{ appId: s.app!, image: s.current }] : []))
  // Task failures up to now belong to the failed deployment; only new ones count against the revert.
  /** The apps as Marathon shows them now, read all at once within FINAL_STATE_MS (unreadable ones left out). */
  const readApps = Effect.gen(function*() {
    const found = new Map<string, MarathonApp>()
    yield* Effect.forEach(args.changes, (c) =>
      marathon.getApp(c.appId).pipe(Effect.tap((app) => Effect.sync(() => found.set(c.appId, app))), Effect.ignore), { concurrency: 16, discard: true }).pipe(
        Effect.timeoutOption(FINAL_STATE_MS)
      )
    return found
  })
  const markers: Record<string, string | undefined> = {}
  for (const [appId, app] of yield* readApps) markers[appId] = lastFailureMarker(app)
  const notes: Array<string> = []
  /** Deploys the previous images of the apps not already back on them. */
  const redeployPrevious = Effect.gen(function*() {
    const now = yield* readApps
    const pending = back.filter((c) => !same(now.get(c.appId)?.image, c.image))
    if (pending.length === 0) {
      notes.push("every app already ran its previous image again, so nothing was deployed")
      return { deploymentId: undefined as string | undefined }
    }
    const d = yield* marathon.deployImages(pending, { force: args.force })
    notes.push(`the previous images were deployed again${d.deploymentId !== undefined ? ` as deployment ${d.deploymentId}` : ""}`)
    if (d.answerLost !== undefined) notes.push(d.answerLost)
    return { deploymentId: d.deploymentId }
  })
  const started = yield* (args.stillRunning && args.deploymentId !== null
    ? marathon.cancelDeployment(args.deploymentId, { revert: true }).pipe(
      // it ended between our timeout and the cancel
      Effect.catchIf((e) => e.reason === "NotFound", () =>
        Effect.sync(() => {
          notes.push(`deployment ${args.deploymentId ?? ""} had finished before the cancel`)
          return {} as { readonly revertDeploymentId?: string; readonly answerLost?: string }
        })),
      Effect.flatMap((r) => {
        if (r.answerLost !== undefined) notes.push(r.answerLost)
        if (r.revertDeploymentId !== undefined) return Effect.succeed({ deploymentId: r.revertDeploymentId as string | undefined })
        // Gone without a revert (finished before the cancel): nothing was reverted, so put the previous images back.
        return redeployPrevious
      })
    )
    : redeployPrevious).pipe(Effect.result)
  const revertDeploymentId = Result.isSuccess(started) ? started.success.deploymentId ?? null : null
  const waited = revertDeploymentId !== null ? yield* marathon.waitForDeployment(revertDeploymentId, args.waitOptions).pipe(Effect.result) : Result.succeed(undefined)
  const problem = Result.isFailure(started)
    ? `the revert could not be started: ${started.failure.message}`
    : Result.isFailure(waited)
    ? `the revert deployment ${revertDeploymentId ?? ""} did not finish: ${waited.failure.message}`
    : undefined
  // Whatever Marathon answered, look at what runs now.
  const verified = yield* verifyWithin(back, markers)
  const outcomeOf = (s: PlanEntry): RevertOutcome => {
    if (s.current === undefined) return { ok: false, problem: "its previous image is unknown, so it could not be put back or checked: check it in Marathon", image: null }
    if (Result.isFailure(verified)) return { ok: false, problem: `could not check the revert: ${verified.failure.message}`, image: null }
    const v: AppVerification | undefined = verified.success.find((x) => x.appId === s.app)
    if (v?.ok === true) return { ok: true, problem: "the rollback failed; back on the previous image, checked running and healthy", image: s.current }
    return { ok: false, problem: `not back on ${s.current}: ${v?.problem ?? "not verified"}`, image: v?.image ?? null }
  }
  const notBack = args.toChange.filter((s) => !outcomeOf(s).ok).map((s) => s.service)
  return {
    allBack: notBack.length === 0,
    notBack,
    problem,
    /** False when no revert could even be started. */
    attempted: Result.isSuccess(started),
    note: notes.length > 0 ? notes.join("; ") : undefined,
    /** Marathon gave no answer to the last check. */
    unanswered: Result.isFailure(verified) && verified.failure.noAnswer === true,
    revertDeploymentId,
    /** The report line of a changed service, from what was found. */
    line: (s: PlanEntry, serviceLine: (entry: PlanEntry, outcome: ServiceOutcome, problem?: string, after?: string | null) => ReportService): ReportService => {
      const o = outcomeOf(s)
      return serviceLine(s, o.ok ? "reverted" : "failed", o.problem, o.image)
    }
  }
})

/** True when two image references name the same image ({@link sameImage}); unparsable ones only when equal. */
const same = (a: string | null | undefined, b: string | null | undefined): boolean => {
  if (a == null || b == null) return false
  const x = parseImageReference(a)
  const y = parseImageReference(b)
  return x !== undefined && y !== undefined ? sameImage(x, y) : a === b
}

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

/**
 * Puts back what ran before a rollback, from its report: every service the report changed
 * returns to its `before` image, with the same checks (a service whose app now runs something
 * else than its `before`, its `after` or the `target` the run deployed is refused: someone
 * changed it since).
 */
export const undoRollback = Effect.fn("undoRollback")(function*(report: RollbackReport, options: UndoOptions) {
  yield* checkWaitSettings(options)
  const marathon = yield* Marathon
  // Every service the run meant to change, whatever the report says came of it (a failed, an
  // interrupted or an unknown deployment may have changed it): the check below tells from what runs.
  const candidates = report.services.filter((s) => s.app !== null && s.before !== null && (s.action === "rollback" || s.action === "forward") && s.outcome !== "unchanged" && s.outcome !== "left-as-is")
  const apps = new Map<string, MarathonApp>()
  const entries: Array<PlanEntry> = []
  const drifted: Array<string> = []
  for (const s of candidates) {
    const app = yield* marathon.getApp(s.app!).pipe(
      Effect.mapError((e) =>
        e.reason === "Unauthorized" || e.reason === "Forbidden"
          ? badInput(e.message)
          : failed(`cannot read app ${s.app!} for undo; nothing was changed: ${e.message}`)
      )
    )
    apps.set(app.id, app)
    const now = app.image
    if (same(now, s.before)) {
      entries.push({ service: s.service, app: app.id, current: now, target: s.before!, action: "unchanged" })
    } else if (same(now, s.after) || same(now, s.target)) {
      entries.push({ service: s.service, app: app.id, current: now, target: s.before!, action: "rollback" })
    } else {
      const said = [s.after !== null ? `runs ${s.after} afterwards` : undefined, s.target !== undefined && s.target !== s.after ? `deployed ${s.target}` : undefined]
        .filter((x) => x !== undefined)
      drifted.push(`  ${s.service} (${app.id}): the report says it ran ${s.before} before${said.length > 0 ? ` and ${said.join(", ")}` : ""}; it runs ${now ?? "(none)"} now`)
    }
  }
  if (drifted.length > 0) {
    return yield* refused(`the fleet changed since that rollback; undo would overwrite someone's change, so nothing was changed:\n${drifted.join("\n")}\nUse \`plan\`/\`run\` with a point instead.`)
  }
  const plan: RollbackPlan = { point: report.point ?? "", label: `undo of ${report.label ?? report.point ?? "rollback"}`, services: entries }
  if (options.onPlan !== undefined) yield* options.onPlan(plan)
  return yield* deployPlan(plan, entries.filter((e) => e.action === "rollback"), apps, { ...options, kind: "undo", point: report.point, label: plan.label ?? null })
})
