/**
 * @module Workloads — a Deployment, StatefulSet or DaemonSet as read from the API, as the Target
 * contract's {@link Workload}: id `namespace/Kind/name`, containers then init containers (flagged),
 * the main container's image, health counts, `resourceVersion` as its revision. Pure.
 */
import type { Workload } from "../../target/Workload.ts"
import { workloadId } from "./Api.ts"
import type { WorkloadJson, WorkloadKind } from "./Resources.ts"
import { workloadHealth } from "./Rollout.ts"

/** A workload of the API as the contract's Workload. */
export const toWorkload = (namespace: string, kind: WorkloadKind, w: WorkloadJson, inScope: boolean): Workload => {
  const spec = w.spec.template.spec
  return {
    id: workloadId({ namespace, kind, name: w.metadata.name }),
    kind,
    labels: w.metadata.labels ?? {},
    containers: [...spec.containers.map((c) => ({ name: c.name, image: c.image })), ...(spec.initContainers ?? []).map((c) => ({ name: c.name, image: c.image, init: true }))],
    image: spec.containers[0]?.image,
    health: workloadHealth(kind, w),
    revision: w.metadata.resourceVersion,
    inScope
  }
}

