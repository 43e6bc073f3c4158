/**
 * @module bench/last — what `get --last 10` saves on a repository with a very long tag history:
 * one repository of 20,000 build tags `<build>-master` (OCI manifests dated by their config
 * blob, so a full read costs a manifest and a config request per tag), read by `getRollbacks`
 * in full and with `last: 10`, each by a fresh client; then `--last 10` again on a warm cache.
 * Prints requests and time as ratios against the full read, and one JSON line.
 *
 * The registry here is an in-memory wire (a `RegistryWire` answering from maps, no sockets): the
 * real `docker-registry` takes minutes to fill with 20,000 distinct images (three requests
 * each) on this machine, and request counts are what `--last` changes. The times are therefore
 * the client's own work only; against a real registry each saved request also saves a round
 * trip. `BENCH_LAST_TAGS` changes the size, `BENCH_LAST_LATENCY_MS` adds a delay per request.
 * Run: `npx tsx bench/last.ts` (also part of `npm run bench`).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { createHash } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { TAG_SCHEME_PRESETS } from "../lib/core/TagScheme.ts"
import { Registry, RegistryWire } from "../lib/registry/Registry.ts"
import type { RegistryStats } from "../lib/registry/Registry.ts"
import type { WireResponse } from "../lib/registry/Wire.ts"
import { getRollbacks } from "../lib/workflow/GetRollbacks.ts"

const TAGS = Number(process.env["BENCH_LAST_TAGS"] ?? 20_000)
const LATENCY_MS = Number(process.env["BENCH_LAST_LATENCY_MS"] ?? 0)
const LAST = 10
const REPOSITORY = "shop/long"
const URL_BASE = "http://registry.bench.invalid"

const encoder = new TextEncoder()
const digestOf = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** The repository: tag → manifest bytes, digest → manifest or blob bytes. */
const makeRepository = (count: number) => {
  const tags = new Map<string, Uint8Array>()
  const objects = new Map<string, Uint8Array>()
  const start = Date.UTC(2020, 0, 1)
  for (let build = 1; build <= count; build++) {
    const config = encoder.encode(JSON.stringify({
      created: new Date(start + build * 3_600_000).toISOString(),
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [] }
    }))
    const configDigest = digestOf(config)
    const manifest = encoder.encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: []
    }))
    tags.set(`${build}-master`, manifest)
    objects.set(digestOf(manifest), manifest)
    objects.set(configDigest, config)
  }
  return { tags, objects, list: encoder.encode(JSON.stringify({ name: REPOSITORY, tags: [...tags.keys()] })) }
}

/** An in-memory registry wire: tags/list, manifests by tag or digest (GET, HEAD), blobs. */
const memoryWire = (repository: ReturnType<typeof makeRepository>) => {
  const answer = (status: number, headers: Record<string, string>, body: Uint8Array, url: URL): WireResponse => ({ status, headers, body, url })
  return Layer.succeed(RegistryWire, {
    send: (request) => {
      const path = request.url.pathname
      let response: WireResponse
      if (path === `/v2/${REPOSITORY}/tags/list`) {
        response = answer(200, { "content-type": "application/json" }, repository.list, request.url)
      } else {
        const match = /\/(manifests|blobs)\/([^/]+)$/.exec(path)
        const reference = match?.[2] ?? ""
        const body = match?.[1] === "manifests" ? repository.tags.get(reference) ?? repository.objects.get(reference) : repository.objects.get(reference)
        response = body === undefined
          ? answer(404, {}, new Uint8Array(0), request.url)
          : answer(200, {
            "content-type": match?.[1] === "manifests" ? "application/vnd.oci.image.manifest.v1+json" : "application/octet-stream",
            "docker-content-digest": digestOf(body)
          }, request.method === "HEAD" ? new Uint8Array(0) : body, request.url)
      }
      return LATENCY_MS > 0 ? Effect.as(Effect.sleep(LATENCY_MS), response) : Effect.succeed(response)
    }
  })
}

/** One `get` of the repository by a fresh client; its time, requests and images. */
const runGet = (wire: ReturnType<typeof memoryWire>, last: number | undefined, cacheDir: string | undefined) =>
  Effect.gen(function*() {
    const started = performance.now()
    const result = yield* getRollbacks({
      services: [{ name: "long", repository: REPOSITORY }],
      registryUrl: URL_BASE,
      scheme: TAG_SCHEME_PRESETS["build-branch"]!,
      schemeName: "build-branch",
      environment: "master",
      tagFilter: "master",
      granularity: "instant",
      timeZone: "UTC",
      last
    })
    const millis = performance.now() - started
    const stats: RegistryStats = yield* (yield* Registry).stats
    return { millis, stats, images: result.file.images["long"]?.length ?? 0, points: result.file.points.length }
  }).pipe(
    Effect.provide(Registry.layer({ url: URL_BASE, cacheDir }).pipe(Layer.provide(Layer.mergeAll(wire, NodeFileSystem.layer))))
  )

/** What the benchmark measured. */
export interface LastBenchReport {
  readonly bench: "last"
  readonly wire: "in-memory"
  readonly tags: number
  readonly last: number
  readonly latencyMs: number
  readonly runs: Readonly<Record<string, { readonly millis: number; readonly requests: number; readonly byKind: Readonly<Record<string, number>>; readonly images: number }>>
  readonly ratios: { readonly requests: number; readonly time: number; readonly warmRequests: number }
}

/** Runs the `--last` benchmark. */
export const runLastBench = async (log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<LastBenchReport> => {
  log(`set-up: ${TAGS} tags in one repository, in memory (not timed)…`)
  const wire = memoryWire(makeRepository(TAGS))
  const cacheDir = await mkdtemp(join(tmpdir(), "fleet-rollback-bench-last-"))
  try {
    const summary = (r: { millis: number; stats: RegistryStats; images: number }) => ({
      millis: Math.round(r.millis),
      requests: r.stats.requests,
      byKind: r.stats.requestsByKind,
      images: r.images
    })
    log("get, every tag…")
    const full = summary(await Effect.runPromise(runGet(wire, undefined, undefined)))
    log(`get --last ${LAST}…`)
    const last = summary(await Effect.runPromise(runGet(wire, LAST, cacheDir)))
    log(`get --last ${LAST} again (warm cache)…`)
    const warm = summary(await Effect.runPromise(runGet(wire, LAST, cacheDir)))
    if (full.images !== TAGS || last.images !== LAST || warm.images !== LAST) {
      throw new Error(`read ${full.images}/${last.images}/${warm.images} images, expected ${TAGS}/${LAST}/${LAST}`)
    }
    const ratio = (a: number, b: number) => Number((a / b).toPrecision(2))
    return {
      bench: "last",
      wire: "in-memory",
      tags: TAGS,
      last: LAST,
      latencyMs: LATENCY_MS,
      runs: { full, last, warm },
      ratios: { requests: ratio(last.requests, full.requests), time: ratio(last.millis, full.millis), warmRequests: ratio(warm.requests, full.requests) }
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true })
  }
}

/** The report as a table. */
export const formatLastReport = (report: LastBenchReport): string =>
  [
    `one repository of ${report.tags} tags, in-memory wire${report.latencyMs > 0 ? ` (+${report.latencyMs} ms per request)` : " (client work only, no network)"}`,
    `${"run".padEnd(28)}${"time".padStart(10)}${"requests".padStart(10)}${"images".padStart(8)}`,
    ...Object.entries(report.runs).map(([name, run]) =>
      `${(name === "full" ? "get (every tag)" : name === "last" ? `get --last ${report.last}` : `get --last ${report.last}, warm`).padEnd(28)}${`${run.millis} ms`.padStart(10)}${String(run.requests).padStart(10)}${String(run.images).padStart(8)}`
    ),
    `--last ${report.last} against the full read: requests ×${report.ratios.requests}, time ×${report.ratios.time}; warm: requests ×${report.ratios.warmRequests}`
  ].join("\n")

if (import.meta.url === `file://${process.argv[1]}`) {
  runLastBench().then((report) => {
    console.log(formatLastReport(report))
    console.log(JSON.stringify(report))
  }, (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
