/**
 * @module python — runs Debian's python3-marathon (the `marathon` Python package, an independent
 * Marathon client) against a sandbox, and puts its parsed answers and the sandbox's JSON in one
 * comparable form.
 */
import { execFile, execFileSync } from "node:child_process"
import { accessSync, constants } from "node:fs"
import { delimiter, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The driver script beside this file. */
const DRIVER = fileURLToPath(new URL("./python/marathon_calls.py", import.meta.url))

const importsMarathon = (python: string): boolean => {
  try {
    execFileSync(python, ["-c", "import marathon"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/**
 * The first `python3` on the PATH that can `import marathon` (Debian's python3-marathon lives in
 * the system Python; a pyenv or venv python3 earlier on the PATH does not see it), or
 * `MARATHON_PYTHON`. Throws, saying what to install, when there is none.
 */
export const findMarathonPython = (): string => {
  const candidates = [
    ...(process.env.MARATHON_PYTHON !== undefined ? [process.env.MARATHON_PYTHON] : []),
    ...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, "python3"))
  ]
  for (const python of candidates) {
    try {
      accessSync(python, constants.X_OK)
    } catch {
      continue
    }
    if (importsMarathon(python)) return python
  }
  throw new Error(
    "No python3 on the PATH can `import marathon`: install Debian's python3-marathon (apt-get install python3-marathon; .ci/run does) " +
      "or set MARATHON_PYTHON to a python3 that has it."
  )
}

/** One call of the driver: a MarathonClient method, or `update_app_read_back` / `update_apps_read_back`. */
export type PythonCall = { readonly call: string; readonly [key: string]: unknown }

/** What the driver reports for one call: the parsed result, or the exception the library raised. */
export type PythonResult =
  | { readonly ok: any; readonly error?: undefined }
  | { readonly ok?: undefined; readonly error: { readonly type: string; readonly message: string; readonly status?: number; readonly error_message?: string } }

/** How the library connects. */
export interface PythonConnection {
  readonly servers: string
  readonly auth_token?: string
  readonly username?: string
  readonly password?: string
}

/** Runs the calls in one python3 process, in order; resolves with one result per call. */
export const runPython = (python: string, connection: PythonConnection, calls: ReadonlyArray<PythonCall>): Promise<ReadonlyArray<PythonResult>> =>
  new Promise((resolve, reject) => {
    const child = execFile(python, [DRIVER], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3-marathon driver failed: ${err.message}\n${stderr}`))
      try {
        resolve(JSON.parse(stdout) as ReadonlyArray<PythonResult>)
      } catch (e) {
        reject(new Error(`python3-marathon driver printed no JSON: ${String(e)}\n${stdout}\n${stderr}`))
      }
    })
    child.stdin!.end(JSON.stringify({ ...connection, calls }))
  })

/** Runs one call and returns its parsed result; throws when the library raised. */
export const pythonOk = async (python: string, connection: PythonConnection, call: PythonCall): Promise<any> => {
  const [result] = await runPython(python, connection, [call])
  if (result?.error !== undefined) throw new Error(`${call.call}: python3-marathon raised ${result.error.type}: ${result.error.message}`)
  return result?.ok
}

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/

/**
 * One form for both sides: what python3-marathon's minimal encoder leaves out is left out (null,
 * "", empty lists and objects), and timestamps are cut to milliseconds (the library writes
 * datetimes with microseconds).
 */
export const comparable = (value: unknown): unknown => {
  if (typeof value === "string") {
    const m = ISO.exec(value)
    return m ? `${m[1]}.${(m[2] ?? "").padEnd(3, "0").slice(0, 3)}Z` : value
  }
  if (Array.isArray(value)) return value.map(comparable).filter((v) => !isEmpty(v))
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) {
      const c = comparable(v)
      if (!isEmpty(c)) out[k] = c
    }
    return out
  }
  return value
}

const isEmpty = (v: unknown): boolean =>
  v === null ||
  v === undefined ||
  v === "" ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)
