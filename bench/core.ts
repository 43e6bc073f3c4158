/**
 * @module bench/core — how fast the pure core merges and selects over a big fleet.
 *
 * Generates 1,000,000 images across 200 services in memory (not timed), then measures
 * `mergeTimeline` + `selectAsOf` at a few points (median of 5 runs) and the peak resident set
 * size, next to a naive baseline in the seed's style (flatten everything, sort by date, scan).
 * Goal on a 2-core machine: under 1 s, and under 300 MB added by one merge + select beyond the
 * input (measured in a fresh process: the input alone is ~620 MB of generated objects). Next to
 * that figure it prints the whole process's peak RSS (that fresh process's, input included, and
 * this one's over every run and the baseline), which the goal does not count. Also times merge +
 * select with order `build` (the prefix-maximum path). Run: `npx tsx bench/core.ts`.
 * Prints one JSON line (for machines) and one human line.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import type { RegistryImage, ServiceSpec } from "../lib/core/index.ts"
import { mergeTimeline, resolveTagScheme, selectAsOf, TAG_SCHEME_PRESETS } from "../lib/core/index.ts"

const SERVICES = Number(process.env.BENCH_SERVICES ?? 200)
const IMAGES = Number(process.env.BENCH_IMAGES ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const START = Date.UTC(2020, 0, 1)
const SPAN = Date.UTC(2026, 0, 1) - START

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same fleet. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Peak RSS so far, in bytes: the kernel's high-water mark, so synchronous peaks are not missed. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024
const mb = (bytes: number): number => Math.round(bytes / 1048576)

const generate = () => {
  const next = random(42)
  const services: Array<ServiceSpec> = []
  const images: Record<string, Array<RegistryImage>> = {}
  const perService = Math.floor(IMAGES / SERVICES)
  for (let s = 0; s < SERVICES; s++) {
    const name = `service-${String(s).padStart(3, "0")}`
    services.push({ name, repository: `shop/${name}` })
    const list: Array<RegistryImage> = []
    for (let i = 0; i < perService; i++) {
      // Builds are numbered in push order; the registry lists tags in lexical order (as it does).
      const created = new Date(START + Math.floor(next() * SPAN)).toISOString()
      const branch = i % 10 === 9 ? "develop" : "master"
      list.push({
        repository: `shop/${name}`,
        tag: `${i + 1}-${branch}`,
        digest: `sha256:${(s * perService + i).toString(16).padStart(64, "0")}`,
        dates: i % 7 === 0 ? { annotation: created, config: "1970-01-01T00:00:00Z" } : { config: created }
      })
    }
    list.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
    images[name] = list
  }
  return { services, images }
}

/** The seed's approach, made correct: flatten, parse every date, sort everything, scan per point. */
const naive = (input: ReturnType<typeof generate>, points: ReadonlyArray<number>) => {
  const all: Array<{ service: string; tag: string; time: number }> = []
  for (const service of input.services) {
    for (const image of input.images[service.name] ?? []) {
      if (!image.tag.endsWith("-master")) continue
      const time = Date.parse(image.dates.annotation ?? image.dates.config ?? "")
      if (time < Date.UTC(1980, 0, 1)) continue
      all.push({ service: service.name, tag: image.tag, time })
    }
  }
  all.sort((a, b) => a.time - b.time || Number.parseInt(a.tag, 10) - Number.parseInt(b.tag, 10))
  const dates = [...new Set(all.map((image) => image.time))].sort((a, b) => b - a)
  return points.map((point) => {
    const chosen = new Map<string, string>()
    for (const image of all) if (image.time <= point) chosen.set(image.service, image.tag)
    return { chosen: chosen.size, points: dates.length }
  })
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Heap still in use after a full collection (needs `node --expose-gc`; undefined otherwise). */
const liveHeap = (): number | undefined => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return undefined
  gc()
  return process.memoryUsage().heapUsed
}

/** Linux: the peak resident set size since the last reset (VmHWM), in bytes. */
const highWaterMark = (): number | undefined => {
  try {
    const status = readFileSync("/proc/self/status", "utf8")
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) * 1024
  } catch {
    return undefined
  }
}

const input = generate()
const points = [0.1, 0.5, 0.9, 1.0].map((f) => START + Math.floor(f * SPAN))

if (process.env.BENCH_CORE_MEMORY === "1") {
  // One merge + select in a fresh process: the memory it adds beyond the input. Generation
  // garbage is collected first, then the kernel's peak counter is reset (Linux clear_refs 5).
  const heapBefore = liveHeap()
  const rssBefore = process.memoryUsage().rss
  let reset = false
  try {
    writeFileSync("/proc/self/clear_refs", "5")
    reset = true
  } catch {
    reset = false
  }
  const { timeline } = mergeTimeline({ services: input.services, images: input.images, scheme: TAG_SCHEME_PRESETS["build-branch"]!, environment: "master" })
  for (const point of points) selectAsOf(timeline, point)
  const peak = reset ? highWaterMark() : undefined
  const heapAfter = liveHeap()
  console.log(JSON.stringify({
    inputMb: mb(rssBefore),
    peakBeyondInputMb: peak === undefined ? null : mb(peak - rssBefore),
    // the whole process's lifetime peak (getrusage, not reset): generating the input, merge and select
    processPeakRssMb: mb(peakRss()),
    retainedByTimelineMb: heapBefore !== undefined && heapAfter !== undefined && timeline.points.length > 0 ? mb(heapAfter - heapBefore) : null
  }))
  process.exit(0)
}

const rssAfterSetup = process.memoryUsage().rss
const memoryRun = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", process.argv[1]!], {
  env: { ...process.env, BENCH_CORE_MEMORY: "1" },
  encoding: "utf8",
  maxBuffer: 1 << 20
})
const memory = JSON.parse(memoryRun.stdout.trim().split("\n").at(-1) ?? "{}") as {
  peakBeyondInputMb?: number | null
  processPeakRssMb?: number | null
  retainedByTimelineMb?: number | null
}

const coreTimes: Array<number> = []
const mergeTimes: Array<number> = []
let pointCount = 0
let selected = 0
for (let run = 0; run < RUNS; run++) {
  const t0 = performance.now()
  const { timeline } = mergeTimeline({ services: input.services, images: input.images, scheme: TAG_SCHEME_PRESETS["build-branch"]!, environment: "master" })
  const t1 = performance.now()
  selected = 0
  for (const point of points) {
    for (const s of selectAsOf(timeline, point).services) if (s._tag === "Selected") selected++
  }
  const t2 = performance.now()
  mergeTimes.push(t1 - t0)
  coreTimes.push(t2 - t0)
  pointCount = timeline.points.length
}
const corePeak = peakRss()

// order build: the same fleet, targets by build number (prefix maxima per service)
const byBuild = resolveTagScheme({ pattern: "(?<build>\\d+)-(?<env>[A-Za-z0-9][A-Za-z0-9._/-]*)", order: "build" })
if ("_tag" in byBuild) throw new Error(byBuild.message)
const buildOrderTimes: Array<number> = []
for (let run = 0; run < RUNS; run++) {
  const t0 = performance.now()
  const { timeline } = mergeTimeline({ services: input.services, images: input.images, scheme: byBuild, environment: "master" })
  for (const point of points) selectAsOf(timeline, point)
  buildOrderTimes.push(performance.now() - t0)
}

const naiveTimes: Array<number> = []
for (let run = 0; run < RUNS; run++) {
  const t0 = performance.now()
  naive(input, points)
  naiveTimes.push(performance.now() - t0)
}

const result = {
  bench: "core",
  images: Math.floor(IMAGES / SERVICES) * SERVICES,
  services: SERVICES,
  points: pointCount,
  selections: points.length,
  selected,
  runs: RUNS,
  mergeMs: Math.round(median(mergeTimes)),
  mergeAndSelectMs: Math.round(median(coreTimes)),
  mergeAndSelectByBuildMs: Math.round(median(buildOrderTimes)),
  baselineMs: Math.round(median(naiveTimes)),
  speedup: Number((median(naiveTimes) / median(coreTimes)).toFixed(2)),
  rssAfterSetupMb: mb(rssAfterSetup),
  peakRssMb: mb(corePeak),
  benchPeakRssMb: mb(peakRss()),
  peakBeyondInputMb: memory.peakBeyondInputMb ?? null,
  processPeakRssMb: memory.processPeakRssMb ?? null,
  retainedByTimelineMb: memory.retainedByTimelineMb ?? null,
  node: process.version,
  goal: { ms: 1000, mb: 300 },
  // Memory goal: what merge + select add beyond the (in-process, generated) input.
  met: median(coreTimes) < 1000 && memory.peakBeyondInputMb != null && memory.peakBeyondInputMb < 300
}
console.log(JSON.stringify(result))
console.log(
  `core: merge + ${points.length} selections over ${result.images.toLocaleString("en")} images / ${SERVICES} services ` +
    `(${pointCount.toLocaleString("en")} points): ${result.mergeAndSelectMs} ms median of ${RUNS} (merge ${result.mergeMs} ms), ` +
    `one merge + select adds at most ${result.peakBeyondInputMb ?? "?"} MB beyond the ${result.rssAfterSetupMb} MB input ` +
    `(peak RSS of that whole process, generating the input included: ${result.processPeakRssMb ?? "?"} MB; the timeline retains ${result.retainedByTimelineMb ?? "?"} MB; ` +
    `this process peaked at ${result.peakRssMb} MB over ${RUNS} runs, ${result.benchPeakRssMb} MB with the order-build runs and the baseline); ` +
    `order build ${result.mergeAndSelectByBuildMs} ms; naive baseline ${result.baselineMs} ms ` +
    `(${result.speedup}x); goal < 1000 ms and < 300 MB beyond the input: ${result.met ? "met" : "MISSED"}`
)
