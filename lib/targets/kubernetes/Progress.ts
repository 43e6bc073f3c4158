/**
 * @module Progress — following applied changes until every workload's rollout is done, by
 * kubectl's rules ({@link rolloutVerdict}): read the changed workloads (one list per namespace and
 * kind, so 200 workloads cost a few requests a poll), report progress, and end when none is still
 * rolling — failed (ProgressDeadlineExceeded, with the pods' waiting reasons), done, or our own
 * timeout (with what each pending workload waits for). Also the one-read `inProgress` and the
 * after-the-fact `verify` of every changed workload.
 */
import { Clock, Effect } from "effect"
import type { AppliedChange, ChangeProgress, ImageChange, WatchOptions, WorkloadVerification } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import { parseWorkloadId, workloadId, type WorkloadRef } from "./Api.ts"
import { type Cluster, podProblems, readKind } from "./Cluster.ts"
import { findContainer } from "./Patches.ts"
import type { WorkloadJson } from "./Resources.ts"
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

/** Reads the workloads (one list per namespace and kind) and judges each. */
const readAll = (cluster: Cluster, ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Reading>, TargetError> =>
  Effect.gen(function*() {
    const refs = yield* Effect.forEach(ids, parseWorkloadId)
    const groups = [...new Set(refs.map((r) => `${r.namespace}/${r.kind}`))]
    const lists = yield* Effect.forEach(groups, (g) => {
      const [namespace, kind] = g.split("/") as [string, WorkloadRef["kind"]]
      return readKind(cluster, namespace, kind).pipe(Effect.map((items) => [g, items] as const))
    }, { concurrency: cluster.concurrency })
    const byGroup = new Map(lists)
    return refs.map((ref) => {
      const workload = byGroup.get(`${ref.namespace}/${ref.kind}`)?.find((w) => w.metadata.name === ref.name)
      return {
        ref,
        workload,
        verdict: workload === undefined ? { state: "failed", message: `${workloadId(ref)} was deleted` } : rolloutVerdict(ref.kind, workload)
      } satisfies Reading
    })
  })

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

/** Waits until no changed workload is rolling any more (see the module). */
export const watchChanges = (cluster: Cluster, applied: AppliedChange, options: WatchOptions): Effect.Effect<void, TargetError> =>
  Effect.gen(function*() {
    const ids = appliedIds(applied)
    if (ids.length === 0) return
    const started = yield* Clock.currentTimeMillis
    for (;;) {
      const readings = yield* readAll(cluster, ids)
      options.onProgress?.(progressOf(readings))
      const waiting = readings.filter((r) => r.verdict.state === "waiting")
      const failed = readings.filter((r) => r.verdict.state === "failed")
      if (waiting.length === 0 && failed.length > 0) {
        const lines = yield* Effect.forEach(failed, (r) => describe(cluster, r), { concurrency: cluster.concurrency })
        return yield* new TargetError({ reason: "RolloutFailed", workloads: failed.map((r) => workloadId(r.ref)), message: `${failed.length} of ${readings.length} rollouts failed: ${lines.join(" | ")}` })
      }
      if (waiting.length === 0) return
      if ((yield* Clock.currentTimeMillis) - started >= options.timeoutMs) {
        const lines = yield* Effect.forEach(waiting, (r) => describe(cluster, r), { concurrency: cluster.concurrency })
        return yield* new TargetError({
          reason: "Timeout",
          workloads: waiting.map((r) => workloadId(r.ref)),
          message: `${waiting.length} of ${readings.length} rollouts still going after ${Math.round(options.timeoutMs / 1000)} s (Kubernetes goes on with them): ${lines.join(" | ")}`
        })
      }
      yield* Effect.sleep(options.pollMs ?? 500)
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
