/**
 * @module faults real-registry tests — `fleet-rollback get` as an operator runs it, through the
 * fault-injecting proxy (test/support/FaultProxy.ts) in front of Debian's docker-registry:
 * - with a tenth of the requests failing (resets, 500/502/503, 429 with Retry-After, bodies cut
 *   off, stalls longer than the request timeout) the rollback.json is byte for byte the one of a
 *   run without faults, `generatedAt` apart;
 * - with every request of one repository failing, exit 1 naming that repository, and the
 *   previous rollback.json untouched;
 * - a registry that sends one byte a second, never finishes a body, or redirects in a loop:
 *   the run ends within the documented bound with an error naming the host.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import { runCli } from "../cli/runCli.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"
import { FAULT_KINDS, startFaultProxy } from "../support/FaultProxy.ts"
import type { FaultProxy, HostileMode } from "../support/FaultProxy.ts"
import { Pusher, pushOciImage } from "../support/pushImage.ts"
import { pushStandardFixtures } from "./fixtures.ts"
import { assertValidRollbackFile } from "../support/JsonSchema.ts"

/** Extra builds, so that a tenth of the requests is a dozen failures of every kind, not one or two. */
const EXTRA_BUILDS = 30
/** The request timeout the runs are given (`--request-timeout`), seconds. */
const REQUEST_TIMEOUT_S = 1
/** Attempts per request: the first and the client's 4 retries. */
const ATTEMPTS = 5
/** The longest backoff of 4 retries (250, 500, 1000, 2000 ms ceilings). */
const MAX_BACKOFF_MS = 3_750
/** Start-up of the bin and everything else, generously. */
const SLACK_MS = 20_000

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-faults-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const REPOS = "shop/api,shop/legacy,shop/web,shop/batch"

/** rollback.json without its `generatedAt` line, the only line allowed to differ between runs. */
const withoutGeneratedAt = (text: string): string => text.split("\n").filter((line) => !line.startsWith("  \"generatedAt\":")).join("\n")

describe("get through a fault-injecting proxy in front of docker-registry 2.8.2", () => {
  let registry: DockerRegistry
  let proxy: FaultProxy

  beforeAll(async () => {
    registry = await startDockerRegistry()
    await pushStandardFixtures({ url: registry.url })
    const pusher = new Pusher({ url: registry.url })
    for (let build = 1; build <= EXTRA_BUILDS; build++) {
      await pushOciImage(pusher, {
        repository: "shop/batch",
        tag: `${build}-master`,
        config: { created: `2026-01-${String(build).padStart(2, "0")}T10:00:00Z` },
        // every other build dated by its annotation: the others need their config blob read
        ...(build % 2 === 0 ? { annotations: { created: `2026-01-${String(build).padStart(2, "0")}T10:00:00Z` } } : {})
      })
    }
    proxy = await startFaultProxy({ upstream: registry.url })
  }, 120_000)
  afterAll(async () => {
    await proxy?.stop()
    await registry?.stop()
  })

  const get = (out: string) =>
    runCli(["get", "--registry", proxy.url, "--repo", REPOS, "--env", "master", "--no-cache", "--request-timeout", String(REQUEST_TIMEOUT_S), "--out", out], {
      cwd: dir,
      timeoutMs: 170_000
    })

  it("with 10 % of the requests failing writes the rollback.json of a run without faults, generatedAt apart", async () => {
    proxy.configure({})
    const clean = await get("clean.json")
    assert.strictEqual(clean.code, 0, clean.stderr)
    assert.isTrue(proxy.requests.every((r) => r.fault === undefined))
    const cleanRequests = proxy.requests.length

    // Seed 1 draws every kind of fault among the first attempts of this fleet's ~60 requests.
    proxy.configure({ failureRate: 0.1, seed: 1, retryAfterSeconds: 1 })
    const faulty = await get("faulty.json")
    assert.strictEqual(faulty.code, 0, faulty.stderr)
    const faults = proxy.requests.filter((r) => r.fault !== undefined)
    // The faults really happened, of every kind, and were retried.
    assert.isAtLeast(faults.length, Math.floor(cleanRequests * 0.1), `${faults.length} faults in ${proxy.requests.length} requests`)
    const kinds = new Set(faults.map((r) => r.fault))
    assert.deepStrictEqual([...kinds].sort(), [...FAULT_KINDS].sort(), `kinds injected: ${[...kinds].join(", ")}`)
    assert.isAbove(proxy.requests.length, cleanRequests)

    const cleanText = readFileSync(join(dir, "clean.json"), "utf8")
    const faultyText = readFileSync(join(dir, "faulty.json"), "utf8")
    assert.notStrictEqual(cleanText, faultyText, "generatedAt differs")
    assert.strictEqual(withoutGeneratedAt(faultyText), withoutGeneratedAt(cleanText))
    const file = JSON.parse(faultyText)
    assert.strictEqual(file.images.batch.length, EXTRA_BUILDS)
    assertValidRollbackFile(file)
  }, 180_000)

  it("with every request of one repository failing: exit 1 naming it, and the previous rollback.json untouched", async () => {
    const previous = "{\"schemaVersion\":1,\"note\":\"the last good file\"}\n"
    writeFileSync(join(dir, "rollback.json"), previous)
    proxy.configure({ failRepositories: ["shop/legacy"], seed: 3, retryAfterSeconds: 1 })
    const started = performance.now()
    const result = await get("rollback.json")
    const elapsed = performance.now() - started
    assert.strictEqual(result.code, 1, result.stderr)
    assert.match(result.stderr, /could not read 1 of 4 repositories/)
    assert.include(result.stderr, "legacy (shop/legacy)")
    assert.notInclude(result.stderr, "api (shop/api)")
    assert.include(result.stderr, "rollback.json was not written")
    assert.strictEqual(readFileSync(join(dir, "rollback.json"), "utf8"), previous)
    // The documented bound of one request: attempts × timeout, the backoffs (a 429's Retry-After here).
    assert.isBelow(elapsed, ATTEMPTS * (REQUEST_TIMEOUT_S * 1000 + 1000) + MAX_BACKOFF_MS + SLACK_MS)
    assert.isTrue(proxy.requests.some((r) => r.path.startsWith("/v2/shop/legacy/") && r.fault !== undefined))
  }, 120_000)
})

describe("a hostile registry: no request waits forever", () => {
  const cases: ReadonlyArray<readonly [HostileMode, RegExp]> = [
    ["drip", /got no complete answer within 1000 ms; gave up after 5 attempts/],
    ["unfinished-body", /got no complete answer within 1000 ms; gave up after 5 attempts/],
    ["redirect-loop", /redirected more than 5 times/]
  ]
  for (const [mode, message] of cases) {
    it(`${mode}: exit 1 within (attempts × request timeout + backoff), the error naming the host`, async () => {
      // Nothing behind it: every answer is the hostile one.
      const proxy = await startFaultProxy({ upstream: "http://127.0.0.1:9", hostile: mode })
      try {
        const started = performance.now()
        const result = await runCli(
          ["get", "--registry", proxy.url, "--repo", "shop/api", "--no-cache", "--request-timeout", String(REQUEST_TIMEOUT_S)],
          { cwd: dir, timeoutMs: 120_000 }
        )
        const elapsed = performance.now() - started
        assert.strictEqual(result.code, 1, result.stderr)
        assert.include(result.stderr, proxy.host)
        assert.match(result.stderr, message)
        assert.isBelow(elapsed, ATTEMPTS * REQUEST_TIMEOUT_S * 1000 + MAX_BACKOFF_MS + SLACK_MS)
        assert.isAbove(proxy.requests.length, 0)
      } finally {
        await proxy.stop()
      }
    }, 130_000)
  }
})
