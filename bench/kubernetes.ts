/**
 * @module bench/kubernetes — a namespace of 200 Deployments rolled back on the Kubernetes sandbox
 * (served from a child process) through the Kubernetes target: list, one guarded patch each
 * (concurrent, bounded at client-go's burst of 10), wait for the rollouts, verify. Reports the
 * time spent NOT waiting for rollouts (goal: under 300 ms) and its ratio to the sandbox's rollout
 * time. Not a test; run by `npm run bench`, or alone with `npx tsx bench/kubernetes.ts`.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import type { ImageChange } from "../lib/target/Target.ts"
import { loadClusterAccess } from "../lib/targets/kubernetes/Kubeconfig.ts"
import { makeCredentials } from "../lib/targets/kubernetes/Credentials.ts"
import { makeKubernetesTargetFor } from "../lib/targets/kubernetes/KubernetesTarget.ts"
import { makeTransport } from "../lib/targets/kubernetes/Transport.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const WORKLOADS = 200
const ROLLOUT_MS = 2000
const GOAL_MS = 300

/** The figures of one run. */
export interface KubernetesBenchReport {
  readonly workloads: number
  readonly rolloutMs: number
  readonly listMs: number
  readonly applyMs: number
  readonly watchMs: number
  readonly verifyMs: number
  /** list + apply + verify + what watch spent beyond the sandbox's rollout time. */
  readonly notWaitingMs: number
  readonly ratioToRollout: number
  /** This process's CPU time in list, apply and verify (the client's own work; the sandbox runs in another process). */
  readonly clientCpuMs: number
  /** This process's CPU time while watching (polling). */
  readonly watchCpuMs: number
  readonly requests: number
  readonly goalMet: boolean
}

const startSandbox = (): Promise<{ url: string; stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "bench", "support", "kubernetesSandbox.ts"), String(WORKLOADS), String(ROLLOUT_MS)], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...(process.env.BENCH_SANDBOX_PROF === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_SANDBOX_PROF}` }) } })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("\n")) resolve({ url: JSON.parse(out.split("\n")[0]!).url, stop: () => child.kill("SIGTERM") })
    })
    child.on("exit", (code) => reject(new Error(`the sandbox exited (${code}) before it was ready`)))
  })

/** Wall time of an effect, and this process's CPU time in it (the client's own work, not the sandbox's). */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>, cpu: { ms: number }) =>
  Effect.gen(function*() {
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    const value = yield* effect
    const used = process.cpuUsage(cpuStart)
    cpu.ms += (used.user + used.system) / 1000
    return [value, performance.now() - start] as const
  })

/** Runs the benchmark once. */
export const runKubernetesBench = async (): Promise<KubernetesBenchReport> => {
  const sandbox = await startSandbox()
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-bench-k8s-"))
  try {
    const kubeconfig = join(dir, "kubeconfig")
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Config", "current-context": "bench",
      clusters: [{ name: "bench", cluster: { server: sandbox.url } }], users: [{ name: "bench", user: {} }],
      contexts: [{ name: "bench", context: { cluster: "bench", user: "bench", namespace: "bench" } }]
    }))
    return await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const access = yield* loadClusterAccess({ kubeconfig })
      const transport = yield* makeTransport(access, yield* makeCredentials(access))
      const target = makeKubernetesTargetFor({ access, transport, namespaces: ["bench"], labelSelector: undefined, concurrency: 10, known: new Map() })
      const cpu = { ms: 0 }
      const watchCpu = { ms: 0 }
      const [workloads, listMs] = yield* timed(target.listWorkloads({}), cpu)
      const changes: Array<ImageChange> = workloads.filter((w) => w.notHandled === undefined).map((w) => ({
        workload: w.id, image: w.image!.replace(/:2$/, ":1"), expected: w.image
      }))
      const [applied, applyMs] = yield* timed(target.apply(changes, { force: false, cause: "bench" }), cpu)
      if (applied.workloads.some((w) => w.state !== "applied")) throw new Error("not every patch was applied")
      const [, watchMs] = yield* timed(target.watch(applied, { timeoutMs: 60_000, pollMs: 100 }), watchCpu)
      const [verified, verifyMs] = yield* timed(target.verify(changes, new Map()), cpu)
      if (!verified.every((v) => v.ok)) throw new Error("not every workload verified")
      const notWaitingMs = listMs + applyMs + verifyMs + Math.max(0, watchMs - ROLLOUT_MS)
      return {
        workloads: changes.length, rolloutMs: ROLLOUT_MS, listMs, applyMs, watchMs, verifyMs, notWaitingMs,
        ratioToRollout: notWaitingMs / ROLLOUT_MS, clientCpuMs: cpu.ms, watchCpuMs: watchCpu.ms, requests: yield* transport.requestCount, goalMet: notWaitingMs < GOAL_MS
      }
    })))
  } finally {
    sandbox.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The report as a table. */
export const formatKubernetesReport = (r: KubernetesBenchReport): string => [
  `${r.workloads} Deployments on the sandbox (rollout ${r.rolloutMs} ms each, all at once)`,
  `  list ${r.listMs.toFixed(0)} ms, apply (${r.workloads} patches) ${r.applyMs.toFixed(0)} ms, watch ${r.watchMs.toFixed(0)} ms, verify ${r.verifyMs.toFixed(0)} ms`,
  `  not waiting for rollouts: ${r.notWaitingMs.toFixed(0)} ms = ${(r.ratioToRollout * 100).toFixed(1)}% of the rollout time (goal < ${GOAL_MS} ms: ${r.goalMet ? "met" : "MISSED"})`,
  `  the client's own CPU in list + apply + verify: ${r.clientCpuMs.toFixed(0)} ms (while watching: ${r.watchCpuMs.toFixed(0)} ms); ${r.requests} requests in all`
].join("\n")

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  runKubernetesBench().then((r) => {
    console.log(formatKubernetesReport(r))
    console.log(JSON.stringify(r))
  }, (e) => {
    console.error(e)
    process.exitCode = 1
  })
}
