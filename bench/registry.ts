/**
 * @module bench/registry — how fast `get` reads a big fleet from a real registry, against two
 * baselines on the same images.
 *
 * Set-up (not timed): Debian's `docker-registry` on a free loopback port with temporary storage,
 * and a fleet of 40 repositories × 250 tags `<build>-master` pushed into it (OCI manifests, four
 * in five with the `org.opencontainers.image.created` annotation, the rest dated by their config).
 * Then, in one run on the same images:
 * - `get` through the library, each run in a fresh Node process (bench/support/getWorker.ts, the
 *   TypeScript run by Node's own type stripping, as the bin runs a checkout): cold (empty cache),
 *   warm (same cache), warm with `--verify-tags`; HTTP requests per image from the client's
 *   counters; CPU time; peak RSS (50 ms samples);
 * - the CLI once, cold, through its bin `scripts/fleet-rollback.js` (start-up included);
 * - the floor: a minimal undici client issuing the same requests as the cold `get` at the same
 *   concurrency and doing nothing else, also in a fresh Node process (bench/support/floorWorker.ts);
 * - `skopeo inspect` per tag, one after another as a script would, on a sample scaled to the fleet;
 * - the cost of faults: cold `get`s through the fault-injecting proxy of the tests
 *   (test/support/FaultProxy.ts), once with no faults and once with 10 % of the requests failing
 *   (resets, 500/502/503, 429 with `Retry-After: 1`, cut-off bodies, stalls), both with a 2 s
 *   request timeout; their ratio, and whether both wrote the same images.
 * Prints a table and one JSON line with the absolute figures and the ratios of issue 3 ("Speed"),
 * each goal marked met or missed. Not a test; not run in CI. Run: `npx tsx bench/registry.ts`.
 */
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { startDockerRegistry } from "../test/support/DockerRegistry.ts"
import { startFaultProxy } from "../test/support/FaultProxy.ts"
import type { FaultProxy } from "../test/support/FaultProxy.ts"
import type { DockerRegistry } from "../test/support/DockerRegistry.ts"
import { pushFleet } from "../test/support/pushImage.ts"
import { expectedOutcome, fleetSize, makeFleet } from "./support/fleet.ts"
import type { FloorConfigs, FloorResult } from "./support/floor.ts"
import type { FloorWorkerInput } from "./support/floorWorker.ts"
import type { GetWorkerInput } from "./support/getWorker.ts"
import type { LibraryGetResult } from "./support/library.ts"
import { mib } from "./support/memory.ts"
import { killAllChildren, runChild } from "./support/processes.ts"
import { findSkopeo, runSkopeoSample } from "./support/skopeo.ts"
import type { SkopeoResult } from "./support/skopeo.ts"

/** The client's default concurrency per registry host (RegistryConfig.concurrency). */
const CONCURRENCY = 8
/** The request timeout of the fault runs: a stall costs this much before its retry. */
const FAULT_REQUEST_TIMEOUT_MS = 2_000
/** The share of requests the fault run fails. */
const FAULT_RATE = 0.1
/** How many tags `skopeo inspect` reads, one after another. */
const SKOPEO_SAMPLE = Number(process.env["BENCH_SKOPEO_SAMPLE"] ?? 40)

const ROOT = fileURLToPath(new URL("..", import.meta.url))

/** One goal of the issue and whether it was met. */
export interface Goal {
  readonly name: string
  readonly value: number
  readonly goal: string
  readonly met: boolean | null
}

/** Everything the registry benchmark measured. */
export interface RegistryBenchReport {
  readonly bench: "registry"
  readonly machine: { readonly cpus: number; readonly node: string }
  readonly fleet: { readonly repositories: number; readonly tagsPerRepository: number; readonly images: number; readonly pushMillis: number }
  readonly runs: Readonly<Record<string, {
    readonly millis: number
    /** CPU time of the client process (user + system), where measured. */
    readonly cpuMillis?: number
    readonly floorBeforeMillis?: number
    readonly floorAfterMillis?: number
    readonly requests: number
    readonly requestsPerImage: number
    readonly byKind?: Readonly<Record<string, number>>
    /** The process's peak RSS, for the CLI run (GNU time). */
    readonly peakRssMb?: number
  }>>
  /** 1-minute load average at the start and the end (other processes compete for the CPUs). */
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly peakRssMb: number
  readonly rssBeforeGetMb: number
  /** Figures that explain the goals: client CPU per request against the floor's. */
  readonly figures: Readonly<Record<string, number>>
  readonly skopeo: (SkopeoResult & { readonly scaledMillis: number }) | { readonly skipped: string }
  /** Cold `get` through the fault proxy: without faults and with `rate` of the requests failing. */
  readonly faults: {
    readonly rate: number
    readonly requestTimeoutMs: number
    readonly cleanMillis: number
    readonly faultyMillis: number
    /** faulty / clean time. */
    readonly ratio: number
    readonly cleanRequests: number
    readonly faultyRequests: number
    /** Faults injected, by kind. */
    readonly injected: Readonly<Record<string, number>>
    /** Both runs read the same images with the same date sources. */
    readonly sameImages: boolean
  }
  readonly goals: ReadonlyArray<Goal>
}

const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

const seconds = (millis: number): string => `${(millis / 1000).toFixed(2)} s`

/** Fails loudly when a run did not read what was pushed (a broken run measures nothing). */
const checkRead = (what: string, run: LibraryGetResult, expected: ReturnType<typeof expectedOutcome>): void => {
  const annotation = run.sources["annotation"] ?? 0
  const config = run.sources["config"] ?? 0
  if (run.images !== expected.images || annotation !== expected.annotation || config !== expected.config) {
    throw new Error(
      `${what}: read ${run.images} images (${annotation} dated by annotation, ${config} by config), ` +
        `expected ${expected.images} (${expected.annotation}, ${expected.config})`
    )
  }
}

/** Runs the registry benchmark; `log` gets progress lines (stderr by default). */
export const runRegistryBench = async (
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)
): Promise<RegistryBenchReport> => {
  const size = fleetSize()
  const fleet = makeFleet(size)
  const expected = expectedOutcome(size)
  const repositories = fleet.repositories.map((r) => r.name)
  const temps: Array<string> = []
  const loadStart = loadavg()[0] ?? 0
  let registry: DockerRegistry | undefined
  const stopOnSignal = (signal: NodeJS.Signals) => {
    killAllChildren()
    void (registry?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === "SIGINT" ? 130 : 143))
  }
  process.once("SIGINT", stopOnSignal)
  process.once("SIGTERM", stopOnSignal)
  try {
    registry = await startDockerRegistry()
    log(`registry: docker-registry pid ${registry.pid} at ${registry.url}`)
    log(`set-up: pushing ${expected.images} images (${size.repositories} repositories × ${size.tagsPerRepository} tags)…`)
    const pushed = await pushFleet(registry.url, fleet, {
      concurrency: 16,
      onProgress: (done, total) => {
        if (done % 2500 === 0 || done === total) log(`  pushed ${done}/${total}`)
      }
    })
    log(`set-up: pushed in ${seconds(pushed.millis)} (${pushed.requests} requests, not timed)`)

    const cacheDir = await mkdtemp(join(tmpdir(), "fleet-rollback-bench-cache-"))
    temps.push(cacheDir)
    const url = registry.url
    // The Node that runs this benchmark (the project's Node 24 under npx); it strips the types of
    // the worker and of the CLI itself, as the bin does in a checkout.
    const node = process.execPath
    let peakRss = 0
    let rssBeforeGet = 0
    // Each in-process get runs in a fresh Node process (as each CLI run would), so its RSS is its own.
    const sampled = async (
      what: string,
      verifyTags: boolean,
      through: { readonly url: string; readonly cacheDir: string; readonly requestTimeoutMs?: number } = { url, cacheDir }
    ): Promise<LibraryGetResult & { cpuMillis: number }> => {
      log(`${what}…`)
      const input: GetWorkerInput = { ...through, repositories, verifyTags, concurrency: CONCURRENCY }
      const child = await runChild(node, [join(ROOT, "bench", "support", "getWorker.ts"), JSON.stringify(input)], { timeoutMs: 300_000, cwd: ROOT })
      if (child.code !== 0) {
        throw new Error(`${what} failed (exit ${child.code}${child.timedOut ? ", timed out" : ""}):\n${child.stderr.slice(-2000)}`)
      }
      const value = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as LibraryGetResult & {
        peakRss: number
        startRss: number
        peakHeapUsed: number
        samples: number
        cpuMillis: number
      }
      peakRss = Math.max(peakRss, value.peakRss)
      rssBeforeGet = Math.max(rssBeforeGet, value.startRss)
      log(`  ${seconds(value.millis)}, ${value.stats.requests} requests ${JSON.stringify(value.stats.requestsByKind)}, CPU ${seconds(value.cpuMillis)}, RSS ${mib(value.startRss)} → peak ${mib(value.peakRss)} MiB (heap used peak ${mib(value.peakHeapUsed)} MiB, ${value.samples} samples)`)
      return value
    }

    // The floor runs just before and just after the cold get; the ratio uses their mean, so a
    // change in machine load during the run shows up on both sides.
    // The floor fetches the config blobs the client fetched: first guessed (all), then checked
    // against the cold get's counters; a wrong guess is measured again with the right set.
    let floorConfigs: FloorConfigs = "all"
    // Like each get, the floor runs in a fresh Node process: both pay the same start-up.
    const floorRun = async (which: string): Promise<FloorResult & { cpuMillis: number }> => {
      log(`floor ${which} (undici, ${CONCURRENCY} at once, config blobs: ${floorConfigs})…`)
      const input: FloorWorkerInput = { url, repositories, concurrency: CONCURRENCY, configs: floorConfigs }
      const child = await runChild(node, [join(ROOT, "bench", "support", "floorWorker.ts"), JSON.stringify(input)], { timeoutMs: 300_000, cwd: ROOT })
      if (child.code !== 0) {
        throw new Error(`the floor ${which} failed (exit ${child.code}${child.timedOut ? ", timed out" : ""}):\n${child.stderr.slice(-2000)}`)
      }
      const result = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as FloorResult & { cpuMillis: number }
      log(`  ${seconds(result.millis)}, ${result.requests} requests ${JSON.stringify(result.byKind)}, CPU ${seconds(result.cpuMillis)}`)
      return result
    }
    let floorBefore = await floorRun("(before cold get)")
    const cold = await sampled("get cold (empty cache, in-process)", false)
    checkRead("get cold", cold, expected)
    const clientConfigs: FloorConfigs = (cold.stats.requestsByKind["blob"] ?? 0) >= expected.images ? "all" : "without-annotation"
    if (clientConfigs !== floorConfigs) {
      floorConfigs = clientConfigs
      floorBefore = await floorRun("(again: the client fetched fewer config blobs)")
    }
    const floorAfter = await floorRun("(after cold get)")
    const floor = {
      millis: (floorBefore.millis + floorAfter.millis) / 2,
      cpuMillis: (floorBefore.cpuMillis + floorAfter.cpuMillis) / 2,
      requests: floorAfter.requests,
      byKind: floorAfter.byKind
    }
    if (floor.requests !== cold.stats.requests) {
      log(`  note: the floor made ${floor.requests} requests, the client ${cold.stats.requests}: set BENCH_FLOOR_CONFIGS to match the client`)
    }

    const warm = await sampled("get warm (same cache, in-process)", false)
    checkRead("get warm", warm, expected)
    const verify = await sampled("get warm --verify-tags (in-process)", true)
    checkRead("get warm --verify-tags", verify, expected)

    log("CLI get cold (scripts/fleet-rollback.js executed as the bin, start-up included)…")
    const cliCache = await mkdtemp(join(tmpdir(), "fleet-rollback-bench-cli-"))
    temps.push(cliCache)
    const outFile = join(cliCache, "rollback.json")
    // GNU time (Debian package `time`) reports the CLI process's peak RSS (getrusage of the child).
    const timeBinary = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined
    const rssFile = join(cliCache, "maxrss-kb")
    // The bin as an operator runs it: executed, so its exec line's V8 flag applies, with this Node on PATH.
    const bin = join(ROOT, "scripts", "fleet-rollback.js")
    const cliArgs = [
      "get",
      "--registry", url,
      "--repo", repositories.join(","),
      "--env", "master",
      "--cache-dir", join(cliCache, "cache"),
      "--out", outFile,
      "--json"
    ]
    const cli = await runChild(
      timeBinary ?? bin,
      timeBinary === undefined ? cliArgs : ["-o", rssFile, "-f", "%M", bin, ...cliArgs],
      // A cold start: the bin's compile cache goes to the temporary directory, not the user's ~/.cache.
      {
        timeoutMs: 300_000,
        cwd: ROOT,
        env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env["PATH"] ?? ""}`, XDG_CACHE_HOME: join(cliCache, "xdg-cache") }
      }
    )
    if (cli.code !== 0) {
      throw new Error(`the CLI get failed (exit ${cli.code}${cli.timedOut ? ", timed out" : ""}):\n${cli.stderr.slice(-2000)}\n${cli.stdout.slice(-2000)}`)
    }
    const cliLine = cli.stdout.trim().split("\n").filter((line) => line.startsWith("{")).pop() ?? "{}"
    const cliSummary = JSON.parse(cliLine) as { images?: number; requests?: number }
    const written = JSON.parse(await readFile(outFile, "utf8")) as { images: Record<string, ReadonlyArray<unknown>> }
    const cliImages = Object.values(written.images).reduce((n, list) => n + list.length, 0)
    if (cliImages !== expected.images) throw new Error(`the CLI get wrote ${cliImages} images, expected ${expected.images}`)
    const cliRequests = cliSummary.requests ?? Number.NaN
    const cliPeakRssMb = timeBinary === undefined ? Number.NaN : round(Number((await readFile(rssFile, "utf8")).trim()) / 1024, 1)
    log(`  ${seconds(cli.millis)}, ${cliRequests} requests, peak RSS ${timeBinary === undefined ? "not measured (/usr/bin/time missing: apt-get install -y time)" : `${cliPeakRssMb} MiB`}`)

    // The cost of faults: the proxy of the tests, first without faults (its own overhead), then
    // with a tenth of the requests failing; each run cold, in its own cache.
    let proxy: FaultProxy | undefined
    let faults: RegistryBenchReport["faults"]
    try {
      proxy = await startFaultProxy({ upstream: url })
      const coldThrough = async (what: string, rate: number) => {
        proxy!.configure({ failureRate: rate, seed: 1, retryAfterSeconds: 1, stallMs: 60_000 })
        const dir = await mkdtemp(join(tmpdir(), "fleet-rollback-bench-faults-"))
        temps.push(dir)
        const run = await sampled(what, false, { url: proxy!.url, cacheDir: dir, requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS })
        checkRead(what, run, expected)
        const injected: Record<string, number> = {}
        for (const r of proxy!.requests) if (r.fault !== undefined) injected[r.fault] = (injected[r.fault] ?? 0) + 1
        return { run, proxied: proxy!.requests.length, injected }
      }
      const clean = await coldThrough("get cold through the fault proxy, no faults", 0)
      const faulty = await coldThrough(`get cold through the fault proxy, ${FAULT_RATE * 100} % of requests failing`, FAULT_RATE)
      faults = {
        rate: FAULT_RATE,
        requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
        cleanMillis: round(clean.run.millis, 1),
        faultyMillis: round(faulty.run.millis, 1),
        ratio: round(faulty.run.millis / clean.run.millis, 2),
        cleanRequests: clean.proxied,
        faultyRequests: faulty.proxied,
        injected: faulty.injected,
        sameImages: JSON.stringify(clean.run.sources) === JSON.stringify(faulty.run.sources) && clean.run.images === faulty.run.images
      }
      log(`  faults: ${seconds(faults.faultyMillis)} against ${seconds(faults.cleanMillis)} (${faults.ratio}×), ${JSON.stringify(faults.injected)} injected`)
    } finally {
      await proxy?.stop()
    }

    const skopeoBinary = findSkopeo()
    let skopeo: RegistryBenchReport["skopeo"]
    if (skopeoBinary === undefined) {
      skopeo = { skipped: "skopeo is not installed (Debian package skopeo): the skopeo baseline is skipped" }
      log(skopeo.skipped)
    } else {
      // Spread over repositories and builds; sequential, as `for tag in …; do skopeo inspect …; done`.
      const sample = Array.from({ length: Math.min(SKOPEO_SAMPLE, expected.images) }, (_, i) => ({
        repository: repositories[i % repositories.length]!,
        tag: `${((i * 37) % size.tagsPerRepository) + 1}-master`
      }))
      log(`skopeo inspect, ${sample.length} tags one after another…`)
      const result = await runSkopeoSample(skopeoBinary, registry.host, sample)
      skopeo = { ...result, scaledMillis: result.perImageMillis * expected.images }
      log(`  ${seconds(result.millis)} (${result.perImageMillis.toFixed(1)} ms per image) → ${seconds(skopeo.scaledMillis)} for ${expected.images} images`)
    }

    const perImage = (requests: number) => round(requests / expected.images, 4)
    const runs: RegistryBenchReport["runs"] = {
      cold: { millis: round(cold.millis, 1), cpuMillis: round(cold.cpuMillis, 0), requests: cold.stats.requests, requestsPerImage: perImage(cold.stats.requests), byKind: cold.stats.requestsByKind },
      warm: { millis: round(warm.millis, 1), cpuMillis: round(warm.cpuMillis, 0), requests: warm.stats.requests, requestsPerImage: perImage(warm.stats.requests), byKind: warm.stats.requestsByKind },
      warmVerify: { millis: round(verify.millis, 1), cpuMillis: round(verify.cpuMillis, 0), requests: verify.stats.requests, requestsPerImage: perImage(verify.stats.requests), byKind: verify.stats.requestsByKind },
      cliCold: { millis: round(cli.millis, 1), requests: cliRequests, requestsPerImage: perImage(cliRequests), peakRssMb: cliPeakRssMb },
      floor: { millis: round(floor.millis, 1), cpuMillis: round(floor.cpuMillis, 0), floorBeforeMillis: round(floorBefore.millis, 1), floorAfterMillis: round(floorAfter.millis, 1), requests: floor.requests, requestsPerImage: perImage(floor.requests), byKind: floor.byKind }
    }
    const skopeoMillis = "scaledMillis" in skopeo ? skopeo.scaledMillis : undefined
    const goal = (name: string, value: number, text: string, met: (v: number) => boolean): Goal => ({
      name,
      value: round(value, 4),
      goal: text,
      met: Number.isFinite(value) ? met(value) : null
    })
    const goals: Array<Goal> = [
      goal("cold requests/image", cold.stats.requests / expected.images, "<= 2", (v) => v <= 2),
      goal("cold / floor (time)", cold.millis / floor.millis, "<= 1.2x", (v) => v <= 1.2),
      goal("warm / cold (time)", warm.millis / cold.millis, "<= 0.05x", (v) => v <= 0.05),
      goal("warm --verify-tags / cold (time)", verify.millis / cold.millis, "<= 0.6x", (v) => v <= 0.6),
      goal("skopeo loop / cold (time)", skopeoMillis === undefined ? Number.NaN : skopeoMillis / cold.millis, ">= 8x", (v) => v >= 8),
      goal("skopeo loop / warm (time)", skopeoMillis === undefined ? Number.NaN : skopeoMillis / warm.millis, ">= 100x", (v) => v >= 100),
      goal("peak RSS of in-process get, default V8 (MiB)", mib(peakRss), "< 200", (v) => v < 200),
      goal("peak RSS of the CLI get process (MiB)", cliPeakRssMb, "< 200", (v) => v < 200)
    ]
    return {
      bench: "registry",
      machine: { cpus: availableParallelism(), node: process.version },
      loadAverage: { start: round(loadStart, 2), end: round(loadavg()[0] ?? 0, 2) },
      fleet: { ...size, images: expected.images, pushMillis: round(pushed.millis, 0) },
      runs,
      figures: {
        coldCpuMsPerRequest: round(cold.cpuMillis / cold.stats.requests, 3),
        floorCpuMsPerRequest: round(floor.cpuMillis / floor.requests, 3),
        coldCpuOverFloorCpu: round(cold.cpuMillis / floor.cpuMillis, 2),
        cliColdOverLibraryCold: round(cli.millis / cold.millis, 2),
        skopeoMsPerImage: "perImageMillis" in skopeo ? round(skopeo.perImageMillis, 1) : Number.NaN,
        coldMsPerImage: round(cold.millis / expected.images, 3)
      },
      peakRssMb: mib(peakRss),
      rssBeforeGetMb: mib(rssBeforeGet),
      skopeo,
      faults,
      goals
    }
  } finally {
    process.off("SIGINT", stopOnSignal)
    process.off("SIGTERM", stopOnSignal)
    killAllChildren()
    await registry?.stop()
    for (const dir of temps) await rm(dir, { recursive: true, force: true })
  }
}

const pad = (text: string, width: number): string => text.padEnd(width)

/** The report as a human table (runs, then goals). */
export const formatRegistryReport = (report: RegistryBenchReport): string => {
  const images = report.fleet.images
  const lines: Array<string> = []
  lines.push(`Registry benchmark: ${report.fleet.repositories} repositories × ${report.fleet.tagsPerRepository} tags = ${images} images, Debian docker-registry on loopback, ${report.machine.cpus} CPUs, Node ${report.machine.node}`)
  lines.push("")
  lines.push(`load average (1 min): ${report.loadAverage.start} at the start, ${report.loadAverage.end} at the end`)
  lines.push("")
  lines.push(`${pad("run", 46)}${pad("time", 11)}${pad("client CPU", 12)}${pad("requests", 10)}${pad("req/image", 11)}images/s`)
  const row = (name: string, millis: number, cpu: number | undefined, requests: number | string, perImage: number | string) =>
    lines.push(`${pad(name, 46)}${pad(seconds(millis), 11)}${pad(cpu === undefined ? "-" : seconds(cpu), 12)}${pad(String(requests), 10)}${pad(String(perImage), 11)}${Math.round(images / (millis / 1000))}`)
  const r = report.runs
  row("get cold (library)", r["cold"]!.millis, r["cold"]!.cpuMillis, r["cold"]!.requests, r["cold"]!.requestsPerImage)
  row("get warm (library)", r["warm"]!.millis, r["warm"]!.cpuMillis, r["warm"]!.requests, r["warm"]!.requestsPerImage)
  row("get warm --verify-tags (library)", r["warmVerify"]!.millis, r["warmVerify"]!.cpuMillis, r["warmVerify"]!.requests, r["warmVerify"]!.requestsPerImage)
  row("get cold (CLI, incl. start-up)", r["cliCold"]!.millis, undefined, r["cliCold"]!.requests, r["cliCold"]!.requestsPerImage)
  row(`floor (undici; ${seconds(r["floor"]!.floorBeforeMillis ?? 0)} before, ${seconds(r["floor"]!.floorAfterMillis ?? 0)} after)`, r["floor"]!.millis, r["floor"]!.cpuMillis, r["floor"]!.requests, r["floor"]!.requestsPerImage)
  if ("scaledMillis" in report.skopeo) {
    row(`skopeo inspect loop (${report.skopeo.sample} sampled, scaled)`, report.skopeo.scaledMillis, undefined, "-", "-")
  } else {
    lines.push(`skopeo inspect loop: ${report.skopeo.skipped}`)
  }
  const q = report.faults
  lines.push(
    `faults (issue 12): cold get through the fault proxy, ${q.rate * 100} % of requests failing: ${seconds(q.faultyMillis)} against ${seconds(q.cleanMillis)} without faults = ${q.ratio}x ` +
      `(${q.faultyRequests} requests against ${q.cleanRequests}; injected ${Object.entries(q.injected).map(([k, v]) => `${k} ${v}`).join(", ")}; request timeout ${q.requestTimeoutMs / 1000} s; same images: ${q.sameImages ? "yes" : "NO"})`
  )
  const f = report.figures
  lines.push(`client CPU per request: cold get ${f["coldCpuMsPerRequest"]} ms, floor ${f["floorCpuMsPerRequest"]} ms (${f["coldCpuOverFloorCpu"]}x); the registry shares the same CPUs`)
  lines.push(`peak RSS during in-process get runs: ${report.peakRssMb} MiB (${report.rssBeforeGetMb} MiB at the start of the process, before get)`)
  lines.push("")
  lines.push(`${pad("goal (issue 3, Speed)", 46)}${pad("measured", 11)}${pad("goal", 10)}`)
  for (const g of report.goals) {
    lines.push(`${pad(g.name, 46)}${pad(String(g.value), 11)}${pad(g.goal, 10)}${g.met === null ? "not measured" : g.met ? "met" : "MISSED"}`)
  }
  return lines.join("\n")
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runRegistryBench().then(
    (report) => {
      console.log(formatRegistryReport(report))
      console.log(JSON.stringify(report))
    },
    (error: unknown) => {
      console.error(`registry benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
      process.exitCode = 1
    }
  )
}
