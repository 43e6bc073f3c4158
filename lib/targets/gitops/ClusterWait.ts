/**
 * @module ClusterWait — `--wait-on kubernetes`: the GitOps target's commit followed in the cluster
 * that syncs it, through that cluster's own deployment {@link Target} (its rules of "rolled out
 * and healthy"). Each changed image line is matched to the cluster's workloads whose main
 * containers run the same repository; watching waits until every one of them runs the committed
 * image (the pull request merged and synced, or the branch pushed and synced) within our timeout.
 */
import { Clock, Effect } from "effect"
import { parseImageReference, sameRepository } from "../../core/ImageReference.ts"
import type { ImageChange, TargetShape, WatchOptions, WorkloadVerification } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"

/** The cluster's changes that follow the commit's: each with the image line it comes from. */
export interface ClusterFollow {
  readonly changes: ReadonlyArray<ImageChange & { readonly line: string }>
  /** The cluster's workloads as read before, for its verification. */
  readonly before: ReadonlyMap<string, Workload>
  /** Image lines no workload of the cluster runs. */
  readonly unmatched: ReadonlyArray<string>
}

/** Matches the commit's changes to the cluster's workloads by repository. */
export const followInCluster = (cluster: TargetShape, changes: ReadonlyArray<ImageChange>) =>
  Effect.gen(function*() {
    const workloads = yield* cluster.listWorkloads({})
    const out: Array<ImageChange & { line: string }> = []
    const unmatched: Array<string> = []
    for (const change of changes) {
      const wanted = parseImageReference(change.image)
      let found = false
      for (const w of workloads) {
        if (w.notHandled !== undefined || wanted === undefined) continue
        const main = w.containers.filter((c) => c.init !== true)
        for (const c of main) {
          const ref = c.image !== undefined ? parseImageReference(c.image) : undefined
          if (ref === undefined || !sameRepository(ref, wanted)) continue
          found = true
          out.push({ workload: w.id, ...(main.length > 1 ? { container: c.name } : {}), image: change.image, expected: c.image, line: change.workload })
        }
      }
      if (!found) unmatched.push(change.workload)
    }
    return { changes: out, before: new Map(workloads.map((w) => [w.id, w])), unmatched } satisfies ClusterFollow
  })

/** Waits until every followed workload runs its committed image, healthy by the cluster's rules. */
export const waitForCluster = (cluster: TargetShape, follow: ClusterFollow, options: WatchOptions) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    for (;;) {
      const checked = yield* cluster.verify(follow.changes, follow.before)
      const ok = checked.filter((v) => v.ok).length
      options.onProgress?.({
        summary: `${ok} of ${checked.length} ${cluster.displayName} workload(s) run the committed images`,
        workloads: checked.map((v) => ({ id: v.workload, running: v.ok ? 1 : 0, healthy: v.ok ? 1 : 0, desired: 1 }))
      })
      if (ok === checked.length) return
      if ((yield* Clock.currentTimeMillis) - start >= options.timeoutMs) {
        return yield* new TargetError({
          reason: "Timeout",
          message: `${cluster.displayName} does not run the committed images after ${Math.round(options.timeoutMs / 1000)} s (${checked.filter((v) => !v.ok).map((v) => `${v.workload}: ${v.problem ?? "not yet"}`).join("; ")}); the commit stays — is the pull request merged and synced?`,
          workloads: checked.filter((v) => !v.ok).map((v) => v.workload)
        })
      }
      yield* Effect.sleep(options.pollMs ?? 2_000)
    }
  })

/** The image lines' verification from the cluster's: a line is ok when every workload that follows it is. */
export const verifyInCluster = (cluster: TargetShape, follow: ClusterFollow, changes: ReadonlyArray<ImageChange>) =>
  cluster.verify(follow.changes, follow.before).pipe(
    Effect.map((checked) =>
      changes.map((c): WorkloadVerification => {
        const mine = follow.changes.map((f, i) => ({ f, v: checked[i] })).filter((x) => x.f.line === c.workload)
        if (mine.length === 0) return { workload: c.workload, image: undefined, expectedImage: c.image, ok: false, problem: `no ${cluster.displayName} workload runs this image` }
        const bad = mine.filter((x) => x.v?.ok !== true)
        return {
          workload: c.workload,
          image: mine[0]!.v?.image,
          expectedImage: c.image,
          ok: bad.length === 0,
          ...(bad.length > 0 ? { problem: bad.map((x) => `${x.f.workload}: ${x.v?.problem ?? "not verified"}`).join("; ") } : {})
        }
      })
    )
  )
