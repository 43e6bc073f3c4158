/**
 * @module runCli — runs the real `fleet-rollback` command line in a child process (asynchronously,
 * so the sandboxes served from the test process keep answering), with the Node that runs the
 * tests, through the bin an operator runs (scripts/fleet-rollback.js: in a checkout Node strips
 * the types itself).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { isAbsolute, join, resolve } from "node:path"
import { assertValidReport, assertValidRollbackFile } from "../support/JsonSchema.ts"

/** The checkout. */
export const projectRoot = resolve(import.meta.dirname, "../..")
/** The `fleet-rollback` bin (package.json `bin`). */
export const bin = resolve(projectRoot, "scripts/fleet-rollback.js")

/** How a command ended. */
export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `fleet-rollback <args>` in `cwd` with `env` added to a clean environment (no inherited
 * secrets; HOME is `cwd`; no compile cache, so nothing is written there). Every rollback.json
 * and report the run wrote (in `cwd`, or where `--out`/`--report` said) is then checked against
 * its JSON Schema in docs/ with Ajv: the promise rejects when one does not match.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly env?: Readonly<Record<string, string>>
    readonly timeoutMs?: number
    /** Run as this user and group (the test process must be root), e.g. to meet permissions root ignores. */
    readonly uid?: number
    readonly gid?: number
  }
): Promise<CliResult> =>
  new Promise((done, fail) => {
    const before = contentsOf(candidates(options.cwd, args))
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: options.cwd,
      USER: "oncall",
      NO_COLOR: "1",
      NODE_DISABLE_COMPILE_CACHE: "1",
      ...options.env
    }
    const user = options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }
    execFile(process.execPath, [bin, ...args], { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, ...user }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      try {
        validateWrittenFiles(options.cwd, args, before)
      } catch (invalid) {
        fail(invalid)
        return
      }
      done({ code, stdout, stderr })
    })
  })

/** The JSON files a run may have written: those in `cwd` and those named by `--out`/`--report`. */
const candidates = (cwd: string, args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const named = args.flatMap((arg, i) => (arg === "--out" || arg === "--report") && args[i + 1] !== undefined ? [args[i + 1]!] : [])
  let inCwd: Array<string> = []
  try {
    inCwd = readdirSync(cwd).filter((name) => name.endsWith(".json")).map((name) => join(cwd, name))
  } catch {
    // the test removed it
  }
  return [...new Set([...inCwd, ...named.map((path) => (isAbsolute(path) ? path : join(cwd, path)))])]
}

/** The text of each file that exists (a test's own input, to tell it from what the run wrote). */
const contentsOf = (paths: ReadonlyArray<string>): ReadonlyMap<string, string> => {
  const contents = new Map<string, string>()
  for (const path of paths) {
    try {
      if (statSync(path).isFile()) contents.set(path, readFileSync(path, "utf8"))
    } catch {
      // not there yet
    }
  }
  return contents
}

/**
 * Checks every rollback.json and report the run wrote against docs/*.schema.json: files that are
 * new or whose text changed. (Not by mtime: a file the test wrote in the same millisecond the run
 * started looked written by the run, and a hostile input the run refused was then "invalid".)
 */
const validateWrittenFiles = (cwd: string, args: ReadonlyArray<string>, before: ReadonlyMap<string, string>): void => {
  for (const [path, text] of contentsOf(candidates(cwd, args))) {
    if (before.get(path) === text) continue
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch {
      continue
    }
    if (typeof document !== "object" || document === null) continue
    const fields = document as Record<string, unknown>
    if (fields["kind"] === "run" || fields["kind"] === "undo") assertValidReport(document)
    else if ("schemaVersion" in fields && "points" in fields) assertValidRollbackFile(document)
  }
}

/** A `demo --keep` serving in the background: its process, how it ended, its output so far. */
export interface KeptDemo {
  readonly process: ChildProcess
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly output: () => string
  /** Kills it (SIGKILL) when it still runs: for a test's `finally`. */
  readonly stop: () => void
}

/**
 * Starts `fleet-rollback demo <args>` (with `--keep`) in `cwd` with exactly `env`, and resolves
 * once its hints are printed (they come last: the story is told and the sandboxes wait). Rejects,
 * with the output, when it ends first or prints none within `withinMs`; it is then killed.
 */
export const startKeptDemo = async (args: ReadonlyArray<string>, options: { readonly cwd: string; readonly env: Readonly<Record<string, string>>; readonly withinMs: number }): Promise<KeptDemo> => {
  const demo = spawn(process.execPath, [bin, "demo", ...args], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  demo.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
  demo.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => demo.on("exit", (code, signal) => done({ code, signal })))
  const kept: KeptDemo = {
    process: demo,
    exited,
    output: () => output,
    stop: () => {
      if (demo.exitCode === null && demo.signalCode === null) demo.kill("SIGKILL")
    }
  }
  for (let waited = 0; !/curl \S+\/v2\/shop\/api\/tags\/list/.test(output); waited += 100) {
    const problem = waited >= options.withinMs ? "printed no hints" : demo.exitCode !== null ? "ended early" : undefined
    if (problem !== undefined) {
      kept.stop()
      throw new Error(`demo --keep ${problem}:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return kept
}
