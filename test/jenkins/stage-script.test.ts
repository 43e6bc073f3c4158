/**
 * @module stage-script.test — jenkins/fleet-rollback-stage.sh on its own: bad calls are refused
 * with exit 2 and a message, user input reaches fleet-rollback as one argument however hostile
 * it looks, and the failure notice reaches Slack without printing the webhook URL.
 */
import { assert, describe, it } from "@effect/vitest"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { afterAll } from "vitest"
import { makeWorkspace, pipelineEnvironment, runStage } from "./stageScript.ts"

const workspace = makeWorkspace()
afterAll(() => workspace.remove())

/**
 * A stand-in for the fleet-rollback executable that records the arguments it got, one per line,
 * so the test sees exactly what the stage script passes (FLEET_ROLLBACK names the executable).
 */
const recorder = join(workspace.dir, "bin", "record-arguments")
const recorded = join(workspace.dir, "arguments.txt")
mkdirSync(join(workspace.dir, "bin"), { recursive: true })
writeFileSync(recorder, `#!/bin/sh\nfor argument in "$@"; do printf '%s\\n' "$argument"; done > '${recorded}'\n`)
chmodSync(recorder, 0o755)
writeFileSync(join(workspace.dir, "rollback.json"), "{}")

const argumentsOf = async (stage: string, env: Record<string, string>): Promise<Array<string>> => {
  const result = await runStage(stage, {
    workspace: workspace.dir,
    env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ...env }
  })
  assert.strictEqual(result.code, 0, result.output)
  return readFileSync(recorded, "utf8").split("\n").slice(0, -1)
}

/** A local webhook that records what it receives and answers `status`. */
const startWebhook = async (status: number): Promise<{ url: string; bodies: Array<unknown>; server: Server }> => {
  const bodies: Array<unknown> = []
  const server = createServer((request: IncomingMessage, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
    request.on("end", () => {
      bodies.push(JSON.parse(body))
      response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "no")
    })
  })
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/services/T000/B000/xoxb-secret-path`, bodies, server }
}

describe("jenkins/fleet-rollback-stage.sh", () => {
  it("refuses an unknown stage with exit 2", async () => {
    const result = await runStage("rollback-everything", { workspace: workspace.dir, env: pipelineEnvironment("prod") })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "unknown stage 'rollback-everything': use get, choices, plan, run or notify-failure")
  })

  it("refuses plan and run without a chosen point, before calling fleet-rollback", async () => {
    for (const stage of ["plan", "run"]) {
      const result = await runStage(stage, {
        workspace: workspace.dir,
        env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_POINT: "" }
      })
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "ROLLBACK_POINT is empty: choose a point printed by 'choices'")
    }
  })

  it("refuses choices when get has not written rollback.json", async () => {
    const result = await runStage("choices", {
      workspace: workspace.dir,
      env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_FILE: "missing/rollback.json" }
    })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "missing/rollback.json does not exist: run the 'get' stage first")
  })

  it("passes the contract's flags, and only those that are set", async () => {
    assert.deepStrictEqual(await argumentsOf("get", {}), ["get", "--out", "rollback.json", "--env", "prod"])
    assert.deepStrictEqual(
      await argumentsOf("get", {
        FLEET_ROLLBACK_CONFIG: "fleet-rollback.yaml",
        FLEET_ROLLBACK_REGISTRY: "https://registry.example:5000",
        FLEET_ROLLBACK_REPOS: "shop/api,shop/web",
        FLEET_ROLLBACK_GRANULARITY: "day",
        FLEET_ROLLBACK_TZ: "Europe/Berlin"
      }),
      [
        "get", "--out", "rollback.json", "--config", "fleet-rollback.yaml", "--registry", "https://registry.example:5000",
        "--repo", "shop/api,shop/web", "--env", "prod", "--granularity", "day", "--tz", "Europe/Berlin"
      ]
    )
    assert.deepStrictEqual(await argumentsOf("choices", {}), ["choices", "--file", "rollback.json"])
    assert.deepStrictEqual(
      await argumentsOf("plan", { ROLLBACK_POINT: "2026-11-20", FLEET_ROLLBACK_MARATHON: "http://127.0.0.1:8080" }),
      ["plan", "--file", "rollback.json", "--point", "2026-11-20", "--marathon", "http://127.0.0.1:8080"]
    )
    assert.deepStrictEqual(
      await argumentsOf("run", {
        ROLLBACK_POINT: "2026-11-20",
        ROLLBACK_APPROVER: "alice",
        FLEET_ROLLBACK_ALLOW_PARTIAL: "true",
        FLEET_ROLLBACK_CONFIG: "fleet-rollback.yaml"
      }),
      [
        "run", "--file", "rollback.json", "--point", "2026-11-20", "--yes", "--report", "rollback-report.json",
        "--user", "alice", "--allow-partial", "--config", "fleet-rollback.yaml"
      ]
    )
  })

  it("uses fleet-rollback.yaml of the workspace as --config when FLEET_ROLLBACK_CONFIG is not set", async () => {
    const configured = makeWorkspace()
    try {
      writeFileSync(join(configured.dir, "fleet-rollback.yaml"), "environment: prod\n")
      const result = await runStage("plan", {
        workspace: configured.dir,
        env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_FILE: join(workspace.dir, "rollback.json"), ROLLBACK_POINT: "2026-11-20" }
      })
      assert.strictEqual(result.code, 0, result.output)
      assert.deepStrictEqual(readFileSync(recorded, "utf8").split("\n").slice(0, -1), [
        "plan", "--file", join(workspace.dir, "rollback.json"), "--point", "2026-11-20", "--config", "fleet-rollback.yaml"
      ])
    } finally {
      configured.remove()
    }
  })

  it("a hostile point label and approver name reach fleet-rollback as plain arguments, never as shell code", async () => {
    const canary = join(workspace.dir, "pwned")
    const point = `2026-11-20"; touch ${canary}; echo "$(touch ${canary})\`touch ${canary}\``
    const approver = `bob' ; touch ${canary} #`
    const args = await argumentsOf("run", { ROLLBACK_POINT: point, ROLLBACK_APPROVER: approver })
    assert.strictEqual(args[args.indexOf("--point") + 1], point)
    assert.strictEqual(args[args.indexOf("--user") + 1], approver)
    assert.isFalse(existsSync(canary), "user input was executed by the shell")
  })

  it("notify-failure without a webhook does nothing and succeeds (a missing Slack must not hide the real failure)", async () => {
    const result = await runStage("notify-failure", {
      workspace: workspace.dir,
      env: { ...pipelineEnvironment("prod"), SLACK_WEBHOOK_URL: "" }
    })
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "no SLACK_WEBHOOK_URL, failure not sent to Slack")
  })

  it("notify-failure posts the build, environment and point to Slack and never prints the webhook URL", async () => {
    const webhook = await startWebhook(200)
    try {
      const result = await runStage("notify-failure", {
        workspace: workspace.dir,
        env: {
          ...pipelineEnvironment("prod"),
          SLACK_WEBHOOK_URL: webhook.url,
          ROLLBACK_POINT: "2026-11-20",
          JOB_NAME: "fleet-rollback",
          BUILD_NUMBER: "42",
          BUILD_URL: "https://jenkins.example/job/fleet-rollback/42/"
        }
      })
      assert.strictEqual(result.code, 0, result.output)
      assert.deepStrictEqual(webhook.bodies, [
        { text: ":x: Fleet rollback fleet-rollback #42 failed in prod (point 2026-11-20). https://jenkins.example/job/fleet-rollback/42/" }
      ])
      assert.notInclude(result.output, "xoxb-secret-path")
    } finally {
      webhook.server.close()
    }
  })

  it("notify-failure says so (exit 1) when Slack refuses, still without the webhook URL", async () => {
    const webhook = await startWebhook(500)
    try {
      const result = await runStage("notify-failure", {
        workspace: workspace.dir,
        env: { ...pipelineEnvironment("prod"), SLACK_WEBHOOK_URL: webhook.url }
      })
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "Slack answered 500; failure not notified")
      assert.notInclude(result.output, "xoxb-secret-path")
    } finally {
      webhook.server.close()
    }
  })

  it("refuses a Node older than 22.19 with a message naming the version and the fix", async () => {
    const oldNode = join(workspace.dir, "old-node")
    mkdirSync(oldNode, { recursive: true })
    writeFileSync(join(oldNode, "node"), "#!/bin/sh\necho 20.19.2\n")
    chmodSync(join(oldNode, "node"), 0o755)
    const result = await runStage("notify-failure", {
      workspace: workspace.dir,
      env: {
        ...pipelineEnvironment("prod"),
        SLACK_WEBHOOK_URL: "http://127.0.0.1:9/hook",
        PATH: `${oldNode}:${process.env["PATH"] ?? ""}`
      }
    })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "node 20.19.2 is on PATH, fleet-rollback needs Node >= 22.19 (see jenkins/README.md)")
  })
})
