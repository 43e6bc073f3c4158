/**
 * @module ReadHistory — `get --from history`: what the fleet actually ran, and when. The target
 * tells what each service's workload ran as far as it remembers; every `run` and `undo` report
 * given counts too (a moment the fleet changed). The result feeds `getRollbacks`, which turns it
 * into points that are sets that ran together.
 */
import { Effect } from "effect"
import type { Deployment, HistorySource } from "../core/History.ts"
import { deploymentOfImage, deploymentsOfReport } from "../core/History.ts"
import { registryHostOf } from "../core/ImageReference.ts"
import type { RollbackReport, TargetKind } from "../core/Report.ts"
import type { ServiceSpec } from "../core/Timeline.ts"
import { matchServiceToWorkload } from "../target/Matching.ts"
import type { TargetScope } from "../target/Target.ts"
import { Target } from "../target/Target.ts"
import { badInput, failed } from "./RollbackError.ts"

/** What `readFleetHistory` needs. */
export interface ReadHistoryOptions {
  /** The fleet. */
  readonly services: ReadonlyArray<ServiceSpec>
  /** The registry URL (its host decides which images are the services'). */
  readonly registryUrl: string
  /** The environment's scope on the target. */
  readonly scope?: TargetScope | undefined
  /** Reports of earlier runs and undos (`--reports DIR`), each a moment the fleet changed. */
  readonly reports?: ReadonlyArray<RollbackReport> | undefined
}

/** What the fleet ran when, and what the operator should know about how far that goes. */
export interface FleetHistory {
  /** Every remembered deployment of every service (any order; the core sorts and merges). */
  readonly deployments: ReadonlyArray<Deployment>
  /** Notes: how far the target remembers, services it has no workload for. */
  readonly notes: ReadonlyArray<string>
}

/** The history source a target kind's memory counts as. */
const sourceOf = (kind: TargetKind): HistorySource => (kind === "dcos" ? "marathon" : kind)

/**
 * Reads what the fleet ran when: the target's memory of every service's workload (matched as
 * `plan` matches them) and the reports given. Fails with BadInput when neither remembers anything.
 */
export const readFleetHistory = Effect.fn("readFleetHistory")(function*(options: ReadHistoryOptions) {
  const target = yield* Target
  const notes: Array<string> = []
  const deployments: Array<Deployment> = (options.reports ?? []).flatMap(deploymentsOfReport)
  if (target.history === undefined) {
    notes.push(`${target.displayName} keeps no history of its own: only the reports given count`)
  } else {
    const noun = target.workloadNoun ?? "workload"
    const workloads = yield* target.listWorkloads(options.scope ?? {}).pipe(
      Effect.mapError((e) => (e.reason === "Unauthorized" || e.reason === "Forbidden" || e.reason === "Invalid" ? badInput(e.message) : failed(`cannot read the ${noun}s of ${target.displayName}: ${e.message}`)))
    )
    const registryHost = registryHostOf(options.registryUrl)
    const canonicalId = target.canonicalId ?? ((id: string) => id)
    const byWorkload = new Map<string, string>()
    const asked: Array<{ readonly workload: string; readonly container?: string | undefined }> = []
    for (const service of options.services) {
      const match = matchServiceToWorkload({ ...service, registryHost }, workloads, canonicalId)
      if (match._tag !== "Found") {
        notes.push(`${service.name}: ${match._tag === "Ambiguous" ? `several ${noun}s run it (${match.candidates.join(", ")}); name one with services.${service.name}.app` : `no ${noun} of ${target.displayName} runs it now`}, so only reports tell its history`)
        continue
      }
      byWorkload.set(`${match.workload}\u0000${match.container ?? ""}`, service.name)
      asked.push({ workload: match.workload, ...(match.container !== undefined ? { container: match.container } : {}) })
    }
    const memory = asked.length === 0 ? { entries: [] } : yield* target.history(asked).pipe(
      Effect.mapError((e) => (e.reason === "Unauthorized" || e.reason === "Forbidden" ? badInput(e.message) : failed(`cannot read the history of ${target.displayName}: ${e.message}`)))
    )
    if (memory.note !== undefined) notes.push(memory.note)
    for (const entry of memory.entries) {
      const service = byWorkload.get(`${canonicalId(entry.workload)}\u0000${entry.container ?? ""}`)
      if (service === undefined) continue
      const d = deploymentOfImage({ service, image: entry.image, at: entry.at, revision: entry.revision, cause: entry.cause }, sourceOf(target.description.kind))
      if (d !== undefined) deployments.push(d)
    }
  }
  if (deployments.length === 0) {
    return yield* badInput(
      `no history: ${target.displayName} remembers no deployment of ${options.services.map((s) => s.name).join(", ")}${(options.reports ?? []).length === 0 ? " and no reports were given (--reports DIR)" : " and the reports given changed none of them"}. Use \`get\` without --from history for points from the build dates.`
    )
  }
  return { deployments, notes } satisfies FleetHistory
})
