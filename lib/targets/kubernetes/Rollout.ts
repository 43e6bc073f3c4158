/**
 * @module Rollout — whether a workload's rollout is done, still going, or failed, by kubectl's
 * `rollout status` rules for each kind (kubectl `pkg/polymorphichelpers/rollout_status.go`, as
 * FACTS.md "Rollout done / failed" lists them), plus what kubectl refuses and fleet-rollback
 * reports instead: an `OnDelete` StatefulSet or DaemonSet is "applied, pods not restarted". Pure:
 * the workload as read in, the verdict and kubectl's own sentence out. Absent counts are 0.
 */
import type { WorkloadHealth } from "../../target/Workload.ts"
import type { WorkloadJson, WorkloadKind } from "./Resources.ts"

/** A rollout's state now. */
export interface RolloutVerdict {
  /** `done`; `waiting`; `failed` (ProgressDeadlineExceeded); `notRestarted` (OnDelete: the change is stored, no pod replaced). */
  readonly state: "done" | "waiting" | "failed" | "notRestarted"
  /** kubectl's sentence for it. */
  readonly message: string
}

const n = (value: number | undefined): number => value ?? 0

const deploymentVerdict = (d: WorkloadJson): RolloutVerdict => {
  const name = d.metadata.name
  const s = d.status ?? {}
  if (n(d.metadata.generation) > n(s.observedGeneration)) return { state: "waiting", message: "Waiting for deployment spec update to be observed..." }
  const progressing = (s.conditions ?? []).find((c) => c.type === "Progressing")
  if (progressing?.reason === "ProgressDeadlineExceeded") return { state: "failed", message: `deployment "${name}" exceeded its progress deadline` }
  const replicas = d.spec.replicas ?? 1
  const updated = n(s.updatedReplicas)
  if (updated < replicas) return { state: "waiting", message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` }
  if (n(s.replicas) > updated) return { state: "waiting", message: `Waiting for deployment "${name}" rollout to finish: ${n(s.replicas) - updated} old replicas are pending termination...` }
  if (n(s.availableReplicas) < updated) return { state: "waiting", message: `Waiting for deployment "${name}" rollout to finish: ${n(s.availableReplicas)} of ${updated} updated replicas are available...` }
  return { state: "done", message: `deployment "${name}" successfully rolled out` }
}

const onDelete = (kind: string, name: string): RolloutVerdict => ({
  state: "notRestarted",
  message: `applied, pods not restarted: ${kind} "${name}" uses updateStrategy OnDelete, so its pods keep the old image until they are deleted (kubectl delete pod …)`
})

const daemonSetVerdict = (ds: WorkloadJson): RolloutVerdict => {
  const name = ds.metadata.name
  const s = ds.status ?? {}
  if (ds.spec.updateStrategy?.type === "OnDelete") return onDelete("DaemonSet", name)
  if (n(ds.metadata.generation) > n(s.observedGeneration)) return { state: "waiting", message: "Waiting for daemon set spec update to be observed..." }
  const desired = n(s.desiredNumberScheduled)
  if (n(s.updatedNumberScheduled) < desired) return { state: "waiting", message: `Waiting for daemon set "${name}" rollout to finish: ${n(s.updatedNumberScheduled)} out of ${desired} new pods have been updated...` }
  if (n(s.numberAvailable) < desired) return { state: "waiting", message: `Waiting for daemon set "${name}" rollout to finish: ${n(s.numberAvailable)} of ${desired} updated pods are available...` }
  return { state: "done", message: `daemon set "${name}" successfully rolled out` }
}

const statefulSetVerdict = (sts: WorkloadJson): RolloutVerdict => {
  const s = sts.status ?? {}
  if (sts.spec.updateStrategy?.type === "OnDelete") return onDelete("StatefulSet", sts.metadata.name)
  if (n(s.observedGeneration) === 0 || n(sts.metadata.generation) > n(s.observedGeneration)) return { state: "waiting", message: "Waiting for statefulset spec update to be observed..." }
  const replicas = sts.spec.replicas
  if (replicas !== undefined && n(s.readyReplicas) < replicas) return { state: "waiting", message: `Waiting for ${replicas - n(s.readyReplicas)} pods to be ready...` }
  const partition = sts.spec.updateStrategy?.rollingUpdate?.partition
  if ((sts.spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate" && sts.spec.updateStrategy?.rollingUpdate !== undefined) {
    if (replicas !== undefined && partition !== undefined) {
      if (n(s.updatedReplicas) < replicas - partition) {
        return { state: "waiting", message: `Waiting for partitioned roll out to finish: ${n(s.updatedReplicas)} out of ${replicas - partition} new pods have been updated...` }
      }
      return { state: "done", message: `partitioned roll out complete: ${n(s.updatedReplicas)} new pods have been updated...` }
    }
  }
  if (s.updateRevision !== s.currentRevision) {
    return { state: "waiting", message: `waiting for statefulset rolling update to complete ${n(s.updatedReplicas)} pods at revision ${s.updateRevision}...` }
  }
  return { state: "done", message: `statefulset rolling update complete ${n(s.currentReplicas)} pods at revision ${s.currentRevision}...` }
}

/** kubectl's rollout-status verdict for a workload of `kind`. */
export const rolloutVerdict = (kind: WorkloadKind, workload: WorkloadJson): RolloutVerdict =>
  kind === "Deployment" ? deploymentVerdict(workload) : kind === "DaemonSet" ? daemonSetVerdict(workload) : statefulSetVerdict(workload)

/** Health counts of a workload for the report (desired, running, healthy = available/ready, updated). */
export const workloadHealth = (kind: WorkloadKind, w: WorkloadJson): WorkloadHealth => {
  const s = w.status ?? {}
  const [desired, running, healthy, updated] = kind === "DaemonSet"
    ? [n(s.desiredNumberScheduled), n(s.currentNumberScheduled), n(s.numberAvailable), n(s.updatedNumberScheduled)]
    : kind === "StatefulSet"
    ? [w.spec.replicas ?? 1, n(s.replicas), n(s.readyReplicas), n(s.updatedReplicas)]
    : [w.spec.replicas ?? 1, n(s.replicas), n(s.availableReplicas), n(s.updatedReplicas)]
  const verdict = rolloutVerdict(kind, w)
  const summary = verdict.state === "done"
    ? `${healthy}/${desired} ${kind === "StatefulSet" ? "ready" : "available"}`
    : verdict.state === "failed"
    ? `failed: ${verdict.message}`
    : verdict.state === "notRestarted"
    ? `${healthy}/${desired} ready, ${updated} on the current template (OnDelete)`
    : `rolling out: ${updated} of ${desired} updated`
  return { desired, running, healthy, updated, summary }
}
