/**
 * @module bench/measure — what the `run` benchmarks share (bench/overhead.ts on the Marathon
 * sandbox, bench/overhead-swarm.ts on a real Docker Engine, bench/kubernetes.ts on the Kubernetes
 * sandbox): the rollback.json with two builds per service, one measured run through the workflow
 * (plan, then every change deployed, waited for and verified, as the command line does after
 * parsing), the warm-up pair and alternating measured runs, and the median.
 */
import { Effect } from "effect"
import type { RollbackFile } from "../lib/core/RollbackFile.ts"
import { planFleet } from "../lib/workflow/PlanFleet.ts"
import { deployPlan } from "../lib/workflow/RunRollback.ts"

/** The median of some figures. */
export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * rollback.json with two builds per service: build 1 (`1-master`, before the point "release 1")
 * and build 2 (`2-master`, "release 2"); `digest(i, build)` gives service i's digest of a build.
 */
export const twoBuildRollbackFile = (names: ReadonlyArray<string>, registry: string, digest: (i: number, build: 1 | 2) => string): RollbackFile => {
  const services = names.map((name) => ({ name, repository: `shop/${name}` }))
  return {
    schemaVersion: 1,
    generatedAt: "2026-11-30T00:00:00.000Z",
    environment: null,
    registry,
    services,
    images: Object.fromEntries(services.map((s, i) => [s.name, [
      { tag: "1-master", digest: digest(i, 1), created: "2026-11-10T00:00:00.000Z", dateSource: "config" as const },
      { tag: "2-master", digest: digest(i, 2), created: "2026-11-20T00:00:00.000Z", dateSource: "config" as const }
    ]])),
    points: [
      { id: "2026-11-10T00:00:00.000Z", label: "release 1", changes: services.map((s) => ({ service: s.name, tag: "1-master" })) },
      { id: "2026-11-20T00:00:00.000Z", label: "release 2", changes: services.map((s) => ({ service: s.name, tag: "2-master" })) }
    ]
  }
}

/** Which way a run goes: back to build 1 or forward to build 2. */
export type Direction = "back" | "forward"

/** One run's figures (milliseconds, rounded). */
export interface MeasuredRun {
  readonly direction: Direction
  /** The whole run, plan included. */
  readonly wallMs: number
  readonly planMs: number
  /** The report's deploy time (sending the changes). */
  readonly deployMs: number
  /** The report's wait time. */
  readonly waitMs: number
  /** This process's CPU during the run. */
  readonly cpuMs: number
}

/**
 * One run to `point` through the workflow with the Target in context: plan, expect `expected`
 * changes, deploy them all (poll every `pollMs`), and die unless the run succeeded.
 */
export const measureRun = (file: RollbackFile, point: string, direction: Direction, options: { readonly expected: number; readonly pollMs: number }) =>
  Effect.gen(function*() {
    const start = performance.now()
    const cpu = process.cpuUsage()
    const fleet = yield* planFleet(file, point, {})
    const planMs = performance.now() - start
    const toChange = fleet.plan.services.filter((s) => s.action === "rollback" || s.action === "forward")
    if (toChange.length !== options.expected) return yield* Effect.die(new Error(`expected ${options.expected} changes, the plan has ${toChange.length}`))
    const result = yield* deployPlan(fleet.plan, toChange, fleet.apps, { user: "bench", kind: "run", point, label: null, pollMs: options.pollMs })
    const wallMs = performance.now() - start
    const used = process.cpuUsage(cpu)
    if (result.report.outcome !== "succeeded") return yield* Effect.die(new Error(`run ${direction} ended ${result.report.outcome}: ${result.report.message}`))
    return {
      direction,
      wallMs: Math.round(wallMs),
      planMs: Math.round(planMs),
      deployMs: result.report.durations.deployMs,
      waitMs: result.report.durations.waitMs,
      cpuMs: Math.round((used.user + used.system) / 1000)
    } satisfies MeasuredRun
  })

/**
 * A warm-up pair (JIT, connections, caches; not counted), then `runs` runs alternately back (to
 * 2026-11-15, build 1) and forward (to 2026-11-25, build 2).
 */
export const warmUpAndMeasure = <A, E, R>(runs: number, once: (point: string, direction: Direction) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    yield* once("2026-11-15", "back")
    yield* once("2026-11-25", "forward")
    const measured: Array<A> = []
    for (let i = 0; i < runs; i++) measured.push(yield* (i % 2 === 0 ? once("2026-11-15", "back") : once("2026-11-25", "forward")))
    return measured
  })

/** When `moduleUrl` is the script node was started with: runs the bench, prints its table and its JSON line (exit code 1 on failure). */
export const runAsScript = <A>(moduleUrl: string, bench: () => Promise<A>, format: (report: A) => string): void => {
  if (moduleUrl !== `file://${process.argv[1]}`) return
  bench().then((report) => {
    console.log(format(report))
    console.log(JSON.stringify(report))
  }, (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
