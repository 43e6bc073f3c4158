/**
 * @module arguments.test — the role refuses bad input before it touches anything: at 3 a.m. a
 * forgotten `-e` must give a message naming the variable, not a stack trace or a half-run.
 * These need no registry and no Marathon: they stop before fleet-rollback would run.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { ansiblePlaybook, makeScratch } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
afterAll(() => scratch.remove())

/** A fleet_rollback_command that is certainly not installed, so the install step decides. */
const notInstalled = join(scratch.dir, "not-installed", "fleet-rollback")

describe("ansible/rollback.yml arguments", () => {
  it("passes ansible-playbook --syntax-check", async () => {
    const result = await ansiblePlaybook(scratch, ["--syntax-check"])
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "playbook:")
  })

  it("without fleet_rollback_environment, --tags get fails in argument validation and names the variable", async () => {
    const dump = join(scratch.dir, "dump-no-environment")
    const result = await ansiblePlaybook(scratch, ["--tags", "get", "-e", `fleet_rollback_dump_path=${dump}`])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "Validation of arguments failed")
    assert.include(result.output, "missing required arguments: fleet_rollback_environment")
    assert.notInclude(result.output, "Look for fleet-rollback on the host")
    assert.isFalse(existsSync(dump), "nothing may be created before the arguments are valid")
  })

  it("--tags run without rollback_point fails before installing or reading anything, naming rollback_point", async () => {
    const dump = join(scratch.dir, "dump-no-point")
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "run",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_dump_path=${dump}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "missing required arguments: rollback_point")
    assert.notInclude(result.output, "Look for fleet-rollback on the host")
    assert.isFalse(existsSync(dump))
  })

  it("a granularity that is not day or instant is refused, listing the allowed values", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      "fleet_rollback_granularity=weekly"
    ])
    assert.notStrictEqual(result.code, 0)
    assert.match(result.output, /value of fleet_rollback_granularity must be one of: , day, instant, got: weekly/)
  })

  it("without the tool on the host and without an install source, it says how to provide one", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_command=${notInstalled}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, `fleet-rollback ('${notInstalled}') is not on the PATH of localhost`)
    assert.include(result.output, "fleet_rollback_install_source is empty")
  })

  it("an install source directory without node_modules is refused with what is missing and what to run", async () => {
    const project = join(scratch.dir, "empty-project")
    mkdirSync(project, { recursive: true })
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_command=${notInstalled}`,
      "-e",
      `fleet_rollback_install_source=${project}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, `${project} is not a fleet-rollback project ready to run`)
    assert.include(result.output, `${project}/node_modules/.bin/tsx`)
    assert.include(result.output, "Run `npm ci` there")
  })

  it("a plain run without tags never rolls back: the run tasks are tagged never", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--list-tasks",
      "-e",
      "fleet_rollback_environment=prod"
    ])
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "Read every service's images from the registry (fleet-rollback get)")
    assert.notInclude(result.stdout, "(fleet-rollback run)")
    const runTasks = await ansiblePlaybook(scratch, ["--list-tasks", "--tags", "run", "-e", "fleet_rollback_environment=prod"])
    assert.include(runTasks.stdout, "(fleet-rollback run)")
    assert.include(runTasks.stdout, "(fleet-rollback plan)")
    assert.notInclude(runTasks.stdout, "(fleet-rollback get)")
  })
})
