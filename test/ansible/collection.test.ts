/**
 * @module collection.test — the role as users install it: `ansible-galaxy collection build` of
 * ansible/ and `ansible-galaxy collection install` of the tarball into a temporary directory
 * (offline: a local tarball with no dependencies), the installed playbook
 * `fleet_rollback.fleet_rollback.rollback` run against the real registry and the Marathon
 * sandbox, and `ansible-lint --profile production` (Debian's ansible-lint) over the role, both
 * playbooks and galaxy.yml, which passes, and fails a role with a finding.
 */
import { assert, describe, it } from "@effect/vitest"
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { execFile } from "node:child_process"
import { afterAll, beforeAll } from "vitest"
import { type FleetScenario, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import { ansiblePlaybook, makeScratch, type PlaybookResult, projectRoot } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
const collections = join(scratch.dir, "collections")
const installed = join(collections, "ansible_collections", "fleet_rollback", "fleet_rollback")
const dump = join(scratch.dir, "dump")
/** Any download would go through this dead proxy and fail: these tools must work offline. */
const dead = "http://127.0.0.1:9"
const offline = { HTTP_PROXY: dead, HTTPS_PROXY: dead, http_proxy: dead, https_proxy: dead, NO_PROXY: "", no_proxy: "" }
let scenario: FleetScenario
const outputs: Array<string> = []

/** Runs a program of ansible-core / ansible-lint with this test's home, offline. */
const run = (program: string, args: ReadonlyArray<string>, cwd: string): Promise<{ code: number; output: string }> =>
  new Promise((done, fail) => {
    execFile(
      program,
      args,
      {
        cwd,
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          ...offline,
          HOME: join(scratch.dir, "home"),
          ANSIBLE_HOME: join(scratch.dir, "ansible-home"),
          ANSIBLE_CONFIG: join(scratch.dir, "no-ansible.cfg"),
          ANSIBLE_COLLECTIONS_PATH: collections,
          ANSIBLE_NOCOLOR: "1",
          NO_COLOR: "1"
        }
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          fail(new Error(`could not run ${program} (Debian packages ansible-core, ansible-lint): ${error.message}`))
          return
        }
        done({ code: error === null ? 0 : Number(error.code), output: `${stdout}\n${stderr}` })
      }
    )
  })

/** ansible-lint --profile production over the collection in `dir` (the role, both playbooks, galaxy.yml). */
const lint = (dir: string) =>
  run("ansible-lint", ["--offline", "--profile", "production", "-p", "rollback.yml", "playbooks/rollback.yml", "roles/fleet_rollback", "galaxy.yml", "meta/runtime.yml"], dir)

beforeAll(async () => {
  const built = await run("ansible-galaxy", ["collection", "build", join(projectRoot, "ansible"), "--output-path", scratch.dir], scratch.dir)
  if (built.code !== 0) throw new Error(`ansible-galaxy collection build failed:\n${built.output}`)
  const tarball = readdirSync(scratch.dir).find((name) => name.endsWith(".tar.gz"))!
  const install = await run("ansible-galaxy", ["collection", "install", join(scratch.dir, tarball), "-p", collections], scratch.dir)
  if (install.code !== 0) throw new Error(`ansible-galaxy collection install failed:\n${install.output}`)
  scenario = await startFleetScenario(scratch.dir)
}, 300_000)

afterAll(async () => {
  await scenario?.stop()
  scratch.remove()
})

/** Runs the installed collection's playbook for prod with the scenario's config. */
const playbook = async (args: ReadonlyArray<string>, variables: Record<string, unknown> = {}): Promise<PlaybookResult> => {
  const result = await ansiblePlaybook(
    scratch,
    [
      ...args,
      "-e",
      JSON.stringify({
        fleet_rollback_environment: "prod",
        fleet_rollback_config: scenario.configFile,
        fleet_rollback_dump_path: dump,
        fleet_rollback_install_source: projectRoot,
        fleet_rollback_command: join(scratch.dir, "not-installed", "fleet-rollback"),
        fleet_rollback_lock_file: join(scratch.dir, "fleet-rollback.lock"),
        ...variables
      })
    ],
    // Only the installed collection: no roles path into the checkout.
    { ...scenario.secretEnvironment, ANSIBLE_COLLECTIONS_PATH: collections, ANSIBLE_ROLES_PATH: join(scratch.dir, "no-roles") },
    240_000,
    { playbook: "fleet_rollback.fleet_rollback.rollback" }
  )
  outputs.push(result.output)
  return result
}

describe("ansible/ as the collection fleet_rollback.fleet_rollback", () => {
  it("ansible-galaxy builds and installs it: the role with its README and argument specs, the playbook, galaxy's metadata", () => {
    for (const file of ["roles/fleet_rollback/README.md", "roles/fleet_rollback/meta/argument_specs.yml", "playbooks/rollback.yml", "meta/runtime.yml", "README.md", "CHANGELOG.md", "MANIFEST.json"]) {
      assert.isTrue(existsSync(join(installed, file)), `${file} is installed`)
    }
    assert.isFalse(existsSync(join(installed, "rollback.yml")), "the checkout's playbook is not part of the collection")
    const manifest = JSON.parse(readFileSync(join(installed, "MANIFEST.json"), "utf8")) as { collection_info: { namespace: string; name: string; license: Array<string> } }
    assert.deepStrictEqual([manifest.collection_info.namespace, manifest.collection_info.name], ["fleet_rollback", "fleet_rollback"])
    assert.deepStrictEqual(manifest.collection_info.license, ["Apache-2.0"])
  })

  it("the installed playbook gets the points, then plans in check mode, with the role from the collection", async () => {
    const get = await playbook(["--tags", "get"])
    assert.strictEqual(get.code, 0, get.output)
    assert.include(get.stdout, "TASK [fleet_rollback.fleet_rollback.fleet_rollback : Read every service's images from the registry (fleet-rollback get)]")
    assert.isTrue(existsSync(join(dump, "rollback.json")))
    const before = scenario.marathon.snapshot()
    const check = await playbook(["--check", "--tags", "run"], { rollback_point: "2026-11-19" })
    assert.strictEqual(check.code, 0, check.output)
    assert.include(check.stdout, '"msg": "run would change api, web"')
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
  }, 400_000)

  it("ansible-lint --profile production passes, offline", async () => {
    const result = await lint(join(projectRoot, "ansible"))
    assert.strictEqual(result.code, 0, result.output)
    assert.match(result.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/)
  }, 300_000)

  it("the same lint fails a role with a finding (a command task without changed_when), naming the rule", async () => {
    const copy = join(scratch.dir, "lint-variant")
    cpSync(join(projectRoot, "ansible"), copy, { recursive: true })
    const tasks = join(copy, "roles/fleet_rollback/tasks/get.yml")
    writeFileSync(tasks, `${readFileSync(tasks, "utf8")}\n- name: Say hello\n  ansible.builtin.command: echo hello\n`)
    const result = await lint(copy)
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "no-changed-when")
  }, 300_000)

  it("no secret appears in any playbook output", () => {
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) for (const text of outputs) assert.notInclude(text, secret)
  })
})
