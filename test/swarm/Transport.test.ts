/**
 * @module Swarm transport tests — DOCKER_HOST and TLS settings read as the docker CLI reads them
 * (table), the API version negotiated with GET /version and used as the path prefix, an engine
 * too old refused, DOCKER_API_VERSION pinning, a missing socket named; the engine side is a small
 * HTTP server on a unix socket answering what an engine of that version answers.
 */
import { createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "vitest"
import { SwarmError } from "../../lib/targets/swarm/SwarmError.ts"
import { dockerHostFromEnv, makeTransport, parseDockerHost } from "../../lib/targets/swarm/Transport.ts"
import type { DockerHostSettings } from "../../lib/targets/swarm/Transport.ts"

describe("DOCKER_HOST and the TLS variables", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, unknown]> = [
    ["the default socket", {}, { _tag: "Unix", socketPath: "/var/run/docker.sock" }],
    ["a unix socket", { DOCKER_HOST: "unix:///run/user/1000/docker.sock" }, { _tag: "Unix", socketPath: "/run/user/1000/docker.sock" }],
    ["plain tcp on 2375", { DOCKER_HOST: "tcp://10.0.0.5" }, { _tag: "Tcp", host: "10.0.0.5", port: 2375, tls: undefined }],
    ["TLS verified with DOCKER_TLS_VERIFY, on 2376, certs in ~/.docker", { DOCKER_HOST: "tcp://swarm.example.com", DOCKER_TLS_VERIFY: "1" }, {
      _tag: "Tcp",
      host: "swarm.example.com",
      port: 2376,
      tls: { certPath: "/home/op/.docker", verify: true }
    }],
    ["DOCKER_TLS_VERIFY=0 still counts as set (as in the docker CLI)", { DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "0", DOCKER_CERT_PATH: "/certs" }, {
      _tag: "Tcp",
      host: "h",
      port: 2376,
      tls: { certPath: "/certs", verify: true }
    }],
    ["DOCKER_CERT_PATH alone: TLS, and still verified (the docker CLI would not verify)", { DOCKER_HOST: "tcp://h:2376", DOCKER_CERT_PATH: "/certs" }, {
      _tag: "Tcp",
      host: "h",
      port: 2376,
      tls: { certPath: "/certs", verify: true }
    }],
    ["an IPv6 address", { DOCKER_HOST: "tcp://[::1]:2375" }, { _tag: "Tcp", host: "::1", port: 2375, tls: undefined }]
  ]
  for (const [name, env, expected] of cases) {
    it(name, () => {
      assert.deepStrictEqual(parseDockerHost(dockerHostFromEnv(env), "/home/op"), expected)
    })
  }

  it("ssh:// is refused with what to do instead", () => {
    const result = parseDockerHost({ host: "ssh://ops@manager1" })
    assert.instanceOf(result, SwarmError)
    assert.strictEqual((result as SwarmError).reason, "Unsupported")
    assert.match((result as SwarmError).message, /forward the engine's socket/)
  })

  it("something that is no address is refused, naming the forms expected", () => {
    const result = parseDockerHost({ host: "manager1:2375" })
    assert.instanceOf(result, SwarmError)
    assert.match((result as SwarmError).message, /expected unix:\/\/\/path\/docker\.sock or tcp:\/\/host:port/)
  })
})

/** A fake engine on a unix socket: `/version` answers `version`, everything else records its path. */
const servers: Array<{ server: Server; dir: string }> = []
const fakeEngine = async (version: { ApiVersion: string; MinAPIVersion: string }) => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-fake-engine-"))
  const socketPath = join(dir, "docker.sock")
  const paths: Array<string> = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    paths.push(req.url ?? "")
    res.setHeader("content-type", "application/json")
    res.end(req.url === "/version" ? JSON.stringify({ ...version, Version: "test" }) : "[]")
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  servers.push({ server, dir })
  return { settings: { host: `unix://${socketPath}` } satisfies DockerHostSettings, paths }
}

afterEach(async () => {
  for (const { server, dir } of servers.splice(0)) {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  }
})

const openAndList = (settings: DockerHostSettings) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const transport = yield* makeTransport(settings)
    yield* transport.send({ method: "GET", path: "/services", what: "listing" })
    return transport.apiVersion
  })).pipe(Effect.flip, Effect.map((e) => e as SwarmError | string), Effect.catch((v) => Effect.succeed(v as string))))

describe("the API version", () => {
  it("an older engine's version is used as the path prefix", async () => {
    const engine = await fakeEngine({ ApiVersion: "1.40", MinAPIVersion: "1.12" })
    assert.strictEqual(await openAndList(engine.settings), "1.40")
    assert.deepStrictEqual(engine.paths, ["/version", "/v1.40/services"])
  })

  it("a newer engine is spoken to in the newest version this client knows", async () => {
    const engine = await fakeEngine({ ApiVersion: "1.47", MinAPIVersion: "1.24" })
    assert.strictEqual(await openAndList(engine.settings), "1.41")
    assert.deepStrictEqual(engine.paths, ["/version", "/v1.41/services"])
  })

  it("an engine older than 1.30 is refused before anything else is asked", async () => {
    const engine = await fakeEngine({ ApiVersion: "1.29", MinAPIVersion: "1.12" })
    const error = await openAndList(engine.settings)
    assert.instanceOf(error, SwarmError)
    assert.strictEqual((error as SwarmError).reason, "Unsupported")
    assert.match((error as SwarmError).message, /speaks Docker Engine API 1\.29; fleet-rollback needs 1\.30 or newer/)
    assert.deepStrictEqual(engine.paths, ["/version"])
  })

  it("DOCKER_API_VERSION pins the version without asking", async () => {
    const engine = await fakeEngine({ ApiVersion: "1.41", MinAPIVersion: "1.12" })
    assert.strictEqual(await openAndList({ ...engine.settings, apiVersion: "1.35" }), "1.35")
    assert.deepStrictEqual(engine.paths, ["/v1.35/services"])
  })

  it("no engine at the socket: Unreachable, naming the address and DOCKER_HOST", async () => {
    const error = await openAndList({ host: "unix:///nonexistent/fleet-rollback/docker.sock" })
    assert.instanceOf(error, SwarmError)
    assert.strictEqual((error as SwarmError).reason, "Unreachable")
    assert.match((error as SwarmError).message, /cannot reach the engine at unix:\/\/\/nonexistent\/fleet-rollback\/docker\.sock \(ENOENT\); check DOCKER_HOST/)
  })
})
