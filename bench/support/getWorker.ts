/**
 * @module bench/support/getWorker — runs one in-process `get` (library, Effect) in a fresh Node
 * process, so its peak RSS is that of `get` alone (not of the benchmark's set-up), and prints one
 * JSON line: the run's figures, RSS before it and its peak (sampled every 50 ms).
 *
 * Input: one JSON argument `{ url, repositories, cacheDir, verifyTags, concurrency, requestTimeoutMs? }`.
 */
// Loaded before the measurement, as the floor's worker loads it: @effect/platform-node would
// otherwise import undici lazily, inside the measured run.
import "undici"
import { runLibraryGet } from "./library.ts"
import { withRssSampling } from "./memory.ts"

/** The worker's input. */
export interface GetWorkerInput {
  readonly url: string
  readonly repositories: ReadonlyArray<string>
  readonly cacheDir: string
  readonly verifyTags: boolean
  readonly concurrency: number
  readonly requestTimeoutMs?: number | undefined
}

const input = JSON.parse(process.argv[2] ?? "{}") as GetWorkerInput
withRssSampling(() => runLibraryGet(input), 50).then(
  ({ value, ...measured }) => {
    process.stdout.write(`${JSON.stringify({ ...value, ...measured })}\n`)
  },
  (error: unknown) => {
    process.stderr.write(`get failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  }
)
