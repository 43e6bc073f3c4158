/**
 * @module SwarmTarget — Docker Swarm as a deployment {@link Target}: a workload is a service (id =
 * its name, kind `service`, image = `Spec.TaskTemplate.ContainerSpec.Image`, revision =
 * `Version.Index`, health from its tasks, lastFailure = its newest failed task).
 *
 * `apply` reads every service first (nothing is sent when one cannot be read), refuses a service
 * whose image is no longer what the plan expected, then sends one update per service, all before
 * waiting (bounded concurrency), each guarded by the version it read. A stale version (the engine's
 * 500 "update out of sequence") is read again: refused when the image changed, else retried once
 * on the new version. A lost answer is never resent blindly: the service is read again, and a
 * moved version with our image means applied, an unmoved one means not applied (resent once, on
 * the same version, so it cannot apply twice). `watch` follows `UpdateStatus` and the tasks of the
 * new spec; `revert` is `rollback=previous` per service.
 */
import { Clock, Effect, Layer } from "effect"
import type { Scope } from "effect"
import type { TargetDescription } from "../../core/Report.ts"
import type { Credentials } from "../../registry/Auth.ts"
import type { AppliedChange, AppliedWorkload, ImageChange, TargetShape, WorkloadMemory, WorkloadVerification } from "../../target/Target.ts"
import { Target } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import { makeWakeUp } from "../../target/WakeUp.ts"
import { makeSwarmApi } from "./Api.ts"
import type { SwarmService, TaskBody } from "./Api.ts"
import { sameImageText } from "../../core/ImageReference.ts"
import type { LabelRequirement } from "./Services.ts"
import {
  describeTask,
  failuresSince,
  parseLabelSelector,
  pinnedImage,
  registryAuthHeader,
  registryHostOfImage,
  serviceInScope,
  serviceToWorkload,
  specWithImage,
  STACK_LABEL,
  updateProgress
} from "./Services.ts"
import { SwarmError, toTargetError } from "./SwarmError.ts"
import { makeTransport } from "./Transport.ts"
import type { DockerHostSettings, Transport, TransportOptions } from "./Transport.ts"

/** Settings of the Swarm target. */
export interface SwarmConfig {
  /** The engine (`DOCKER_HOST`, TLS); see {@link dockerHostFromEnv}. */
  readonly docker: DockerHostSettings
  /** The stack whose services are in scope (`--stack`, label `com.docker.stack.namespace`). */
  readonly stack?: string | undefined
  /** A Docker label selector (`key=value,key2`), all of which must hold. */
  readonly labelSelector?: string | undefined
  /** Registry credentials for an image's registry host (sent as `X-Registry-Auth`); none = the engine keeps the stored ones. */
  readonly registryCredentials?: ((registryHost: string) => Effect.Effect<Credentials | undefined, TargetError>) | undefined
  /** Updates in flight at once, default 8. */
  readonly concurrency?: number | undefined
  readonly transport?: TransportOptions | undefined
  /** For `DOCKER_CERT_PATH`'s default (`~/.docker`). */
  readonly homeDir?: string | undefined
}

/** What `apply` hands to `watch` and `revert` (no secret). */
interface SwarmHandle {
  readonly services: ReadonlyArray<{ readonly id: string; readonly name: string; readonly image: string; readonly rollback: boolean }>
}

const handleOf = (applied: AppliedChange): SwarmHandle => (applied.handle as SwarmHandle | undefined) ?? { services: [] }

/** How to reach the engine again, for the report: its address and scope, never a secret. */
export const describeSwarm = (address: string, config: Pick<SwarmConfig, "stack" | "labelSelector">): TargetDescription => {
  const settings: Record<string, string> = {}
  if (config.stack !== undefined) settings["stack"] = config.stack
  if (config.labelSelector !== undefined) settings["labelSelector"] = config.labelSelector
  return { kind: "swarm", url: address, ...(Object.keys(settings).length > 0 ? { settings } : {}) }
}

/** One service's update, read and checked, ready to send. */
interface Prepared {
  readonly change: ImageChange
  readonly service: SwarmService
  /** The pinned reference to send. */
  readonly image: string
  readonly auth: string | undefined
}

/** What became of one service's change, with the service's id for the handle. */
type Outcome = AppliedWorkload & { readonly serviceId?: string | undefined; readonly image?: string | undefined; readonly error?: SwarmError | undefined }

const selectorOf = (selector: string | undefined): Effect.Effect<ReadonlyArray<LabelRequirement> | undefined, TargetError> => {
  if (selector === undefined || selector.trim() === "") return Effect.succeed(undefined)
  const parsed = parseLabelSelector(selector)
  return parsed !== undefined ? Effect.succeed(parsed) : Effect.fail(
    new TargetError({
      reason: "Invalid",
      message: `the label selector ${JSON.stringify(selector)} is not valid: expected Docker's label filters, key or key=value, joined by commas (all must hold)`
    })
  )
}

/** The Swarm target over an open transport. */
export const makeSwarmTarget = (transport: Transport, config: SwarmConfig): Effect.Effect<TargetShape, TargetError> =>
  Effect.gen(function*() {
    const api = makeSwarmApi(transport)
    const configured = yield* selectorOf(config.labelSelector)
    const concurrency = Math.max(1, config.concurrency ?? 8)
    const description = describeSwarm(transport.address, config)

    const listWorkloads: TargetShape["listWorkloads"] = (scope) =>
      Effect.gen(function*() {
        const selector = yield* selectorOf(scope.labelSelector)
        const [services, tasks] = yield* Effect.all([api.listServices(), api.listTasks({})], { concurrency: 2 }).pipe(Effect.mapError((e) => toTargetError(e)))
        const byService = groupTasks(tasks)
        const within = { stack: config.stack, namePrefix: scope.idPrefix, labelSelector: [...(configured ?? []), ...(selector ?? [])] }
        return services.map((s) => serviceToWorkload(s, byService.get(s.id) ?? [], serviceInScope(s, within)))
      })

    const getWorkload: TargetShape["getWorkload"] = (id) =>
      Effect.gen(function*() {
        const service = yield* api.inspectService(id)
        const tasks = yield* api.listTasks({ service: [service.id] })
        return serviceToWorkload(service, tasks, serviceInScope(service, { stack: config.stack, labelSelector: configured }))
      }).pipe(Effect.mapError((e) => toTargetError(e, [id])))

    const authFor = (image: string): Effect.Effect<string | undefined, TargetError> => {
      const host = registryHostOfImage(image)
      if (config.registryCredentials === undefined || host === undefined) return Effect.succeed(undefined)
      return config.registryCredentials(host).pipe(Effect.map((c) => (c === undefined ? undefined : registryAuthHeader(c, host))))
    }

    /** The reference to send: pinned with the recorded digest, else the registry's digest (as the CLI), else as given. */
    const referenceFor = (change: ImageChange, auth: string | undefined): Effect.Effect<string> => {
      if (change.digest !== undefined || /@sha256:/.test(change.image)) return Effect.succeed(pinnedImage(change.image, change.digest))
      return api.distributionDigest(change.image, auth).pipe(
        Effect.map((digest) => pinnedImage(change.image, digest)),
        Effect.catch((e) =>
          Effect.as(Effect.logWarning(`image ${change.image} could not be accessed on a registry to record its digest (${e.message}); it is deployed by tag`), change.image)
        )
      )
    }

    /**
     * The services to change as they are now, in ONE listing (the engine's `name` filter matches
     * name prefixes: the exact names are picked here); a read failure fails the whole apply.
     */
    const readServices = (changes: ReadonlyArray<ImageChange>): Effect.Effect<ReadonlyMap<string, SwarmService>, TargetError> => {
      const names = [...new Set(changes.map((c) => c.workload))]
      if (names.length === 0) return Effect.succeed(new Map())
      return api.listServices({ name: names }).pipe(
        Effect.map((listed) => new Map(listed.filter((s) => names.includes(s.name)).map((s) => [s.name, s]))),
        Effect.mapError((e) => toTargetError(e, names))
      )
    }

    /** Checks the plan's guard on one service as read now. */
    const prepare = (change: ImageChange, read: ReadonlyMap<string, SwarmService>): Effect.Effect<Prepared | Outcome, TargetError> =>
      Effect.gen(function*() {
        const service = read.get(change.workload)
        if (service === undefined) {
          return yield* new TargetError({ reason: "NotFound", workloads: [change.workload], message: `service ${change.workload} not found on the engine (docker service ls does not list it); nothing was sent` })
        }
        if (change.expected !== undefined && !sameImageText(service.image, change.expected)) {
          return { workload: change.workload, state: "refused", problem: `it runs ${service.image ?? "no image"} now, not ${change.expected} as planned: someone changed it; it was left as it is` } as Outcome
        }
        const auth = yield* authFor(change.image)
        const image = yield* referenceFor(change, auth)
        return { change, service, image, auth } satisfies Prepared
      })

    const applied = (p: Prepared, note?: string): Outcome => ({ workload: p.change.workload, state: "applied", serviceId: p.service.id, image: p.image, ...(note !== undefined ? { problem: note } : {}) })

    /** After a stale version: refuse when the image changed, else send once more on the new version. */
    const onOutOfSequence = (p: Prepared): Effect.Effect<Outcome> =>
      api.inspectService(p.service.id).pipe(
        Effect.matchEffect({
          onFailure: (e) => Effect.succeed<Outcome>({ workload: p.change.workload, state: "refused", problem: `its version moved and it could not be read again (${e.message}); nothing was sent`, error: e }),
          onSuccess: (now) => {
            if (sameImageText(now.image, p.image)) return Effect.succeed(applied(p, "someone else had already deployed this image"))
            if (!sameImageText(now.image, p.service.image)) {
              return Effect.succeed<Outcome>({ workload: p.change.workload, state: "refused", problem: `someone changed it meanwhile: it runs ${now.image ?? "no image"} now, not ${p.service.image ?? "no image"} as planned; it was left as it is` })
            }
            return api.updateService(now, now.version, specWithImage(now.spec, p.image), { registryAuth: p.auth }).pipe(
              Effect.as(applied(p)),
              Effect.catch((e) => Effect.succeed<Outcome>({ workload: p.change.workload, state: "refused", problem: `it was changed meanwhile, twice (${e.message}); it was left as it is`, error: e }))
            )
          }
        })
      )

    /** After a lost answer: the version and image tell whether it was applied; never a blind resend. */
    const onLostAnswer = (p: Prepared, lost: SwarmError, resent: boolean): Effect.Effect<Outcome> =>
      api.inspectService(p.service.id).pipe(
        Effect.matchEffect({
          onFailure: (e) => Effect.succeed<Outcome>({ workload: p.change.workload, state: "unknown", serviceId: p.service.id, image: p.image, problem: `the update was sent but its answer was lost (${lost.message}) and the service could not be read again (${e.message}): check whether it runs ${p.image}` }),
          onSuccess: (now) => {
            if (now.version > p.service.version && sameImageText(now.image, p.image)) return Effect.succeed(applied(p, "the answer was lost; the service was found updated"))
            if (now.version > p.service.version) {
              return Effect.succeed<Outcome>({ workload: p.change.workload, state: "refused", problem: `the answer was lost and the service was changed by someone else (it runs ${now.image ?? "no image"}); it was left as it is` })
            }
            // not applied: send it again on the same version, which the engine takes at most once
            return resent
              ? Effect.succeed<Outcome>({ workload: p.change.workload, state: "unknown", serviceId: p.service.id, image: p.image, problem: `no answer twice (${lost.message}); check whether it runs ${p.image}` })
              : send(p, true)
          }
        })
      )

    const send = (p: Prepared, resent: boolean): Effect.Effect<Outcome> =>
      api.updateService(p.service, p.service.version, specWithImage(p.service.spec, p.image), { registryAuth: p.auth }).pipe(
        Effect.as(applied(p)),
        Effect.catch((e): Effect.Effect<Outcome> =>
          e.reason === "OutOfSequence"
            ? onOutOfSequence(p)
            : e.noAnswer === true
            ? onLostAnswer(p, e, resent)
            : Effect.succeed({ workload: p.change.workload, state: "refused", problem: e.message, error: e })
        )
      )

    /**
     * `undo` of a run nobody touched since: the service runs what the run deployed and its previous
     * spec runs what the run found, so `rollback=previous` brings back that spec exactly (the
     * issue's way). Anything else (a later change by anyone) goes back by a guarded update instead,
     * which keeps their change: the engine's ONE previous spec would now be the run's own.
     */
    const undoesExactly = (p: Prepared): boolean =>
      p.service.hasPreviousSpec && p.change.expected !== undefined && sameImageText(p.service.image, p.change.expected) &&
      sameImageText(p.service.previousImage, p.change.image)

    /** `rollback=previous` on the version read (guarded like an update: a stale version is read again). */
    const rollBack = (p: Prepared): Effect.Effect<Outcome & { readonly rollback?: boolean }> => {
      const back: Prepared = { ...p, image: p.service.previousImage! }
      return api.updateService(p.service, p.service.version, p.service.spec, { rollback: true }).pipe(
        Effect.as({ ...applied(back), rollback: true }),
        Effect.catch((e): Effect.Effect<Outcome> =>
          e.reason === "OutOfSequence"
            ? onOutOfSequence(back)
            : e.noAnswer === true
            ? onLostAnswer(back, e, false)
            : Effect.succeed({ workload: p.change.workload, state: "refused", problem: e.message, error: e })
        )
      )
    }

    const apply: TargetShape["apply"] = (changes, options) =>
      Effect.gen(function*() {
        if (options.dryRun === true) return yield* unsupported("Docker Swarm cannot validate a service update without applying it (no server-side dry run). Nothing was sent.")
        if (options.force) return yield* unsupported("Docker Swarm has no lock to override (--force). Nothing was sent.")
        const read = yield* readServices(changes)
        const prepared = yield* Effect.forEach(changes, (c) => prepare(c, read), { concurrency })
        const undo = options.purpose === "undo"
        const outcomes = yield* Effect.forEach(prepared, (p) => ("state" in p ? Effect.succeed(p) : undo && undoesExactly(p) ? rollBack(p) : send(p, false)), { concurrency })
        const sent = outcomes.filter((o) => o.state !== "refused" || o.error === undefined)
        const firstError = outcomes.find((o) => o.error !== undefined)?.error
        // Every service refused by the engine itself: nothing changed, fail as the engine said.
        if (sent.length === 0 && firstError !== undefined) return yield* toTargetError(firstError, changes.map((c) => c.workload))
        const change = appliedChange(outcomes.filter((o) => o.state !== "refused" && o.serviceId !== undefined), outcomes, undo)
        const rolledBack = outcomes.filter((o) => "rollback" in o && o.rollback === true).map((o) => o.workload)
        return rolledBack.length === 0 ? change : { ...change, note: `${rolledBack.join(", ")}: rollback=previous, back to the spec before the run exactly (nobody changed ${rolledBack.length === 1 ? "it" : "them"} since)` }
      })

    /** The services and their tasks; `current`: only the tasks meant to run (what a poll needs, not the task history). */
    const readState = (ids: ReadonlyArray<string>, current = false) =>
      Effect.all([
        api.listServices({ id: [...ids] }),
        api.listTasks(current ? { service: [...ids], "desired-state": ["running"] } : { service: [...ids] })
      ], { concurrency: 2 }).pipe(
        Effect.map(([services, tasks]) => ({ services: new Map(services.map((s) => [s.id, s])), tasks: groupTasks(tasks) })),
        Effect.mapError((e) => toTargetError(e))
      )

    const failureDetail = (tasks: ReadonlyArray<TaskBody>, image: string): string => {
      const failed = failuresSince(tasks.filter((t) => sameImageText(t.Spec?.ContainerSpec?.Image, image)), undefined).slice(0, 3)
      return failed.length === 0 ? "" : `; ${failed.map(describeTask).join("; ")}`
    }

    type Watched = SwarmHandle["services"][number]
    type Polled = { readonly s: Watched; readonly tasks: ReadonlyArray<TaskBody>; readonly p: ReturnType<typeof updateProgress>; readonly running: number; readonly desired: number }

    /** One poll of the services still being watched: where each stands, and its replica counts (their current tasks only). */
    const poll = (pending: ReadonlyArray<Watched>) =>
      Effect.map(readState(pending.map((s) => s.id), true), (state) =>
        pending.map((s): Polled => {
          const service = state.services.get(s.id)
          const tasks = state.tasks.get(s.id) ?? []
          const current = tasks.filter((t) => t.DesiredState === "running")
          const running = current.filter((t) => t.Status.State === "running").length
          const desired = service?.replicas ?? current.length
          const p = service === undefined ? { _tag: "Failed", why: "the service is gone" } as const : updateProgress(service, tasks, { image: s.image, rollback: s.rollback })
          return { s, tasks, p, running, desired }
        }))

    /** The failure, with the failed tasks' errors (read now with the task history; the poll read only current tasks). */
    const rolloutFailed = (failed: ReadonlyArray<Polled>) =>
      Effect.gen(function*() {
        const all = yield* readState(failed.map((x) => x.s.id)).pipe(Effect.option)
        const tasksOf = (x: Polled) => (all._tag === "Some" ? all.value.tasks.get(x.s.id) : undefined) ?? x.tasks
        return new TargetError({
          reason: "RolloutFailed",
          workloads: failed.map((x) => x.s.name),
          message: failed.map((x) => `service ${x.s.name}: ${x.p._tag === "Failed" ? x.p.why : ""}${failureDetail(tasksOf(x), x.s.image)}`).join("\n")
        })
      })

    /**
     * Wake-ups between polls: the engine's service events (`updatestate.new` of a watched service)
     * end the wait at once, so the end of an update is seen when it happens, not at the next poll.
     * Without the stream (an engine or proxy that does not give it) the polls alone decide.
     */
    const wakeOnUpdates = (ids: ReadonlySet<string>) =>
      Effect.gen(function*() {
        const wakeUp = makeWakeUp()
        yield* Effect.forkScoped(transport.events({ type: ["service"] }, (event) => {
          const e = event as { readonly Action?: unknown; readonly Actor?: { readonly ID?: unknown; readonly Attributes?: Readonly<Record<string, unknown>> } }
          if (e.Action === "update" && typeof e.Actor?.ID === "string" && ids.has(e.Actor.ID) && e.Actor.Attributes?.["updatestate.new"] !== undefined) wakeUp.wake()
        }).pipe(Effect.ignore))
        return wakeUp.pause
      })

    /** Polls until every service is done (a done one is not read again), one fails, or our timeout. */
    const watch: TargetShape["watch"] = (change, options) =>
      Effect.scoped(Effect.gen(function*() {
        const services = handleOf(change).services
        const last = new Map<string, Polled>()
        const started = yield* Clock.currentTimeMillis
        const nextPoll = yield* wakeOnUpdates(new Set(services.map((s) => s.id)))
        for (let pending = services; pending.length > 0;) {
          for (const x of yield* poll(pending)) last.set(x.s.id, x)
          const all = services.map((s) => last.get(s.id)!)
          options.onProgress?.({
            summary: `${all.filter((x) => x.p._tag === "Done").length} of ${services.length} services updated`,
            workloads: all.map((x) => ({ id: x.s.name, running: x.running, healthy: x.running, desired: x.desired }))
          })
          const failed = all.filter((x) => x.p._tag === "Failed")
          if (failed.length > 0) return yield* Effect.flatMap(rolloutFailed(failed), Effect.fail)
          const waiting = all.filter((x) => x.p._tag === "Waiting")
          pending = waiting.map((x) => x.s)
          if (pending.length === 0) return
          if ((yield* Clock.currentTimeMillis) - started >= options.timeoutMs) {
            return yield* new TargetError({
              reason: "Timeout",
              workloads: waiting.map((x) => x.s.name),
              message: `not done within ${Math.round(options.timeoutMs / 1000)} s (the engine goes on): ${waiting.map((x) => `${x.s.name} ${x.p._tag === "Waiting" ? x.p.why : ""}`).join("; ")}`
            })
          }
          yield* nextPoll(options.pollMs ?? 500)
        }
      }))

    const inProgress: TargetShape["inProgress"] = (change) => {
      const ids = handleOf(change).services.map((s) => s.id)
      if (ids.length === 0) return Effect.succeed(false)
      return api.listServices({ id: ids }).pipe(
        Effect.map((services) => services.some((s) => s.updateState === "updating" || s.updateState === "rollback_started")),
        Effect.mapError((e) => toTargetError(e))
      )
    }

    const verify: TargetShape["verify"] = (changes, before) =>
      Effect.gen(function*() {
        const byName = yield* readServices(changes)
        const ids = changes.flatMap((c) => byName.get(c.workload)?.id ?? [])
        const tasks = ids.length === 0 ? new Map<string, ReadonlyArray<TaskBody>>() : groupTasks(yield* api.listTasks({ service: ids }).pipe(Effect.mapError((e) => toTargetError(e))))
        return changes.map((c) => verifyOne(c, byName.get(c.workload), tasks, before.get(c.workload)))
      })

    const revert: TargetShape["revert"] = (args) =>
      Effect.gen(function*() {
        const outcomes = yield* Effect.forEach(args.back, revertOne, { concurrency })
        const moved = outcomes.filter((o) => o.serviceId !== undefined)
        const notes = outcomes.filter((o) => o.problem !== undefined).map((o) => `${o.workload}: ${o.problem}`)
        const failed = outcomes.filter((o) => o.state === "refused" && o.error !== undefined)
        if (failed.length === outcomes.length && failed[0]?.error !== undefined) return yield* toTargetError(failed[0].error, args.back.map((c) => c.workload))
        return {
          applied: moved.length === 0 ? undefined : appliedChange(moved, outcomes, true),
          ...(notes.length > 0 ? { note: notes.join("; ") } : {})
        }
      })

    /** One service back to `back.image`: nothing when it runs it, `rollback=previous` when its previous spec has it, else an update. */
    const revertOne = (back: ImageChange): Effect.Effect<Outcome & { readonly rollback?: boolean }> =>
      api.inspectService(back.workload).pipe(
        Effect.matchEffect({
          onFailure: (e) => Effect.succeed<Outcome>({ workload: back.workload, state: "refused", problem: e.message, error: e }),
          onSuccess: (service): Effect.Effect<Outcome & { readonly rollback?: boolean }> => {
            if (sameImageText(service.image, back.image)) return Effect.succeed({ workload: back.workload, state: "applied", problem: "it already ran its previous image" })
            const p: Prepared = { change: back, service, image: back.image, auth: undefined }
            if (service.hasPreviousSpec && sameImageText(service.previousImage, back.image)) {
              return api.updateService(service, service.version, service.spec, { rollback: true }).pipe(
                Effect.as({ ...applied({ ...p, image: service.previousImage! }), rollback: true }),
                Effect.catch((e) => Effect.succeed<Outcome>({ workload: back.workload, state: "refused", problem: e.message, error: e }))
              )
            }
            return Effect.flatMap(authFor(back.image).pipe(Effect.orElseSucceed(() => undefined)), (auth) => send({ ...p, auth, image: pinnedImage(back.image, back.digest) }, false))
          }
        })
      )

    /**
     * What each service ran when, as far as the engine remembers: the tasks it still lists (the
     * task history, 5 per slot by default) in the order they were made — a new entry wherever a
     * task runs another image than the one made before it — and, when the tasks no longer show it,
     * the previous spec's image (one step, with no time of its own: dated by the oldest task).
     */
    const history: NonNullable<TargetShape["history"]> = (asked) =>
      Effect.gen(function*() {
        const services = yield* Effect.forEach(asked, ({ workload }) => api.inspectService(workload), { concurrency })
        const tasks = groupTasks(yield* api.listTasks({ service: services.map((s) => s.id) }))
        const entries = services.flatMap((service) => serviceHistory(service, tasks.get(service.id) ?? []))
        return {
          entries,
          note: "Docker Swarm remembers only the tasks it still lists (task history, 5 per slot by default) and one previous spec: older deployments come only from reports (--reports)"
        }
      }).pipe(Effect.mapError((e) => toTargetError(e)))

    return Target.of({
      description,
      displayName: "Docker Swarm",
      history,
      // one update per service, all sent together: "the rollout" of the set
      changeNoun: "rollout",
      workloadNoun: "service",
      hints: {
        checkState: "docker service ps NAME (tasks, errors), docker service inspect NAME (image, UpdateStatus)",
        checkStarted: "do they run the new images? docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{.UpdateStatus.State}}' NAME",
        cancelByHand: (id) => `docker service rollback ${id.split(", ").join(" && docker service rollback ")}`,
        narrowScope: "--stack / --label-selector (target.stack / target.labelSelector in the config)"
      },
      capabilities: { force: false, revert: true, serverDryRun: false, watch: true, pinDigest: true },
      listWorkloads,
      getWorkload,
      apply,
      watch,
      inProgress,
      verify,
      revert
    })
  })

/** One service's remembered images from its tasks (see `history` in the target). */
const serviceHistory = (service: SwarmService, tasks: ReadonlyArray<TaskBody>): ReadonlyArray<WorkloadMemory> => {
  const made = tasks
    .flatMap((t) => {
      const at = t.CreatedAt === undefined ? undefined : Date.parse(t.CreatedAt)
      const image = t.Spec?.ContainerSpec?.Image
      return at === undefined || !Number.isFinite(at) || image === undefined ? [] : [{ at, image }]
    })
    .sort((a, b) => a.at - b.at)
  const entries: Array<WorkloadMemory> = []
  for (const task of made) {
    if (entries.length === 0 || entries[entries.length - 1]!.image !== task.image) entries.push({ workload: service.name, image: task.image, at: task.at })
  }
  const previous = service.previousImage
  if (previous !== undefined && made.length > 0 && !entries.some((e) => e.image === previous)) {
    // the previous spec ran before the oldest task still listed; when exactly, the engine forgot
    entries.unshift({ workload: service.name, image: previous, at: made[0]!.at - 1, cause: "the previous spec (its start is not known)" })
  }
  return entries
}

const unsupported = (message: string) => Effect.fail(new TargetError({ reason: "Unsupported", message }))

const groupTasks = (tasks: ReadonlyArray<TaskBody>): Map<string, Array<TaskBody>> => {
  const byService = new Map<string, Array<TaskBody>>()
  for (const task of tasks) {
    const list = byService.get(task.ServiceID)
    if (list === undefined) byService.set(task.ServiceID, [task])
    else list.push(task)
  }
  return byService
}

const appliedChange = (moved: ReadonlyArray<Outcome & { readonly rollback?: boolean }>, all: ReadonlyArray<Outcome>, rollback: boolean): AppliedChange => ({
  changeIds: moved.map((o) => o.workload),
  workloads: all.map((o) => ({ workload: o.workload, state: o.state, ...(o.problem !== undefined ? { problem: o.problem } : {}) })),
  handle: {
    services: moved.map((o) => ({ id: o.serviceId!, name: o.workload, image: o.image!, rollback: rollback && o.rollback === true }))
  } satisfies SwarmHandle
})

/** The check of one changed service: its spec's image, every replica running it, no new task failure, no paused update. */
const verifyOne = (
  change: ImageChange,
  service: SwarmService | undefined,
  tasksById: ReadonlyMap<string, ReadonlyArray<TaskBody>>,
  before: Workload | undefined
): WorkloadVerification => {
  const base = { workload: change.workload, image: service?.image, expectedImage: change.image }
  if (service === undefined) return { ...base, ok: false, problem: "the service is gone" }
  const tasks = tasksById.get(service.id) ?? []
  const problems: Array<string> = []
  if (!sameImageText(service.image, change.image)) problems.push(`it runs ${service.image ?? "no image"}, not ${change.image}`)
  if (service.updateState === "paused" || service.updateState === "rollback_paused") problems.push(`its update is ${service.updateState}: ${service.updateMessage ?? ""}`)
  const current = tasks.filter((t) => t.DesiredState === "running")
  const ready = current.filter((t) => t.Status.State === "running" && t.Spec?.ContainerSpec?.Image === service.image).length
  const desired = service.replicas ?? current.length
  if (ready < desired) problems.push(`${ready}/${desired} replicas run it`)
  const failures = failuresSince(tasks.filter((t) => sameImageText(t.Spec?.ContainerSpec?.Image, change.image)), before?.lastFailure)
  if (failures.length > 0) problems.push(failures.slice(0, 3).map(describeTask).join("; "))
  return problems.length === 0 ? { ...base, ok: true } : { ...base, ok: false, problem: problems.join("; ") }
}

/** Docker Swarm as the deployment target. */
export const SwarmTarget = {
  /** The Target on the engine the settings name (a connection pool closed with the layer). */
  layer: (config: SwarmConfig): Layer.Layer<Target, TargetError> =>
    Layer.effect(Target, openSwarmTarget(config))
}

/** Opens the transport (negotiating the API version) and builds the target; scoped. */
export const openSwarmTarget = (config: SwarmConfig): Effect.Effect<TargetShape, TargetError, Scope.Scope> =>
  makeTransport(config.docker, config.transport, config.homeDir).pipe(
    Effect.mapError((e) => toTargetError(e)),
    Effect.flatMap((transport) => makeSwarmTarget(transport, config))
  )

export { STACK_LABEL }
export { dockerHostFromEnv } from "./Transport.ts"
