/**
 * @module Patches — the one JSON patch per workload that changes its images (pure): for each
 * container, `test` its name at its index, `test` the image the plan expects, `replace` the image;
 * then the `kubernetes.io/change-cause` annotation (what `kubectl rollout history` prints) naming
 * the point and the user. A workload changed since the plan fails a `test` and the API server
 * applies nothing of the patch (FACTS.md "Changing an image").
 */
import type { ImageChange } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import { type JsonPatchOp, pointerToken } from "./Api.ts"
import type { WorkloadJson } from "./Resources.ts"

/** The annotation `kubectl rollout history` prints as CHANGE-CAUSE. */
export const CHANGE_CAUSE = "kubernetes.io/change-cause"

/** Where a container sits in the pod template. */
export interface ContainerSlot {
  readonly list: "containers" | "initContainers"
  readonly index: number
  readonly name: string
  readonly image: string | undefined
}

/** The container a change names (the main container — the first of `containers` — when it names none). */
export const findContainer = (workload: WorkloadJson, container: string | undefined): ContainerSlot | undefined => {
  const spec = workload.spec.template.spec
  if (container === undefined) {
    const main = spec.containers[0]
    return main === undefined ? undefined : { list: "containers", index: 0, name: main.name, image: main.image }
  }
  const index = spec.containers.findIndex((c) => c.name === container)
  if (index >= 0) return { list: "containers", index, name: container, image: spec.containers[index]!.image }
  const init = (spec.initContainers ?? []).findIndex((c) => c.name === container)
  if (init >= 0) return { list: "initContainers", index: init, name: container, image: spec.initContainers![init]!.image }
  return undefined
}

/** The containers of a workload, for messages: `api, proxy, init migrate`. */
export const containerNames = (workload: WorkloadJson): string =>
  [...workload.spec.template.spec.containers.map((c) => c.name), ...(workload.spec.template.spec.initContainers ?? []).map((c) => `init ${c.name}`)].join(", ")

/**
 * The guarded patch of one workload: fails with `Invalid` when a change names a container the
 * workload does not have. `expected` falls back to what the workload runs as read.
 */
export const imagePatch = (
  id: string,
  workload: WorkloadJson,
  changes: ReadonlyArray<ImageChange>,
  cause: string | undefined
): { readonly ops: ReadonlyArray<JsonPatchOp> } | TargetError => {
  const ops: Array<JsonPatchOp> = []
  for (const change of changes) {
    const slot = findContainer(workload, change.container)
    if (slot === undefined) {
      return new TargetError({
        reason: "Invalid",
        workloads: [id],
        message: `${id} has no container "${change.container ?? "(main)"}" (it has: ${containerNames(workload)}): name one of them in the config's services.<name>.container`
      })
    }
    const base = `/spec/template/spec/${slot.list}/${slot.index}`
    ops.push({ op: "test", path: `${base}/name`, value: slot.name })
    ops.push({ op: "test", path: `${base}/image`, value: change.expected ?? slot.image ?? null })
    ops.push({ op: "replace", path: `${base}/image`, value: change.image })
  }
  if (cause !== undefined && cause !== "") {
    ops.push(workload.metadata.annotations === undefined
      ? { op: "add", path: "/metadata/annotations", value: { [CHANGE_CAUSE]: cause } }
      : { op: "add", path: `/metadata/annotations/${pointerToken(CHANGE_CAUSE)}`, value: cause })
  }
  return { ops }
}

/** Whether the workload runs every change's target image (in the spec). */
export const runsTargets = (workload: WorkloadJson, changes: ReadonlyArray<ImageChange>): boolean =>
  changes.every((c) => findContainer(workload, c.container)?.image === c.image)

/** Whether the workload still runs every image the plan expected (a failed `test` then means a moved container or annotations, not a change). */
export const runsExpected = (workload: WorkloadJson, changes: ReadonlyArray<ImageChange>): boolean =>
  changes.every((c) => c.expected === undefined || findContainer(workload, c.container)?.image === c.expected)

/** What differs from the plan, for a refused workload: `container api runs r/api:43 now, the plan expected r/api:42; last written by kubectl-set at …`. */
export const whatChanged = (workload: WorkloadJson, changes: ReadonlyArray<ImageChange>): string => {
  const diffs = changes
    .map((c) => ({ c, now: findContainer(workload, c.container) }))
    .filter(({ c, now }) => now === undefined || (c.expected !== undefined && now.image !== c.expected))
    .map(({ c, now }) => now === undefined ? `container "${c.container}" is gone` : `container ${now.name} runs ${now.image} now, the plan expected ${c.expected}`)
  const last = [...(workload.metadata.managedFields ?? [])].filter((m) => m.time !== undefined).sort((a, b) => (a.time! < b.time! ? -1 : 1)).pop()
  const who = last === undefined ? "" : `; last written by ${last.manager ?? "an unknown client"} at ${last.time}`
  return `${diffs.length > 0 ? diffs.join("; ") : "it was changed since the plan"}${who}`
}
