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
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { appId, expectedAfterRollback, type FleetScenario, running, secretValues, secrets, startFleetScenario } from "../support/fleetScenario.ts"
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
}

/** Runs one build of the Jenkinsfile with ENVIRONMENT=prod in the workspace. */
const build = (input: Record<string, unknown>, options: BuildOptions = {}): Promise<Build> => {
  rmSync(join(workspace.dir, "rollback.json"), { force: true })
  const specFile = join(workspace.dir, "build-spec.json")
  const store = credentialsStore(options.registryPassword ?? secrets.registryPassword)
  writeFileSync(
    specFile,
    JSON.stringify({
      workspace: workspace.dir,
      params: { ENVIRONMENT: "prod", CHOICE_TIMEOUT_SECONDS: "120", ALLOW_PARTIAL: false, ...options.params },
      // The agent runs the checkout's fleet-rollback (npm ci done): no FLEET_ROLLBACK.
      env: {
        JOB_NAME: "fleet-rollback",
        BUILD_NUMBER: "7",
        BUILD_URL: "https://jenkins.example/job/fleet-rollback/7/",
        // fleet-rollback's caches stay in the workspace (removed with it), not in the user's home.
        XDG_CACHE_HOME: join(workspace.dir, ".cache"),
        ...options.env
      },
      credentials: options.credentials === undefined ? store : options.credentials(store),
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

  it("a wrong registry password fails Get rollbacks, skips the rest, and the failure reaches Slack", async () => {
    const slackBefore = scenario.slackMessages.length
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "alice" }, { registryPassword: "not-the-password" })
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

  it("someone clicks Abort at the question: NOT_BUILT, plan and run skipped, Marathon untouched", async () => {
    const before = scenario.marathon.snapshot()
    const b = await build({ abort: true })
    assert.strictEqual(b.result, "NOT_BUILT")
    assert.deepStrictEqual(stagesOf(b), ["Get rollbacks: run", "Choose point: run", "Plan: skipped-by-when", "Roll back: skipped-by-when"])
    assert.isDefined(b.events.find((event) => event.type === "input"))
    assert.include(echoes(b), "aborted by user")
    assert.include(echoes(b), "No rollback point chosen in time: skipping, nothing was changed.")
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    assert.deepStrictEqual(postConditions(b), ["always", "notBuilt"])
  }, 180_000)

  for (const timeout of ["soon", "0", "-5", "1.5"]) {
    it(`CHOICE_TIMEOUT_SECONDS='${timeout}' fails at once, before the registry is read or anyone is asked`, async () => {
      const before = scenario.marathon.snapshot()
      const b = await build({ pickLineMatching: "^2026-11-18", approver: "alice" }, { params: { CHOICE_TIMEOUT_SECONDS: timeout } })
      assert.strictEqual(b.result, "FAILURE")
      assert.deepStrictEqual(stagesOf(b), ["Get rollbacks: run", "Choose point: skipped-after-failure", "Plan: skipped-after-failure", "Roll back: skipped-after-failure"])
      assert.include(echoes(b), `CHOICE_TIMEOUT_SECONDS must be a whole number of seconds greater than 0, got '${timeout}'`)
      assert.deepStrictEqual(shScripts(b).filter((script) => script !== 'sh "$FLEET_ROLLBACK_STAGE" notify-failure'), [], "no step ran")
      assert.isUndefined(b.events.find((event) => event.type === "input"))
      assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    }, 180_000)
  }

  it("the Marathon credential is missing: FAILURE before the registry is read or anyone is asked, naming the id and how to fix it", async () => {
    const before = scenario.marathon.snapshot()
    const slackBefore = scenario.slackMessages.length
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "alice" }, {
      credentials: ({ "fleet-rollback-marathon-token": _, ...rest }) => rest
    })
    assert.strictEqual(b.result, "FAILURE")
    assert.deepStrictEqual(stagesOf(b)[1], "Choose point: skipped-after-failure")
    assert.include(echoes(b), "Jenkins has no credential 'fleet-rollback-marathon-token' (Secret text; FLEET_ROLLBACK_MARATHON_CREDENTIALS names another id, or none)")
    assert.isUndefined(b.events.find((event) => event.type === "input"))
    assert.notInclude(shScripts(b).join("\n"), '"$FLEET_ROLLBACK_STAGE" get')
    assert.deepStrictEqual(scenario.marathon.snapshot(), before)
    assert.strictEqual(scenario.slackMessages.length, slackBefore + 1, "the failure notice still goes out")
  }, 180_000)

  it("the Slack credential is missing: a warning before the question, the rollback goes through, the failure notice is never what fails", async () => {
    await restoreBrokenRelease()
    const slackBefore = scenario.slackMessages.length
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "bob" }, {
      credentials: ({ "fleet-rollback-slack-webhook": _, ...rest }) => rest
    })
    assert.strictEqual(b.result, "SUCCESS", JSON.stringify(b.events.filter((event) => event.type !== "sh" || event["code"] !== 0)))
    const warning = b.events.findIndex((event) => event.type === "echo" && String(event["message"]).includes("no credential 'fleet-rollback-slack-webhook'"))
    const question = b.events.findIndex((event) => event.type === "input")
    assert.isAbove(warning, -1, echoes(b))
    assert.isBelow(warning, question, "the warning comes before anyone is asked")
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(scenario.isImage(service, after[service], expectedAfterRollback[service]), `${service} runs ${after[service]}`)
    }
    const rollBack = b.events.filter((event) => event.type === "withCredentials").at(-1)
    assert.deepStrictEqual(rollBack?.["variables"], ["MARATHON_TOKEN", "REGISTRY_PASSWORD", "REGISTRY_USERNAME"])
    assert.strictEqual(scenario.slackMessages.length, slackBefore)

    // The same store with a failing build: the failure notice is skipped, not a second failure.
    const failing = await build({ pickLineMatching: "^2026-11-18", approver: "bob" }, {
      registryPassword: "not-the-password",
      credentials: ({ "fleet-rollback-slack-webhook": _, ...rest }) => rest
    })
    assert.strictEqual(failing.result, "FAILURE")
    assert.deepStrictEqual(postConditions(failing), ["always", "failure"])
    assert.isUndefined(failing.events.find((event) => event.type === "post-failed"), JSON.stringify(failing.events.filter((event) => event.type.startsWith("post"))))
  }, 300_000)

  it("plain Marathon with HTTP Basic: FLEET_ROLLBACK_MARATHON_BASIC_CREDENTIALS binds MARATHON_USERNAME and MARATHON_PASSWORD", async () => {
    await restoreBrokenRelease()
    const seen = scenario.marathon.requests.length
    const b = await build({ pickLineMatching: "^2026-11-18", approver: "carol" }, {
      env: { FLEET_ROLLBACK_MARATHON_CREDENTIALS: "none", FLEET_ROLLBACK_MARATHON_BASIC_CREDENTIALS: "fleet-rollback-marathon-basic" },
      credentials: ({ "fleet-rollback-marathon-token": _, ...rest }) => ({ ...rest, "fleet-rollback-marathon-basic": { username: secrets.marathonUsername, password: secrets.marathonPassword } })
    })
    assert.strictEqual(b.result, "SUCCESS", JSON.stringify(b.events.filter((event) => event.type !== "sh" || event["code"] !== 0)))
    const rollBack = b.events.filter((event) => event.type === "withCredentials").at(-1)
    assert.deepStrictEqual(rollBack?.["variables"], ["MARATHON_PASSWORD", "MARATHON_USERNAME", "REGISTRY_PASSWORD", "REGISTRY_USERNAME", "SLACK_WEBHOOK_URL"])
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
