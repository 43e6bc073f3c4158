/**
 * @module cacheFolder — a separate process for the cache-folding test: many short runs, one after
 * another, each opening one repository of a shared cache directory (which folds the deltas it
 * finds), adding entries of its own and writing them back, as many `get`s sharing a cache would.
 *
 * Input: one JSON argument `{ cacheDir, registryUrl, repository, writer, rounds, perRound }`;
 * round r adds the tags `<writer>-<r>-<k>` for k < perRound.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, FileSystem } from "effect"
import { diskCacheStore } from "../../lib/registry/Cache.ts"

const input = JSON.parse(process.argv[2] ?? "{}") as {
  readonly cacheDir: string
  readonly registryUrl: string
  readonly repository: string
  readonly writer: string
  readonly rounds: number
  readonly perRound: number
}

const program = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  for (let round = 0; round < input.rounds; round++) {
    // a new store per round: a new run of the client
    const cache = yield* diskCacheStore(fs, input.cacheDir, new URL(input.registryUrl)).repository(input.repository)
    for (let k = 0; k < input.perRound; k++) cache.setTagDigest(`${input.writer}-${round}-${k}`, `sha256:${input.writer}${round}${k}`)
    yield* cache.flush
  }
}).pipe(Effect.provide(NodeFileSystem.layer))

Effect.runPromise(program).then(
  () => process.stdout.write("done\n"),
  (error: unknown) => {
    process.stderr.write(`cache folder failed: ${String(error)}\n`)
    process.exitCode = 1
  }
)
