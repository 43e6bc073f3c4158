/**
 * @module runCli — runs the real `fleet-rollback` command line in a child process (asynchronously,
 * so the sandboxes served from the test process keep answering), with the Node that runs the
 * tests, through the bin an operator runs (scripts/fleet-rollback.js: in a checkout Node strips
 * the types itself).
 */
import { execFile } from "node:child_process"
import { resolve } from "node:path"

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
 * secrets; HOME is `cwd`; no compile cache, so nothing is written there).
 */
export const runCli = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number }
): Promise<CliResult> =>
  new Promise((done) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: options.cwd,
      USER: "oncall",
      NO_COLOR: "1",
      NODE_DISABLE_COMPILE_CACHE: "1",
      ...options.env
    }
    execFile(process.execPath, [bin, ...args], { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      done({ code, stdout, stderr })
    })
  })
