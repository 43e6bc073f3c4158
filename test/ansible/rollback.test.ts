/**
 * @module rollback.test — the Ansible role end to end with the real `ansible-playbook` on
 * localhost, the real `docker-registry` and the Marathon sandbox: `--tags get` shows the points,
 * `--check --tags run` only plans, `--tags run -e rollback_point=…` rolls every service back,
 * and the secrets (from the controller's environment) never show up, not even with -vvv.
 * The role runs fleet-rollback from this checkout (fleet_rollback_install_source = directory).
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { parseRollbackFile, type RollbackFile } from "../../lib/core/RollbackFile.ts"
import { expectedAfterRollback, type FleetScenario, running, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
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
  secretsVia: "environment" | "vars-file" = "environment"
): Promise<PlaybookResult> => {
  const varsFile = join(scratch.dir, "secrets.json")
  writeFileSync(
    varsFile,
    JSON.stringify({
      fleet_rollback_registry_username: scenario.secretEnvironment["REGISTRY_USERNAME"],
      fleet_rollback_registry_password: scenario.secretEnvironment["REGISTRY_PASSWORD"],
      fleet_rollback_marathon_token: scenario.secretEnvironment["MARATHON_TOKEN"],
      fleet_rollback_slack_webhook_url: scenario.secretEnvironment["SLACK_WEBHOOK_URL"]
    }),
    { mode: 0o600 }
  )
  const result = await ansiblePlaybook(
    scratch,
    [
      ...args,
      ...(secretsVia === "vars-file" ? ["-e", `@${varsFile}`] : []),
      "-e",
      JSON.stringify({
        fleet_rollback_environment: "prod",
        fleet_rollback_config: scenario.configFile,
        fleet_rollback_dump_path: dump,
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

  it("the secret files are gone after every play", () => {
    assert.deepStrictEqual(readdirSync(tmpdir()).filter((name) => name.endsWith(".fleet-rollback-secrets")), [])
  })

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
