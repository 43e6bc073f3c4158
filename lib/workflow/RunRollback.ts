/**
 * @module RunRollback — `run` and `undo`: check, deploy the whole set as ONE Marathon
 * deployment, wait with our own timeout, verify every changed app, optionally revert, and
 * report service by service. Every refusal happens before anything changes; every path after
 * the deployment started ends in a report that says exactly what runs now.
 */
import { Clock, Effect } from "effect"
import { parseImageReference } from "../core/ImageReference.ts"
import type { PlanEntry, RollbackPlan } from "../core/Plan.ts"
import type { ReportService, RollbackReport, RunOutcome, ServiceOutcome } from "../core/Report.ts"
import type { RollbackFile } from "../core/RollbackFile.ts"
import type { DeploymentProgress, ImageChange, MarathonApp } from "../marathon/Marathon.ts"
import { lastFailureMarker, Marathon } from "../marathon/Marathon.ts"
import type { RollbackNotice } from "../notify/Slack.ts"
import { Notifier } from "../notify/Slack.ts"
import { Registry } from "../registry/Registry.ts"
import type { PlanFleetOptions } from "./PlanFleet.ts"
import { planFleet } from "./PlanFleet.ts"
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
  /** Asked after the plan is shown; false stops the run with nothing changed. */
  readonly confirm?: ((plan: RollbackPlan) => Effect.Effect<boolean>) | undefined
  /** Called once with the plan before any check. */
  readonly onPlan?: ((plan: RollbackPlan) => void) | undefined
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

/** Rolls the fleet back to a point. Fails only on bad input before anything changed; otherwise returns the report. */
export const runRollback = Effect.fn("runRollback")(function*(file: RollbackFile, pointText: string, options: RunOptions) {
  const fleet = yield* planFleet(file, pointText, options)
  options.onPlan?.(fleet.plan)
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
  const serviceLine = (entry: PlanEntry, outcome: ServiceOutcome, problem?: string): ReportService => ({
    service: entry.service,
    app: entry.app ?? null,
    action: entry.action,
    before: entry.current ?? null,
    after: outcome === "rolled-back" || outcome === "failed" ? entry.target ?? null : entry.current ?? null,
    outcome,
    ...(problem !== undefined ? { problem } : {})
  })
  const untouchedOutcome = (entry: PlanEntry): ServiceOutcome => (entry.action === "unresolved" ? "left-as-is" : "unchanged")
  const finish = Effect.fn("deployPlan.finish")(function*(
    outcome: RunOutcome,
    message: string,
    services: ReadonlyArray<ReportService>,
    ids: { deploymentId: string | null; revertDeploymentId: string | null; deployMs: number; waitMs: number }
  ) {
    const finishedAt = yield* Clock.currentTimeMillis
    const finalState = yield* Effect.forEach(changes, (c) =>
      marathon.getApp(c.appId).pipe(
        Effect.map((app) => ({ app: app.id, image: app.image ?? null, instances: app.instances, tasksRunning: app.tasksRunning, tasksHealthy: app.tasksHealthy })),
        Effect.catch(() => Effect.succeed({ app: c.appId, image: null, instances: 0, tasksRunning: 0, tasksHealthy: 0 }))
      ))
    const report: RollbackReport = {
      schemaVersion: 1,
      kind: context.kind,
      user: context.user,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      point: context.point,
      label: context.label,
      environment: context.environment ?? null,
      marathon: context.marathonUrl,
      outcome,
      message,
      deploymentId: ids.deploymentId,
      revertDeploymentId: ids.revertDeploymentId,
      durations: { deployMs: ids.deployMs, waitMs: ids.waitMs },
      services,
      finalState
    }
    if (outcome !== "nothing-to-do" && outcome !== "refused") {
      yield* notifier.notify(notice(context, outcome === "succeeded" ? "succeeded" : "failed", services, outcome === "succeeded" ? undefined : message))
    }
    return { report, plan } satisfies RunResult
  })

  if (changes.length === 0) {
    const leftAsIs = plan.services.filter((s) => s.action === "unresolved").length
    const message = leftAsIs > 0
      ? `nothing deployed: ${leftAsIs} service(s) left as they are (no image at the point), the others already run their images as of the point`
      : "nothing to do: every service already runs its image as of the point"
    yield* step(message)
    return yield* finish("nothing-to-do", message, plan.services.map((s) => serviceLine(s, untouchedOutcome(s))), { deploymentId: null, revertDeploymentId: null, deployMs: 0, waitMs: 0 })
  }
  if (context.confirm !== undefined && !(yield* context.confirm(plan))) {
    const message = "not confirmed; nothing was changed"
    return yield* finish("refused", message, plan.services.map((s) => serviceLine(s, s.action === "unresolved" ? "left-as-is" : toChange.includes(s) ? "not-started" : "unchanged")), {
      deploymentId: null,
      revertDeploymentId: null,
      deployMs: 0,
      waitMs: 0
    })
  }
  const changing = new Set(toChange)
  yield* notifier.notify(notice(context, "started", plan.services.filter((s) => changing.has(s)).map((s) => ({ ...serviceLine(s, "not-started"), after: s.target ?? null }))))
  const previousFailures: Record<string, string | undefined> = {}
  for (const c of changes) previousFailures[c.appId] = lastFailureMarker(appsBefore.get(c.appId) ?? { lastTaskFailure: undefined })

  yield* step(`Deploying ${changes.length} app(s) as one Marathon deployment…`)
  const deployStart = yield* Clock.currentTimeMillis
  const deployed = yield* marathon.deployImages(changes, { force: context.force === true }).pipe(Effect.result)
  const deployMs = (yield* Clock.currentTimeMillis) - deployStart
  let deploymentId: string
  if (deployed._tag === "Failure") {
    // Marathon said no (409, 422, 401, 403, 404): nothing changed. Any other failure (a lost
    // answer, a 5xx after retries) may hide a deployment that started: look before saying so.
    const failure = deployed.failure
    const refusedOutright = ["Locked", "Invalid", "Unauthorized", "Forbidden", "NotFound"].includes(failure.reason)
    const adopted = refusedOutright ? undefined : yield* findStartedDeployment(changes)
    if (adopted === undefined) {
      const message = `Marathon refused the deployment; nothing was changed: ${failure.message}`
      return yield* finish("failed", message, plan.services.map((s) => serviceLine(s, changing.has(s) ? "not-started" : untouchedOutcome(s), changing.has(s) ? failure.message : undefined)), {
        deploymentId: null,
        revertDeploymentId: null,
        deployMs,
        waitMs: 0
      })
    }
    yield* step(`Marathon's answer was lost (${failure.message}), but the deployment started (${adopted}); following it.`)
    deploymentId = adopted
  } else {
    deploymentId = deployed.success.deploymentId
  }
  // From here on Marathon is changing the fleet: an interruption (Ctrl-C, a killed job) must
  // still leave a report that says so.
  const interrupted = Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    const message = `interrupted while deployment ${deploymentId} was running: it goes on in Marathon and the fleet may be half rolled back. Check it in Marathon, or put the previous images back with \`fleet-rollback undo --report <this report>\`.`
    const report: RollbackReport = {
      schemaVersion: 1, kind: context.kind, user: context.user, startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(at).toISOString(),
      durationMs: at - startedAt, point: context.point, label: context.label, environment: context.environment ?? null, marathon: context.marathonUrl,
      outcome: "failed", message, deploymentId, revertDeploymentId: null, durations: { deployMs, waitMs: at - deployStart - deployMs },
      services: plan.services.map((s) => serviceLine(s, changing.has(s) ? "failed" : untouchedOutcome(s), changing.has(s) ? "interrupted before it was verified" : undefined)),
      finalState: []
    }
    yield* step(message)
    yield* notifier.notify(notice(context, "failed", report.services, message)).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    if (context.onInterrupted !== undefined) yield* context.onInterrupted(report)
  })
  return yield* Effect.gen(function*() {
    yield* step(`Deployment ${deploymentId} started; waiting for it to finish (timeout ${Math.round((context.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s)…`)
    const waitStart = yield* Clock.currentTimeMillis
    const waited = yield* marathon.waitForDeployment(deploymentId, {
      timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(context.pollMs !== undefined ? { pollMs: context.pollMs } : {}),
      ...(context.onProgress !== undefined ? { onProgress: context.onProgress } : {}),
      apps: changes.map((c) => c.appId)
    }).pipe(Effect.result)
    const waitMs = (yield* Clock.currentTimeMillis) - waitStart
    // A failed wait means "still running" only on our timeout or when Marathon still lists the
    // deployment; a poll that failed (503, a lost leader) says nothing about the fleet.
    const stillRunning = waited._tag === "Failure" &&
      (waited.failure.reason === "DeploymentTimeout" ||
        (yield* marathon.deployments.pipe(Effect.map((ds) => ds.some((d) => d.id === deploymentId)), Effect.orElseSucceed(() => true))))
    const verified = yield* marathon.verifyApps(changes, { previousFailures }).pipe(Effect.result)
    const verification = verified._tag === "Success" ? new Map(verified.success.map((v) => [v.appId, v])) : new Map()
    const problemOf = (entry: PlanEntry): string | undefined => {
      const v = verification.get(entry.app!)
      if (verified._tag === "Failure") return `could not verify: ${verified.failure.message}`
      return v === undefined ? "not verified" : v.ok ? undefined : v.problem ?? "not healthy"
    }
    const allHealthy = !stillRunning && verified._tag === "Success" && toChange.every((e) => problemOf(e) === undefined)
    if (allHealthy) {
      const message = `${context.kind === "undo" ? "put back the previous images of" : "rolled back"} ${changes.length} app(s); all healthy on their target images`
      yield* step(message)
      return yield* finish("succeeded", message, plan.services.map((s) => serviceLine(s, changing.has(s) ? "rolled-back" : untouchedOutcome(s))), {
        deploymentId,
        revertDeploymentId: null,
        deployMs,
        waitMs
      })
    }
    const why = stillRunning && waited._tag === "Failure" ? waited.failure.message : "the deployment finished but not every app is healthy on its target image"
    if (context.revertOnFailure === true) {
      yield* step(`Deployment ${deploymentId} failed (${why}); reverting it with Marathon's rollback…`)
      const reverted = stillRunning
        ? yield* marathon.cancelDeployment(deploymentId, { revert: true }).pipe(
          Effect.flatMap((r) =>
            r.revertDeploymentId === undefined
              ? Effect.succeed(undefined)
              : marathon.waitForDeployment(r.revertDeploymentId, { timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(context.pollMs !== undefined ? { pollMs: context.pollMs } : {}) }).pipe(
                Effect.as(r.revertDeploymentId)
              )
          ),
          Effect.result
        )
        : yield* marathon.deployImages(toChange.map((s) => ({ appId: s.app!, image: s.current! })).filter((c) => c.image !== undefined), { force: true }).pipe(
          Effect.flatMap((d) =>
            marathon.waitForDeployment(d.deploymentId, { timeoutMs: context.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(context.pollMs !== undefined ? { pollMs: context.pollMs } : {}) }).pipe(Effect.as(d.deploymentId))
          ),
          Effect.result
        )
      if (reverted._tag === "Success") {
        const message = `rollback failed (${why}); deployment ${deploymentId} was reverted: every changed app runs its previous image again`
        yield* step(message)
        return yield* finish("reverted", message, plan.services.map((s) => serviceLine(s, changing.has(s) ? "reverted" : untouchedOutcome(s), changing.has(s) ? problemOf(s) ?? why : undefined)), {
          deploymentId,
          revertDeploymentId: reverted.success ?? null,
          deployMs,
          waitMs
        })
      }
      const message = `rollback failed (${why}) AND the revert failed (${reverted.failure.message}); the fleet is half rolled back — check the apps below in Marathon now`
      return yield* finish("failed", message, plan.services.map((s) => serviceLine(s, changing.has(s) ? "failed" : untouchedOutcome(s), changing.has(s) ? problemOf(s) ?? why : undefined)), {
        deploymentId,
        revertDeploymentId: null,
        deployMs,
        waitMs
      })
    }
    const message = stillRunning
      ? `rollback failed: ${why}. Deployment ${deploymentId} is STILL RUNNING in Marathon and the fleet is half rolled back. Revert it with \`fleet-rollback undo --report <this report>\` or cancel it in Marathon (DELETE /v2/deployments/${deploymentId}); next time use --revert-on-failure.`
      : `rollback failed: ${why}. The fleet is half rolled back: see each service below; \`fleet-rollback undo --report <this report>\` puts the previous images back.`
    yield* step(message)
    return yield* finish("failed", message, plan.services.map((s) => serviceLine(s, changing.has(s) ? (problemOf(s) === undefined && !stillRunning ? "rolled-back" : "failed") : untouchedOutcome(s), changing.has(s) ? problemOf(s) ?? (stillRunning ? why : undefined) : undefined)), {
      deploymentId,
      revertDeploymentId: null,
      deployMs,
      waitMs
    })
  }).pipe(Effect.onInterrupt(() => interrupted))
})

/**
 * After a failed deployment request: the id of a deployment Marathon is running for these apps,
 * or "(unknown)" when no deployment is listed but an app already runs its target image; undefined
 * when nothing started.
 */
const findStartedDeployment = Effect.fn("findStartedDeployment")(function*(changes: ReadonlyArray<ImageChange>) {
  const marathon = yield* Marathon
  const ids = new Set(changes.map((c) => c.appId))
  const running = yield* marathon.deployments.pipe(Effect.orElseSucceed(() => []))
  const ours = running.find((d) => d.affectedApps.some((app) => ids.has(app)))
  if (ours !== undefined) return ours.id
  const apps = yield* Effect.forEach(changes, (c) => marathon.getApp(c.appId).pipe(Effect.map((a) => a.image === c.image), Effect.orElseSucceed(() => false)))
  return apps.some((onTarget) => onTarget) ? "(unknown)" : undefined
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

/**
 * Puts back what ran before a rollback, from its report: every service the report changed
 * returns to its `before` image, with the same checks (a service whose app now runs something
 * else than the report says is refused: someone changed it since).
 */
export const undoRollback = Effect.fn("undoRollback")(function*(report: RollbackReport, options: UndoOptions) {
  const marathon = yield* Marathon
  const candidates = report.services.filter((s) => s.app !== null && s.before !== null && (s.outcome === "rolled-back" || s.outcome === "failed"))
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
    const sameAs = (a: string | null | undefined, b: string | null | undefined) => {
      if (a == null || b == null) return false
      const x = parseImageReference(a)
      const y = parseImageReference(b)
      return x !== undefined && y !== undefined ? x.host === y.host && x.repository === y.repository && x.tag === y.tag && x.digest === y.digest : a === b
    }
    if (sameAs(now, s.before)) {
      entries.push({ service: s.service, app: app.id, current: now, target: s.before!, action: "unchanged" })
    } else if (sameAs(now, s.after)) {
      entries.push({ service: s.service, app: app.id, current: now, target: s.before!, action: "rollback" })
    } else {
      drifted.push(`  ${s.service} (${app.id}): report says ${s.after ?? "?"}, runs ${now ?? "(none)"}`)
    }
  }
  if (drifted.length > 0) {
    return yield* refused(`the fleet changed since that rollback; undo would overwrite someone's change, so nothing was changed:\n${drifted.join("\n")}\nUse \`plan\`/\`run\` with a point instead.`)
  }
  const plan: RollbackPlan = { point: report.point ?? "", label: `undo of ${report.label ?? report.point ?? "rollback"}`, services: entries }
  options.onPlan?.(plan)
  return yield* deployPlan(plan, entries.filter((e) => e.action === "rollback"), apps, { ...options, kind: "undo", point: report.point, label: plan.label ?? null })
})
