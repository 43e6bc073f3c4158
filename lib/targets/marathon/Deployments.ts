/**
 * @module Deployments — Marathon's deployment calls: ONE array PUT for a set of image changes
 * (whole containers kept), waiting with the client's own timeout, the check after it, and cancel
 * with rollback. A change is never sent again blindly: after a lost answer (no answer, a 5xx, a 409
 * on a repeat) Marathon's apps and deployments tell whether it was applied, within
 * {@link LOST_ANSWER_CHECK_MS}; when that cannot be told the error is `Indeterminate`.
 */
import { Clock, Effect, Ref, Result, Schedule, Schema } from "effect"
import { normalizeAppId } from "./AppMatching.ts"
import type { Apps } from "./Apps.ts"
import { containerWithImage, DeploymentListJson, DeploymentResultJson, lastFailureMarker } from "./MarathonApp.ts"
import type { MarathonApp } from "./MarathonApp.ts"
import { MarathonError } from "./MarathonError.ts"
import { makeWakeUp } from "../../target/WakeUp.ts"
import { backoffMillis, formatMillis, isRecord, notApplied, printableUrl, serverMessage, TRANSIENT_STATUSES } from "./Transport.ts"
import type { Call, NoReply, Reply, Transport } from "./Transport.ts"

/** One image change: the app and the complete image reference to run. */
export interface ImageChange {
  readonly appId: string
  readonly image: string
}

/** The deployment Marathon started for a change. */
export interface DeploymentStarted {
  /**
   * Its id. Undefined only when Marathon's answer was lost and the deployment was no longer
   * listed when the client looked (it had finished already): the apps show the change applied.
   */
  readonly deploymentId: string | undefined
  /** The version of the changed apps. */
  readonly version: string
  /**
   * Set when Marathon's answer was lost and the change was found applied — in the apps, or as a
   * new deployment of exactly these apps not yet stored in them: what happened.
   */
  readonly answerLost?: string
}

/** A snapshot of a running deployment for progress output. */
export interface DeploymentProgress {
  readonly deploymentId: string
  readonly currentStep: number
  readonly totalSteps: number
  readonly apps: ReadonlyArray<{ id: string; tasksRunning: number; tasksHealthy: number; instances: number }>
}

/** The check of one changed app after its deployment finished. */
export interface AppVerification {
  readonly appId: string
  readonly image: string | undefined
  readonly expectedImage: string
  readonly ok: boolean
  /** What is wrong, readable; absent when ok. */
  readonly problem?: string
  /** The app as read for this check (absent when it does not exist). */
  readonly app?: MarathonApp
}

/** A deployment as listed by `GET /v2/deployments`. */
export interface DeploymentSummary {
  id: string
  /** The version of the apps it deploys (the root group version it leads to). */
  version: string | undefined
  affectedApps: ReadonlyArray<string>
  currentStep: number
  totalSteps: number
}

/** How to wait for a deployment: our own timeout (Marathon has none), poll interval, progress. */
export interface WaitOptions {
  /** Give up after this long (default 600 000 ms) with reason `DeploymentTimeout`. */
  readonly timeoutMs?: number
  /** Poll `GET /v2/deployments` this often (default 1000 ms). */
  readonly pollMs?: number
  /** Called with each poll's progress. */
  readonly onProgress?: (p: DeploymentProgress) => void
  /** Apps whose task counts the progress shows. */
  readonly apps?: ReadonlyArray<string>
}

const decodeDeploymentResult = Schema.decodeUnknownOption(DeploymentResultJson)

/**
 * How long the check after a lost answer (reading the apps and the deployments, with their
 * retries) may take before its outcome counts as unknown: the "cannot tell" path stays short.
 */
export const LOST_ANSWER_CHECK_MS = 30_000

/** What the check after a lost answer found (see `changeApplied`). */
type ChangeState =
  | {
    readonly _tag: "Applied"
    /** Where the change was seen: in the app definitions, or only as a new deployment of exactly these apps. */
    readonly seen: "apps" | "deployments"
    readonly deploymentId: string | undefined
    readonly version: string
  }
  | { readonly _tag: "NotApplied" }
  | { readonly _tag: "Unknown"; readonly why: string; readonly noAnswer: boolean }

/** A {@link ChangeState} as such (keeps the literal tags). */
const checked = (state: ChangeState): ChangeState => state

/** True when a deployment's affected apps are exactly `ids` (normalized app ids). */
const sameIds = (affected: ReadonlyArray<string>, ids: ReadonlySet<string>): boolean => {
  const set = new Set(affected.map(normalizeAppId))
  return set.size === ids.size && [...ids].every((id) => set.has(id))
}


/** The deployment calls over a transport and the app calls. */
export const makeDeployments = (transport: Transport, apps: Apps) => {
  const { retries, buildRequest, sendOnce, failure, expect, unreachable, unavailable, decodeWith } = transport
  const { getApp, readApps } = apps
  const deployImages = Effect.fn("Marathon.deployImages")(function*(
    changes: ReadonlyArray<ImageChange>,
    options?: { readonly force?: boolean; readonly timeoutMs?: number | undefined }
  ) {
    if (changes.length === 0) {
      return yield* new MarathonError({ reason: "Invalid", message: "No image changes to deploy (the list is empty)." })
    }
    const ids = changes.map((c) => normalizeAppId(c.appId))
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i)
    if (duplicates.length > 0) {
      return yield* new MarathonError({
        reason: "Invalid",
        message: `Each app may get one image per deployment, but ${[...new Set(duplicates)].join(", ")} ` +
          "appear more than once."
      })
    }
    // the apps as they are now (the freshest containers to keep), in one listing
    const read = yield* readApps(ids)
    const missing = ids.filter((id) => !read.has(id))
    if (missing.length > 0) {
      return yield* new MarathonError({
        reason: "NotFound",
        status: 404,
        message: `${missing.length === 1 ? "App" : "Apps"} ${missing.join(", ")} ${missing.length === 1 ? "does" : "do"} not exist in Marathon ` +
          "(any more); nothing was deployed. Plan again to see the fleet as it is."
      })
    }
    const apps = ids.map((id) => read.get(id)!)
    // The deployments running before the request: Marathon lists a new deployment BEFORE it stores
    // the new app definitions (GroupManagerImpl.updateRoot: deploy(plan), then storeRoot), so after
    // a lost answer a deployment not in this list that touches these apps may be this change. The
    // apps' own `deployments` (always embedded) name those that touch them, should the list fail.
    const listedBefore = yield* listDeployments.pipe(Effect.option)
    const runningBefore = new Set([
      ...(listedBefore._tag === "Some" ? listedBefore.value.map((d) => d.id) : []),
      ...apps.flatMap((a) => a.deployments)
    ])
    const elements: Array<{ id: string; container: Record<string, unknown> }> = []
    for (const [i, change] of changes.entries()) {
      const app = apps[i]!
      const container = containerWithImage(app.raw, change.image)
      if (container === undefined) {
        return yield* new MarathonError({
          reason: "Invalid",
          message: `App ${app.id} has no container.docker to change the image of; ` +
            "it is not a container app and cannot be rolled back by image."
        })
      }
      elements.push({ id: app.id, container })
    }
    const query: Record<string, string> = { partialUpdate: "true" }
    if (options?.force === true) query["force"] = "true"
    const call: Call = {
      method: "PUT",
      path: "/v2/apps",
      query,
      body: elements,
      what: `deploying new images to ${elements.map((e) => e.id).join(", ")}`
    }
    const request = buildRequest(call)
    for (let attempt = 0;; attempt++) {
      const outcome = yield* sendOnce(call, options?.timeoutMs)
      let lost: string
      let retryable: boolean
      let reply: Reply | undefined
      if (outcome._tag === "NoReply") {
        // connection refused and the like: already retried, and nothing can have reached Marathon
        if (!outcome.maybeSent) return yield* notApplied(unreachable(request, call.what, outcome, attempt + 1 + retries))
        lost = `no answer: ${outcome.cause}`
        retryable = outcome.transport
      } else {
        reply = outcome.reply
        if (reply.status === 200 || reply.status === 201) {
          const result = decodeDeploymentResult(reply.body)
          if (result._tag === "Some") return { deploymentId: result.value.deploymentId, version: result.value.version }
          lost = `an answer ${reply.status} without {deploymentId, version}`
          retryable = false
        } else if (reply.status >= 500 || (reply.status === 409 && attempt > 0)) {
          // a 5xx may come from a proxy after Marathon applied the change; a 409 on a repeat may
          // be our own first request's deployment
          const said = serverMessage(reply.body)
          lost = `${reply.status}${said !== undefined ? ` ${said}` : ""}`
          retryable = TRANSIENT_STATUSES.has(reply.status)
        } else {
          return yield* failure(call, reply)
        }
      }
      const state = yield* changeApplied(changes, apps, runningBefore)
      if (state._tag === "Applied") {
        return {
          deploymentId: state.deploymentId,
          version: state.version,
          answerLost: `Marathon's answer to the deployment request was lost (${lost}), but ` +
            (state.seen === "apps"
              ? "the apps show the change applied" +
                (state.deploymentId !== undefined ? `: deployment ${state.deploymentId}` : " and no deployment for it is running any more")
              : `Marathon lists a new deployment ${state.deploymentId} for exactly these apps (it lists a deployment before it ` +
                "stores the new app definitions): that deployment is this change")
        }
      }
      if (state._tag === "Unknown") {
        return yield* new MarathonError({
          reason: "Indeterminate",
          appIds: ids,
          ...(state.noAnswer ? { noAnswer: true } : {}),
          message: `The deployment MAY have started: Marathon's answer to the deployment request was lost (${lost}), ` +
            `and whether the change was applied cannot be told (${state.why}). Check ${ids.join(", ")} in Marathon ` +
            "(does container.docker.image show the new image? is a deployment running for them, GET /v2/deployments?) " +
            "before trying again."
        })
      }
      if (outcome._tag === "NoReply" && outcome.heldOpen === true) {
        // Marathon held the request open: it may still apply it after we stopped waiting, so its
        // state now does not say it never will. Never sent again: "may have started".
        return yield* new MarathonError({
          reason: "Indeterminate",
          appIds: ids,
          message: `The deployment MAY have started: Marathon held the deployment request open without answering (${lost}) ` +
            `and may still apply it; it was not sent again. It shows no change yet. Check ${ids.join(", ")} in Marathon ` +
            "(does container.docker.image show the new image? is a deployment running for them, GET /v2/deployments?) " +
            "before trying again."
        })
      }
      if (reply !== undefined && reply.status === 409) return yield* notApplied(failure(call, reply))
      if (retryable && attempt < retries) {
        yield* Effect.sleep(backoffMillis(attempt))
        continue
      }
      if (reply === undefined) {
        return yield* notApplied(unreachable(request, call.what, outcome as NoReply, attempt + 1))
      }
      return yield* notApplied(
        TRANSIENT_STATUSES.has(reply.status) ? unavailable(request, call.what, reply, attempt + 1) : failure(call, reply)
      )
    }
  })

  /**
   * After a change whose answer was lost: did Marathon take it? Read under one short budget
   * ({@link LOST_ANSWER_CHECK_MS}): an on-call engineer is waiting, and a Marathon that does not
   * answer now will not tell more in five minutes.
   * - `Applied` (seen in the apps) when every app that was to change runs its new image under a
   *   new version; its deployment is the listed one of that version, if still listed.
   * - `Applied` (seen in the deployments) when the apps show no change yet but exactly one
   *   deployment that was not running before the request touches exactly the apps that were to
   *   change: Marathon lists a deployment before it stores the new definitions.
   * - `NotApplied` only when no app shows the change AND no new deployment touches these apps.
   * - `Unknown` otherwise: Marathon cannot be read, only some apps show the change, or a new
   *   deployment touches some of these apps (or others besides) while they show no change.
   */
  const changeApplied = (
    changes: ReadonlyArray<ImageChange>,
    before: ReadonlyArray<MarathonApp>,
    runningBefore: ReadonlySet<string>
  ): Effect.Effect<ChangeState> =>
    Effect.gen(function*() {
      const [read, listed] = yield* Effect.all([
        Effect.forEach(changes, (c) => getApp(c.appId), { concurrency: 16 }).pipe(Effect.result),
        listDeployments.pipe(Effect.result)
      ], { concurrency: 2 })
      const movingIds = new Set(changes.filter((c, i) => before[i]!.image !== c.image).map((c) => normalizeAppId(c.appId)))
      const touchesMoving = (affected: ReadonlyArray<string>) => affected.some((id) => movingIds.has(normalizeAppId(id)))
      /** Deployments that were not running before the request and touch an app that was to change. */
      const fresh = Result.isSuccess(listed)
        ? listed.success.filter((d) => !runningBefore.has(d.id) && touchesMoving(d.affectedApps))
        : undefined
      const describe = (ds: ReadonlyArray<DeploymentSummary>) =>
        ds.map((d) => `${d.id} (${d.affectedApps.join(", ")})`).join(", ")
      if (Result.isFailure(read)) {
        const only = fresh !== undefined && fresh.length === 1 ? fresh[0]! : undefined
        if (only !== undefined && sameIds(only.affectedApps, movingIds)) {
          return checked({ _tag: "Applied", seen: "deployments", deploymentId: only.id, version: only.version ?? "" })
        }
        return checked({
          _tag: "Unknown",
          noAnswer: read.failure.reason === "Unreachable",
          why: `reading the apps failed: ${read.failure.message}` +
            (fresh !== undefined && fresh.length > 0 ? `; new deployments touch them: ${describe(fresh)}` : "")
        })
      }
      const moving = read.success.filter((_, i) => before[i]!.image !== changes[i]!.image)
      const changed = moving.filter((app) => {
        const i = read.success.indexOf(app)
        return app.image === changes[i]!.image && app.version !== before[i]!.version
      })
      if (changed.length === 0) {
        // No app shows the change; a new deployment on them may still be this change, not yet stored.
        if (fresh === undefined) {
          const newIds = [...new Set(moving.flatMap((a) => a.deployments))].filter((id) => !runningBefore.has(id))
          if (newIds.length === 0) return checked({ _tag: "NotApplied" })
          return checked({
            _tag: "Unknown",
            noAnswer: Result.isFailure(listed) && listed.failure.reason === "Unreachable",
            why: `the apps show no change, but deployment(s) ${newIds.join(", ")} started on them since the request, ` +
              `and the deployments cannot be listed to tell whose they are (${Result.isFailure(listed) ? listed.failure.message : ""})`
          })
        }
        if (fresh.length === 0) return checked({ _tag: "NotApplied" })
        const only = fresh.length === 1 ? fresh[0]! : undefined
        if (only !== undefined && sameIds(only.affectedApps, movingIds)) {
          return checked({ _tag: "Applied", seen: "deployments", deploymentId: only.id, version: only.version ?? "" })
        }
        return checked({
          _tag: "Unknown",
          noAnswer: false,
          why: `the apps show no change yet, but deployment(s) not running before the request touch them: ${describe(fresh)}; ` +
            "it may be this change (Marathon lists a deployment before it stores the new definitions) or someone else's"
        })
      }
      if (changed.length < moving.length) {
        const others = moving.filter((a) => !changed.includes(a)).map((a) => `${a.id} runs ${a.image ?? "no image"}`)
        return checked({
          _tag: "Unknown",
          noAnswer: false,
          why: `only ${changed.map((a) => a.id).join(", ")} show the new image; ${others.join(", ")}`
        })
      }
      // One update of the root group gives every changed app the deployment's version.
      const versions = new Set(changed.map((a) => a.version))
      const version = changed[0]!.version
      if (Result.isSuccess(listed)) {
        const ours = listed.success.find((d) =>
          d.version !== undefined && versions.has(d.version) && changed.every((a) => d.affectedApps.includes(a.id))
        )
        return checked({ _tag: "Applied", seen: "apps", deploymentId: ours?.id, version })
      }
      // The list cannot be read: the one deployment every changed app reports, if there is one.
      const common = changed[0]!.deployments.filter((id) => changed.every((a) => a.deployments.includes(id)))
      return checked({ _tag: "Applied", seen: "apps", deploymentId: common.length === 1 ? common[0] : undefined, version })
    }).pipe(
      Effect.timeoutOption(LOST_ANSWER_CHECK_MS),
      Effect.map((found) =>
        found._tag === "Some"
          ? found.value
          : checked({ _tag: "Unknown", noAnswer: true, why: `Marathon did not answer the reads within ${formatMillis(LOST_ANSWER_CHECK_MS)}` })
      )
    )


  const listDeployments = Effect.gen(function*() {
    const call: Call = { method: "GET", path: "/v2/deployments", what: "listing deployments" }
    const reply = yield* expect(call, [200])
    const list = yield* decodeWith(DeploymentListJson, call, "a list of deployments")(reply.body)
    return list.map((d): DeploymentSummary => ({
      id: d.id,
      version: d.version,
      affectedApps: d.affectedApps ?? [],
      currentStep: d.currentStep ?? 0,
      totalSteps: d.totalSteps ?? 0
    }))
  }).pipe(Effect.withSpan("Marathon.deployments"))

  /** The apps' task counts for progress, in one listing; unreadable ones are left out (progress is not the verdict). */
  const appStates = (ids: ReadonlyArray<string>) =>
    readApps(ids).pipe(
      Effect.map((found) => [...found.values()]),
      Effect.orElseSucceed((): ReadonlyArray<MarathonApp> => [])
    )

  /**
   * Wake-ups between polls: Marathon's `deployment_success` / `deployment_failed` event of this
   * deployment ends the pause at once, so its end is read when it happens, not at the next poll.
   * Marathon publishes the event before it drops the deployment from its list (the order of events
   * is not guaranteed either), so after a wake-up that still finds it listed the next polls come
   * quickly (10 ms, doubling up to the poll interval). A stream that ends (a proxy's idle
   * timeout) is opened again a second later; one that cannot be opened (refused, or a proxy that
   * does not pass it) is not asked for again, and the polls alone decide.
   */
  const wakeOnEnd = (deploymentId: string) =>
    Effect.gen(function*() {
      const wakeUp = makeWakeUp()
      const follow = transport.events(["deployment_success", "deployment_failed"], (_type, data) => {
        if (isRecord(data) && data["id"] === deploymentId) wakeUp.wake()
      })
      yield* Effect.forkScoped(follow.pipe(Effect.repeat(Schedule.spaced(1000)), Effect.ignore))
      return wakeUp.pause
    })

  const waitForDeployment = Effect.fn("Marathon.waitForDeployment")(function*(deploymentId: string, options?: WaitOptions) {
    const timeoutMs = options?.timeoutMs ?? 600_000
    const pollMs = options?.pollMs ?? 1000
    const lastSeen = yield* Ref.make<DeploymentSummary | undefined>(undefined)
    const started = yield* Clock.currentTimeMillis
    const poll = Effect.scoped(Effect.gen(function*() {
      /** Follows the event stream from the first listing that still shows the deployment (none when it is gone at once). */
      let pause: ((ms: number) => Effect.Effect<boolean>) | undefined
      /** Set by a wake-up: the next pauses, while the deployment is still listed. */
      let settling: number | undefined
      for (;;) {
        const current = (yield* listDeployments).find((d) => d.id === deploymentId)
        if (current === undefined) return
        yield* Ref.set(lastSeen, current)
        if (options?.onProgress !== undefined) {
          const apps = yield* appStates(options.apps ?? current.affectedApps)
          const progress: DeploymentProgress = {
            deploymentId,
            currentStep: current.currentStep,
            totalSteps: current.totalSteps,
            apps: apps.map((a) => ({
              id: a.id,
              tasksRunning: a.tasksRunning,
              tasksHealthy: a.tasksHealthy,
              instances: a.instances
            }))
          }
          options.onProgress(progress)
        }
        if (pause === undefined) pause = yield* wakeOnEnd(deploymentId)
        const woken = yield* pause(settling === undefined ? pollMs : Math.min(settling, pollMs))
        settling = woken ? 10 : settling === undefined ? undefined : settling * 2
      }
    }))
    const timedOut = Effect.gen(function*() {
      const last = yield* Ref.get(lastSeen)
      const ids = options?.apps ?? last?.affectedApps ?? []
      const apps = yield* appStates(ids).pipe(
        Effect.timeoutOption(5000),
        Effect.map((o) => (o._tag === "Some" ? o.value : []))
      )
      const elapsed = (yield* Clock.currentTimeMillis) - started
      const states = apps.map((a) =>
        `${a.id}: ${a.tasksRunning}/${a.instances} running` +
        (a.hasHealthChecks ? `, ${a.tasksHealthy} healthy` : "") +
        (a.lastTaskFailure?.message !== undefined ? `, last task failure: ${a.lastTaskFailure.message}` : "")
      )
      return yield* new MarathonError({
        reason: "DeploymentTimeout",
        message: `Deployment ${deploymentId} did not finish within ${formatMillis(timeoutMs)} ` +
          `(waited ${formatMillis(elapsed)}` +
          (last !== undefined ? `, at step ${last.currentStep}/${last.totalSteps}` : "") + ")" +
          (states.length > 0 ? `: ${states.join("; ")}` : "") +
          ". Marathon has no deployment timeout and keeps trying: cancel it with rollback " +
          `(DELETE /v2/deployments/${deploymentId}, or --revert-on-failure) or fix the cause and wait.`
      })
    })
    yield* poll.pipe(Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => timedOut }))
  })

  const verifyApps = Effect.fn("Marathon.verifyApps")(function*(
    changes: ReadonlyArray<ImageChange>,
    since: { readonly previousFailures: Record<string, string | undefined> }
  ) {
    // one listing for all of them (a single app is read on its own)
    const read = yield* readApps(changes.map((c) => c.appId))
    return changes.map((change): AppVerification => {
      const app = read.get(normalizeAppId(change.appId))
      if (app === undefined) {
        return { appId: normalizeAppId(change.appId), image: undefined, expectedImage: change.image, ok: false, problem: "the app does not exist (any more)" }
      }
      const problems: Array<string> = []
      if (app.image !== change.image) problems.push(`runs ${app.image ?? "no image"}, expected ${change.image}`)
      // Task counts alone cannot tell new tasks from old ones that still run: while a
      // deployment touches the app (ours not yet stored, or another), it is not done.
      if (app.deployments.length > 0) {
        problems.push(`deployment${app.deployments.length > 1 ? "s" : ""} ${app.deployments.join(", ")} still running on it`)
      }
      if (app.tasksRunning !== app.instances) {
        problems.push(`${app.tasksRunning} of ${app.instances} instances running`)
      }
      if (app.hasHealthChecks && app.tasksHealthy !== app.instances) {
        problems.push(`${app.tasksHealthy} of ${app.instances} instances healthy`)
      }
      const before = since.previousFailures[app.id] ?? since.previousFailures[change.appId]
      const now = lastFailureMarker(app)
      if (now !== undefined && now !== before) {
        problems.push(
          `a task failed since the deployment started` +
            (app.lastTaskFailure?.message !== undefined ? `: ${app.lastTaskFailure.message}` : "") +
            (app.lastTaskFailure?.timestamp !== undefined ? ` (at ${app.lastTaskFailure.timestamp})` : "")
        )
      }
      return {
        appId: app.id,
        image: app.image,
        expectedImage: change.image,
        ok: problems.length === 0,
        ...(problems.length > 0 ? { problem: problems.join("; ") } : {}),
        app
      }
    })
  })

  const cancelDeployment = Effect.fn("Marathon.cancelDeployment")(function*(
    deploymentId: string,
    options?: { readonly revert?: boolean }
  ) {
    const revert = options?.revert ?? true
    const call: Call = {
      method: "DELETE",
      path: `/v2/deployments/${encodeURIComponent(deploymentId)}`,
      query: { force: revert ? "false" : "true" },
      what: revert ? `cancelling deployment ${deploymentId} with rollback` : `cancelling deployment ${deploymentId}`
    }
    const request = buildRequest(call)
    // the deployment as listed before, to find its revert should the answer be lost
    const listedBefore = yield* listDeployments.pipe(Effect.option)
    const original = listedBefore._tag === "Some" ? listedBefore.value.find((d) => d.id === deploymentId) : undefined
    for (let attempt = 0;; attempt++) {
      const outcome = yield* sendOnce(call)
      let lost: string
      let retryable: boolean
      if (outcome._tag === "Reply" && (outcome.reply.status === 200 || outcome.reply.status === 202)) {
        if (!revert || outcome.reply.status === 202) return {}
        const result = decodeDeploymentResult(outcome.reply.body)
        if (result._tag === "Some") return { revertDeploymentId: result.value.deploymentId }
        lost = `an answer ${outcome.reply.status} without {deploymentId, version}`
        retryable = false
      } else if (outcome._tag === "Reply" && (outcome.reply.status < 500 && !(outcome.reply.status === 404 && attempt > 0))) {
        return yield* failure(call, outcome.reply)
      } else if (outcome._tag === "NoReply" && !outcome.maybeSent) {
        return yield* unreachable(request, call.what, outcome, attempt + 1 + retries)
      } else {
        lost = outcome._tag === "NoReply" ? `no answer: ${outcome.cause}` : `${outcome.reply.status}`
        retryable = outcome._tag === "NoReply" ? outcome.transport : TRANSIENT_STATUSES.has(outcome.reply.status)
      }
      // Did the cancel happen? Then the deployment is gone, and its revert (if any) is listed.
      const listed = yield* listDeployments.pipe(Effect.result)
      if (Result.isFailure(listed)) {
        return yield* new MarathonError({
          reason: "Indeterminate",
          ...(original !== undefined ? { appIds: original.affectedApps } : {}),
          message: `Marathon's answer to ${call.what} was lost (${lost}) and the deployments cannot be read now ` +
            `(${listed.failure.message}): deployment ${deploymentId} may or may not have been cancelled. Check GET /v2/deployments.`
        })
      }
      if (!listed.success.some((d) => d.id === deploymentId)) {
        // its revert: a deployment on the same apps that was not running before the cancel
        const runningBefore = new Set(listedBefore._tag === "Some" ? listedBefore.value.map((d) => d.id) : [])
        const revertDeployment = revert && original !== undefined
          ? listed.success.find((d) => !runningBefore.has(d.id) && d.affectedApps.some((app) => original.affectedApps.includes(app)))
          : undefined
        return {
          ...(revertDeployment !== undefined ? { revertDeploymentId: revertDeployment.id } : {}),
          answerLost: `Marathon's answer to ${call.what} was lost (${lost}), but deployment ${deploymentId} is gone` +
            (revertDeployment !== undefined
              ? `; its revert is deployment ${revertDeployment.id}`
              : revert
              ? " and no revert deployment is listed: it may have finished before the cancel (then nothing was reverted) or been cancelled and reverted quickly"
              : "")
        }
      }
      if (retryable && attempt < retries) {
        yield* Effect.sleep(backoffMillis(attempt))
        continue
      }
      return yield* new MarathonError({
        reason: outcome._tag === "NoReply" ? "Unreachable" : "Unavailable",
        ...(outcome._tag === "Reply" ? { status: outcome.reply.status } : {}),
        message: `${printableUrl(request.url)} gave no usable answer while ${call.what} (${lost}, ${attempt + 1} attempts); ` +
          `deployment ${deploymentId} is still running. Try again in a minute; check the Marathon leader (GET /v2/info).`
      })
    }
  })


  return { deployImages, waitForDeployment, verifyApps, cancelDeployment, listDeployments }
}
