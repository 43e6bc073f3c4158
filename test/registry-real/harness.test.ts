/**
 * @module harness tests — the real-registry harness itself: the registry starts on loopback and
 * is gone (process and files) after `stop`, a missing binary fails loudly, the token server signs
 * tokens the real registry accepts and the registry rejects tokens it must not, and `pushFleet`
 * puts a declared fleet into the registry exactly.
 */
import { assert, describe, it } from "@effect/vitest"
import { createPublicKey, verify, X509Certificate } from "node:crypto"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll } from "vitest"
import { startDockerRegistry, sweepLeftovers } from "../support/DockerRegistry.ts"
import type { DockerRegistry, RegistryUser } from "../support/DockerRegistry.ts"
import { pushFleet, sha256Digest } from "../support/pushImage.ts"
import type { Fleet } from "../support/pushImage.ts"
import { signingMaterial, signRegistryToken, startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { randomPassword } from "./fixtures.ts"

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const decodeJwt = (token: string): { header: any; payload: any; signingInput: string; signature: Buffer } => {
  const [header = "", payload = "", signature = ""] = token.split(".")
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, "base64url")
  }
}

describe("startDockerRegistry", () => {
  it("starts on a loopback port, answers /v2/, and stop() kills the process and removes its files", async () => {
    const registry = await startDockerRegistry()
    assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual(registry.host, `127.0.0.1:${registry.port}`)
    const response = await fetch(`${registry.url}/v2/`)
    assert.strictEqual(response.status, 200)
    assert.strictEqual(response.headers.get("docker-distribution-api-version"), "registry/2.0")
    await response.arrayBuffer()
    assert.isTrue(isRunning(registry.pid))
    assert.isTrue(existsSync(registry.dir))
    await registry.stop()
    assert.isFalse(isRunning(registry.pid), "the registry process is gone")
    assert.isFalse(existsSync(registry.dir), "the temporary storage is gone")
    await registry.stop() // idempotent
  })

  it("fails (never skips) with the apt-get hint when the binary is missing", async () => {
    const error = await startDockerRegistry({ binary: "/nonexistent/docker-registry" }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, "apt-get install docker-registry")
  })

  it("a port that is taken fails with the registry's own bind error, and leaves no process behind", async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()))
    const port = (blocker.address() as AddressInfo).port
    try {
      const error = await startDockerRegistry({ port }).then(() => undefined, (e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.include((error as Error).message, "address already in use")
    } finally {
      blocker.close()
    }
  })

  it("two registries run side by side on different ports", async () => {
    const [a, b] = await Promise.all([startDockerRegistry(), startDockerRegistry()])
    try {
      assert.notStrictEqual(a.port, b.port)
      assert.notStrictEqual(a.pid, b.pid)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})

describe("nothing left in /tmp", () => {
  const leftovers = (prefix: string) => readdirSync(tmpdir()).filter((name) => name.startsWith(prefix))

  it("the token server keeps its key and certificate in memory: no fleet-rollback-token-* directory exists while it runs or after", async () => {
    const before = leftovers("fleet-rollback-token-")
    const tokens = await startTokenServer({ users: [{ username: "ci", password: randomPassword() }] })
    const registry = await startDockerRegistry({ auth: "token", token: tokens.registryAuth })
    try {
      assert.includeMembers(readdirSync(registry.dir), ["root-cert-bundle.pem"])
      assert.deepStrictEqual(leftovers("fleet-rollback-token-").filter((d) => !before.includes(d)), [])
    } finally {
      await registry.stop()
      await tokens.stop()
    }
    assert.deepStrictEqual(leftovers("fleet-rollback-token-").filter((d) => !before.includes(d)), [])
  })

  it("a registry directory left by a killed test process is removed (and its registry stopped) when the next registry starts; a live one is kept", async () => {
    // A process that is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" })
    const deadPid = Number(dead.stdout)
    const orphan = mkdtempSync(join(tmpdir(), "fleet-rollback-registry-"))
    writeFileSync(join(orphan, "owner.pid"), String(deadPid))
    const live = mkdtempSync(join(tmpdir(), "fleet-rollback-registry-"))
    writeFileSync(join(live, "owner.pid"), String(process.pid))
    sweepLeftovers({ force: true })
    try {
      assert.isFalse(existsSync(orphan), "the dead process's directory is gone")
      assert.isTrue(existsSync(live), "a live process's directory stays")
    } finally {
      rmSync(orphan, { recursive: true, force: true })
      rmSync(live, { recursive: true, force: true })
    }
  })
})

describe("TokenServer with a token-auth docker-registry", () => {
  const user: RegistryUser = { username: "ci", password: randomPassword() }
  let tokens: TokenServer
  let registry: DockerRegistry

  beforeAll(async () => {
    tokens = await startTokenServer({ users: [user] })
    registry = await startDockerRegistry({ auth: "token", token: tokens.registryAuth })
  })

  afterAll(async () => {
    await registry?.stop()
    await tokens?.stop()
  })

  const basic = (u: RegistryUser): string => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}`

  it("issues an RS256 JWT with the certificate in x5c and the claims distribution's token spec requires", async () => {
    tokens.reset()
    const response = await fetch(`${tokens.realm}?service=${tokens.service}&scope=repository:shop/api:pull,push`, {
      headers: { authorization: basic(user) }
    })
    assert.strictEqual(response.status, 200)
    const body = (await response.json()) as { token: string; access_token: string; expires_in: number; issued_at: string }
    assert.strictEqual(body.access_token, body.token)
    assert.strictEqual(body.expires_in, 300)
    assert.isFalse(Number.isNaN(Date.parse(body.issued_at)))
    const jwt = decodeJwt(body.token)
    assert.strictEqual(jwt.header.alg, "RS256")
    assert.strictEqual(jwt.header.typ, "JWT")
    const certificate = new X509Certificate(Buffer.from(jwt.header.x5c[0], "base64"))
    assert.isTrue(certificate.checkIssued(new X509Certificate(signingMaterial().certificatePem)))
    assert.isTrue(verify("RSA-SHA256", Buffer.from(jwt.signingInput), createPublicKey(certificate.publicKey.export({ format: "pem", type: "spki" })), jwt.signature))
    assert.strictEqual(jwt.payload.iss, tokens.issuer)
    assert.strictEqual(jwt.payload.sub, "ci")
    assert.strictEqual(jwt.payload.aud, tokens.service)
    assert.isAbove(jwt.payload.exp, jwt.payload.iat)
    assert.isAtMost(jwt.payload.nbf, jwt.payload.iat)
    assert.isString(jwt.payload.jti)
    assert.deepStrictEqual(jwt.payload.access, [{ type: "repository", name: "shop/api", actions: ["pull", "push"] }])
    assert.strictEqual(tokens.issued(), 1)
    assert.deepStrictEqual(tokens.requests, [{ status: 200, username: "ci", service: tokens.service, scopes: ["repository:shop/api:pull,push"] }])
  })

  it("refuses wrong credentials with 401 and counts the refusal", async () => {
    tokens.reset()
    const response = await fetch(`${tokens.realm}?service=${tokens.service}&scope=repository:shop/api:pull`, {
      headers: { authorization: basic({ username: "ci", password: "not-it" }) }
    })
    assert.strictEqual(response.status, 401)
    await response.arrayBuffer()
    assert.strictEqual(tokens.issued(), 0)
    assert.strictEqual(tokens.requests.length, 1)
    assert.strictEqual(tokens.requests[0]!.status, 401)
  })

  it("the real registry accepts its tokens for the granted repository only", async () => {
    const token = await tokens.fetchToken(user, ["repository:shop/api:pull"])
    const granted = await fetch(`${registry.url}/v2/shop/api/tags/list`, { headers: { authorization: `Bearer ${token}` } })
    // Authorized: the repository simply does not exist yet.
    assert.strictEqual(granted.status, 404)
    assert.strictEqual(((await granted.json()) as any).errors[0].code, "NAME_UNKNOWN")
    const other = await fetch(`${registry.url}/v2/shop/web/tags/list`, { headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(other.status, 401)
    await other.arrayBuffer()
  })

  it("the real registry rejects tokens with the wrong issuer, audience, or an expired lifetime", async () => {
    const access = [{ type: "repository", name: "shop/api", actions: ["pull"] }]
    const good = { issuer: tokens.issuer, subject: "ci", audience: tokens.service, access, expiresInSeconds: 300 }
    const cases = {
      good: signRegistryToken(good),
      wrongIssuer: signRegistryToken({ ...good, issuer: "someone-else" }),
      wrongAudience: signRegistryToken({ ...good, audience: "another-registry" }),
      expired: signRegistryToken({ ...good, expiresInSeconds: 60, nowSeconds: Math.floor(Date.now() / 1000) - 3600 })
    }
    const statuses: Record<string, number> = {}
    for (const [name, token] of Object.entries(cases)) {
      const response = await fetch(`${registry.url}/v2/shop/api/tags/list`, { headers: { authorization: `Bearer ${token}` } })
      await response.arrayBuffer()
      statuses[name] = response.status
    }
    assert.deepStrictEqual(statuses, { good: 404, wrongIssuer: 401, wrongAudience: 401, expired: 401 })
  })
})

describe("pushFleet", () => {
  it("pushes every repository × tag with its date, digests as the registry reports them", async () => {
    const registry = await startDockerRegistry()
    try {
      const fleet: Fleet = {
        repositories: ["fleet/api", "fleet/web", "fleet/worker"].map((name, r) => ({
          name,
          images: Array.from({ length: 6 }, (_, i) => ({
            tag: `${i + 1}-master`,
            created: new Date(Date.UTC(2026, 0, 1 + i, r)).toISOString(),
            revision: `rev-${r}-${i}`,
            format: i % 2 === 0 ? "oci" as const : "docker" as const
          }))
        }))
      }
      const pushed = await pushFleet(registry.url, fleet, { concurrency: 8 })
      assert.strictEqual(pushed.images, 18)
      // One shared layer upload (2) + per image a config upload (2) and a manifest PUT (1) + 2 mounts.
      assert.strictEqual(pushed.requests, 2 + 18 * 3 + 2)
      for (const repository of fleet.repositories) {
        const tags = (await (await fetch(`${registry.url}/v2/${repository.name}/tags/list`)).json()) as { tags: Array<string> }
        assert.sameMembers(tags.tags, repository.images.map((image) => image.tag))
        for (const image of repository.images) {
          const response = await fetch(`${registry.url}/v2/${repository.name}/manifests/${image.tag}`, {
            headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" }
          })
          const body = Buffer.from(await response.arrayBuffer())
          const digest = pushed.digests.get(repository.name)?.get(image.tag)
          assert.strictEqual(response.headers.get("docker-content-digest"), digest)
          assert.strictEqual(sha256Digest(body), digest)
          const manifest = JSON.parse(body.toString("utf8"))
          const config = await (await fetch(`${registry.url}/v2/${repository.name}/blobs/${manifest.config.digest}`)).json() as any
          assert.strictEqual(config.created, image.created)
          assert.strictEqual(config.config.Labels["org.opencontainers.image.revision"], image.revision)
        }
      }
    } finally {
      await registry.stop()
    }
  })
})
