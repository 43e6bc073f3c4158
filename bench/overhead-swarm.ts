/**
 * @module bench/overhead-swarm — `run` overhead on a REAL Docker Engine (Swarm): 50 services of one
 * stack rolled back and forward again through the Target contract, in process, as the command line
 * does after parsing (plan: list the services and tasks, match; run: one update per service, all
 * sent before waiting, watch, verify, final state). The engine's own time is read from the engine:
 * from the first service's `UpdateStatus.StartedAt` to the last one's `CompletedAt` (its updater
 * starts, replaces and monitors the tasks); everything else the run spends — planning, the 50
 * updates and their checks, the poll that notices the end, the verification and the report — is
 * overhead. Goal: under 200 ms per run.
 *
 * The engine is the test harness's throw-away daemon (test/support/DockerEngine.ts: Debian's
 * docker.io, its own directories, a single-node swarm); the images come from the sandbox registry
 * (runnable: a tiny static program that waits), so nothing is downloaded. Services run one replica
 * each (BENCH_SWARM_REPLICAS), update monitor 500 ms. Takes a minute or two. Run with
 * `npm run bench` or `tsx bench/overhead-swarm.ts`.
 */
import * as os from "node:os"
import { Effect, Layer } from "effect"
import type { RollbackFile } from "../lib/core/RollbackFile.ts"
import { Notifier } from "../lib/notify/Slack.ts"
import { startSandboxRegistry } from "../lib/sandbox/Registry.ts"
import { SwarmTarget } from "../lib/targets/swarm/SwarmTarget.ts"
import { startDockerEngine } from "../test/support/DockerEngine.ts"
import type { DockerEngine } from "../test/support/DockerEngine.ts"
import { measureRun, median, runAsScript, twoBuildRollbackFile, warmUpAndMeasure } from "./measure.ts"

/** Services in the stack. */
const SERVICES = Number(process.env["BENCH_SERVICES"] ?? 50)
/** Replicas per service. */
const REPLICAS = Number(process.env["BENCH_SWARM_REPLICAS"] ?? 1)
/** Runs measured (alternately back to build 1 and forward to build 2), after one warm-up pair. */
const RUNS = Number(process.env["BENCH_RUNS"] ?? 4)
/** Poll interval of the run (the command line's minimum is 100). */
const POLL_MS = Number(process.env["BENCH_POLL_MS"] ?? 100)
/** Goal: overhead per run. */
export const SWARM_OVERHEAD_GOAL_MS = 200

const STACK = "bench"
const name = (i: number) => `svc-${String(i).padStart(2, "0")}`

/** One measured run. */
export interface SwarmOverheadRun {
  readonly direction: "back" | "forward"
  readonly wallMs: number
  readonly planMs: number
  /** From the first update sent to the last one answered. */
  readonly deployMs: number
  /** The engine's own time: first `UpdateStatus.StartedAt` to last `CompletedAt`. */
  readonly engineMs: number
  readonly overheadMs: number
  /** From the run's start to the engine's first update start: plan, reads, the first update sent. */
  readonly leadMs: number
  /** From the engine's last update end to the run's end: noticing it, verifying, the report. */
  readonly tailMs: number
  readonly cpuMs: number
}

/** The benchmark's result. */
export interface SwarmOverheadReport {
  readonly services: number
  readonly replicas: number
  readonly pollMs: number
  readonly runs: ReadonlyArray<SwarmOverheadRun>
  readonly medianOverheadMs: number
  readonly medianEngineMs: number
  readonly overheadRatio: number
  readonly medianCpuMs: number
  readonly goalMs: number
  readonly met: boolean
  readonly loadAverage: string
}

/** The digest the sandbox registry serves for a tag. */
const digestOf = async (registryUrl: string, repository: string, tag: string): Promise<string> => {
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })
  const digest = response.headers.get("docker-content-digest")
  if (digest === null) throw new Error(`no digest for ${repository}:${tag} (${response.status})`)
  return digest
}

/** rollback.json with two builds per service, digests as served. */
const rollbackFile = async (registryUrl: string): Promise<RollbackFile> => {
  const names = Array.from({ length: SERVICES }, (_, i) => name(i))
  const digests = await Promise.all(names.map(async (n) => [await digestOf(registryUrl, `shop/${n}`, "1-master"), await digestOf(registryUrl, `shop/${n}`, "2-master")] as const))
  return twoBuildRollbackFile(names, registryUrl, (i, b) => (b === 1 ? digests[i]![0] : digests[i]![1]))
}

/** The engine's own time of the last update of every service of the stack (ms). */
const engineSpan = async (engine: DockerEngine): Promise<{ readonly first: number; readonly last: number }> => {
  const services = await engine.get(`/services?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] }))}`) as Array<{
    UpdateStatus?: { StartedAt?: string; CompletedAt?: string }
  }>
  const started = services.map((s) => Date.parse(s.UpdateStatus?.StartedAt ?? ""))
  const completed = services.map((s) => Date.parse(s.UpdateStatus?.CompletedAt ?? ""))
  if (started.some((t) => !Number.isFinite(t)) || completed.some((t) => !Number.isFinite(t))) throw new Error("a service has no completed update")
  return { first: Math.min(...started), last: Math.max(...completed) }
}

/** Creates the stack on build 2, ten services at a time, and waits until it runs. */
const createStack = async (engine: DockerEngine, host: string, file: RollbackFile): Promise<void> => {
  for (let i = 0; i < SERVICES; i += 10) {
    await Promise.all(file.services.slice(i, i + 10).map((s) => {
      const build = file.images[s.name]!.find((b) => b.tag === "2-master")!
      return engine.createService({ name: `${STACK}_${s.name}`, stack: STACK, image: `${host}/${s.repository}:2-master@${build.digest}`, replicas: REPLICAS })
    }))
  }
  await engine.waitConverged(file.services.map((s) => `${STACK}_${s.name}`), 300_000)
}

/** Runs the benchmark on a throw-away engine (stopped at the end). */
export const runSwarmOverheadBench = async (): Promise<SwarmOverheadReport> => {
  const [engine, registry] = await Promise.all([
    startDockerEngine(),
    startSandboxRegistry({
      runnable: true,
      images: Array.from({ length: SERVICES }, (_, i) => [
        { repository: `shop/${name(i)}`, tag: "1-master", created: "2026-11-10T00:00:00Z" },
        { repository: `shop/${name(i)}`, tag: "2-master", created: "2026-11-20T00:00:00Z" }
      ]).flat()
    })
  ])
  try {
    const file = await rollbackFile(registry.url)
    await createStack(engine, new URL(registry.url).host, file)
    const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(" ")
    const layer = Layer.mergeAll(SwarmTarget.layer({ docker: { host: engine.dockerHost }, stack: STACK }), Notifier.none)
    const once = (point: string, direction: SwarmOverheadRun["direction"]) =>
      Effect.gen(function*() {
        const startedAt = Date.now()
        const run = yield* measureRun(file, point, direction, { expected: SERVICES, pollMs: POLL_MS })
        const span = yield* Effect.promise(() => engineSpan(engine))
        const engineMs = span.last - span.first
        return {
          direction,
          wallMs: run.wallMs,
          planMs: run.planMs,
          deployMs: run.deployMs,
          engineMs,
          overheadMs: run.wallMs - engineMs,
          leadMs: span.first - startedAt,
          tailMs: startedAt + run.wallMs - span.last,
          cpuMs: run.cpuMs
        } satisfies SwarmOverheadRun
      })
    // warm-up pair (JIT, connections, the engine's image cache), not counted
    const runs = await Effect.runPromise(warmUpAndMeasure(RUNS, once).pipe(Effect.provide(layer)))
    const medianOverheadMs = median(runs.map((r) => r.overheadMs))
    const medianEngineMs = median(runs.map((r) => r.engineMs))
    return {
      services: SERVICES,
      replicas: REPLICAS,
      pollMs: POLL_MS,
      runs,
      medianOverheadMs,
      medianEngineMs,
      overheadRatio: Math.round((medianOverheadMs / medianEngineMs) * 1000) / 1000,
      medianCpuMs: median(runs.map((r) => r.cpuMs)),
      goalMs: SWARM_OVERHEAD_GOAL_MS,
      met: medianOverheadMs < SWARM_OVERHEAD_GOAL_MS,
      loadAverage
    }
  } finally {
    await Promise.all([engine.stop(), registry.stop()])
  }
}

/** The report as a table. */
export const formatSwarmOverheadReport = (r: SwarmOverheadReport): string =>
  [
    `${r.services} services × ${r.replicas} replica(s) in one stack on a real Docker Engine (single-node swarm), poll every ${r.pollMs} ms; load average ${r.loadAverage} on ${os.cpus().length} CPUs`,
    "run      wall ms  plan ms  updates ms  engine ms  overhead ms  (before the engine  after it)  CPU ms",
    ...r.runs.map((x) =>
      `${x.direction.padEnd(8)} ${String(x.wallMs).padStart(7)}  ${String(x.planMs).padStart(7)}  ${String(x.deployMs).padStart(10)}  ${String(x.engineMs).padStart(9)}  ${String(x.overheadMs).padStart(11)}  ${String(x.leadMs).padStart(18)}  ${String(x.tailMs).padStart(8)}  ${String(x.cpuMs).padStart(6)}`
    ),
    `median overhead ${r.medianOverheadMs} ms per run = ${r.overheadRatio} × the engine's own time (${r.medianEngineMs} ms); CPU ${r.medianCpuMs} ms per run (client); goal < ${r.goalMs} ms: ${r.met ? "met" : "MISSED"}`
  ].join("\n")

runAsScript(import.meta.url, runSwarmOverheadBench, formatSwarmOverheadReport)
