/**
 * @module pipeline-simulation.test — jenkins/Jenkinsfile's own Groovy, run by
 * simulate-pipeline.groovy (a stand-in for Jenkins' declarative runtime that knows only the steps
 * this file uses), with REAL `sh` steps against the real `docker-registry` and the Marathon
 * sandbox. Three builds an on-call engineer can have: the point is chosen and approved; nobody
 * answers in time; the registry login is wrong.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { expectedAfterRollback, type FleetScenario, secretValues, secrets, startFleetScenario } from "../support/fleetScenario.ts"
import { makeWorkspace, projectRoot } from "./stageScript.ts"

const simulator = join(import.meta.dirname, "simulate-pipeline.groovy")
const jenkinsfile = join(projectRoot, "jenkins/Jenkinsfile")
const workspace = makeWorkspace()
let scenario: FleetScenario
const outputs: Array<string> = []

beforeAll(async () => {
  scenario = await startFleetScenario(workspace.dir)
}, 120_000)

afterAll(async () => {
  await scenario?.stop()
  workspace.remove()
})

interface PipelineEvent {
  readonly type: string
  readonly [key: string]: unknown
}

interface Build {
  readonly result: string
  readonly events: ReadonlyArray<PipelineEvent>
}

const javaHome = (): string => {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const java = join(dir, "java")
    if (existsSync(java)) return dirname(dirname(realpathSync(java)))
  }
  throw new Error("java is not on PATH: install a JDK (Debian: apt-get install groovy pulls default-jdk)")
}

/** The credentials store of the Jenkins instance, by the Jenkinsfile's default ids. */
const credentialsStore = (registryPassword: string) => ({
  "fleet-rollback-registry": { username: secrets.registryUsername, password: registryPassword },
  "fleet-rollback-marathon-token": { secret: secrets.marathonToken },
  "fleet-rollback-slack-webhook": { secret: scenario.slackWebhookUrl }
})

/** Runs one build of the Jenkinsfile with ENVIRONMENT=prod in the workspace. */
const build = (input: Record<string, unknown>, registryPassword: string = secrets.registryPassword): Promise<Build> => {
  rmSync(join(workspace.dir, "rollback.json"), { force: true })
  const specFile = join(workspace.dir, "build-spec.json")
  writeFileSync(
    specFile,
    JSON.stringify({
      workspace: workspace.dir,
      params: { ENVIRONMENT: "prod", CHOICE_TIMEOUT_SECONDS: "120", ALLOW_PARTIAL: false },
      // The agent runs the checkout's fleet-rollback (npm ci done): no FLEET_ROLLBACK.
      env: { JOB_NAME: "fleet-rollback", BUILD_NUMBER: "7", BUILD_URL: "https://jenkins.example/job/fleet-rollback/7/" },
      credentials: credentialsStore(registryPassword),
      input
    }),
    { mode: 0o600 }
  )
  return new Promise((done, fail) => {
    execFile(
      "groovy",
      [simulator, jenkinsfile, specFile],
      {
        cwd: workspace.dir,
        timeout: 120_000,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, JAVA_HOME: javaHome(), FLEET_ROLLBACK: "" }
      },
      (error, stdout, stderr) => {
        rmSync(specFile, { force: true })
        if (error !== null) {
          fail(new Error(`the pipeline simulation failed (${error.message}):\n${stderr}`))
          return
        }
        outputs.push(stdout, stderr)
        done(JSON.parse(stdout) as Build)
      }
    )
  })
}

const stagesOf = (b: Build): Array<string> =>
  b.events.filter((event) => event.type === "stage").map((event) => `${String(event["name"])}: ${String(event["status"])}`)

const shScripts = (b: Build): Array<string> => b.events.filter((event) => event.type === "sh").map((event) => String(event["script"]))

describe("jenkins/Jenkinsfile, simulated build with real sh steps", () => {
  it("nobody answers within the timeout: NOT_BUILT, plan and run skipped, Marathon untouched", async () => {
    const before = scenario.marathon.apps()
    const b = await build({ timeout: true })
    assert.strictEqual(b.result, "NOT_BUILT")
    assert.deepStrictEqual(stagesOf(b), [
      "Get rollbacks: run",
      "Choose point: run",
      "Plan: skipped-by-when",
      "Roll back: skipped-by-when"
    ])
    const question = b.events.find((event) => event.type === "input")
    assert.isDefined(question)
    assert.strictEqual(question!["submitterParameter"], "APPROVER")
    assert.isAtLeast((question!["choices"] as Array<string>).length, 3)
    assert.deepStrictEqual(b.events.find((event) => event.type === "timeout"), { type: "timeout", time: 120, unit: "SECONDS" })
    assert.notInclude(shScripts(b).join("\n"), " plan")
    assert.notInclude(shScripts(b).join("\n"), " run")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.deepStrictEqual(
      b.events.filter((event) => event.type === "post").map((event) => event["condition"]),
      ["always", "notBuilt"]
    )
  }, 180_000)

  it("the engineer picks the day before the release: plan, then one deployment, approver in the report, artifacts archived", async () => {
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "alice" })
    assert.strictEqual(b.result, "SUCCESS", JSON.stringify(b.events.filter((event) => event.type !== "sh" || event["code"] !== 0)))
    assert.deepStrictEqual(stagesOf(b), ["Get rollbacks: run", "Choose point: run", "Plan: run", "Roll back: run"])
    assert.deepStrictEqual(shScripts(b), [
      'rm -f -- "$ROLLBACK_FILE" "$ROLLBACK_REPORT"',
      'sh "$FLEET_ROLLBACK_STAGE" get',
      'sh "$FLEET_ROLLBACK_STAGE" choices',
      'sh "$FLEET_ROLLBACK_STAGE" plan',
      'sh "$FLEET_ROLLBACK_STAGE" run'
    ])
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
    const report = parseReport(readFileSync(join(workspace.dir, "rollback-report.json"), "utf8"), "rollback-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.user, "alice")
    assert.deepStrictEqual(b.events.find((event) => event.type === "archive")?.["artifacts"], ["rollback.json", "rollback-report.json"])
    const bound = b.events.filter((event) => event.type === "withCredentials").map((event) => event["variables"])
    assert.deepStrictEqual(bound, [
      ["REGISTRY_PASSWORD", "REGISTRY_USERNAME"],
      ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME"],
      ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME", "SLACK_WEBHOOK_URL"]
    ])
  }, 180_000)

  it("a wrong registry password fails Get rollbacks, skips the rest, and the failure reaches Slack", async () => {
    const slackBefore = scenario.slackMessages.length
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "alice" }, "not-the-password")
    assert.strictEqual(b.result, "FAILURE")
    assert.deepStrictEqual(stagesOf(b), [
      "Get rollbacks: run",
      "Choose point: skipped-after-failure",
      "Plan: skipped-after-failure",
      "Roll back: skipped-after-failure"
    ])
    const get = b.events.find((event) => event.type === "sh" && event["script"] === 'sh "$FLEET_ROLLBACK_STAGE" get')
    assert.isDefined(get)
    assert.notStrictEqual(get!["code"], 0)
    assert.include(String(get!["stderr"]), "401")
    assert.deepStrictEqual(
      b.events.filter((event) => event.type === "post").map((event) => event["condition"]),
      ["always", "failure"]
    )
    const notice = b.events.find((event) => event.type === "sh" && event["script"] === 'sh "$FLEET_ROLLBACK_STAGE" notify-failure')
    assert.strictEqual(notice?.["code"], 0)
    assert.deepStrictEqual(scenario.slackMessages.slice(slackBefore), [
      { text: ":x: Fleet rollback fleet-rollback #7 failed in prod. https://jenkins.example/job/fleet-rollback/7/" }
    ])
  }, 180_000)

  it("no secret appears in any step's output", () => {
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) for (const text of outputs) assert.notInclude(text, secret)
  })
})
