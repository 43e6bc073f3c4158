/**
 * @module test/project/promise — the Promise API (`fleet-rollback/promise`) at its boundary: a
 * malformed `file` or `report` (hand-edited, truncated, the wrong file) rejects with a
 * RollbackError saying what is wrong before anything is asked of Marathon; a file that went
 * through JSON (read from disk) is accepted; a URL with credentials in it is refused (they would
 * reach the report); a report records how to reach Marathon again, so the command line's undo
 * of a DC/OS run made through the library logs in there; and on Node the registry and Marathon
 * options take `caFile` / `insecureSkipVerify`, against https servers with a private CA made by
 * `openssl`.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { getRollbacks, plan, RollbackError, run, undo } from "../../lib/promise.ts"
import type { RollbackFile } from "../../lib/promise.ts"
import type { MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import { runCli } from "../cli/runCli.ts"

const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-promise-"))
let registry: SandboxRegistry
let marathon: MarathonSandbox
let file: RollbackFile
const proxies: Array<https.Server> = []

/** An https front for `target` with the test's private CA (cert.pem in `dir`). */
const httpsFront = async (target: string): Promise<string> => {
  const upstream = new URL(target)
  const server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (request, response) => {
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    forwarded.on("error", () => response.destroy())
    request.pipe(forwarded)
  })
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
  proxies.push(server)
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  // A missing openssl is a failure (execFileSync throws), not a skip.
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
    "-subj", "/CN=fleet-rollback promise test", "-addext", "subjectAltName=IP:127.0.0.1"
  ], { stdio: "pipe" })
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "99-master", created: "2026-11-18T10:00:00Z" },
      { repository: "shop/api", tag: "100-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  marathon = await startMarathonSandbox({ deploymentMs: 50, apps: [sampleApp("/shop/api", `${new URL(registry.url).host}/shop/api:100-master`)] })
  file = (await getRollbacks({ registry: { url: registry.url }, services: [{ name: "api", repository: "shop/api" }], environment: "master" })).file
})

afterAll(async () => {
  for (const server of proxies) server.closeAllConnections()
  await Promise.allSettled([registry.stop(), marathon.stop(), ...proxies.map((server) => new Promise((closed) => server.close(closed)))])
  rmSync(dir, { recursive: true, force: true })
})

/** The rejection of `promise`, which must be a RollbackError. */
const rejection = async (promise: Promise<unknown>): Promise<RollbackError> => {
  try {
    await promise
  } catch (error) {
    assert.instanceOf(error, RollbackError, String(error))
    return error as RollbackError
  }
  throw new Error("expected a rejection")
}

describe("fleet-rollback/promise at its boundary", () => {
  it("plan with a malformed file rejects with a RollbackError naming the field, and asks Marathon nothing", async () => {
    const seen = marathon.requests.length
    const broken = { ...file, points: [{ id: "yesterday", label: "yesterday", changes: [] }] } as unknown as RollbackFile
    const error = await rejection(plan({ file: broken, point: "2026-11-19", marathon: { url: marathon.url } }))
    assert.strictEqual(error.kind, "BadInput")
    assert.strictEqual(error.exitCode, 2)
    assert.include(error.message, "options.file is not a valid rollback.json")
    assert.include(error.message, "points")
    assert.strictEqual(marathon.requests.length, seen)
  })

  it("run with a file that is not one at all (no images) rejects before any deployment", async () => {
    const before = marathon.snapshot()
    const { images: _, ...noImages } = file
    const error = await rejection(run({ file: noImages as unknown as RollbackFile, point: "2026-11-19", marathon: { url: marathon.url }, user: "lib" }))
    assert.strictEqual(error.kind, "BadInput")
    assert.include(error.message, "images")
    assert.deepStrictEqual(marathon.snapshot(), before)
  })

  it("undo with a report that is not one rejects with what is wrong, and changes nothing", async () => {
    const before = marathon.snapshot()
    const error = await rejection(undo({ report: { outcome: "succeeded" } as never, marathon: { url: marathon.url }, user: "lib" }))
    assert.strictEqual(error.kind, "BadInput")
    assert.include(error.message, "options.report is not a fleet-rollback report")
    assert.deepStrictEqual(marathon.snapshot(), before)
  })

  it("a file that went through JSON (read back from disk) plans like the object itself", async () => {
    const fromDisk = JSON.parse(JSON.stringify(file)) as RollbackFile
    const preview = await plan({ file: fromDisk, point: "2026-11-19", marathon: { url: marathon.url } })
    assert.deepStrictEqual(preview.services.map((s) => [s.service, s.action]), [["api", "rollback"]])
  })
})

describe("fleet-rollback/promise keeps credentials out of URLs and reports", () => {
  it("a Marathon URL with user:password@ is refused (BadInput) before Marathon is asked, without repeating the password", async () => {
    const seen = marathon.requests.length
    const before = marathon.snapshot()
    const url = marathon.url.replace("http://", "http://ops:pw-SECRET-7f@")
    for (const attempt of [
      run({ file, point: "2026-11-19", marathon: { url, basic: { username: "ops", password: "pw-SECRET-7f" } }, user: "lib", pollMs: 100 }),
      plan({ file, point: "2026-11-19", marathon: { url } })
    ]) {
      const error = await rejection(attempt)
      assert.strictEqual(error.kind, "BadInput")
      assert.include(error.message, "options.marathon.url must not carry credentials")
      assert.include(error.message, "marathon.basic")
      assert.notInclude(error.message, "pw-SECRET-7f")
    }
    const registryError = await rejection(getRollbacks({ registry: { url: registry.url.replace("http://", "http://ci:reg-SECRET-2a@") }, services: [{ name: "api", repository: "shop/api" }] }))
    assert.include(registryError.message, "options.registry.url must not carry credentials")
    assert.notInclude(registryError.message, "reg-SECRET-2a")
    assert.strictEqual(marathon.requests.length, seen)
    assert.deepStrictEqual(marathon.snapshot(), before)
  })

  it("pollMs under 100 is refused before anything changes (a tight request loop against Marathon)", async () => {
    const before = marathon.snapshot()
    const error = await rejection(run({ file, point: "2026-11-19", marathon: { url: marathon.url }, user: "lib", pollMs: 10 }))
    assert.strictEqual(error.kind, "BadInput")
    assert.include(error.message, "pollMs 10: expected at least 100 milliseconds")
    assert.deepStrictEqual(marathon.snapshot(), before)
  })

  it("a DC/OS run through the library records its target: the command line's undo of its report logs in and reaches /service/marathon", async () => {
    const password = "dcos-pw-lib-5e"
    const cluster = await startMarathonSandbox({
      deploymentMs: 50,
      dcos: { users: { "rollback-bot": password } },
      apps: [sampleApp("/shop/api", `${new URL(registry.url).host}/shop/api:100-master`)]
    })
    const work = mkdtempSync(join(tmpdir(), "fleet-rollback-promise-undo-"))
    try {
      const report = await run({ file, point: "2026-11-19", marathon: { url: cluster.clusterUrl, dcos: { uid: "rollback-bot", password } }, user: "lib", pollMs: 100 })
      assert.strictEqual(report.outcome, "succeeded", report.message)
      assert.deepStrictEqual(report.target, { kind: "dcos", url: cluster.clusterUrl, dcosUid: "rollback-bot" })
      assert.notInclude(JSON.stringify(report), password)
      writeFileSync(join(work, "rollback-report.json"), JSON.stringify(report))
      const undone = await runCli(["undo", "--yes", "--poll-ms", "100", "--target-from-report"], { cwd: work, env: { DCOS_PASSWORD: password } })
      assert.strictEqual(undone.code, 0, undone.stdout + undone.stderr)
      assert.match(String((cluster.apps()[0]!["container"] as { docker: { image: string } }).docker.image), /shop\/api:100-master$/)
      assert.isTrue(cluster.requests.some((r) => r.method === "PUT" && r.path === "/service/marathon/v2/apps"))
    } finally {
      await cluster.stop()
      rmSync(work, { recursive: true, force: true })
    }
  })
})

describe("fleet-rollback/promise TLS options on Node", () => {
  it("a registry behind a private CA: refused by default, read with registry.caFile, and with insecureSkipVerify", async () => {
    const url = await httpsFront(registry.url)
    const services = [{ name: "api", repository: "shop/api" }]
    const refused = await rejection(getRollbacks({ registry: { url }, services, environment: "master" }))
    assert.match(refused.message, /certificate/i)
    const trusted = await getRollbacks({ registry: { url, caFile: join(dir, "cert.pem") }, services, environment: "master" })
    assert.deepStrictEqual(trusted.file.images["api"]?.map((i) => i.tag), ["100-master", "99-master"])
    const unchecked = await getRollbacks({ registry: { url, insecureSkipVerify: true }, services, environment: "master" })
    assert.strictEqual(unchecked.file.points.length, 2)
  })

  it("Marathon behind a private CA: refused by default, planned with marathon.caFile; a CA file that is not one is bad input", async () => {
    const url = await httpsFront(marathon.url)
    const refused = await rejection(plan({ file, point: "2026-11-19", marathon: { url } }))
    // the Marathon client names undici's code (DEPTH_ZERO_SELF_SIGNED_CERT)
    assert.match(refused.message, /SELF_SIGNED_CERT|certificate/i, refused.message)
    const preview = await plan({ file, point: "2026-11-19", marathon: { url, caFile: join(dir, "cert.pem") } })
    assert.strictEqual(preview.services[0]?.action, "rollback")
    const bad = await rejection(plan({ file, point: "2026-11-19", marathon: { url, caFile: join(dir, "key.pem") } }))
    assert.strictEqual(bad.kind, "BadInput")
    assert.include(bad.message, "marathon: ")
    assert.include(bad.message, "holds no PEM certificate")
  })
})
