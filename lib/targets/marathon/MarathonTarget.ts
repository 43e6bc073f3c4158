/**
 * @module MarathonTarget — Marathon (and DC/OS) as a deployment {@link Target}: a workload is a
 * Marathon app (kind `app`, one container named after the app, revision = the app's version,
 * lastFailure = its last task failure); `apply` is ONE array PUT of every changed app (Marathon's
 * lost-answer rules), `watch` waits for the deployment, `inProgress` asks whether it is still
 * listed, `verify` is the client's verifyApps, and `revert` cancels a running deployment with
 * Marathon's rollback or deploys the previous images again.
 */
import { Effect, Layer } from "effect"
import type { HttpClient } from "effect/http"
import { sameImageText } from "../../core/ImageReference.ts"
import type { TargetDescription } from "../../core/Report.ts"
import { stripCredentials } from "../../core/RollbackFile.ts"
import { parseIsoInstant } from "../../core/TimeZone.ts"
import type { AppliedChange, ChangeProgress, ImageChange, TargetShape, WatchOptions, WorkloadVerification } from "../../target/Target.ts"
import { Target } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { TargetErrorReason } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import type { AppScope } from "./AppMatching.ts"
import { inScope, normalizeAppId, parseLabelSelector } from "./AppMatching.ts"
import type { DeploymentProgress, DeploymentStarted, ImageChange as MarathonImageChange, MarathonApp, MarathonConfig } from "./Marathon.ts"
import { lastFailureMarker, Marathon } from "./Marathon.ts"
import type { MarathonError, MarathonErrorReason } from "./MarathonError.ts"

/** How long reading the apps before a revert may take (all at once; unreadable ones left out). */
const READ_APPS_MS = 10_000

const REASONS: Record<MarathonErrorReason, TargetErrorReason> = {
  Locked: "Conflict",
  Invalid: "Invalid",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  TooManyDeployments: "Busy",
  Unavailable: "Unavailable",
  Unreachable: "Unreachable",
  NotFound: "NotFound",
  DeploymentTimeout: "Timeout",
  BadResponse: "BadResponse",
  Indeterminate: "Indeterminate"
}

/** A Marathon error as the target's error: the reason mapped, Marathon's message kept word for word. */
export const toTargetError = (error: MarathonError): TargetError =>
  new TargetError({
    reason: REASONS[error.reason],
    message: error.message,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.appIds !== undefined ? { workloads: error.appIds } : {}),
    ...(error.noAnswer !== undefined ? { noAnswer: error.noAnswer } : {})
  })

/** A Marathon app as a workload; `inScope` as the environment's scope says. */
export const appToWorkload = (app: MarathonApp, scoped: boolean): Workload => {
  const healthy = app.hasHealthChecks ? app.tasksHealthy : app.tasksRunning
  return {
    id: app.id,
    kind: "app",
    labels: app.labels,
    containers: [{ name: app.id.slice(app.id.lastIndexOf("/") + 1), image: app.image }],
    image: app.image,
    health: {
      desired: app.instances,
      running: app.tasksRunning,
      healthy,
      summary: `${app.tasksRunning}/${app.instances} running` + (app.hasHealthChecks ? `, ${app.tasksHealthy} healthy` : "")
    },
    revision: app.version,
    lastFailure: lastFailureMarker(app),
    inScope: scoped
  }
}

/** How to reach a Marathon (or DC/OS cluster) again, for the report: no secret. */
export const describeMarathon = (config: Pick<MarathonConfig, "url" | "dcos">): TargetDescription => {
  const url = stripCredentials(config.url)
  return config.dcos !== undefined ? { kind: "dcos", url, dcosUid: config.dcos.uid } : { kind: "marathon", url }
}

const toMarathonChanges = (changes: ReadonlyArray<ImageChange>): Array<MarathonImageChange> =>
  changes.map((c) => ({ appId: c.workload, image: c.image }))

const appliedOf = (started: DeploymentStarted, changes: ReadonlyArray<ImageChange>): AppliedChange => ({
  changeIds: started.deploymentId !== undefined ? [started.deploymentId] : [],
  workloads: changes.map((c) => ({ workload: normalizeAppId(c.workload), state: "applied" as const })),
  ...(started.answerLost !== undefined ? { note: started.answerLost } : {})
})

const progressOf = (p: DeploymentProgress): ChangeProgress => ({
  summary: `deployment ${p.deploymentId.slice(0, 8)} step ${p.currentStep}/${p.totalSteps}`,
  workloads: p.apps.map((a) => ({ id: a.id, running: a.tasksRunning, healthy: a.tasksHealthy, desired: a.instances }))
})

/** How many versions of each app `get --from history` reads, newest first. */
export const HISTORY_VERSIONS = 100

/** The Target over the Marathon client in context; `description` is what the report records. */
export const makeMarathonTarget = (description: TargetDescription): Effect.Effect<TargetShape, never, Marathon> =>
  Effect.gen(function*() {
    const marathon = yield* Marathon

    const listWorkloads = (scope: AppScope) =>
      Effect.gen(function*() {
        if (scope.labelSelector !== undefined && parseLabelSelector(scope.labelSelector) === undefined) {
          return yield* new TargetError({
            reason: "Invalid",
            message: `the label selector ${JSON.stringify(scope.labelSelector)} is not valid: expected Marathon's forms key, key==value, key!=value, key in (a,b), key notin (a,b), joined by commas`
          })
        }
        // every app, each marked in or out of scope: a service the config names is found outside it too
        const apps = yield* marathon.listApps().pipe(Effect.mapError(toTargetError))
        return apps.map((app) => appToWorkload(app, inScope(app, scope)))
      })

    const getWorkload = (id: string) =>
      marathon.getApp(id).pipe(Effect.map((app) => appToWorkload(app, true)), Effect.mapError(toTargetError))

    const apply: TargetShape["apply"] = (changes, options) =>
      options.dryRun === true
        ? Effect.fail(new TargetError({ reason: "Unsupported", message: "Marathon cannot validate a deployment without starting it (no server-side dry run). Nothing was sent." }))
        : marathon.deployImages(toMarathonChanges(changes), { force: options.force, timeoutMs: options.timeoutMs }).pipe(
          Effect.map((started) => appliedOf(started, changes)),
          Effect.mapError(toTargetError)
        )

    const watch = (applied: AppliedChange, options: WatchOptions) => {
      const deploymentId = applied.changeIds[0]
      if (deploymentId === undefined) return Effect.void
      const onProgress = options.onProgress
      return marathon.waitForDeployment(deploymentId, {
        timeoutMs: options.timeoutMs,
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        ...(onProgress !== undefined ? { onProgress: (p: DeploymentProgress) => onProgress(progressOf(p)) } : {}),
        apps: applied.workloads.map((w) => w.workload)
      }).pipe(Effect.mapError(toTargetError))
    }

    const inProgress = (applied: AppliedChange) => {
      const deploymentId = applied.changeIds[0]
      if (deploymentId === undefined) return Effect.succeed(false)
      return marathon.deployments.pipe(Effect.map((ds) => ds.some((d) => d.id === deploymentId)), Effect.mapError(toTargetError))
    }

    const verify = (changes: ReadonlyArray<ImageChange>, before: ReadonlyMap<string, Workload>) => {
      const previousFailures: Record<string, string | undefined> = {}
      for (const c of changes) previousFailures[c.workload] = before.get(c.workload)?.lastFailure
      return marathon.verifyApps(toMarathonChanges(changes), { previousFailures }).pipe(
        Effect.map((checked) =>
          checked.map((v): WorkloadVerification => ({
            workload: v.appId,
            image: v.image,
            expectedImage: v.expectedImage,
            ok: v.ok,
            ...(v.problem !== undefined ? { problem: v.problem } : {}),
            ...(v.app !== undefined ? { read: appToWorkload(v.app, true) } : {})
          }))
        ),
        Effect.mapError(toTargetError)
      )
    }

    /** The apps as Marathon shows them now, in one listing (none when Marathon cannot be read in time: all are deployed again). */
    const readApps = (ids: ReadonlyArray<string>) =>
      marathon.readApps(ids).pipe(
        Effect.timeoutOption(READ_APPS_MS),
        Effect.map((found) => (found._tag === "Some" ? found.value : new Map<string, MarathonApp>())),
        Effect.orElseSucceed(() => new Map<string, MarathonApp>())
      )

    const revert: TargetShape["revert"] = (args) =>
      Effect.gen(function*() {
        const notes: Array<string> = []
        /** Deploys the previous images of the apps not already back on them. */
        const redeployPrevious = Effect.gen(function*() {
          const now = yield* readApps(args.back.map((c) => c.workload))
          const pending = args.back.filter((c) => !sameImageText(now.get(normalizeAppId(c.workload))?.image, c.image))
          if (pending.length === 0) {
            notes.push("every app already ran its previous image again, so nothing was deployed")
            return undefined
          }
          const d = yield* marathon.deployImages(toMarathonChanges(pending), { force: args.force })
          notes.push(`the previous images were deployed again${d.deploymentId !== undefined ? ` as deployment ${d.deploymentId}` : ""}`)
          if (d.answerLost !== undefined) notes.push(d.answerLost)
          return appliedOf({ deploymentId: d.deploymentId, version: d.version }, pending)
        })
        const deploymentId = args.applied.changeIds[0]
        const started = args.stillInProgress && deploymentId !== undefined
          ? marathon.cancelDeployment(deploymentId, { revert: true }).pipe(
            // it ended between our timeout and the cancel
            Effect.catchIf((e) => e.reason === "NotFound", () =>
              Effect.sync(() => {
                notes.push(`deployment ${deploymentId} had finished before the cancel`)
                return {} as { readonly revertDeploymentId?: string; readonly answerLost?: string }
              })),
            Effect.flatMap((r) => {
              if (r.answerLost !== undefined) notes.push(r.answerLost)
              if (r.revertDeploymentId !== undefined) {
                return Effect.succeed<AppliedChange | undefined>({
                  changeIds: [r.revertDeploymentId],
                  workloads: args.back.map((c) => ({ workload: normalizeAppId(c.workload), state: "applied" as const }))
                })
              }
              // Gone without a revert (finished before the cancel): nothing was reverted, so put the previous images back.
              return redeployPrevious
            })
          )
          : redeployPrevious
        const applied = yield* started.pipe(
          Effect.mapError((e) => {
            const error = toTargetError(e)
            return notes.length === 0 ? error : new TargetError({ ...error, message: `${notes.join("; ")}; then ${error.message}` })
          })
        )
        return { applied, ...(notes.length > 0 ? { note: notes.join("; ") } : {}) }
      })

    /**
     * What each app ran when: its versions (newest first, at most {@link HISTORY_VERSIONS} per app,
     * read 8 at a time) and the image each defined. A version is when the definition changed, so
     * scale-only versions repeat the image (the core drops repeats).
     */
    const history: NonNullable<TargetShape["history"]> = (asked) =>
      Effect.gen(function*() {
        const entries = yield* Effect.forEach(asked, ({ workload }) =>
          Effect.gen(function*() {
            const versions = (yield* marathon.appVersions(workload)).slice(0, HISTORY_VERSIONS)
            return yield* Effect.forEach(versions, (version) =>
              marathon.appVersion(workload, version).pipe(
                Effect.map((app) => {
                  const at = parseIsoInstant(version) ?? Number.NaN
                  return app.image === undefined || !Number.isFinite(at) ? [] : [{ workload, image: app.image, at, revision: version }]
                })
              ), { concurrency: 8 })
          }), { concurrency: 4 }).pipe(Effect.mapError(toTargetError))
        return {
          entries: entries.flat(2),
          note: `Marathon remembers each app's definitions as versions (up to ${HISTORY_VERSIONS} read per app); a version is when a deployment began`
        }
      })

    return Target.of({
      description,
      displayName: "Marathon",
      history,
      changeNoun: "deployment",
      workloadNoun: "app",
      capabilities: { force: true, revert: true, serverDryRun: false, watch: true, pinDigest: true },
      canonicalId: normalizeAppId,
      hints: {
        checkState: "container.docker.image, tasks running and healthy, GET /v2/deployments",
        checkStarted: "do they run the new images? GET /v2/deployments",
        cancelByHand: (id) => `DELETE /v2/deployments/${id}`,
        narrowScope: "environments.<env>.appIdPrefix / labelSelector"
      },
      listWorkloads,
      getWorkload,
      apply,
      watch,
      inProgress,
      verify,
      revert
    })
  })

/** Marathon as the deployment target. */
export const MarathonTarget = {
  /** The Target over a Marathon client in context. */
  layer: (description: TargetDescription): Layer.Layer<Target, never, Marathon> => Layer.effect(Target, makeMarathonTarget(description)),
  /** The Target with its own client for one Marathon (or DC/OS cluster); needs an `HttpClient`. */
  layerFromConfig: (config: MarathonConfig): Layer.Layer<Target, never, HttpClient.HttpClient> => Layer.effect(Target, makeMarathonTarget(describeMarathon(config))).pipe(Layer.provide(Marathon.layer(config)))
}
