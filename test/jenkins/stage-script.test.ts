/**
 * @module stage-script.test — jenkins/fleet-rollback-stage.sh on its own: bad calls are refused
 * with exit 2 and a message, user input reaches fleet-rollback as one argument however hostile
 * it looks, and the failure notice reaches Slack without printing the webhook URL.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
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
// It answers `plan --json` with an empty plan, as the stage script reads it for the summary.
writeFileSync(
  recorder,
  `#!/bin/sh\nfor argument in "$@"; do printf '%s\\n' "$argument"; done > '${recorded}'\n[ "$1" != plan ] || echo '{"point":"2026-11-20T23:59:59.999Z","services":[],"wouldRefuse":[]}'\n`
)
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
    assert.include(result.stderr, "unknown stage 'rollback-everything': use get, choices, plan, run, undo-summary, undo, fleet-state or notify-failure")
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
      ["plan", "--file", "rollback.json", "--point", "2026-11-20", "--json", "--marathon", "http://127.0.0.1:8080"]
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

  it("passes the target and its settings (FLEET_ROLLBACK_TARGET, _STACK, _NAMESPACE, _CONTEXT) to plan, run and undo, never to get", async () => {
    const target = {
      FLEET_ROLLBACK_TARGET: "kubernetes",
      FLEET_ROLLBACK_STACK: "shop",
      FLEET_ROLLBACK_NAMESPACE: "shop-prod",
      FLEET_ROLLBACK_CONTEXT: "prod-cluster",
      ROLLBACK_POINT: "2026-11-20"
    }
    const flags = ["--target", "kubernetes", "--stack", "shop", "--namespace", "shop-prod", "--context", "prod-cluster"]
    assert.deepStrictEqual(await argumentsOf("plan", target), ["plan", "--file", "rollback.json", "--point", "2026-11-20", "--json", ...flags])
    assert.deepStrictEqual(await argumentsOf("run", target), [
      "run", "--file", "rollback.json", "--point", "2026-11-20", "--yes", "--report", "rollback-report.json", ...flags
    ])
    writeFileSync(join(workspace.dir, "earlier-report.json"), "{}")
    assert.deepStrictEqual(await argumentsOf("undo", { ...target, UNDO_REPORT: "earlier-report.json" }), [
      "undo", "--report", "earlier-report.json", "--out", "rollback-undo-report.json", "--yes", ...flags
    ])
    assert.deepStrictEqual(await argumentsOf("get", target), ["get", "--out", "rollback.json", "--env", "prod"])
  })

  it("REVERT_ON_FAILURE, pin-digest and the deployment timeout reach run (and undo) as --revert-on-failure, --pin-digest, --timeout", async () => {
    const settings = { FLEET_ROLLBACK_REVERT_ON_FAILURE: "true", FLEET_ROLLBACK_PIN_DIGEST: "true", FLEET_ROLLBACK_TIMEOUT: "900", ROLLBACK_POINT: "2026-11-20" }
    assert.deepStrictEqual(await argumentsOf("run", settings), [
      "run", "--file", "rollback.json", "--point", "2026-11-20", "--yes", "--report", "rollback-report.json",
      "--revert-on-failure", "--pin-digest", "--timeout", "900"
    ])
    assert.deepStrictEqual(await argumentsOf("plan", settings), ["plan", "--file", "rollback.json", "--point", "2026-11-20", "--json", "--pin-digest"])
    writeFileSync(join(workspace.dir, "earlier-report.json"), "{}")
    assert.deepStrictEqual(await argumentsOf("undo", { ...settings, UNDO_REPORT: "earlier-report.json", ROLLBACK_APPROVER: "carol" }), [
      "undo", "--report", "earlier-report.json", "--out", "rollback-undo-report.json", "--yes", "--user", "carol", "--revert-on-failure", "--timeout", "900"
    ])
    assert.deepStrictEqual(await argumentsOf("undo", { UNDO_REPORT: "earlier-report.json", FLEET_ROLLBACK_UNDO_TARGET_FROM_REPORT: "true" }), [
      "undo", "--report", "earlier-report.json", "--out", "rollback-undo-report.json", "--yes", "--target-from-report"
    ])
  })

  it("run and undo wait for nobody: while another rollback holds the shared lock file, exit 75 and fleet-rollback is never called", async () => {
    const lock = join(workspace.dir, "shared.lock")
    rmSync(recorded, { force: true })
    // Another holder: flock(1) keeps the lock while its command runs; it ends when stdin closes.
    const holder = spawn("flock", [lock, "sh", "-c", "echo locked; cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] })
    await new Promise<void>((locked) => holder.stdout.once("data", () => locked()))
    try {
      for (const stage of ["run", "undo"]) {
        const result = await runStage(stage, {
          workspace: workspace.dir,
          env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_POINT: "2026-11-20", UNDO_REPORT: "earlier-report.json", FLEET_ROLLBACK_LOCK_FILE: lock }
        })
        assert.strictEqual(result.code, 75, result.output)
        assert.include(result.stderr, `another rollback (a Jenkins build or an Ansible play) holds the lock ${lock}; nothing was changed.`)
        assert.isFalse(existsSync(recorded), "fleet-rollback was called")
      }
    } finally {
      holder.stdin.end()
      await new Promise((exited) => holder.once("exit", exited))
    }
    const free = await runStage("run", {
      workspace: workspace.dir,
      env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_POINT: "2026-11-20", FLEET_ROLLBACK_LOCK_FILE: lock }
    })
    assert.strictEqual(free.code, 0, free.output)
    assert.include(free.stdout, `holding the lock ${lock}`)
  })

  it("plan writes plan --json to ROLLBACK_PLAN and prints its summary; a failed plan leaves no plan file", async () => {
    rmSync(join(workspace.dir, "rollback-plan.json"), { force: true })
    const result = await runStage("plan", { workspace: workspace.dir, env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_POINT: "2026-11-20" } })
    assert.strictEqual(result.code, 0, result.output)
    assert.deepStrictEqual(JSON.parse(readFileSync(join(workspace.dir, "rollback-plan.json"), "utf8")), { point: "2026-11-20T23:59:59.999Z", services: [], wouldRefuse: [] })
    assert.strictEqual(result.stdout, "Point: 2026-11-20T23:59:59.999Z\nNothing would change.\n")
    const failing = join(workspace.dir, "bin", "failing")
    writeFileSync(failing, "#!/bin/sh\necho '{\"partial'\necho 'no such point' >&2\nexit 2\n")
    chmodSync(failing, 0o755)
    const failed = await runStage("plan", { workspace: workspace.dir, env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: failing, ROLLBACK_POINT: "2026-11-20" } })
    assert.strictEqual(failed.code, 2)
    assert.include(failed.stderr, "no such point")
    assert.isFalse(existsSync(join(workspace.dir, "rollback-plan.json")))
    assert.isFalse(existsSync(join(workspace.dir, "rollback-plan.json.partial")))
  })

  it("plan: run's --allow-* switches reach plan, and what plan --json says run would refuse (wouldRefuse) is the REFUSE line the Jenkinsfile stops on", async () => {
    assert.deepStrictEqual(
      await argumentsOf("plan", { ROLLBACK_POINT: "2026-11-20", FLEET_ROLLBACK_ALLOW_PARTIAL: "true", FLEET_ROLLBACK_ALLOW_FORWARD: "true" }),
      ["plan", "--file", "rollback.json", "--point", "2026-11-20", "--json", "--allow-partial", "--allow-forward"]
    )
    const refusing = join(workspace.dir, "bin", "refusing-plan")
    const plan = {
      point: "2026-11-18T10:30:00.000Z",
      services: [{ service: "web", app: "/shop/web", current: "r/web:42", target: null, action: "unresolved", reason: "no image at or before the point" }],
      wouldRefuse: [{ rule: "unresolved", services: ["web"], message: "1 service(s) cannot be planned at 2026-11-18T10:30:00.000Z; nothing was changed. Roll back with the others left as they are with --allow-partial:\n  web: no image at or before the point" }]
    }
    writeFileSync(refusing, `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(plan)}\nEOF\n`)
    chmodSync(refusing, 0o755)
    const result = await runStage("plan", { workspace: workspace.dir, env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: refusing, ROLLBACK_POINT: "2026-11-18T10:30:00Z" } })
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "The rollback will REFUSE and change nothing: 1 service(s) cannot be planned at 2026-11-18T10:30:00.000Z; nothing was changed. Roll back with the others left as they are with --allow-partial (web).")
    assert.include(result.stdout, "ALLOW_PARTIAL parameter")
    const empty = await runStage("plan", { workspace: workspace.dir, env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: recorder, ROLLBACK_POINT: "2026-11-20" } })
    assert.notInclude(empty.stdout, "REFUSE")
    // a fleet-rollback older than the script says nothing about refusals: the build stops rather than ask
    const older = join(workspace.dir, "bin", "older-plan")
    writeFileSync(older, `#!/bin/sh\necho '{"point":"2026-11-20T23:59:59.999Z","services":[]}'\n`)
    chmodSync(older, 0o755)
    const old = await runStage("plan", { workspace: workspace.dir, env: { ...pipelineEnvironment("prod"), FLEET_ROLLBACK: older, ROLLBACK_POINT: "2026-11-20" } })
    assert.include(old.stdout, "The rollback will REFUSE and change nothing: this fleet-rollback is older than the stage script")
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
        "plan", "--file", join(workspace.dir, "rollback.json"), "--point", "2026-11-20", "--json", "--config", "fleet-rollback.yaml"
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
