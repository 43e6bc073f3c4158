/**
 * @module stageScript — runs jenkins/fleet-rollback-stage.sh the way the Jenkinsfile does:
 * `sh "$FLEET_ROLLBACK_STAGE" <stage>` in the workspace, every value in the environment.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

/** The checkout (the Jenkins workspace in these tests). */
export const projectRoot = resolve(import.meta.dirname, "../..")

/** The script the Jenkinsfile calls, relative to the workspace as in its environment block. */
export const stageScript = "jenkins/fleet-rollback-stage.sh"

/** How one stage ended. */
export interface StageResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly output: string
}

/** The environment block of the Jenkinsfile (MODE=rollback), for ENVIRONMENT = `environment`, plus the test's lock file. */
export const pipelineEnvironment = (environment: string): Record<string, string> => ({
  FLEET_ROLLBACK_STAGE: stageScript,
  FLEET_ROLLBACK_ENV: environment,
  FLEET_ROLLBACK_ALLOW_PARTIAL: "false",
  FLEET_ROLLBACK_REVERT_ON_FAILURE: "false",
  ROLLBACK_FILE: "rollback.json",
  ROLLBACK_PLAN: "rollback-plan.json",
  ROLLBACK_REPORT: "rollback-report.json",
  UNDO_OUT: "rollback-undo-report.json",
  // The lock shared with Ansible: a file of this workspace, not the machine's /var/lock.
  FLEET_ROLLBACK_LOCK_FILE: "fleet-rollback.lock"
})

/** A Jenkins workspace: a scratch directory whose `jenkins/` is this checkout's; `remove()` deletes it. */
export interface Workspace {
  readonly dir: string
  readonly remove: () => void
}

/** Makes a workspace; the stage script resolves the link, so it still finds this checkout. */
export const makeWorkspace = (): Workspace => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-jenkins-"))
  symlinkSync(join(projectRoot, "jenkins"), join(dir, "jenkins"))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Runs `sh "$FLEET_ROLLBACK_STAGE" <stage>` with the workspace as the current directory, as the
 * Jenkinsfile's `sh` step does. `env` is added to process.env; secrets go here.
 */
export const runStage = (
  stage: string,
  options: { readonly workspace: string; readonly env: Readonly<Record<string, string>>; readonly timeoutMs?: number }
): Promise<StageResult> =>
  new Promise((done, fail) => {
    execFile(
      "sh",
      ["-c", 'sh "$FLEET_ROLLBACK_STAGE" "$1"', "jenkins-sh-step", stage],
      {
        cwd: options.workspace,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        // fleet-rollback's caches stay in the workspace (removed with it), not in the user's home.
        env: { ...process.env, XDG_CACHE_HOME: join(options.workspace, ".cache"), ...options.env }
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          fail(new Error(`could not run ${stageScript}: ${error.message}`))
          return
        }
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr, output: `${stdout}\n${stderr}` })
      }
    )
  })
