/**
 * @module Swarm over TLS — a REAL Docker Engine listening on tcp://127.0.0.1 with `--tlsverify`
 * (certificates from a throw-away CA made with the real openssl): DOCKER_HOST + DOCKER_TLS_VERIFY +
 * DOCKER_CERT_PATH reach it; another CA, no client certificate, or plain HTTP do not, each with
 * a message that says what to check; and DOCKER_CERT_PATH alone still verifies the engine.
 */
import { mkdtempSync, rmSync, copyFileSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Target } from "../../lib/target/Target.ts"
import type { TargetError } from "../../lib/target/TargetError.ts"
import { SwarmTarget } from "../../lib/targets/swarm/SwarmTarget.ts"
import { dockerHostFromEnv } from "../../lib/targets/swarm/Transport.ts"
import { makeTlsMaterial, startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine } from "../support/DockerEngine.ts"

let engine: DockerEngine
let dir: string
let otherCa: string
let caOnly: string

beforeAll(async () => {
  engine = await startDockerEngine({ tls: true })
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-swarm-tls-"))
  otherCa = (await makeTlsMaterial(join(dir, "other"))).clientDir
  caOnly = join(dir, "ca-only")
  mkdirSync(caOnly)
  copyFileSync(join(engine.tls!.certPath, "ca.pem"), join(caOnly, "ca.pem"))
}, 120_000)

afterAll(async () => {
  await engine?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
}, 120_000)

/** Lists the workloads with the docker CLI's environment variables; the error when it fails. */
const list = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.flatMap(Target, (t) => Effect.map(t.listWorkloads({}), (w) => ({ workloads: w, url: t.description.url }))).pipe(
      Effect.provide(SwarmTarget.layer({ docker: dockerHostFromEnv(env), transport: { readRetries: 0 } })),
      Effect.result
    )
  )

describe("the engine over tcp:// with TLS", () => {
  it("DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH reach it; the report names tcp://", async () => {
    // a service whose image no registry has: only its listing matters here
    await engine.createService({ name: "tls_api", stack: "tls", image: "127.0.0.1:1/none:1" })
    const result = await list({ DOCKER_HOST: engine.tls!.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: engine.tls!.certPath })
    assert.strictEqual(result._tag, "Success", JSON.stringify(result))
    if (result._tag === "Success") {
      assert.strictEqual(result.success.url, engine.tls!.host)
      assert.include(result.success.workloads.map((w) => w.id), "tls_api")
    }
  })

  const failure = async (env: Record<string, string>): Promise<TargetError> => {
    const result = await list(env)
    assert.strictEqual(result._tag, "Failure", "it should not have reached the engine")
    return (result as { failure: TargetError }).failure
  }

  it("a certificate path of another CA is refused: the engine's certificate is not trusted", async () => {
    const error = await failure({ DOCKER_HOST: engine.tls!.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: otherCa })
    assert.strictEqual(error.reason, "Unreachable")
    assert.match(error.message, /TLS with the engine at tcp:\/\/127\.0\.0\.1:\d+ failed .*check DOCKER_CERT_PATH/)
  })

  it("DOCKER_CERT_PATH without DOCKER_TLS_VERIFY still verifies the engine (the docker CLI would not)", async () => {
    const error = await failure({ DOCKER_HOST: engine.tls!.host, DOCKER_CERT_PATH: otherCa })
    assert.match(error.message, /TLS with the engine .* failed/)
  })

  it("without a client certificate the engine refuses the connection", async () => {
    const error = await failure({ DOCKER_HOST: engine.tls!.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: caOnly })
    assert.strictEqual(error.reason, "Unreachable")
    assert.match(error.message, /TLS with the engine .* failed|cannot reach the engine/)
  })

  it("plain HTTP to the TLS port: the engine's answer says so", async () => {
    const error = await failure({ DOCKER_HOST: engine.tls!.host })
    assert.match(error.message, /HTTP request to an HTTPS server/)
  })
})
