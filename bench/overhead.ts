/**
 * @module bench/overhead — `run` overhead on the Marathon sandbox: 50 services rolled back (and
 * forward again) through the Target contract, in process, as the command line does after parsing
 * (plan: list the apps and match; run: ONE array PUT, watch, verify, final state). The sandbox's
 * deployment takes a fixed time (Marathon's own time); everything else the run spends — planning,
 * the PUT and its checks, the poll that notices the end, the verification and the report — is
 * overhead. Goal: under 200 ms per run. The sandbox answers from the same process, so its own CPU
 * counts as overhead too (an upper bound). Run with `npm run bench` or `tsx bench/overhead.ts`.
 */
import * as os from "node:os"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import type { RollbackFile } from "../lib/core/RollbackFile.ts"
import { Notifier } from "../lib/notify/Slack.ts"
import { startMarathonSandbox } from "../lib/sandbox/Marathon.ts"
import { sampleApp } from "../lib/sandbox/SampleFleet.ts"
import { MarathonTarget } from "../lib/targets/marathon/MarathonTarget.ts"
import { measureRun, median, runAsScript, twoBuildRollbackFile, warmUpAndMeasure } from "./measure.ts"

/** Services in the fleet. */
const SERVICES = Number(process.env["BENCH_SERVICES"] ?? 50)
/** How long one sandbox deployment takes: Marathon's own time. */
const DEPLOYMENT_MS = Number(process.env["BENCH_DEPLOYMENT_MS"] ?? 2000)
/** Runs measured (alternately back to build 1 and forward to build 2), after one warm-up pair. */
const RUNS = Number(process.env["BENCH_RUNS"] ?? 6)
/** Poll interval of the run (the command line's default is 1000 ms; 100 is its minimum). */
const POLL_MS = Number(process.env["BENCH_POLL_MS"] ?? 100)
/** Goal: overhead per run. */
export const OVERHEAD_GOAL_MS = 200

const REGISTRY = "registry.bench.example:5000"
const name = (i: number) => `svc-${String(i).padStart(2, "0")}`

/** A rollback.json with two builds per service: build 1 before the first point, build 2 after. */
const rollbackFile = (): RollbackFile =>
  twoBuildRollbackFile(Array.from({ length: SERVICES }, (_, i) => name(i)), `https://${REGISTRY}`, (i, b) => `sha256:${(i * 10 + b).toString(16).padStart(64, "0")}`)

/** One measured run. */
export interface OverheadRun {
  readonly direction: "back" | "forward"
  readonly wallMs: number
  readonly planMs: number
  readonly deployMs: number
  readonly waitMs: number
  readonly overheadMs: number
  /** CPU time of the whole process during the run (client and sandbox), milliseconds: a figure the machine's load does not inflate. */
  readonly cpuMs: number
}

/** The benchmark's result. */
export interface OverheadReport {
  readonly services: number
  readonly deploymentMs: number
  readonly pollMs: number
  readonly runs: ReadonlyArray<OverheadRun>
  readonly medianOverheadMs: number
  readonly overheadRatio: number
  readonly goalMs: number
  readonly met: boolean
  /** Median CPU per run (client and in-process sandbox). */
  readonly medianCpuMs: number
  /** The machine's 1-minute load average at the start (2 cores: above 2, wall times include waiting for a CPU). */
  readonly loadAverage: number
}

/** Runs the benchmark against a fresh sandbox (stopped at the end). */
export const runOverheadBench = async (): Promise<OverheadReport> => {
  const loadAverage = Math.round(os.loadavg()[0]! * 10) / 10
  const sandbox = await startMarathonSandbox({
    deploymentMs: DEPLOYMENT_MS,
    apps: Array.from({ length: SERVICES }, (_, i) => sampleApp(`/shop/${name(i)}`, `${REGISTRY}/shop/${name(i)}:2-master`))
  })
  try {
    const file = rollbackFile()
    const layer = Layer.mergeAll(MarathonTarget.layerFromConfig({ url: sandbox.url }).pipe(Layer.provide(FetchHttpClient.layer)), Notifier.none)
    const once = (point: string, direction: OverheadRun["direction"]) =>
      measureRun(file, point, direction, { expected: SERVICES, pollMs: POLL_MS }).pipe(
        Effect.map(({ cpuMs, ...run }): OverheadRun => ({ ...run, overheadMs: run.wallMs - DEPLOYMENT_MS, cpuMs }))
      )
    const runs = await Effect.runPromise(warmUpAndMeasure(RUNS, once).pipe(Effect.provide(layer)))
    const medianOverheadMs = median(runs.map((r) => r.overheadMs))
    return {
      services: SERVICES,
      deploymentMs: DEPLOYMENT_MS,
      pollMs: POLL_MS,
      runs,
      medianOverheadMs,
      overheadRatio: Math.round((medianOverheadMs / DEPLOYMENT_MS) * 1000) / 1000,
      goalMs: OVERHEAD_GOAL_MS,
      met: medianOverheadMs < OVERHEAD_GOAL_MS,
      medianCpuMs: median(runs.map((r) => r.cpuMs)),
      loadAverage
    }
  } finally {
    await sandbox.stop()
  }
}

/** The report as a table. */
export const formatOverheadReport = (r: OverheadReport): string =>
  [
    `${r.services} services, one Marathon deployment of ${r.deploymentMs} ms (the sandbox's own time), poll every ${r.pollMs} ms; load average ${r.loadAverage} on ${os.cpus().length} CPUs`,
    "run      wall ms  plan ms  PUT ms  wait ms  overhead ms  CPU ms",
    ...r.runs.map((x) => `${x.direction.padEnd(8)} ${String(x.wallMs).padStart(7)}  ${String(x.planMs).padStart(7)}  ${String(x.deployMs).padStart(6)}  ${String(x.waitMs).padStart(7)}  ${String(x.overheadMs).padStart(11)}  ${String(x.cpuMs).padStart(6)}`),
    `median overhead ${r.medianOverheadMs} ms per run = ${r.overheadRatio} × Marathon's own time (CPU ${r.medianCpuMs} ms per run, client and sandbox); goal < ${r.goalMs} ms: ${r.met ? "met" : "MISSED"}`
  ].join("\n")

runAsScript(import.meta.url, runOverheadBench, formatOverheadReport)
