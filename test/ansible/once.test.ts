/**
 * @module once.test — the role cannot change the fleet twice or by surprise: with three inventory
 * hosts it rolls back once; check mode says `changed` exactly when the plan would change the
 * fleet (never for its temporary directories); a repeated identical `get` is `ok`; `undo` from
 * the report; and a rollback holding the lock shared with Jenkins makes the play stop with
 * nothing changed. Real `ansible-playbook`, the real `docker-registry`, the Marathon sandbox.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { expectedAfterRollback, type FleetScenario, running, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import { ansiblePlaybook, makeScratch, type PlaybookResult, projectRoot } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
const dump = join(scratch.dir, "dump")
const lockFile = join(scratch.dir, "fleet-rollback.lock")
const threeHosts = join(scratch.dir, "three-hosts.ini")
writeFileSync(threeHosts, "[fleet]\nh1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\n")
let scenario: FleetScenario
const outputs: Array<string> = []

beforeAll(async () => {
  scenario = await startFleetScenario(scratch.dir)
}, 120_000)

afterAll(async () => {
  await scenario?.stop()
  scratch.remove()
})

/** Runs the playbook for prod with the scenario's config, secrets in the controller's environment. */
const playbook = async (args: ReadonlyArray<string>, variables: Record<string, unknown> = {}, inventory?: string): Promise<PlaybookResult> => {
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
        fleet_rollback_lock_file: lockFile,
        ...variables
      })
    ],
    scenario.secretEnvironment,
    180_000,
    inventory === undefined ? {} : { inventory }
  )
  outputs.push(result.output)
  return result
}

/** The recap's `changed=` count per host. */
const changedByHost = (result: PlaybookResult): Record<string, number> =>
  Object.fromEntries([...result.stdout.matchAll(/^(\S+)\s+: ok=\d+\s+changed=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]))

/** The tasks that reported `changed`, with the hosts that reported it. */
const changedTasks = (result: PlaybookResult): Array<string> => {
  const out: Array<string> = []
  let task = ""
  for (const line of result.stdout.split("\n")) {
    const header = /^TASK \[(.*)\]/.exec(line)
    if (header !== null) task = header[1]!
    const changed = /^changed: \[([^\]]+)\]/.exec(line)
    if (changed !== null) out.push(`${task} @ ${changed[1]}`)
  }
  return out
}

const puts = (): number => scenario.marathon.requests.filter((request) => request.method === "PUT").length

describe("ansible/rollback.yml runs once, and says changed only when the fleet changes", () => {
  it("--tags get twice: the first makes the directory and keeps a new rollback.json (changed), the identical second is ok (changed=0)", async () => {
    const first = await playbook(["--tags", "get"])
    assert.strictEqual(first.code, 0, first.output)
    assert.deepStrictEqual(changedTasks(first), [
      "fleet_rollback : Make the directory for rollback.json @ localhost",
      "fleet_rollback : Keep the new rollback.json (the registry has something new) @ localhost"
    ])
    const written = readFileSync(join(dump, "rollback.json"), "utf8")
    const second = await playbook(["--tags", "get"])
    assert.strictEqual(second.code, 0, second.output)
    assert.deepStrictEqual(changedTasks(second), [])
    assert.deepStrictEqual(changedByHost(second), { localhost: 0 })
    assert.strictEqual(readFileSync(join(dump, "rollback.json"), "utf8"), written, "the earlier file stays")
    assert.isFalse(existsSync(join(dump, "rollback.json.new")))
  }, 300_000)

  it("--check --tags run: the plan would roll api and web back, so changed=1 from that task alone, and Marathon is untouched", async () => {
    const before = scenario.marathon.snapshot()
    const result = await playbook(["--check", "--tags", "run"], { rollback_point: "2026-11-19" })
    assert.strictEqual(result.code, 0, result.output)
    assert.deepStrictEqual(changedTasks(result), ["fleet_rollback : What run would change (check mode) @ localhost"])
    assert.deepStrictEqual(changedByHost(result), { localhost: 1 })
    assert.include(result.stdout, '"msg": "run would change api, web"')
    assert.match(result.stdout, /api \(\/shop\/prod\/api\): rollback \S+:100-master -> \S+:99-master/)
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
  }, 300_000)

  it("three inventory hosts: the rollback runs once, on the first host, in one deployment", async () => {
    const putsBefore = puts()
    // The target named as it would be for another kind: the real tool takes --target marathon.
    const result = await playbook(["--tags", "run"], { rollback_point: "2026-11-19", fleet_rollback_user: "oncall-three", fleet_rollback_target: "marathon" }, threeHosts)
    assert.strictEqual(result.code, 0, result.output)
    assert.strictEqual(puts() - putsBefore, 1, "one Marathon deployment")
    assert.deepStrictEqual(changedTasks(result), ["fleet_rollback : Roll every service back to the chosen point (fleet-rollback run) @ h1"])
    assert.deepStrictEqual(changedByHost(result), { h1: 1, h2: 0, h3: 0 })
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
  }, 300_000)

  it("--check --tags run once the fleet is there: nothing would change, changed=0", async () => {
    const result = await playbook(["--check", "--tags", "run"], { rollback_point: "2026-11-19" })
    assert.strictEqual(result.code, 0, result.output)
    assert.deepStrictEqual(changedByHost(result), { localhost: 0 })
    assert.include(result.stdout, '"msg": "run would change nothing"')
  }, 300_000)

  it("a rollback holding the lock shared with Jenkins: the play stops, names the lock, and nothing is deployed", async () => {
    const putsBefore = puts()
    const holder = spawn("flock", [lockFile, "sh", "-c", "echo locked; cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] })
    await new Promise<void>((locked) => holder.stdout.once("data", () => locked()))
    try {
      const result = await playbook(["--tags", "run"], { fleet_rollback_undo: true })
      assert.notStrictEqual(result.code, 0)
      assert.include(result.output, `Another rollback (an Ansible play or a Jenkins build) holds the lock ${lockFile} on localhost; nothing was changed.`)
      assert.strictEqual(puts(), putsBefore)
    } finally {
      holder.stdin.end()
      await new Promise((exited) => holder.once("exit", exited))
    }
  }, 300_000)

  it("fleet_rollback_undo: the run tag puts back what ran before, from the report, recorded as an undo", async () => {
    const result = await playbook(["--tags", "run"], { fleet_rollback_undo: true, fleet_rollback_user: "oncall-undo" })
    assert.strictEqual(result.code, 0, result.output)
    assert.deepStrictEqual(changedTasks(result), ["fleet_rollback : Undo the rollback (fleet-rollback undo) @ localhost"])
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], running[service]), `${service} runs ${after[service]} after the undo`)
    }
    const report = parseReport(readFileSync(join(dump, "rollback-undo-report.json"), "utf8"), "rollback-undo-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.kind, "undo")
    assert.strictEqual(report.success.user, "oncall-undo")
  }, 300_000)

  it("no secret appears in any playbook output", () => {
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) for (const text of outputs) assert.notInclude(text, secret)
  })
})
