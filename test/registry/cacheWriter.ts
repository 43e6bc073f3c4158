/**
 * @module cacheWriter — a separate process for the shared-cache test: one run of the registry
 * client writing its own entries into a cache directory another process writes at the same time.
 * It reads its tags of each repository in turn (one cache write per repository), then re-checks
 * each tag with `headDigest` (one cache write each), and prints what it read as one JSON line.
 *
 * Input: one JSON argument `{ url, cacheDir, repositories, tags }`.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"

const input = JSON.parse(process.argv[2] ?? "{}") as {
  readonly url: string
  readonly cacheDir: string
  readonly repositories: ReadonlyArray<string>
  readonly tags: ReadonlyArray<string>
}

const program = Effect.gen(function*() {
  const registry = yield* Registry
  const wanted = new Set(input.tags)
  const read: Record<string, number> = {}
  for (const repository of input.repositories) {
    const images = yield* registry.readRepository(repository, { keepTag: (tag) => wanted.has(tag), isMutableTag: () => false })
    read[repository] = images.images.length
  }
  for (const tag of input.tags) yield* registry.headDigest(input.repositories[0]!, tag)
  return read
}).pipe(
  Effect.provide(Registry.layer({ url: input.url, cacheDir: input.cacheDir }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))))
)

Effect.runPromise(program).then(
  (read) => process.stdout.write(`${JSON.stringify(read)}\n`),
  (error: unknown) => {
    process.stderr.write(`cache writer failed: ${String(error)}\n`)
    process.exitCode = 1
  }
)
