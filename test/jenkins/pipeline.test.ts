/**
 * @module pipeline.test — every shell command of jenkins/Jenkinsfile, run as the pipeline runs it
 * (`sh "$FLEET_ROLLBACK_STAGE" <stage>` in the workspace, values and secrets in the environment
 * exactly as the environment block, the input step and withCredentials set them), against the
 * real `docker-registry` and the Marathon sandbox. The incident is seed 004's: a release broke
 * api and web; the on-call engineer picks the day before and every service goes back together,
 * including worker, which did not change all week.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readFileSync } from "node:fs"
import { afterAll, beforeAll } from "vitest"
import { parseReport } from "../../lib/core/Report.ts"
import { parseRollbackFile, type RollbackFile } from "../../lib/core/RollbackFile.ts"
import { expectedAfterRollback, type FleetScenario, running, secretValues, startFleetScenario } from "../support/fleetScenario.ts"
import { makeWorkspace, pipelineEnvironment, runStage, type StageResult } from "./stageScript.ts"

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

/** The environment of a pipeline build with ENVIRONMENT=prod; `credentials` as withCredentials binds them. */
const stage = async (
  name: "get" | "choices" | "plan" | "run",
  extra: Record<string, string> = {}
): Promise<StageResult> => {
  const result = await runStage(name, {
    workspace: workspace.dir,
    env: {
      ...pipelineEnvironment("prod"),
      // The agent runs the checkout's fleet-rollback (npm ci done), as jenkins/README.md describes.
      FLEET_ROLLBACK: "",
      // A job-level setting (jenkins/README.md): one point per day, as in seed 004's dropdown.
      FLEET_ROLLBACK_GRANULARITY: "day",
      ...extra
    }
  })
  outputs.push(result.output)
  return result
}

/** What withCredentials(registryCredentials()) binds: the registry login. */
const registryCredentials = (): Record<string, string> => ({
  REGISTRY_USERNAME: scenario.secretEnvironment["REGISTRY_USERNAME"]!,
  REGISTRY_PASSWORD: scenario.secretEnvironment["REGISTRY_PASSWORD"]!
})

/** What withCredentials(targetCredentials(withSlack)) binds: registry, Marathon token, and Slack for run. */
const targetCredentials = (withSlack: boolean): Record<string, string> => ({
  ...registryCredentials(),
  MARATHON_TOKEN: scenario.secretEnvironment["MARATHON_TOKEN"]!,
  ...(withSlack ? { SLACK_WEBHOOK_URL: scenario.secretEnvironment["SLACK_WEBHOOK_URL"]! } : {})
})

const readRollbackFile = (): RollbackFile => {
  const parsed = parseRollbackFile(readFileSync(`${workspace.dir}/rollback.json`, "utf8"))
  if (parsed._tag === "Failure") throw new Error(parsed.failure.message)
  return parsed.success
}

/** The point the engineer picks: the newest one before the broken release of Nov 20. */
const pointBeforeRelease = (file: RollbackFile): string => {
  const point = file.points.find((candidate) => candidate.id < "2026-11-20T00:00:00Z")
  if (point === undefined) throw new Error(`no point before 2026-11-20 in ${JSON.stringify(file.points)}`)
  return point.label
}

describe("Jenkinsfile stages against the real registry and the Marathon sandbox", () => {
  it("Get rollbacks: get reads the password-protected registry with the bound credentials and writes rollback.json", async () => {
    const result = await stage("get", registryCredentials())
    assert.strictEqual(result.code, 0, result.output)
    const file = readRollbackFile()
    assert.strictEqual(file.schemaVersion, 1)
    assert.deepStrictEqual(file.services.map((service) => service.name).sort(), ["api", "web", "worker"])
    const prodTags = Object.values(file.images).flat().map((image) => image.tag).sort()
    assert.deepStrictEqual(prodTags, ["100-master", "41-master", "42-master", "7-master", "99-master"])
  })

  it("Choose point: choices prints exactly the labels of rollback.json, newest first, for the input's dropdown", async () => {
    const result = await stage("choices")
    assert.strictEqual(result.code, 0, result.output)
    const lines = result.stdout.split("\n").filter((line) => line !== "")
    const file = readRollbackFile()
    assert.deepStrictEqual(lines, file.points.map((point) => point.label))
    assert.isAtLeast(lines.length, 3)
    const ids = file.points.map((point) => point.id)
    assert.deepStrictEqual(ids, [...ids].sort().reverse())
  })

  it("Plan: plan shows what would change for the chosen point and changes nothing", async () => {
    const before = scenario.marathon.apps()
    const result = await stage("plan", {
      ROLLBACK_POINT: pointBeforeRelease(readRollbackFile()),
      ...targetCredentials(false)
    })
    assert.strictEqual(result.code, 0, result.output)
    assert.match(result.stdout, /99-master/)
    assert.match(result.stdout, /41-master/)
    assert.deepStrictEqual(scenario.marathon.apps(), before)
    assert.isFalse(existsSync(`${workspace.dir}/rollback-report.json`))
  })

  it("Roll back: run --yes deploys the whole set in one deployment and records the approver", async () => {
    const images = scenario.runningImages()
    assert.isTrue(scenario.isImage("api", images.api, running.api))
    const putsBefore = scenario.marathon.requests.filter((request) => request.method === "PUT").length
    const result = await stage("run", {
      ROLLBACK_POINT: pointBeforeRelease(readRollbackFile()),
      ROLLBACK_APPROVER: "alice",
      ...targetCredentials(true)
    })
    assert.strictEqual(result.code, 0, result.output)
    const after = scenario.runningImages()
    for (const service of ["api", "web", "worker"] as const) {
      assert.isTrue(
        scenario.isImage(service, after[service], expectedAfterRollback[service]),
        `${service} runs ${after[service]}, expected ${expectedAfterRollback[service]}`
      )
    }
    const puts = scenario.marathon.requests.filter((request) => request.method === "PUT").slice(putsBefore)
    assert.strictEqual(puts.length, 1, `expected one deployment, got PUTs to ${puts.map((request) => request.path).join(", ")}`)
    const report = parseReport(readFileSync(`${workspace.dir}/rollback-report.json`, "utf8"), "rollback-report.json")
    if (report._tag === "Failure") throw new Error(report.failure.message)
    assert.strictEqual(report.success.user, "alice")
    assert.strictEqual(report.success.kind, "run")
    assert.strictEqual(report.success.outcome, "succeeded")
    assert.isAtLeast(scenario.slackMessages.length, 1, "run notifies Slack")
  })

  it("no secret appears in any stage's output, in rollback.json or in the report", () => {
    // The files the earlier stages wrote (their own tests fail when they are missing).
    const files = [`${workspace.dir}/rollback.json`, `${workspace.dir}/rollback-report.json`]
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path, "utf8"))
    assert.isAbove(outputs.length, 0)
    for (const secret of secretValues) {
      for (const text of [...outputs, ...files]) assert.notInclude(text, secret)
    }
  })
})
