/**
 * @module pipeline-simulation.test — jenkins/Jenkinsfile's own Groovy, run by
 * simulate-pipeline.groovy (a stand-in for Jenkins' declarative runtime that knows only the steps
 * this file uses), with REAL `sh` steps against the real `docker-registry` and the Marathon
 * sandbox. The builds an on-call engineer can have: the point is chosen and approved; nobody
 * answers in time, or someone clicks Abort; the registry login is wrong; a parameter or a
 * credential is missing or wrong (stopped before anything is chosen; a missing Slack webhook
 * only turns Slack off); plain Marathon with HTTP Basic.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { appId, expectedAfterRollback, type FleetScenario, running, secretValues, secrets, startFleetScenario } from "../support/fleetScenario.ts"
import { makeWorkspace, projectRoot } from "./stageScript.ts"

const simulator = join(import.meta.dirname, "simulate-pipeline.groovy")
const jenkinsfile = join(projectRoot, "jenkins/Jenkinsfile")
const workspace = makeWorkspace()
const lockFile = join(workspace.dir, "fleet-rollback.lock")
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
const credentialsStore = (registryPassword: string): Record<string, unknown> => ({
  "fleet-rollback-registry": { username: secrets.registryUsername, password: registryPassword },
  "fleet-rollback-marathon-token": { secret: secrets.marathonToken },
  "fleet-rollback-slack-webhook": { secret: scenario.slackWebhookUrl }
})

/** What differs from the usual build: the registry password, parameters, job settings, the credentials store. */
interface BuildOptions {
  readonly registryPassword?: string
  readonly params?: Record<string, unknown>
  readonly env?: Record<string, string>
  readonly credentials?: (store: Record<string, unknown>) => Record<string, unknown>
  /** More of the simulation's spec: artifacts of earlier builds, abortAfter / abortBefore. */
  readonly spec?: Record<string, unknown>
}

/** Who may approve in these builds (the job's FLEET_ROLLBACK_APPROVERS). */
const approvers = "oncall-leads,alice,bob,carol"

/** The two answers of a build that goes through: the point (a choice line matching), then the confirmation. */
const approve = (pickLineMatching: string, approver: string, confirmer = approver): Record<string, unknown> => ({
  RollbackPoint: { pickLineMatching, approver },
  ConfirmRollback: { approver: confirmer }
})

/** Runs one build of the Jenkinsfile with ENVIRONMENT=prod in the workspace. */
const build = (input: Record<string, unknown>, options: BuildOptions = {}): Promise<Build> => {
  rmSync(join(workspace.dir, "rollback.json"), { force: true })
  const specFile = join(workspace.dir, "build-spec.json")
  const store = credentialsStore(options.registryPassword ?? secrets.registryPassword)
  writeFileSync(
    specFile,
    JSON.stringify({
      workspace: workspace.dir,
      params: { MODE: "rollback", ENVIRONMENT: "prod", CHOICE_TIMEOUT_SECONDS: "120", ALLOW_PARTIAL: false, REVERT_ON_FAILURE: false, UNDO_BUILD: "", ...options.params },
      // The agent runs the checkout's fleet-rollback (npm ci done): no FLEET_ROLLBACK.
      env: {
        JOB_NAME: "fleet-rollback",
        BUILD_NUMBER: "7",
        BUILD_URL: "https://jenkins.example/job/fleet-rollback/7/",
        FLEET_ROLLBACK_APPROVERS: approvers,
        // The lock shared with Ansible, in this workspace (other test runs use their own).
        FLEET_ROLLBACK_LOCK_FILE: lockFile,
        // fleet-rollback's caches stay in the workspace (removed with it), not in the user's home.
        XDG_CACHE_HOME: join(workspace.dir, ".cache"),
        ...options.env
      },
      credentials: options.credentials === undefined ? store : options.credentials(store),
      input,
      ...options.spec
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

const postConditions = (b: Build): Array<unknown> => b.events.filter((event) => event.type === "post").map((event) => event["condition"])

const echoes = (b: Build): string => b.events.filter((event) => event.type === "echo" || event.type === "error").map((event) => String(event["message"])).join("\n")

/** Puts the broken release back on Marathon (as before the incident) for the next build. */
const restoreBrokenRelease = async (): Promise<void> => {
  for (const service of ["api", "web", "worker"] as const) {
    const app = scenario.marathon.apps().find((candidate) => candidate["id"] === appId(service))!
    const container = app["container"] as { docker: Record<string, unknown> }
    const response = await fetch(`${scenario.marathon.url}/v2/apps${appId(service)}?force=true`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `token=${secrets.marathonToken}` },
      body: JSON.stringify({ container: { ...container, docker: { ...container.docker, image: `${scenario.registry.host}/shop/${service}:${running[service]}` } } })
    })
    assert.isTrue(response.ok, `restoring ${service}: ${response.status} ${await response.text()}`)
  }
  for (let i = 0; i < 100 && scenario.marathon.deployments().length > 0; i++) await new Promise((r) => setTimeout(r, 100))
  assert.deepStrictEqual(scenario.marathon.deployments(), [])
}

/** The events of one type. */
const eventsOf = (b: Build, type: string): Array<PipelineEvent> => b.events.filter((event) => event.type === type)

/** What the build failed with, for assertion messages. */
const failures = (b: Build): string => JSON.stringify(b.events.filter((event) => (event.type === "sh" && event["code"] !== 0) || event.type.endsWith("failed")))

/** The stages of a rollback build that reached the fleet. */
const rollbackStages = [
  "Get rollbacks: run",
  "Get the report to undo: skipped-by-when",
  "Choose point: run",
  "Plan: run",
  "Confirm: run",
  "Roll back: run",
  "Undo: skipped-by-when"
]

/** A recording wrapper around the real fleet-rollback: every call's arguments, one per line, then `--`. */
const recorderLog = join(workspace.dir, "fleet-rollback-calls.txt")
const recorder = join(workspace.dir, "bin", "fleet-rollback-recorded")
mkdirSync(dirname(recorder), { recursive: true })
writeFileSync(
  recorder,
  `#!/bin/sh\n{ for a in "$@"; do printf '%s\\n' "$a"; done; echo --; } >> '${recorderLog}'\nexec '${join(projectRoot, "scripts/fleet-rollback.js")}' "$@"\n`
)
chmodSync(recorder, 0o755)
/** The recorded calls whose first argument is `command`. */
const recordedCalls = (command: string): Array<Array<string>> =>
  (existsSync(recorderLog) ? readFileSync(recorderLog, "utf8") : "")
    .split("--\n")
    .map((call) => call.split("\n").filter((line) => line !== ""))
    .filter((call) => call[0] === command)

/** The report build 7 archived, kept for the undo builds ("archived artifacts" of the job). */
const archivedReport = join(workspace.dir, "archive-build-7-rollback-report.json")

describe("jenkins/Jenkinsfile, simulated build with real sh steps", () => {
  it("FLEET_ROLLBACK_APPROVERS unset: the build refuses to start, before the registry is read or anyone is asked", async () => {
    const before = scenario.marathon.snapshot()
    const b = await build(approve("^2026-11-18", "alice"), { env: { FLEET_ROLLBACK_APPROVERS: "" } })
    assert.strictEqual(b.result, "FAILURE")
    assert.deepStrictEqual(stagesOf(b).slice(0, 3), ["Get rollbacks: run", "Get the report to undo: skipped-after-failure", "Choose point: skipped-after-failure"])
    assert.include(echoes(b), "FLEET_ROLLBACK_APPROVERS is not set, so anyone who can build this job could approve a rollback of prod")
    assert.include(echoes(b), "or to 'none' to let anyone who can build the job approve")
    assert.notInclude(shScripts(b).join("\n"), '"$FLEET_ROLLBACK_STAGE" get')
    assert.deepStrictEqual(eventsOf(b, "input"), [])
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
  }, 180_000)

  it("nobody answers within the timeout (approvers 'none'): a loud warning, no submitter, NOT_BUILT, Marathon untouched", async () => {
    const before = scenario.marathon.apps()
    const b = await build({ RollbackPoint: { timeout: true } }, { env: { FLEET_ROLLBACK_APPROVERS: "none" } })
    assert.strictEqual(b.result, "NOT_BUILT")
    assert.deepStrictEqual(stagesOf(b), [
      "Get rollbacks: run",
      "Get the report to undo: skipped-by-when",
      "Choose point: run",
      "Plan: skipped-by-when",
      "Confirm: skipped-by-when",
      "Roll back: skipped-by-when",
      "Undo: skipped-by-when"
    ])
    assert.include(echoes(b), "*** WARNING: FLEET_ROLLBACK_APPROVERS=none: ANYONE WHO CAN BUILD THIS JOB CAN APPROVE A ROLLBACK OF prod.")
    const question = eventsOf(b, "input")[0]
    assert.isDefined(question)
    assert.strictEqual(question!["submitterParameter"], "APPROVER")
    assert.isNull(question!["submitter"], "approvers 'none': anyone may answer")
    assert.isAtLeast((question!["choices"] as Array<string>).length, 3)
    assert.deepStrictEqual(eventsOf(b, "timeout")[0], { type: "timeout", time: 120, unit: "SECONDS" })
    assert.notInclude(shScripts(b).join("\n"), " plan")
    assert.notInclude(shScripts(b).join("\n"), " run")
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.deepStrictEqual(postConditions(b), ["notBuilt"])
  }, 180_000)

  it("the point is chosen, the plan's summary is the confirmation question, then one deployment recorded under the confirmer", async () => {
    const b = await build(approve("^2026-11-18", "alice", "bob"))
    assert.strictEqual(b.result, "SUCCESS", failures(b))
    assert.deepStrictEqual(stagesOf(b), rollbackStages)
    assert.deepStrictEqual(shScripts(b), [
      'rm -f -- "$ROLLBACK_FILE" "$ROLLBACK_PLAN" "$ROLLBACK_REPORT"',
      'sh "$FLEET_ROLLBACK_STAGE" get',
      'sh "$FLEET_ROLLBACK_STAGE" choices',
      'sh "$FLEET_ROLLBACK_STAGE" plan',
      'sh "$FLEET_ROLLBACK_STAGE" run'
    ])
    for (const question of eventsOf(b, "input")) assert.isNull(question["agent"], `input in stage ${String(question["stage"])} holds an agent`)
    const [pointQuestion, confirmation] = eventsOf(b, "input")
    assert.strictEqual(pointQuestion!["ok"], "Show the plan")
    assert.strictEqual(pointQuestion!["submitter"], approvers)
    // The confirmation comes after the plan, names the point, what rolls back and what stays.
    assert.strictEqual(confirmation!["id"], "ConfirmRollback")
    assert.strictEqual(confirmation!["submitter"], approvers)
    assert.strictEqual(confirmation!["ok"], "Roll back")
    assert.isBelow(b.events.findIndex((event) => event.type === "sh" && event["script"] === 'sh "$FLEET_ROLLBACK_STAGE" plan'), b.events.indexOf(confirmation!))
    const question = String(confirmation!["message"])
    assert.match(question, /^Roll prod back to 2026-11-18[^\n]*\?\n\nPoint: 2026-11-18/)
    assert.match(question, /Rolls back \(2\):\n {2}- api \(\/shop\/prod\/api\): \S+:100-master -> \S+:99-master\n {2}- web \(\/shop\/prod\/web\): \S+:42-master -> \S+:41-master/)
    assert.match(question, /Unchanged \(1\):\n {2}- worker/)
    assert.include(question, "2 service(s) would change.")
    // The plan was archived as JSON (`plan --json`).
    const plan = JSON.parse(readFileSync(join(workspace.dir, "rollback-plan.json"), "utf8")) as { services: Array<{ service: string; action: string }> }
    assert.deepStrictEqual(plan.services.map((s) => `${s.service}:${s.action}`).sort(), ["api:rollback", "web:rollback", "worker:unchanged"])
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
    const reportText = readFileSync(join(workspace.dir, "rollback-report.json"), "utf8")
    const report = parseReport(reportText, "rollback-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.user, "bob", "the one who confirmed the plan is recorded")
    writeFileSync(archivedReport, reportText)
    assert.deepStrictEqual(eventsOf(b, "archive").map((event) => event["artifacts"]), [["rollback.json"], ["rollback-plan.json"], ["rollback-report.json"]])
    assert.deepStrictEqual(eventsOf(b, "withCredentials").map((event) => event["variables"]), [
      // "Get rollbacks" first tries every credential on its own, before anything is read or chosen
      ["REGISTRY_PASSWORD", "REGISTRY_USERNAME"],
      ["MARATHON_TOKEN"],
      ["SLACK_WEBHOOK_URL"],
      // then the stages bind what they need
      ["REGISTRY_PASSWORD", "REGISTRY_USERNAME"],
      ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME"],
      ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME", "SLACK_WEBHOOK_URL"]
    ])
  }, 180_000)

  it("no executor waits on a question: agent none at the top, the questions outside any agent, the work on an agent; timeout and lock for the whole build", async () => {
    const b = await build({ RollbackPoint: { abort: true } })
    assert.deepStrictEqual(eventsOf(b, "agent"), [{ type: "agent", agent: "none" }])
    assert.deepStrictEqual(eventsOf(b, "option").filter((o) => o["option"] !== "disableConcurrentBuilds"), [
      { type: "option", option: "timeout", time: 60, unit: "MINUTES" },
      { type: "option", option: "lock", resource: "fleet-rollback" }
    ])
    for (const question of eventsOf(b, "input")) assert.isNull(question["agent"], `input in stage ${String(question["stage"])} holds an agent`)
    for (const step of eventsOf(b, "sh")) assert.strictEqual(step["agent"], "any")
    assert.deepStrictEqual(eventsOf(b, "stage").filter((s) => s["status"] === "run").map((s) => `${String(s["name"])}: ${String(s["agent"])}`), [
      "Get rollbacks: any",
      "Choose point: null"
    ])
  }, 180_000)

  it("a build when every service already runs the point's image: no confirmation is asked, NOT_BUILT, nothing deployed", async () => {
    const puts = scenario.marathon.requests.filter((request) => request.method === "PUT").length
    const b = await build(approve("^2026-11-18", "alice"))
    assert.strictEqual(b.result, "NOT_BUILT", failures(b))
    assert.include(echoes(b), "Nothing would change.")
    assert.include(echoes(b), "Every service already runs its image for that point: nothing to roll back.")
    assert.deepStrictEqual(eventsOf(b, "input").map((event) => event["id"]), ["RollbackPoint"])
    assert.strictEqual(scenario.marathon.requests.filter((request) => request.method === "PUT").length, puts)
  }, 180_000)

  it("MODE=undo takes the report build 7 archived, shows what it puts back in the question, and puts it back", async () => {
    const b = await build({ ConfirmRollback: { approver: "carol" } }, {
      params: { MODE: "undo", UNDO_BUILD: "7" },
      spec: { artifacts: { "7": { "rollback-report.json": archivedReport } } }
    })
    assert.strictEqual(b.result, "SUCCESS", failures(b))
    assert.deepStrictEqual(stagesOf(b), [
      "Get rollbacks: skipped-by-when",
      "Get the report to undo: run",
      "Choose point: skipped-by-when",
      "Plan: skipped-by-when",
      "Confirm: run",
      "Roll back: skipped-by-when",
      "Undo: run"
    ])
    assert.deepStrictEqual(eventsOf(b, "copyArtifacts").map((event) => [event["projectName"], event["build"], event["filter"], event["target"]]), [
      ["fleet-rollback", "7", "rollback-report.json", "previous-build"]
    ])
    const confirmation = eventsOf(b, "input")[0]!
    assert.strictEqual(confirmation["ok"], "Undo")
    assert.strictEqual(confirmation["submitter"], approvers)
    const question = String(confirmation["message"])
    assert.match(question, /^Undo the rollback of build #7 in prod\?\n\nUndo the run by bob at /)
    assert.match(question, /Puts back \(2\):\n {2}- api \(\/shop\/prod\/api\): \S+:99-master -> \S+:100-master \(rolled-back\)/)
    assert.include(shScripts(b), 'sh "$FLEET_ROLLBACK_STAGE" undo')
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], running[service]), `${service} runs ${after[service]} after the undo`)
    }
    const undoReport = parseReport(readFileSync(join(workspace.dir, "rollback-undo-report.json"), "utf8"), "rollback-undo-report.json")
    if (undoReport._tag === "Failure") throw new Error(undoReport.failure.message)
    assert.strictEqual(undoReport.success.kind, "undo")
    assert.strictEqual(undoReport.success.user, "carol")
    assert.deepStrictEqual(eventsOf(b, "archive").map((event) => event["artifacts"]), [["rollback-undo-report.json"]])
  }, 180_000)

  it("MODE=undo without a valid UNDO_BUILD, or with a build that archived no report: FAILURE, nothing changed", async () => {
    const before = scenario.marathon.snapshot()
    const bad = await build({ ConfirmRollback: { approver: "carol" } }, { params: { MODE: "undo", UNDO_BUILD: "last" } })
    assert.strictEqual(bad.result, "FAILURE")
    assert.include(echoes(bad), "MODE=undo needs UNDO_BUILD, the number of the earlier build whose rollback to undo, got 'last'.")
    assert.deepStrictEqual(eventsOf(bad, "copyArtifacts"), [])
    const missing = await build({ ConfirmRollback: { approver: "carol" } }, { params: { MODE: "undo", UNDO_BUILD: "6" }, spec: { artifacts: {} } })
    assert.strictEqual(missing.result, "FAILURE")
    assert.deepStrictEqual(eventsOf(missing, "input"), [])
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
  }, 180_000)

  it("REVERT_ON_FAILURE and FLEET_ROLLBACK_TARGET reach the real fleet-rollback; aborted right after the run: post aborted says what the report says about the fleet", async () => {
    rmSync(recorderLog, { force: true })
    const b = await build(approve("^2026-11-18", "alice"), {
      params: { REVERT_ON_FAILURE: true },
      env: { FLEET_ROLLBACK: recorder, FLEET_ROLLBACK_TARGET: "marathon" },
      spec: { abortAfter: 'sh "$FLEET_ROLLBACK_STAGE" run' }
    })
    assert.strictEqual(b.result, "ABORTED", failures(b))
    assert.deepStrictEqual(stagesOf(b).slice(-2), ["Roll back: run", "Undo: skipped-after-abort"])
    const [run] = recordedCalls("run")
    assert.isDefined(run)
    assert.include(run!, "--revert-on-failure")
    assert.notInclude(recordedCalls("plan")[0]!, "--revert-on-failure")
    for (const call of [run!, recordedCalls("plan")[0]!]) assert.strictEqual(call[call.indexOf("--target") + 1], "marathon", call.join(" "))
    assert.deepStrictEqual(postConditions(b), ["always", "aborted", "aborted"])
    const state = echoes(b).split("\n").filter((line) => line !== "")
    const last = echoes(b).slice(echoes(b).lastIndexOf("Aborted while fleet-rollback was changing the fleet."))
    assert.include(last, "The run ended: succeeded.")
    assert.match(last, /Changed \(2\):\n {2}- api \(\/shop\/prod\/api\): now \S+:99-master \(was \S+:100-master\)/)
    assert.match(last, /Not touched \(1\):\n {2}- worker/)
    assert.isAbove(state.length, 0)
  }, 180_000)

  it("aborted after the plan, before anything was sent: post aborted says the fleet is as it was", async () => {
    await restoreBrokenRelease()
    const before = scenario.marathon.snapshot()
    const b = await build(approve("^2026-11-18", "alice"), { spec: { abortAfter: 'sh "$FLEET_ROLLBACK_STAGE" plan' } })
    assert.strictEqual(b.result, "ABORTED")
    assert.include(echoes(b), "Aborted before anything was sent to the fleet: nothing was changed, the fleet is as it was.")
    assert.deepStrictEqual(eventsOf(b, "input").map((event) => event["id"]), ["RollbackPoint"])
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
  }, 180_000)

  it("aborted as the run starts, before fleet-rollback wrote a report: post aborted says the state is unknown and what to check", async () => {
    const b = await build(approve("^2026-11-18", "alice"), { spec: { abortBefore: 'sh "$FLEET_ROLLBACK_STAGE" run' } })
    assert.strictEqual(b.result, "ABORTED")
    assert.include(echoes(b), "Aborted while fleet-rollback was changing the fleet. No report was written (rollback-report.json is missing)")
    assert.include(echoes(b), "The fleet may be partly changed: check every service on the target")
  }, 180_000)

  it("someone clicks Abort at the confirmation: NOT_BUILT, the run never starts, Marathon untouched", async () => {
    const before = scenario.marathon.snapshot()
    const b = await build({ RollbackPoint: { pickLineMatching: "^2026-11-18", approver: "alice" }, ConfirmRollback: { abort: true } })
    assert.strictEqual(b.result, "NOT_BUILT")
    assert.deepStrictEqual(stagesOf(b).slice(2), ["Choose point: run", "Plan: run", "Confirm: run", "Roll back: skipped-by-when", "Undo: skipped-by-when"])
    assert.include(echoes(b), "aborted by user")
    assert.include(echoes(b), "Not confirmed in time: skipping, nothing was changed.")
    assert.notInclude(shScripts(b), 'sh "$FLEET_ROLLBACK_STAGE" run')
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    assert.deepStrictEqual(postConditions(b), ["notBuilt"])
  }, 180_000)

  it("a wrong registry password fails Get rollbacks, skips the rest, and the failure reaches Slack", async () => {
    const slackBefore = scenario.slackMessages.length
    const b = await build(approve("^2026-11-18", "alice"), { registryPassword: "not-the-password" })
    assert.strictEqual(b.result, "FAILURE")
    assert.deepStrictEqual(stagesOf(b).slice(0, 3), ["Get rollbacks: run", "Get the report to undo: skipped-after-failure", "Choose point: skipped-after-failure"])
    const get = b.events.find((event) => event.type === "sh" && event["script"] === 'sh "$FLEET_ROLLBACK_STAGE" get')
    assert.isDefined(get)
    assert.notStrictEqual(get!["code"], 0)
    assert.include(String(get!["stderr"]), "401")
    assert.deepStrictEqual(postConditions(b), ["failure"])
    const notice = b.events.find((event) => event.type === "sh" && event["script"] === 'sh "$FLEET_ROLLBACK_STAGE" notify-failure')
    assert.strictEqual(notice?.["code"], 0)
    assert.strictEqual(notice?.["agent"], "node", "the notice runs on an agent of its own (the pipeline is agent none)")
    assert.deepStrictEqual(scenario.slackMessages.slice(slackBefore), [
      { text: ":x: Fleet rollback fleet-rollback #7 failed in prod. https://jenkins.example/job/fleet-rollback/7/" }
    ])
  }, 180_000)

  for (const timeout of ["soon", "0", "-5", "1.5"]) {
    it(`CHOICE_TIMEOUT_SECONDS='${timeout}' fails at once, before the registry is read or anyone is asked`, async () => {
      const before = scenario.marathon.snapshot()
      const b = await build(approve("^2026-11-18", "alice"), { params: { CHOICE_TIMEOUT_SECONDS: timeout } })
      assert.strictEqual(b.result, "FAILURE")
      assert.strictEqual(stagesOf(b)[2], "Choose point: skipped-after-failure")
      assert.include(echoes(b), `CHOICE_TIMEOUT_SECONDS must be a whole number of seconds greater than 0, got '${timeout}'`)
      assert.deepStrictEqual(shScripts(b).filter((script) => script !== 'sh "$FLEET_ROLLBACK_STAGE" notify-failure'), [], "no step ran")
      assert.deepStrictEqual(eventsOf(b, "input"), [])
      assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    }, 180_000)
  }

  it("the Marathon credential is missing: FAILURE before the registry is read or anyone is asked, naming the id and how to fix it", async () => {
    const before = scenario.marathon.snapshot()
    const slackBefore = scenario.slackMessages.length
    const b = await build(approve("^2026-11-18", "alice"), {
      credentials: ({ "fleet-rollback-marathon-token": _, ...rest }) => rest
    })
    assert.strictEqual(b.result, "FAILURE")
    assert.strictEqual(stagesOf(b)[2], "Choose point: skipped-after-failure")
    assert.include(echoes(b), "Jenkins has no credential 'fleet-rollback-marathon-token' (Secret text; FLEET_ROLLBACK_MARATHON_CREDENTIALS names another id, or none)")
    assert.deepStrictEqual(eventsOf(b, "input"), [])
    assert.notInclude(shScripts(b).join("\n"), '"$FLEET_ROLLBACK_STAGE" get')
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    assert.strictEqual(scenario.slackMessages.length, slackBefore + 1, "the failure notice still goes out")
  }, 180_000)

  it("the Slack credential is missing: a warning before the question, the rollback goes through, the failure notice is never what fails", async () => {
    await restoreBrokenRelease()
    const slackBefore = scenario.slackMessages.length
    const b = await build(approve("^2026-11-18", "bob"), {
      credentials: ({ "fleet-rollback-slack-webhook": _, ...rest }) => rest
    })
    assert.strictEqual(b.result, "SUCCESS", failures(b))
    const warning = b.events.findIndex((event) => event.type === "echo" && String(event["message"]).includes("no credential 'fleet-rollback-slack-webhook'"))
    const question = b.events.findIndex((event) => event.type === "input")
    assert.isAbove(warning, -1, echoes(b))
    assert.isBelow(warning, question, "the warning comes before anyone is asked")
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
    assert.deepStrictEqual(eventsOf(b, "withCredentials").at(-1)?.["variables"], ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME"])
    assert.strictEqual(scenario.slackMessages.length, slackBefore)

    // The same store with a failing build: the failure notice is skipped, not a second failure.
    const failing = await build(approve("^2026-11-18", "bob"), {
      registryPassword: "not-the-password",
      credentials: ({ "fleet-rollback-slack-webhook": _, ...rest }) => rest
    })
    assert.strictEqual(failing.result, "FAILURE")
    assert.deepStrictEqual(postConditions(failing), ["failure"])
    assert.deepStrictEqual(eventsOf(failing, "post-failed"), [])
  }, 300_000)

  it("plain Marathon with HTTP Basic: FLEET_ROLLBACK_MARATHON_BASIC_CREDENTIALS binds MARATHON_USERNAME and MARATHON_PASSWORD", async () => {
    await restoreBrokenRelease()
    const seen = scenario.marathon.requests.length
    const b = await build(approve("^2026-11-18", "carol"), {
      env: { FLEET_ROLLBACK_MARATHON_CREDENTIALS: "none", FLEET_ROLLBACK_MARATHON_BASIC_CREDENTIALS: "fleet-rollback-marathon-basic" },
      credentials: ({ "fleet-rollback-marathon-token": _, ...rest }) => ({ ...rest, "fleet-rollback-marathon-basic": { username: secrets.marathonUsername, password: secrets.marathonPassword } })
    })
    assert.strictEqual(b.result, "SUCCESS", failures(b))
    assert.deepStrictEqual(eventsOf(b, "withCredentials").at(-1)?.["variables"], ["MARATHON_PASSWORD", "MARATHON_USERNAME", "REGISTRY_PASSWORD", "REGISTRY_USERNAME", "SLACK_WEBHOOK_URL"])
    const basic = `Basic ${Buffer.from(`${secrets.marathonUsername}:${secrets.marathonPassword}`).toString("base64")}`
    const sent = scenario.marathon.requests.slice(seen)
    assert.isTrue(sent.some((request) => request.method === "PUT"), "the rollback deployed")
    for (const request of sent) assert.strictEqual(request.authorization, basic)
    const after = scenario.runningImages()
    assert.isTrue(scenario.isImage("api", after.api, expectedAfterRollback.api), after.api)
  }, 180_000)

  it("no secret appears in any step's output", () => {
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) for (const text of outputs) assert.notInclude(text, secret)
  })
})
