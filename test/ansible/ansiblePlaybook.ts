/**
 * @module ansiblePlaybook — runs the real `ansible-playbook` (Debian `ansible-core`) on localhost
 * with a local connection and only `ANSIBLE_*` environment variables: no ansible.cfg, no
 * inventory file, no state left in the user's home (fleet-rollback's caches go to the scratch
 * directory too).
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

/** The checkout this test runs in (the directory form of fleet_rollback_install_source). */
export const projectRoot = resolve(import.meta.dirname, "../..")

/** The playbook under test. */
export const playbook = join(projectRoot, "ansible/rollback.yml")

/** What one ansible-playbook run printed and how it ended. */
export interface PlaybookResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stdout and stderr together, for messages and leak checks. */
  readonly output: string
}

/** A scratch directory for ansible's temp files and the role's dump path; `remove()` deletes it. */
export interface AnsibleScratch {
  readonly dir: string
  readonly remove: () => void
}

/** Makes a scratch directory for one test file. */
export const makeScratch = (): AnsibleScratch => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-ansible-"))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Runs `ansible-playbook -i localhost, -c local <playbook> ...args` in `scratch` (or another
 * inventory and playbook: `options`), with `env`
 * added to the environment (secrets go here, never into args). Rejects only when the program
 * cannot be started, with a message saying what to install.
 */
export const ansiblePlaybook = (
  scratch: AnsibleScratch,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
  /** Another inventory (a file, or `a,b,c`) and another playbook (a path, or a collection's FQCN). */
  options: { readonly inventory?: string; readonly playbook?: string } = {}
): Promise<PlaybookResult> => {
  const home = join(scratch.dir, "ansible-home")
  mkdirSync(home, { recursive: true })
  return new Promise((done, fail) => {
    execFile(
      "ansible-playbook",
      ["-i", options.inventory ?? "localhost,", "-c", "local", options.playbook ?? playbook, ...args],
      {
        cwd: scratch.dir,
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          ANSIBLE_CONFIG: join(scratch.dir, "no-ansible.cfg"),
          ANSIBLE_HOME: home,
          ANSIBLE_LOCAL_TEMP: join(home, "tmp"),
          ANSIBLE_REMOTE_TEMP: join(home, "remote-tmp"),
          ANSIBLE_ROLES_PATH: join(projectRoot, "ansible/roles"),
          ANSIBLE_PYTHON_INTERPRETER: "auto_silent",
          ANSIBLE_LOCALHOST_WARNING: "false",
          ANSIBLE_INVENTORY_UNPARSED_WARNING: "false",
          ANSIBLE_NOCOLOR: "1",
          ANSIBLE_FORCE_COLOR: "0",
          ANSIBLE_RETRY_FILES_ENABLED: "false",
          ANSIBLE_STDOUT_CALLBACK: "default",
          ANSIBLE_DEPRECATION_WARNINGS: "false",
          // fleet-rollback's caches (registry, Node's compile cache) stay in the scratch directory.
          XDG_CACHE_HOME: join(scratch.dir, "cache"),
          ...env
        }
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          fail(new Error(`could not run ansible-playbook (Debian package 'ansible-core'): ${error.message}`))
          return
        }
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr, output: `${stdout}\n${stderr}` })
      }
    )
  })
}
