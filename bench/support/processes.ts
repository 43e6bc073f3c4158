/**
 * @module bench/support/processes — child processes of the benchmark: run one to completion with
 * a time limit, and make sure none outlives the benchmark (killed by pid on exit or a signal).
 */
import { spawn } from "node:child_process"
import type { ChildProcess, SpawnOptions } from "node:child_process"

const running = new Set<ChildProcess>()
let hooked = false

/** Kills every child still running (SIGKILL by pid). */
export const killAllChildren = (): void => {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  }
}

const hook = (): void => {
  if (hooked) return
  hooked = true
  process.once("exit", killAllChildren)
}

/** The outcome of one child process. */
export interface ChildResult {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
  readonly millis: number
  readonly timedOut: boolean
}

/**
 * Spawns `command args`, collects its output, and resolves when it exits. After `timeoutMs` it
 * is killed (TERM, then KILL after 2 s) and the result says `timedOut`.
 */
export const runChild = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv; readonly cwd?: string }
): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    hook()
    const started = performance.now()
    const spawnOptions: SpawnOptions = { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env }
    if (options.cwd !== undefined) spawnOptions.cwd = options.cwd
    const child = spawn(command, [...args], spawnOptions)
    running.add(child)
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-50_000)
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGTERM")
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      }, 2000).unref()
    }, options.timeoutMs)
    child.once("error", (error) => {
      clearTimeout(timer)
      running.delete(child)
      reject(error)
    })
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, signal, stdout, stderr, millis: performance.now() - started, timedOut })
    })
  })
