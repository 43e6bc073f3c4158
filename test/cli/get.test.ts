/**
 * `get` edge cases an operator meets: a registry that does not answer (exit 1, the failed
 * repositories named, no file), and a tag scheme without an environment part.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { image, registryHandler, repo, startServer } from "../registry/fakeRegistry.ts"
import type { Reply } from "../registry/fakeRegistry.ts"
import { runCli } from "./runCli.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-get-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** A loopback port nobody listens on. */
const closedPort = (): Promise<number> =>
  new Promise((done) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })

describe("get", () => {
  it("a malformed --platform is bad input: exit 2 naming the flag, no request, no rollback.json", async () => {
    const registry = await startSandboxRegistry({ images: [{ repository: "shop/api", tag: "1-master", created: "2026-11-10T10:00:00Z" }] })
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--platform", "linux", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, "--platform \"linux\"")
      assert.include(result.stderr, "linux/amd64")
      assert.strictEqual(registry.requests, 0)
      assert.isFalse(existsSync(join(dir, "rollback.json")))
    } finally {
      await registry.stop()
    }
  })

  it("--concurrency 16 puts 16 requests in flight to the registry at once (the connection pool does not cap it at 8)", async () => {
    const tags = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`${i + 1}-master`, image({ created: `2026-01-01T00:${String(i).padStart(2, "0")}:00Z` })]))
    const answer = registryHandler({ "shop/api": repo(tags) })
    let inFlight = 0
    let most = 0
    const server = await startServer(async (request) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 100))
      inFlight--
      return answer(request) as Reply
    })
    try {
      const result = await runCli(["get", "--registry", server.url, "--repo", "shop/api", "--concurrency", "16", "--no-cache", "--quiet"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(most, 16)
    } finally {
      await server.close()
    }
  })

  it("a registry that does not answer: exit 1 naming every repository that failed, and no rollback.json", async () => {
    const port = await closedPort()
    const result = await runCli(["get", "--registry", `http://127.0.0.1:${port}`, "--repo", "shop/api,shop/web", "--no-cache"], { cwd: dir })
    assert.strictEqual(result.code, 1, result.stderr)
    assert.include(result.stderr, "shop/api")
    assert.include(result.stderr, "shop/web")
    assert.include(result.stderr, "rollback.json was not written")
    assert.isFalse(existsSync(join(dir, "rollback.json")))
  })

  it("a scheme without an environment part (semver) keeps its tags under --env and says so", async () => {
    const registry = await startSandboxRegistry({
      images: [
        { repository: "shop/api", tag: "v1.2.0", created: "2026-11-10T10:00:00Z" },
        { repository: "shop/api", tag: "v1.3.0-rc.1", created: "2026-11-12T10:00:00Z" },
        { repository: "shop/api", tag: "latest", created: "2026-11-12T10:00:00Z" }
      ]
    })
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--scheme", "semver", "--env", "master", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stderr, "no environment part")
      const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
      assert.deepStrictEqual(file.images.api.map((i: { tag: string; version: string }) => [i.tag, i.version]), [["v1.3.0-rc.1", "1.3.0-rc.1"], ["v1.2.0", "1.2.0"]])
      assert.strictEqual(file.environment, "master")
    } finally {
      await registry.stop()
    }
  })
})
