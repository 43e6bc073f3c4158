/**
 * @module bench/support/library — one `get` through the library, in this process: `getRollbacks`
 * over `Registry.layer` on the Node HTTP stack (undici) and file system, as the CLI builds it,
 * returning the time, the registry's request counters and what was read.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { RegistryStats } from "../../lib/registry/Registry.ts"
import { getRollbacks } from "../../lib/workflow/GetRollbacks.ts"

/** What one in-process `get` did. */
export interface LibraryGetResult {
  readonly millis: number
  readonly stats: RegistryStats
  readonly images: number
  readonly points: number
  /** Images by date source (annotation, config, …). */
  readonly sources: Readonly<Record<string, number>>
}

/** Runs `get` for `repositories` (tag filter `master`, scheme build-branch) and measures it. */
export const runLibraryGet = async (options: {
  readonly url: string
  readonly repositories: ReadonlyArray<string>
  readonly cacheDir: string
  readonly verifyTags: boolean
  readonly concurrency: number
  /** Per-request timeout (the fault runs use a short one, as their stalls would otherwise cost 30 s each). */
  readonly requestTimeoutMs?: number | undefined
}): Promise<LibraryGetResult> => {
  const scheme = TAG_SCHEME_PRESETS["build-branch"]!
  const layer = Registry.layer({
    url: options.url,
    cacheDir: options.cacheDir,
    verifyTags: options.verifyTags,
    concurrency: options.concurrency,
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs })
  }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))
  const program = Effect.gen(function*() {
    const result = yield* getRollbacks({
      services: options.repositories.map((repository) => ({ name: repository.split("/").pop()!, repository })),
      registryUrl: options.url,
      scheme,
      schemeName: "build-branch",
      environment: "master",
      tagFilter: "master",
      granularity: "instant",
      timeZone: "UTC"
    })
    const stats = yield* (yield* Registry).stats
    return { result, stats }
  }).pipe(Effect.provide(layer))
  const started = performance.now()
  const { result, stats } = await Effect.runPromise(program)
  const millis = performance.now() - started
  const sources: Record<string, number> = {}
  let images = 0
  for (const list of Object.values(result.file.images)) {
    for (const image of list) {
      images++
      sources[image.dateSource] = (sources[image.dateSource] ?? 0) + 1
    }
  }
  return { millis, stats, images, points: result.file.points.length, sources }
}
