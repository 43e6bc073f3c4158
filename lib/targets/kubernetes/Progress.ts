/**
 * @module Progress — following applied changes until every workload's rollout is done, by
 * kubectl's rules ({@link rolloutVerdict}): read the changed workloads (one list per namespace and
 * kind, so 200 workloads cost a few requests), then follow those lists' watch events, as kubectl's
 * rollout status does, until they say nothing rolls any more, and list again to confirm (where
 * the server refuses `watch`, poll). Report progress, and end when none is still rolling — failed
 * (ProgressDeadlineExceeded, with the pods' waiting reasons), done, or our own timeout (with what
 * each pending workload waits for). Also the one-read `inProgress` and the after-the-fact `verify`
 * of every changed workload.
 */
import { Clock, Effect, Schema } from "effect"
import type { AppliedChange, ChangeProgress, ImageChange, WatchOptions, WorkloadVerification } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import { parseWorkloadId, watchRequest, workloadId, type WorkloadRef } from "./Api.ts"
import { type Cluster, listKind, podProblems } from "./Cluster.ts"
import { findContainer } from "./Patches.ts"
import { WorkloadJson } from "./Resources.ts"
import { rolloutVerdict, type RolloutVerdict, workloadHealth } from "./Rollout.ts"
import { toWorkload } from "./Workloads.ts"

/** One changed workload as read now. */
interface Reading {
  readonly ref: WorkloadRef
  readonly workload: WorkloadJson | undefined
  readonly verdict: RolloutVerdict
}

/** The ids of the workloads a change applied. */
const appliedIds = (applied: AppliedChange): ReadonlyArray<string> => applied.workloads.filter((w) => w.state === "applied").map((w) => w.workload)

/** The changed workloads as last read, and where each list's watch starts (`namespace/kind` → its resourceVersion). */
interface Snapshot {
  readonly readings: ReadonlyArray<Reading>
  readonly versions: ReadonlyMap<string, string | undefined>
}

/** A reading of one workload as read (or gone). */
const readingOf = (ref: WorkloadRef, workload: WorkloadJson | undefined): Reading => ({
  ref,
  workload,
  verdict: workload === undefined ? { state: "failed", message: `${workloadId(ref)} was deleted` } : rolloutVerdict(ref.kind, workload)
})

/** Reads the workloads (one list per namespace and kind) and judges each. */
const snapshot = (cluster: Cluster, ids: ReadonlyArray<string>): Effect.Effect<Snapshot, TargetError> =>
  Effect.gen(function*() {
    const refs = yield* Effect.forEach(ids, parseWorkloadId)
    const groups = [...new Set(refs.map(groupOf))]
    const lists = yield* Effect.forEach(groups, (g) => {
      const [namespace, kind] = g.split("/") as [string, WorkloadRef["kind"]]
      return listKind(cluster, namespace, kind).pipe(Effect.map((list) => [g, list] as const))
    }, { concurrency: cluster.concurrency })
    const byGroup = new Map(lists.map(([g, list]) => [g, new Map(list.items.map((w) => [w.metadata.name, w]))]))
    return {
      readings: refs.map((ref) => readingOf(ref, byGroup.get(groupOf(ref))?.get(ref.name))),
      versions: new Map(lists.map(([g, list]) => [g, list.resourceVersion]))
    }
  })

/** The list a workload is read in: `namespace/kind`. */
const groupOf = (ref: WorkloadRef): string => `${ref.namespace}/${ref.kind}`

/** Reads the workloads and judges each. */
const readAll = (cluster: Cluster, ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Reading>, TargetError> =>
  Effect.map(snapshot(cluster, ids), (s) => s.readings)

const progressOf = (readings: ReadonlyArray<Reading>): ChangeProgress => {
  const finished = readings.filter((r) => r.verdict.state !== "waiting").length
  return {
    summary: `${finished} of ${readings.length} workloads rolled out${readings.some((r) => r.verdict.state === "failed") ? ` (${readings.filter((r) => r.verdict.state === "failed").length} failed)` : ""}`,
    workloads: readings.map((r) => {
      const h = r.workload === undefined ? { running: 0, healthy: 0, desired: 0 } : workloadHealth(r.ref.kind, r.workload)
      return { id: workloadId(r.ref), running: h.running, healthy: h.healthy, desired: h.desired }
    })
  }
}

/** `prod/Deployment/api: deployment "api" exceeded its progress deadline; pods: api: ImagePullBackOff (…) on 1 pod`. */
const describe = (cluster: Cluster, reading: Reading): Effect.Effect<string> =>
  (reading.workload === undefined ? Effect.succeed([] as ReadonlyArray<string>) : podProblems(cluster, reading.ref, reading.workload)).pipe(
    Effect.map((pods) => `${workloadId(reading.ref)}: ${reading.verdict.message}${pods.length > 0 ? `; pods: ${pods.join("; ")}` : ""}`)
  )

/** How long one watch may stay open before the lists are read again (under the transport's 30 s body timeout; ten polls when that is less). */
export const WATCH_WINDOW_MS = 25_000

/** Why following the events stopped: nothing waits by them, a stream ended (list again), or the server does not let us watch (poll). */
type Followed = "settled" | "ended" | "unsupported"

const decodeWorkload = Schema.decodeUnknownOption(WorkloadJson)

/**
 * Follows the lists' watch events (from the snapshot's resourceVersions) until no changed workload
 * is still rolling by them, a stream ends, or `withinMs` passes — as kubectl's rollout status
 * watches. The events only say when to look again: the verdict is always a fresh list's.
 */
const followEvents = (cluster: Cluster, snap: Snapshot, withinMs: number, onChange: (readings: ReadonlyArray<Reading>) => void): Effect.Effect<Followed> => {
  const current = new Map(snap.readings.map((r) => [workloadId(r.ref), r]))
  if ([...snap.versions.values()].some((v) => v === undefined)) return Effect.succeed("unsupported")
  let settle: (followed: Followed) => void = () => {}
  const settled = new Promise<Followed>((resolve) => (settle = resolve))
  const watchGroup = ([group, resourceVersion]: readonly [string, string | undefined]): Effect.Effect<Followed> => {
    const [namespace, kind] = group.split("/") as [string, WorkloadRef["kind"]]
    return cluster.transport.stream(watchRequest(kind, namespace, resourceVersion!, Math.max(1, Math.ceil(withinMs / 1000))), (event) => {
      const e = event as { readonly type?: unknown; readonly object?: unknown }
      // 410 Gone (the resourceVersion is too old) and the like: list again
      if (e.type === "ERROR") return settle("ended")
      if (e.type !== "ADDED" && e.type !== "MODIFIED" && e.type !== "DELETED") return
      const object = decodeWorkload(e.object)
      if (object._tag === "None") return
      const id = workloadId({ namespace, kind, name: object.value.metadata.name })
      const before = current.get(id)
      if (before === undefined) return
      current.set(id, readingOf(before.ref, e.type === "DELETED" ? undefined : object.value))
      onChange([...current.values()])
      if (![...current.values()].some((r) => r.verdict.state === "waiting")) settle("settled")
    }).pipe(
      // RBAC without `watch` (403), or a server that cannot watch: poll instead
      Effect.map((response): Followed => [403, 404, 405].includes(response.status) ? "unsupported" : "ended"),
      // a lost connection: list again (the list's own retries and errors decide)
      Effect.catch(() => Effect.succeed<Followed>("ended"))
    )
  }
  return Effect.raceAllFirst([
    Effect.promise(() => settled),
    ...[...snap.versions.entries()].map(watchGroup),
    Effect.as(Effect.sleep(withinMs), "ended" as Followed)
  ])
}

/**
 * Waits until no changed workload is rolling any more (see the module): each round lists the
 * changed workloads and judges them, then follows the lists' watch events until they say nothing
 * rolls any more (or a stream ends, or a window passes) and lists again. Where the server does not
 * let us watch, it polls every `pollMs`; lists never come more often than that.
 */
export const watchChanges = (cluster: Cluster, applied: AppliedChange, options: WatchOptions): Effect.Effect<void, TargetError> =>
  Effect.gen(function*() {
    const ids = appliedIds(applied)
    if (ids.length === 0) return
    const pollMs = options.pollMs ?? 500
    const started = yield* Clock.currentTimeMillis
    let watching = true
    let lastProgress = 0
    const progress = (readings: ReadonlyArray<Reading>) => {
      const now = Date.now()
      if (now - lastProgress < pollMs) return
      lastProgress = now
      options.onProgress?.(progressOf(readings))
    }
    for (;;) {
      const snap = yield* snapshot(cluster, ids)
      const readings = snap.readings
      lastProgress = 0
      progress(readings)
      const waiting = readings.filter((r) => r.verdict.state === "waiting")
      const failed = readings.filter((r) => r.verdict.state === "failed")
      if (waiting.length === 0 && failed.length > 0) {
        const lines = yield* Effect.forEach(failed, (r) => describe(cluster, r), { concurrency: cluster.concurrency })
        return yield* new TargetError({ reason: "RolloutFailed", workloads: failed.map((r) => workloadId(r.ref)), message: `${failed.length} of ${readings.length} rollouts failed: ${lines.join(" | ")}` })
      }
      if (waiting.length === 0) return
      const elapsed = (yield* Clock.currentTimeMillis) - started
      if (elapsed >= options.timeoutMs) {
        const lines = yield* Effect.forEach(waiting, (r) => describe(cluster, r), { concurrency: cluster.concurrency })
        return yield* new TargetError({
          reason: "Timeout",
          workloads: waiting.map((r) => workloadId(r.ref)),
          message: `${waiting.length} of ${readings.length} rollouts still going after ${Math.round(options.timeoutMs / 1000)} s (Kubernetes goes on with them): ${lines.join(" | ")}`
        })
      }
      const roundStart = yield* Clock.currentTimeMillis
      if (watching) {
        // a window of ten polls at most: a proxy that holds a watch's events back costs that, not more
        const window = Math.min(options.timeoutMs - elapsed, WATCH_WINDOW_MS, Math.max(1000, 10 * pollMs))
        const followed = yield* followEvents(cluster, snap, window, progress)
        if (followed === "unsupported") watching = false
        if (followed === "settled") continue
      }
      const spent = (yield* Clock.currentTimeMillis) - roundStart
      if (spent < pollMs) yield* Effect.sleep(pollMs - spent)
    }
  })

/** Whether any changed workload is still rolling. */
export const changesInProgress = (cluster: Cluster, applied: AppliedChange): Effect.Effect<boolean, TargetError> => {
  const ids = appliedIds(applied)
  return ids.length === 0 ? Effect.succeed(false) : readAll(cluster, ids).pipe(Effect.map((readings) => readings.some((r) => r.verdict.state === "waiting")))
}

/** Checks each change: the container runs the expected image and the rollout is done (OnDelete: applied, pods not restarted). */
export const verifyChanges = (cluster: Cluster, changes: ReadonlyArray<ImageChange>, _before: ReadonlyMap<string, Workload>): Effect.Effect<ReadonlyArray<WorkloadVerification>, TargetError> =>
  Effect.gen(function*() {
    const ids = [...new Set(changes.map((c) => c.workload))]
    const readings = new Map((yield* readAll(cluster, ids)).map((r) => [workloadId(r.ref), r] as const))
    return yield* Effect.forEach(changes, (change) =>
      Effect.gen(function*() {
        const reading = readings.get(change.workload)!
        if (reading.workload === undefined) return { workload: change.workload, image: undefined, expectedImage: change.image, ok: false, problem: reading.verdict.message }
        const image = findContainer(reading.workload, change.container)?.image
        if (image !== change.image) {
          return { workload: change.workload, image, expectedImage: change.image, ok: false, problem: `runs ${image ?? "no such container"}, not ${change.image}: someone changed it, or the change did not apply` }
        }
        const read = toWorkload(reading.ref.namespace, reading.ref.kind, reading.workload, true)
        if (reading.verdict.state === "done") return { workload: change.workload, image, expectedImage: change.image, ok: true, read }
        if (reading.verdict.state === "notRestarted") return { workload: change.workload, image, expectedImage: change.image, ok: true, problem: reading.verdict.message, read }
        return { workload: change.workload, image, expectedImage: change.image, ok: false, problem: yield* describe(cluster, reading), read }
      }))
  })
