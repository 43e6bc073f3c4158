/**
 * @module bench/kubernetes — `run` on the Kubernetes sandbox: a namespace of 200 Deployments rolled
 * back (and forward again) through the workflow and the Kubernetes target, as the command line
 * does after parsing: plan (list the workloads, match), run (one guarded JSON patch per workload,
 * at most 10 in flight, then waited for together, verified, final state). The sandbox's rollout
 * takes a fixed time (the cluster's own time) and runs in a child process, so this process's
 * figures are the client's; everything `run` spends beyond that rollout time is overhead. Goal:
 * under 300 ms, reported as a ratio to the rollout time. Run with `npm run bench` or
 * `tsx bench/kubernetes.ts`; a few minutes at most.
 */
import { spawn } from "node:child_process"
import * as os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import type { RollbackFile } from "../lib/core/RollbackFile.ts"
import { Notifier } from "../lib/notify/Slack.ts"
import { Target } from "../lib/target/Target.ts"
import { makeCredentials } from "../lib/targets/kubernetes/Credentials.ts"
import type { ClusterAccess } from "../lib/targets/kubernetes/Kubeconfig.ts"
import { makeKubernetesTargetFor } from "../lib/targets/kubernetes/KubernetesTarget.ts"
import { makeTransport } from "../lib/targets/kubernetes/Transport.ts"
import { measureRun, median, runAsScript, twoBuildRollbackFile, warmUpAndMeasure } from "./measure.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
/** Deployments in the namespace. */
const WORKLOADS = Number(process.env["BENCH_WORKLOADS"] ?? 200)
/** How long the sandbox's rollout takes (the cluster's own time). */
const ROLLOUT_MS = Number(process.env["BENCH_ROLLOUT_MS"] ?? 2000)
/** Runs measured (alternately back and forward), after one warm-up pair. */
const RUNS = Number(process.env["BENCH_RUNS"] ?? 4)
/** Poll interval of the run (the command line's minimum). */
const POLL_MS = 100
/** Goal: overhead per run. */
export const KUBERNETES_GOAL_MS = 300

const name = (i: number) => `svc-${String(i).padStart(3, "0")}`
const REGISTRY = "registry.bench.example:5000"

/** One measured run. */
export interface KubernetesRun {
  readonly direction: "back" | "forward"
  readonly wallMs: number
  readonly planMs: number
  readonly deployMs: number
  readonly waitMs: number
  readonly overheadMs: number
  /** This process's CPU in the run (the client; the sandbox runs in another process). */
  readonly cpuMs: number
  readonly requests: number
}

/** The benchmark's result. */
export interface KubernetesBenchReport {
  readonly workloads: number
  readonly rolloutMs: number
  readonly runs: ReadonlyArray<KubernetesRun>
  readonly medianOverheadMs: number
  readonly overheadRatio: number
  readonly medianCpuMs: number
  readonly goalMs: number
  readonly met: boolean
  readonly loadAverage: number
}

/** rollback.json: every service has build 1 (before the first point) and build 2. */
const rollbackFile = (): RollbackFile =>
  twoBuildRollbackFile(Array.from({ length: WORKLOADS }, (_, i) => name(i)), `https://${REGISTRY}`, (i, b) => `sha256:${(i * 10 + b).toString(16).padStart(64, "0")}`)

/** The sandbox in a child process (bench/support/kubernetesSandbox.ts). */
const startSandbox = (): Promise<{ url: string; stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "bench", "support", "kubernetesSandbox.ts"), String(WORKLOADS), String(ROLLOUT_MS), REGISTRY], { stdio: ["pipe", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("\n")) resolve({ url: JSON.parse(out.split("\n")[0]!).url, stop: () => child.kill("SIGTERM") })
    })
    child.on("exit", (code) => reject(new Error(`the sandbox exited (${code}) before it was ready`)))
  })

/** Runs the benchmark against a fresh sandbox (stopped at the end). */
export const runKubernetesBench = async (): Promise<KubernetesBenchReport> => {
  const loadAverage = Math.round(os.loadavg()[0]! * 10) / 10
  const sandbox = await startSandbox()
  try {
    const access: ClusterAccess = {
      server: sandbox.url, context: "bench", namespace: "bench", caPem: undefined, insecureSkipTlsVerify: false, tlsServerName: undefined,
      clientCertPem: undefined, clientKeyPem: undefined, token: undefined, tokenFile: undefined, exec: undefined, source: "the bench"
    }
    const file = rollbackFile()
    return await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const transport = yield* makeTransport(access, yield* makeCredentials(access))
      const target = makeKubernetesTargetFor({ access, transport, namespaces: ["bench"], labelSelector: undefined, concurrency: 10, known: new Map() })
      const layer = Layer.mergeAll(Layer.succeed(Target, target), Notifier.none)
      const once = (point: string, direction: KubernetesRun["direction"]) =>
        Effect.gen(function*() {
          const requestsBefore = yield* transport.requestCount
          const { cpuMs, ...run } = yield* measureRun(file, point, direction, { expected: WORKLOADS, pollMs: POLL_MS })
          return { ...run, overheadMs: run.wallMs - ROLLOUT_MS, cpuMs, requests: (yield* transport.requestCount) - requestsBefore } satisfies KubernetesRun
        }).pipe(Effect.provide(layer))
      // warm-up pair (JIT, connection pool), not counted
      const runs = yield* warmUpAndMeasure(RUNS, once)
      const medianOverheadMs = median(runs.map((r) => r.overheadMs))
      return {
        workloads: WORKLOADS,
        rolloutMs: ROLLOUT_MS,
        runs,
        medianOverheadMs,
        overheadRatio: Math.round((medianOverheadMs / ROLLOUT_MS) * 1000) / 1000,
        medianCpuMs: median(runs.map((r) => r.cpuMs)),
        goalMs: KUBERNETES_GOAL_MS,
        met: medianOverheadMs < KUBERNETES_GOAL_MS,
        loadAverage
      } satisfies KubernetesBenchReport
    })))
  } finally {
    sandbox.stop()
  }
}

/** The report as a table. */
export const formatKubernetesReport = (r: KubernetesBenchReport): string =>
  [
    `${r.workloads} Deployments on the Kubernetes sandbox (a child process), rollouts of ${r.rolloutMs} ms (the cluster's own time), poll every ${POLL_MS} ms; load average ${r.loadAverage} on ${os.cpus().length} CPUs`,
    "run      wall ms  plan ms  patch ms  wait ms  overhead ms  CPU ms  requests",
    ...r.runs.map((x) => `${x.direction.padEnd(8)} ${String(x.wallMs).padStart(7)}  ${String(x.planMs).padStart(7)}  ${String(x.deployMs).padStart(8)}  ${String(x.waitMs).padStart(7)}  ${String(x.overheadMs).padStart(11)}  ${String(x.cpuMs).padStart(6)}  ${String(x.requests).padStart(8)}`),
    `median overhead ${r.medianOverheadMs} ms per run = ${r.overheadRatio} × the rollout time (client CPU ${r.medianCpuMs} ms per run); goal < ${r.goalMs} ms: ${r.met ? "met" : "MISSED"}`
  ].join("\n")

runAsScript(import.meta.url, runKubernetesBench, formatKubernetesReport)
