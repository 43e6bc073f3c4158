/**
 * @module bench/support/floorWorker — runs the floor client (bench/support/floor.ts) in a fresh
 * Node process, as each `get` runs in one (bench/support/getWorker.ts), so both sides pay the
 * same start-up: modules load before the measurement, the JIT warms up within it. Prints one
 * JSON line: the floor's figures and the CPU time of the run.
 *
 * Input: one JSON argument `{ url, repositories, concurrency, configs }`.
 */
import { runFloor } from "./floor.ts"
import type { FloorConfigs } from "./floor.ts"

/** The worker's input. */
export interface FloorWorkerInput {
  readonly url: string
  readonly repositories: ReadonlyArray<string>
  readonly concurrency: number
  readonly configs: FloorConfigs
}

const input = JSON.parse(process.argv[2] ?? "{}") as FloorWorkerInput
const cpu = process.cpuUsage()
runFloor(input).then(
  (result) => {
    const used = process.cpuUsage(cpu)
    process.stdout.write(`${JSON.stringify({ ...result, cpuMillis: (used.user + used.system) / 1000 })}\n`)
  },
  (error: unknown) => {
    process.stderr.write(`floor failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exitCode = 1
  }
)
