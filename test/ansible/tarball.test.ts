/**
 * @module tarball.test — the role's other install path, as a host without a checkout gets it:
 * `npm pack` on the controller, the role copies the tarball and installs it with npm into a
 * prefix of this test's own, then runs get and run through the installed bin. With `--check` on
 * a host that has no fleet-rollback yet, the plan still runs (from an install in a temporary
 * directory, removed afterwards) and nothing stays installed.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { expectedAfterRollback, type FleetScenario, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import { ansiblePlaybook, makeScratch, type PlaybookResult, projectRoot } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
const dump = join(scratch.dir, "dump")
/** npm's prefix for the install (a host would use its global prefix). */
const prefix = join(scratch.dir, "prefix")
const installedBin = join(prefix, "bin", "fleet-rollback")
let tarball: string
let scenario: FleetScenario
const outputs: Array<string> = []

beforeAll(async () => {
  const packed = await new Promise<string>((done, fail) =>
    execFile("npm", ["pack", projectRoot, "--silent", "--pack-destination", scratch.dir], { cwd: scratch.dir, timeout: 120_000 }, (error, stdout, stderr) =>
      error === null ? done(stdout.trim().split("\n").at(-1)!) : fail(new Error(`npm pack failed: ${stderr}`))
    )
  )
  tarball = join(scratch.dir, packed)
  scenario = await startFleetScenario(scratch.dir)
}, 180_000)

afterAll(async () => {
  await scenario?.stop()
  scratch.remove()
})

/** Runs the playbook for prod from the tarball, secrets in the controller's environment. */
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
        // The lock shared with Jenkins: a file of this test's, not the machine's /var/lock.
        fleet_rollback_lock_file: join(scratch.dir, "fleet-rollback.lock"),
        fleet_rollback_install_source: tarball,
        fleet_rollback_npm_prefix: prefix,
        fleet_rollback_command: join(scratch.dir, "not-installed", "fleet-rollback"),
        ...variables
      })
    ],
    // npm finds the dependencies in its cache (npm ci filled it) before asking the registry.
    { ...scenario.secretEnvironment, npm_config_prefer_offline: "true" },
    300_000
  )
  outputs.push(result.output)
  return result
}

/** The status line ansible printed under a task. */
const taskStatus = (output: string, task: string): string | undefined => {
  const at = output.indexOf(`TASK [fleet_rollback : ${task}`)
  if (at < 0) return undefined
  return output.slice(at).split("\n").find((line) => /^(ok|changed|skipping|fatal|failed):/.test(line))
}

describe("ansible/rollback.yml installing fleet-rollback from an npm pack tarball", () => {
  it("--check --tags get,run on a host without the tool: the plan runs, nothing is installed, Marathon is untouched", async () => {
    const before = scenario.marathon.apps()
    const result = await playbook(["--check", "--tags", "get,run"], { rollback_point: "2026-11-19" })
    assert.strictEqual(result.code, 0, result.output)
    assert.match(result.stdout, /TASK \[fleet_rollback : Show the plan\][\s\S]*99-master[\s\S]*41-master/)
    assert.match(result.stdout, /TASK \[fleet_rollback : Roll every service back to .* \(fleet-rollback run\)\] \*+\nskipping: \[localhost\]/)
    assert.isFalse(existsSync(installedBin), "check mode installs nothing into the npm prefix")
    assert.isFalse(existsSync(prefix), "check mode does not even create the prefix")
    assert.deepStrictEqual(readdirSync(dump).filter((name) => name.endsWith(".fleet-rollback-check")), [], "the check-mode install is removed")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.strictEqual(scenario.marathon.requests.filter((request) => request.method !== "GET").length, 0)
  }, 400_000)

  it("--tags get installs the tarball into the prefix and writes rollback.json with the installed bin", async () => {
    const result = await playbook(["--tags", "get"])
    assert.strictEqual(result.code, 0, result.output)
    assert.isTrue(existsSync(installedBin), result.output)
    assert.match(taskStatus(result.output, "Install the tarball") ?? "", /^changed:/)
    assert.include(result.output, `fleet-rollback v${JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).version}`)
    assert.isTrue(existsSync(join(dump, "rollback.json")))
  }, 400_000)

  it("--tags run uses the installed tool without installing again and rolls every service back", async () => {
    const result = await playbook(["--tags", "run"], { rollback_point: "2026-11-19", fleet_rollback_user: "oncall-tarball" })
    assert.strictEqual(result.code, 0, result.output)
    assert.match(taskStatus(result.output, "Install the tarball") ?? "", /^skipping:/, "the same tarball is not installed twice")
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
    const report = parseReport(readFileSync(join(dump, "rollback-report.json"), "utf8"), "rollback-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.user, "oncall-tarball")
  }, 400_000)

  it("no secret appears in any playbook output", () => {
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) for (const text of outputs) assert.notInclude(text, secret)
  })
})
