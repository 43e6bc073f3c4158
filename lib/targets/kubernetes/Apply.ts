/**
 * @module Apply — sending the image changes: one guarded JSON patch per workload
 * ({@link imagePatch}), all sent concurrently (bounded), each answer judged on its own: applied
 * (the new generation is the change id), refused (a failed `test`: changed since the plan; a 409;
 * RBAC 403; gone) — never overwritten —, or, when the answer was lost, read back: found applied,
 * still unchanged (then sent once more, guarded the same way, which cannot overwrite anything), or
 * unknown. With `dryRun` the same patches go out with `dryRun=All` and nothing is stored.
 */
import { Effect } from "effect"
import type { AppliedChange, AppliedWorkload, ImageChange } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import { parseWorkloadId, patchRequest, serverMessage, statusFailure, workloadId, type WorkloadRef } from "./Api.ts"
import { type Cluster, readWorkload } from "./Cluster.ts"
import { imagePatch, runsExpected, runsTargets, whatChanged } from "./Patches.ts"
import type { WorkloadJson } from "./Resources.ts"

/** What `apply` hands to `watch` and `revert`: per applied workload, the generation its change got. */
export interface KubernetesHandle {
  readonly generations: Readonly<Record<string, number>>
  readonly dryRun: boolean
}

/** One workload's outcome, with the generation when applied and the server's word for a dry run. */
interface Outcome extends AppliedWorkload {
  readonly generation?: number | undefined
  /** A failure shared by every workload (credentials, an unreachable server): apply fails as a whole when all have it. */
  readonly error?: TargetError | undefined
}

const refused = (workload: string, problem: string, error?: TargetError): Outcome => ({ workload, state: "refused", problem, error })

/** Groups changes by workload id, keeping the first-seen order. */
const byWorkload = (changes: ReadonlyArray<ImageChange>): Map<string, Array<ImageChange>> => {
  const groups = new Map<string, Array<ImageChange>>()
  for (const change of changes) {
    const group = groups.get(change.workload) ?? []
    group.push(change)
    groups.set(change.workload, group)
  }
  return groups
}

/** Sends one workload's patch and judges the answer; `retried` after one re-read. */
const patchOne = (
  cluster: Cluster,
  ref: WorkloadRef,
  workload: WorkloadJson,
  changes: ReadonlyArray<ImageChange>,
  options: { readonly dryRun: boolean; readonly cause: string | undefined },
  retried: boolean
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const id = workloadId(ref)
    const patch = imagePatch(id, workload, changes, options.cause)
    if (patch instanceof TargetError) return refused(id, patch.message, patch)
    const sent = yield* Effect.result(cluster.transport.send(patchRequest(ref, patch.ops, options.dryRun)))
    if (sent._tag === "Failure") return yield* lostAnswer(cluster, ref, changes, options, retried, sent.failure)
    const response = sent.success
    if (response.status >= 200 && response.status < 300) {
      const generation = (response.body as { metadata?: { generation?: number } } | undefined)?.metadata?.generation
      return { workload: id, state: "applied", generation, ...(options.dryRun ? { problem: `dryRun=All: the API server accepted the patch (generation would be ${generation})` } : {}) }
    }
    if (response.status >= 500 && !options.dryRun) return yield* lostAnswer(cluster, ref, changes, options, retried, statusFailure(response, { what: id, verb: "patch", kind: ref.kind, namespace: ref.namespace }, cluster.access))
    const failure = statusFailure(response, { what: id, verb: "patch", kind: ref.kind, namespace: ref.namespace, workloads: [id] }, cluster.access)
    if (response.status === 422 || response.status === 409) {
      // A failed `test`: read it again — changed since the plan (refused), or only moved (patch again once).
      const now = yield* Effect.result(readWorkload(cluster, ref))
      if (now._tag === "Success" && !retried && guardedByPlan(changes) && runsExpected(now.success, changes) && response.status === 422 && isTestFailure(response.body)) {
        return yield* patchOne(cluster, ref, now.success, changes, options, true)
      }
      const detail = now._tag === "Success" ? whatChanged(now.success, changes) : serverMessage(response)
      return refused(id, response.status === 409 || isTestFailure(response.body)
        ? `changed since the plan, left as it is: ${detail}. Run plan again to see what runs now`
        : failure.message)
    }
    return refused(id, failure.message, failure)
  })

/** Whether every change names the image the plan saw: only then may a patch be rebuilt from a fresh read (it cannot overwrite anyone). */
const guardedByPlan = (changes: ReadonlyArray<ImageChange>): boolean => changes.every((c) => c.expected !== undefined)

/** apiserver's answer to a failed JSON patch `test` (422, no detail; FACTS.md). */
const isTestFailure = (body: unknown): boolean => {
  const message = (body as { message?: unknown } | undefined)?.message
  return typeof message === "string" && message.includes("the server rejected our request due to an error in our request")
}

/** The answer to a patch was lost (or a 5xx): read the workload to learn what happened. */
const lostAnswer = (
  cluster: Cluster,
  ref: WorkloadRef,
  changes: ReadonlyArray<ImageChange>,
  options: { readonly dryRun: boolean; readonly cause: string | undefined },
  retried: boolean,
  error: TargetError
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const id = workloadId(ref)
    if (options.dryRun) return refused(id, error.message, error)
    const now = yield* Effect.result(readWorkload(cluster, ref))
    if (now._tag === "Failure") {
      return { workload: id, state: "unknown", problem: `the patch's answer was lost (${error.message}) and ${id} could not be read afterwards: check it (kubectl get ${ref.kind.toLowerCase()} ${ref.name} -n ${ref.namespace})`, error: now.failure }
    }
    if (runsTargets(now.success, changes)) return { workload: id, state: "applied", generation: now.success.metadata.generation, problem: `the answer was lost; found applied on reading ${id} back` }
    if (!retried && guardedByPlan(changes) && runsExpected(now.success, changes)) return yield* patchOne(cluster, ref, now.success, changes, options, true)
    return { workload: id, state: "unknown", problem: `the patch's answer was lost (${error.message}) and ${id} now runs neither the planned nor the previous image: check it`, error }
  })

/** Applies the changes (see the module): fails only with nothing sent, or when every workload failed alike before anything changed. */
export const applyChanges = (
  cluster: Cluster,
  changes: ReadonlyArray<ImageChange>,
  options: { readonly dryRun: boolean; readonly cause: string | undefined }
): Effect.Effect<AppliedChange, TargetError> =>
  Effect.gen(function*() {
    const groups = [...byWorkload(changes)]
    const refs = yield* Effect.forEach(groups, ([id]) => parseWorkloadId(id))
    // Every workload as plan saw it (read now when plan did not): a read failure stops here, before anything is sent.
    const workloads = yield* Effect.forEach(refs, (ref) => {
      const known = cluster.known.get(workloadId(ref))
      return known === undefined ? readWorkload(cluster, ref) : Effect.succeed(known)
    }, { concurrency: cluster.concurrency })
    for (const [i, [id, group]] of groups.entries()) {
      const patch = imagePatch(id, workloads[i]!, group, options.cause)
      if (patch instanceof TargetError) return yield* patch
    }
    const outcomes = yield* Effect.forEach(groups, ([, group], i) => patchOne(cluster, refs[i]!, workloads[i]!, group, options, false), { concurrency: cluster.concurrency })
    const shared = outcomes.every((o) => o.state !== "applied" && o.error !== undefined && o.error.reason === outcomes[0]!.error?.reason)
    if (outcomes.length > 0 && shared && outcomes.every((o) => o.state === "refused") && ["Unauthorized", "Unreachable", "Unavailable", "Busy"].includes(outcomes[0]!.error!.reason)) {
      return yield* outcomes[0]!.error!
    }
    const generations: Record<string, number> = {}
    for (const o of outcomes) if (o.state === "applied" && o.generation !== undefined) generations[o.workload] = o.generation
    const found = outcomes.filter((o) => o.problem?.includes("found applied") === true).length
    return {
      changeIds: outcomes.filter((o) => o.state === "applied").map((o) => `${o.workload}@${o.generation ?? "?"}`),
      workloads: outcomes.map((o) => ({ workload: o.workload, state: o.state, ...(o.problem === undefined ? {} : { problem: o.problem }) })),
      ...(options.dryRun
        ? { note: `dryRun=All: the API server accepted ${outcomes.filter((o) => o.state === "applied").length} of ${outcomes.length} patches and stored nothing` }
        : found > 0
        ? { note: `${found} patch answer(s) were lost; found applied on reading the workloads back` }
        : {}),
      handle: { generations, dryRun: options.dryRun } satisfies KubernetesHandle
    }
  })
