/**
 * @module rollback.test — the Ansible role end to end with the real `ansible-playbook` on
 * localhost, the real `docker-registry` and the Marathon sandbox: `--tags get` shows the points,
 * `--check --tags run` only plans, `--tags run -e rollback_point=…` rolls every service back,
 * and the secrets (from the controller's environment) never show up, not even with -vvv.
 * The role runs fleet-rollback from this checkout (fleet_rollback_install_source = directory).
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { parseRollbackFile, type RollbackFile } from "../../lib/core/RollbackFile.ts"
import { expectedAfterRollback, type FleetScenario, running, secrets, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import { ansiblePlaybook, makeScratch, type PlaybookResult, projectRoot } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
const dump = join(scratch.dir, "dump")
let scenario: FleetScenario
const outputs: Array<string> = []

beforeAll(async () => {
  scenario = await startFleetScenario(scratch.dir)
}, 120_000)

afterAll(async () => {
  await scenario?.stop()
  scratch.remove()
})

/**
 * Runs the playbook for prod with the scenario's config. Secrets travel either in the
 * controller's environment (the role's defaults read them) or in a vars file (`-e @file`, as
 * with ansible-vault) — never as `-e name=value` on the command line.
 */
const playbook = async (
  args: ReadonlyArray<string>,
  variables: Record<string, unknown> = {},
  secretsVia: "environment" | "vars-file" | "vars-file-marathon-basic" = "environment"
): Promise<PlaybookResult> => {
  const varsFile = join(scratch.dir, "secrets.json")
  writeFileSync(
    varsFile,
    JSON.stringify({
      fleet_rollback_registry_username: scenario.secretEnvironment["REGISTRY_USERNAME"],
      fleet_rollback_registry_password: scenario.secretEnvironment["REGISTRY_PASSWORD"],
      ...(secretsVia === "vars-file-marathon-basic"
        ? { fleet_rollback_marathon_username: secrets.marathonUsername, fleet_rollback_marathon_password: secrets.marathonPassword }
        : { fleet_rollback_marathon_token: scenario.secretEnvironment["MARATHON_TOKEN"] }),
      fleet_rollback_slack_webhook_url: scenario.secretEnvironment["SLACK_WEBHOOK_URL"]
    }),
    { mode: 0o600 }
  )
  const result = await ansiblePlaybook(
    scratch,
    [
      ...args,
      ...(secretsVia !== "environment" ? ["-e", `@${varsFile}`] : []),
      "-e",
      JSON.stringify({
        fleet_rollback_environment: "prod",
        fleet_rollback_config: scenario.configFile,
        fleet_rollback_dump_path: dump,
        // The lock shared with Jenkins: a file of this test's, not the machine's /var/lock.
        fleet_rollback_lock_file: join(scratch.dir, "fleet-rollback.lock"),
        fleet_rollback_install_source: projectRoot,
        // Certainly not on PATH, so the role takes the directory form of the install source.
        fleet_rollback_command: join(scratch.dir, "not-installed", "fleet-rollback"),
        ...variables
      })
    ],
    secretsVia === "environment" ? scenario.secretEnvironment : {}
  )
  outputs.push(result.output)
  return result
}

const readRollbackFile = (): RollbackFile => {
  const parsed = parseRollbackFile(readFileSync(join(dump, "rollback.json"), "utf8"))
  if (parsed._tag === "Failure") throw new Error(parsed.failure.message)
  return parsed.success
}

/** The newest point before the broken release of Nov 20. */
const pointBeforeRelease = (file: RollbackFile): string => {
  const point = file.points.find((candidate) => candidate.id < "2026-11-20T00:00:00Z")
  if (point === undefined) throw new Error(`no point before 2026-11-20 in ${JSON.stringify(file.points)}`)
  return point.label
}

describe("ansible/rollback.yml against the real registry and the Marathon sandbox", () => {
  it("--tags get writes rollback.json and shows the points to choose from, newest first", async () => {
    const result = await playbook(["--tags", "get"])
    assert.strictEqual(result.code, 0, result.output)
    const file = readRollbackFile()
    assert.deepStrictEqual(file.services.map((service) => service.name).sort(), ["api", "web", "worker"])
    const shown = /"fleet_rollback_choices\.stdout_lines": \[([\s\S]*?)\]/.exec(result.stdout)
    assert.isNotNull(shown, `the choices are not shown:\n${result.stdout}`)
    const labels = JSON.parse(`[${shown![1]}]`) as Array<string>
    assert.deepStrictEqual(labels, file.points.map((point) => point.label))
  }, 180_000)

  it("--check --tags run shows the plan and changes nothing", async () => {
    const before = scenario.marathon.apps()
    const point = pointBeforeRelease(readRollbackFile())
    const result = await playbook(["--check", "--tags", "run"], { rollback_point: point }, "vars-file")
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "TASK [fleet_rollback : Show the plan]")
    assert.match(result.stdout, /99-master/)
    assert.match(result.stdout, /41-master/)
    assert.match(result.stdout, /TASK \[fleet_rollback : Roll every service back to .* \(fleet-rollback run\)\] \*+\nskipping: \[localhost\]/)
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.strictEqual(scenario.marathon.requests.filter((request) => request.method !== "GET").length, 0)
    assert.isFalse(existsSync(join(dump, "rollback-report.json")))
  }, 180_000)

  it("a point where web has no image yet: the play stops with fleet-rollback's own refusal naming web, nothing changes; fleet_rollback_allow_partial lifts it", async () => {
    const before = scenario.marathon.apps()
    // web's first image is of Nov 18 11:00: at 10:30 it is unresolved
    const refused = await playbook(["--tags", "run"], { rollback_point: "2026-11-18T10:30:00Z" })
    assert.notStrictEqual(refused.code, 0)
    assert.include(refused.output, "fleet-rollback run would refuse, nothing was changed: 1 service(s) cannot be planned at 2026-11-18T10:30:00.000Z")
    assert.include(refused.output, "(web)")
    assert.include(refused.output, "fleet_rollback_allow_partial")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    const allowed = await playbook(["--check", "--tags", "run"], { rollback_point: "2026-11-18T10:30:00Z", fleet_rollback_allow_partial: true })
    assert.strictEqual(allowed.code, 0, allowed.output)
    assert.notInclude(allowed.output, "run would refuse, nothing was changed")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
  }, 180_000)

  it("without flock on the host the play says so and how to go on, and nothing changes", async () => {
    const before = scenario.marathon.apps()
    const point = pointBeforeRelease(readRollbackFile())
    // a lock program the host does not have, in place of flock
    const result = await playbook(["--tags", "run"], { rollback_point: point, fleet_rollback_lock_argv: ["no-such-flock-here", "--nonblock", join(scratch.dir, "fleet-rollback.lock")] })
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "could not be started on localhost")
    assert.include(result.output, "No such file or directory")
    assert.include(result.output, "nothing was changed")
    assert.include(result.output, "set fleet_rollback_lock_file to an empty value")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
  }, 180_000)

  it("--tags run -e rollback_point=… rolls every service back, the unchanged worker included, and reports who did it", async () => {
    assert.isTrue(scenario.isImage("api", scenario.runningImages().api, running.api))
    const point = pointBeforeRelease(readRollbackFile())
    const result = await playbook(["--tags", "run", "-vvv"], { rollback_point: point, fleet_rollback_user: "oncall-ansible" }, "vars-file")
    assert.strictEqual(result.code, 0, result.output)
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(
        scenario.isImage(service, after[service], expectedAfterRollback[service]),
        `${service} runs ${after[service]}, expected ${expectedAfterRollback[service]}`
      )
    }
    assert.match(result.stdout, /changed: \[localhost\]/)
    const report = parseReport(readFileSync(join(dump, "rollback-report.json"), "utf8"), "rollback-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.user, "oncall-ansible")
    assert.strictEqual(report.success.outcome, "succeeded")
    assert.isAtLeast(scenario.slackMessages.length, 1, "run notifies Slack with the webhook from the vars file")
  }, 180_000)

  it("an unknown rollback_point fails the play with fleet-rollback's message and changes nothing", async () => {
    const before = scenario.marathon.apps()
    const result = await playbook(["--tags", "run"], { rollback_point: "1999-01-01T00:00:00Z-not-a-point" })
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "fleet-rollback plan failed (exit 2)")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
  }, 180_000)

  it("plain Marathon with HTTP Basic (fleet_rollback_marathon_username/password, no token): --check --tags run plans with it", async () => {
    const point = pointBeforeRelease(readRollbackFile())
    const seen = scenario.marathon.requests.length
    const result = await playbook(["--check", "--tags", "run"], { rollback_point: point }, "vars-file-marathon-basic")
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "TASK [fleet_rollback : Show the plan]")
    const sent = scenario.marathon.requests.slice(seen).map((request) => request.authorization ?? "")
    assert.isAbove(sent.length, 0)
    const basic = `Basic ${Buffer.from(`${secrets.marathonUsername}:${secrets.marathonPassword}`).toString("base64")}`
    for (const authorization of sent) assert.strictEqual(authorization, basic)
  }, 180_000)

  it("the secrets live in /dev/shm (memory only) during a play, and the files are gone after every play", () => {
    assert.isTrue(existsSync("/dev/shm"), "this test expects a Linux host with /dev/shm")
    assert.include(outputs.join("\n"), `"path": "/dev/shm/ansible.`, "the -vvv play shows where its secret directory was")
    // the directories THIS file's plays made (other test files' plays may be running meanwhile)
    const made = [...new Set([...outputs.join("\n").matchAll(/"path": "([^"]*\.fleet-rollback-secrets)"/g)].map((m) => m[1]!))]
    assert.isNotEmpty(made)
    for (const dir of made) {
      assert.isTrue(dir.startsWith("/dev/shm/"), `${dir} is in memory`)
      assert.isFalse(existsSync(dir), `${dir} is gone after its play`)
    }
  })

  it("a play removes the secret directories a killed earlier play left behind, once they are older than fleet_rollback_stale_secrets_minutes", async () => {
    // What a play killed before its `always` leaves: a 0700 directory with 0600 secret files.
    const parent = join(scratch.dir, "secrets-parent")
    const leftover = (name: string, minutesAgo: number): string => {
      const dir = join(parent, `ansible.${name}.fleet-rollback-secrets`)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(join(dir, "REGISTRY_PASSWORD"), secrets.registryPassword, { mode: 0o600 })
      const when = new Date(Date.now() - minutesAgo * 60_000)
      utimesSync(dir, when, when)
      return dir
    }
    const stale = leftover("killed3h", 180)
    const running = leftover("running5m", 5)
    const result = await playbook(["--tags", "get"], { fleet_rollback_secrets_parent: parent, fleet_rollback_stale_secrets_minutes: 120 })
    assert.strictEqual(result.code, 0, result.output)
    assert.isFalse(existsSync(stale), "the stale directory is removed")
    assert.isTrue(existsSync(running), "a younger one may belong to a play still running: it stays")
    assert.deepStrictEqual(readdirSync(parent), ["ansible.running5m.fleet-rollback-secrets"], "the play's own directory is gone too")
    assert.match(result.stdout, /TASK \[fleet_rollback : Remove secret directories a killed earlier play left behind.*\n(changed|ok)/)
  }, 180_000)

  it("no secret appears in any playbook output (even -vvv), in rollback.json or in the report", () => {
    // The files the earlier plays wrote (their own tests fail when they are missing).
    const files = [join(dump, "rollback.json"), join(dump, "rollback-report.json")]
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path, "utf8"))
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) {
      for (const text of [...outputs, ...files]) assert.notInclude(text, secret)
    }
  })
})
