/**
 * @module Process — the one place that starts programs (`git`, `kubectl`, `pulumi`): Node's
 * `child_process` fenced into this file (Deno runs it through its Node compatibility). A program
 * gets an argument vector (never a shell line), the caller's environment plus what is added, and
 * its output is collected — or streamed line by line to `onOutput` as well. Nothing here prints.
 */
import { spawn } from "node:child_process"
import process from "node:process"
import { delimiter, join } from "node:path"
import { accessSync, constants } from "node:fs"
import { Effect, Schema } from "effect"

/** What a program did: its exit code (null when a signal ended it) and its output. */
export interface ProcessResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Standard output as bytes (for output that is counted in bytes, `git cat-file --batch`). */
  readonly stdoutBytes: Buffer
}

/** How to run a program. */
export interface ProcessOptions {
  /** Working directory. */
  readonly cwd?: string | undefined
  /** Added to (or, with `undefined`, removed from) the caller's environment. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Written to its standard input, then closed. */
  readonly input?: string | undefined
  /** Called with every chunk of its output (stdout and stderr) as it comes, for streaming. */
  readonly onOutput?: ((chunk: string) => void) | undefined
}

/** A program could not be started at all (not installed, not executable); `missing` when it is not on the PATH. */
export class ProcessStartError extends Schema.TaggedError<ProcessStartError>()("ProcessStartError", {
  command: Schema.String,
  missing: Schema.Boolean,
  message: Schema.String
}) {}

/** Runs a program to its end; fails only when it cannot be started. Interrupting kills it. */
export const runProcess = (command: string, args: ReadonlyArray<string>, options: ProcessOptions = {}) =>
  Effect.callback<ProcessResult, ProcessStartError>((resume) => {
    const env: Record<string, string | undefined> = { ...process.env }
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key]
      else env[key] = value
    }
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env,
      stdio: [options.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"]
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout?.on("data", (chunk: Buffer) => {
      out.push(chunk)
      options.onOutput?.(chunk.toString("utf8"))
    })
    child.stderr?.on("data", (chunk: Buffer) => {
      err.push(chunk)
      options.onOutput?.(chunk.toString("utf8"))
    })
    let done = false
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (done) return
      done = true
      const missing = error.code === "ENOENT"
      resume(Effect.fail(new ProcessStartError({
        command,
        missing,
        message: missing ? `${command} is not installed (not found on the PATH)` : `${command} could not be started: ${error.message}`
      })))
    })
    child.on("close", (code) => {
      if (done) return
      done = true
      const stdoutBytes = Buffer.concat(out)
      resume(Effect.succeed({ code, stdout: stdoutBytes.toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), stdoutBytes }))
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
    return Effect.sync(() => {
      if (!done) child.kill("SIGTERM")
    })
  })

/** The full path of a program on the PATH (the environment's, or `path`), or undefined. */
export const findOnPath = (command: string, path: string | undefined = process.env.PATH): string | undefined => {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}
