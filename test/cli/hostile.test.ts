/**
 * @module hostile.test — the command line against hostile input, on real components (Debian's
 * docker-registry, the Marathon sandbox):
 * - `--json` prints exactly one JSON object on stdout for every refusal and failure (a bad
 *   point, unresolved services, no `--yes`, a moved tag, a failed `get`);
 * - text from a registry (tag names, error details) reaches the terminal with its control
 *   characters escaped, never as escape sequences;
 * - a rollback.json with a newline in a label or a duplicated service is refused at load.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { startFleetScenario } from "../support/fleetScenario.ts"
import type { FleetScenario } from "../support/fleetScenario.ts"
import { pushFleet } from "../support/pushImage.ts"
import { runCli } from "./runCli.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-hostile-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** stdout is exactly one JSON object (one line or pretty-printed), and it is returned. */
const oneJsonObject = (stdout: string): Record<string, unknown> => {
  const parsed = JSON.parse(stdout) as unknown
  assert.isTrue(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), stdout)
  return parsed as Record<string, unknown>
}

describe("--json: one JSON object on stdout, also on failure", () => {
  let scenario: FleetScenario
  beforeEach(async () => {
    scenario = await startFleetScenario(dir)
  })
  afterEach(async () => {
    await scenario.stop()
  })
  const cli = (args: ReadonlyArray<string>) => runCli(args, { cwd: dir, env: { ...scenario.secretEnvironment } })
  const get = () => cli(["get", "--config", scenario.configFile, "--no-cache"])

  it("a bad point, unresolved services, no --yes, a moved tag, a failed get", async () => {
    assert.strictEqual((await get()).code, 0)
    const refusals: ReadonlyArray<readonly [string, ReadonlyArray<string>, number, string]> = [
      ["a bad point", ["plan", "--config", scenario.configFile, "--point", "last tuesday", "--json"], 2, "ISO-8601"],
      ["unresolved services", ["run", "--config", scenario.configFile, "--point", "2026-11-18T10:30:00Z", "--yes", "--json"], 2, "web"],
      ["no --yes without a terminal", ["run", "--config", scenario.configFile, "--point", "2026-11-19", "--json"], 2, "--yes"],
      ["a bad flag value", ["run", "--config", scenario.configFile, "--point", "2026-11-19", "--timeout", "0", "--json"], 2, ""],
      ["a failed get", ["get", "--config", scenario.configFile, "--no-cache", "--repo", "shop/api,shop/nope", "--json"], 2, "shop/nope"]
    ]
    for (const [what, args, code, mention] of refusals) {
      const result = await cli(args)
      assert.strictEqual(result.code, code, `${what}: ${result.stderr}`)
      const json = oneJsonObject(result.stdout)
      assert.strictEqual(json["ok"], false, what)
      assert.strictEqual(json["exitCode"], code, what)
      assert.include(String(json["error"]), mention, what)
    }
    // A moved tag: someone re-pushes 99-master after `get`.
    await pushFleet(
      { url: scenario.registry.url, credentials: { username: "rollback-bot", password: "registry-pw-5f1c9e" } },
      { repositories: [{ name: "shop/api", images: [{ tag: "99-master", created: "2026-11-21T00:00:00Z" }] }] }
    )
    const moved = await cli(["run", "--config", scenario.configFile, "--point", "2026-11-19", "--yes", "--json"])
    assert.strictEqual(moved.code, 2, moved.stderr)
    const json = oneJsonObject(moved.stdout)
    assert.strictEqual(json["kind"], "Refused")
    assert.include(String(json["error"]), "--allow-moved-tags")
  })
})

/** A registry whose tag list holds an escape sequence and whose 404s carry one in their detail. */
const startHostileRegistry = async () => {
  const server = createServer((req, res) => {
    const path = req.url ?? "/"
    res.setHeader("content-type", "application/json")
    if (path === "/v2/") return res.end("{}")
    if (path.startsWith("/v2/shop/api/tags/list")) {
      return res.end(JSON.stringify({ name: "shop/api", tags: ["\u001b[2J\u001b]0;owned\u0007evil", "1-master"] }))
    }
    res.statusCode = 404
    res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "gone\u001b[31m red\nfleet-rollback: all good" }] }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

describe("registry text on the terminal", () => {
  it("tag names and error details are printed with their control characters escaped", async () => {
    const registry = await startHostileRegistry()
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--verbose", "--allow-empty"], { cwd: dir })
      const out = result.stdout + result.stderr
      // No escape character from the registry reaches the terminal (progress lines have none without a terminal).
      assert.notInclude(out, "\u001b", out)
      assert.notInclude(out, "\u0007")
      assert.include(out, "\\u001b[2J\\u001b]0;owned\\u0007evil")
      assert.include(out, "gone\\u001b[31m red\\nfleet-rollback: all good")
    } finally {
      await registry.stop()
    }
  })
})

describe("a hostile rollback.json is refused at load (exit 2), nothing printed from it", () => {
  const good = (): Record<string, unknown> => ({
    schemaVersion: 1,
    generatedAt: "2026-11-21T14:03:27.000Z",
    environment: "prod",
    registry: "https://registry.example.com",
    services: [{ name: "api", repository: "shop/api" }],
    images: { api: [{ tag: "1-master", digest: `sha256:${"a".repeat(64)}`, created: "2026-11-01T00:00:00.000Z", dateSource: "config" }] },
    points: [{ id: "2026-11-01T00:00:00.000Z", label: "2026-11-01 00:00 UTC - api 1-master", changes: [{ service: "api", tag: "1-master" }] }]
  })
  const cases: ReadonlyArray<readonly [string, (f: any) => void, string]> = [
    ["a label with a newline (two Jenkins choices)", (f) => (f.points[0].label = "one\ntwo"), "[\"points\"][0][\"label\"]"],
    ["a label with an escape sequence", (f) => (f.points[0].label = "\u001b[2Jx"), "[\"points\"][0][\"label\"]"],
    ["a duplicated service", (f) => f.services.push({ name: "api", repository: "shop/api" }), "services[0] and services[1] are both named \"api\""]
  ]
  for (const [what, change, mention] of cases) {
    it(`choices: ${what}`, async () => {
      const file = good()
      change(file)
      writeFileSync(join(dir, "rollback.json"), JSON.stringify(file))
      const result = await runCli(["choices"], { cwd: dir })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, mention)
      assert.notInclude(result.stderr, "\u001b")
    })
  }

  it("the good file is printed (the check above is not refusing everything)", async () => {
    writeFileSync(join(dir, "rollback.json"), JSON.stringify(good()))
    const result = await runCli(["choices"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.strictEqual(result.stdout, "2026-11-01 00:00 UTC - api 1-master\n")
    assert.isFalse(existsSync(join(dir, "rollback-report.json")))
    assert.isDefined(readFileSync(join(dir, "rollback.json"), "utf8"))
  })
})

describe("messages name where a bad value came from", () => {
  it("a registry URL with user:pass@ in the config file is blamed on registry.url, not on --registry", async () => {
    writeFileSync(join(dir, "fleet.yaml"), "registry:\n  url: https://deployer:s3cret@registry.example.com\n")
    const result = await runCli(["get", "--config", join(dir, "fleet.yaml"), "--repo", "shop/api", "--no-cache"], { cwd: dir })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, "registry.url (config file) must not carry credentials")
    assert.notInclude(result.stderr, "--registry must")
    assert.notInclude(result.stderr, "s3cret")
  })
})
