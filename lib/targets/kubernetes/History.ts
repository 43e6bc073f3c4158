/**
 * @module History — what a Kubernetes workload ran, as far as the cluster remembers: a
 * Deployment's ReplicaSets (numbered by `deployment.kubernetes.io/revision`, with the
 * `kubernetes.io/change-cause` of the change) and a StatefulSet's or DaemonSet's
 * ControllerRevisions, up to each workload's `revisionHistoryLimit` (10 by default). Each revision
 * counts from its creation; a revision brought back by `kubectl rollout undo` keeps its first
 * creation time (Kubernetes records no time of its return), so it is placed just after the
 * revision before it, and says so.
 */
import { Effect } from "effect"
import type { TargetHistory, WorkloadMemory } from "../../target/Target.ts"
import type { TargetError } from "../../target/TargetError.ts"
import { call, listRequest, parseWorkloadId } from "./Api.ts"
import type { Cluster } from "./Cluster.ts"
import { CHANGE_CAUSE } from "./Patches.ts"
import { ControllerRevisionListJson, ReplicaSetListJson } from "./Resources.ts"

const REVISION = "deployment.kubernetes.io/revision"

/** One remembered revision of a workload before it is dated in order. */
interface Revision {
  readonly number: number
  readonly created: number
  readonly containers: ReadonlyArray<{ readonly name: string; readonly image?: string | undefined }>
  readonly cause: string | undefined
}

/**
 * The revisions as memories, oldest revision first: the image of `container` (else the first
 * container), dated by creation, each at least a millisecond after the one before.
 */
export const revisionsToMemory = (workload: string, container: string | undefined, revisions: ReadonlyArray<Revision>): ReadonlyArray<WorkloadMemory> => {
  const out: Array<WorkloadMemory> = []
  let last = Number.NEGATIVE_INFINITY
  for (const r of [...revisions].sort((a, b) => a.number - b.number)) {
    const image = (container === undefined ? r.containers[0] : r.containers.find((c) => c.name === container))?.image
    if (image === undefined || !Number.isFinite(r.created)) continue
    const broughtBack = r.created <= last
    const at = broughtBack ? last + 1 : r.created
    last = at
    const cause = broughtBack ? `revision ${r.number}, brought back (its return time is not recorded)${r.cause === undefined ? "" : `: ${r.cause}`}` : r.cause
    out.push({ workload, ...(container === undefined ? {} : { container }), image, at, revision: String(r.number), ...(cause === undefined ? {} : { cause }) })
  }
  return out
}

/** What one workload ran: its ReplicaSets or ControllerRevisions. */
const workloadHistory = (cluster: Cluster, id: string, container: string | undefined): Effect.Effect<ReadonlyArray<WorkloadMemory>, TargetError> =>
  Effect.gen(function*() {
    const ref = yield* parseWorkloadId(id)
    const owned = (owners: ReadonlyArray<{ readonly kind: string; readonly name: string }> | undefined) => (owners ?? []).some((o) => o.kind === ref.kind && o.name === ref.name)
    const created = (meta: { readonly creationTimestamp?: string | undefined }) => (meta.creationTimestamp === undefined ? Number.NaN : Date.parse(meta.creationTimestamp))
    if (ref.kind === "Deployment") {
      const list = yield* call(cluster.transport, cluster.access, listRequest("ReplicaSet", ref.namespace), ReplicaSetListJson, { what: `ReplicaSets of ${id}`, verb: "list", kind: "ReplicaSet", namespace: ref.namespace })
      return revisionsToMemory(id, container, list.items.filter((rs) => owned(rs.metadata.ownerReferences)).map((rs) => ({
        number: Number(rs.metadata.annotations?.[REVISION] ?? "0"),
        created: created(rs.metadata),
        containers: rs.spec.template.spec.containers,
        cause: rs.metadata.annotations?.[CHANGE_CAUSE]
      })))
    }
    const list = yield* call(cluster.transport, cluster.access, listRequest("ControllerRevision", ref.namespace), ControllerRevisionListJson, { what: `ControllerRevisions of ${id}`, verb: "list", kind: "ControllerRevision", namespace: ref.namespace })
    return revisionsToMemory(id, container, list.items.filter((cr) => owned(cr.metadata.ownerReferences)).map((cr) => ({
      number: cr.revision,
      created: created(cr.metadata),
      containers: cr.data?.spec?.template?.spec?.containers ?? [],
      cause: cr.metadata.annotations?.[CHANGE_CAUSE]
    })))
  })

/** The contract's `history` for Kubernetes: every asked workload's revisions. */
export const readHistory = (
  cluster: Cluster,
  asked: ReadonlyArray<{ readonly workload: string; readonly container?: string | undefined }>
): Effect.Effect<TargetHistory, TargetError> =>
  Effect.forEach(asked, (a) => workloadHistory(cluster, a.workload, a.container), { concurrency: cluster.concurrency }).pipe(
    Effect.map((lists) => ({
      entries: lists.flat(),
      note: "Kubernetes remembers each workload's last revisions (revisionHistoryLimit, 10 by default): ReplicaSets for Deployments, ControllerRevisions for StatefulSets and DaemonSets"
    }))
  )
