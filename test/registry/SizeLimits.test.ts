/**
 * @module SizeLimits tests — a registry that answers with a 100 MB manifest, config or tag list
 * cannot fill the client's memory: the answer is refused once its `Content-Length` or its bytes
 * pass the limit of its kind (MAX_BODY_BYTES), and the rest is never read. Checked on the
 * command line (the undici wire) by counting what the server managed to send before the client
 * closed the connection, and on the fetch wire (Deno, the Promise API) in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { Server, ServerResponse } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import { afterEach, beforeEach } from "vitest"
import { MAX_BODY_BYTES, RegistryWire } from "../../lib/registry/Wire.ts"
import { runCli } from "../cli/runCli.ts"

const HUGE = 100 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 0x20)

/** What the hostile registry sent of its huge answers before the client hung up. */
interface Sent {
  bytes: number
  closed: boolean
}

/** Streams `HUGE` bytes (a JSON prefix, then spaces), honouring back-pressure, until done or closed. */
const streamHuge = (res: ServerResponse, announce: boolean, prefix: string, sent: Sent): void => {
  res.writeHead(200, {
    "content-type": "application/vnd.oci.image.manifest.v1+json",
    ...(announce ? { "content-length": String(HUGE) } : {})
  })
  res.on("close", () => {
    sent.closed = true
  })
  res.write(prefix)
  sent.bytes += prefix.length
  const pump = (): void => {
    while (sent.bytes < HUGE && !res.destroyed) {
      sent.bytes += CHUNK.length
      if (!res.write(CHUNK)) {
        res.once("drain", pump)
        return
      }
    }
    if (!res.destroyed) res.end()
  }
  pump()
}

/** A registry whose manifest (`what: "manifest"`) or tag list (`"tags"`) is 100 MB. */
const startHostileRegistry = async (what: "manifest" | "tags", announce: boolean) => {
  const sent: Sent = { bytes: 0, closed: false }
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/"
    if (path === "/v2/") return res.end("{}")
    if (path.startsWith("/v2/shop/api/tags/list")) {
      if (what === "tags") return streamHuge(res, announce, "{\"name\":\"shop/api\",\"tags\":[\"1-master\"", sent)
      res.setHeader("content-type", "application/json")
      return res.end(JSON.stringify({ name: "shop/api", tags: ["1-master"] }))
    }
    if (path.startsWith("/v2/shop/api/manifests/")) return streamHuge(res, announce, "{\"schemaVersion\":2,", sent)
    res.statusCode = 404
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const address = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}`,
    sent,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-limits-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("answers bigger than their kind may be (command line, undici wire)", () => {
  for (const announce of [true, false]) {
    const how = announce ? "announced by Content-Length" : "chunked, no length announced"
    it(`a 100 MB manifest (${how}) is refused after at most a few MiB were read, saying which limit`, async () => {
      const registry = await startHostileRegistry("manifest", announce)
      try {
        const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--allow-empty"], { cwd: dir })
        assert.include(result.stdout + result.stderr, "larger than the 4 MiB a manifest answer may have")
        assert.isTrue(registry.sent.closed, "the client hung up")
        // What the kernel's socket buffers take in besides the limit: far below the 100 MB.
        assert.isBelow(registry.sent.bytes, MAX_BODY_BYTES.manifest + 16 * 1024 * 1024)
      } finally {
        await registry.stop()
      }
    })
  }

  it("a 100 MB tag list fails its repository: exit 1 naming it and the limit", async () => {
    const registry = await startHostileRegistry("tags", false)
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(result.stderr, "shop/api")
      assert.include(result.stderr, "larger than the 8 MiB a tags answer may have")
      assert.isBelow(registry.sent.bytes, MAX_BODY_BYTES.tags + 16 * 1024 * 1024)
    } finally {
      await registry.stop()
    }
  })
})

describe("answers bigger than their kind may be (fetch wire)", () => {
  it.effect("a 100 MB manifest without Content-Length fails with tooLargeLimit, the rest unread", () =>
    Effect.gen(function*() {
      const registry = yield* Effect.promise(() => startHostileRegistry("manifest", false))
      yield* Effect.addFinalizer(() => Effect.promise(() => registry.stop()))
      const client = yield* HttpClient.HttpClient
      const wire = RegistryWire.fromHttpClient(client)
      const failure = yield* Effect.flip(wire.send({
        kind: "manifest",
        method: "GET",
        url: new URL(`${registry.url}/v2/shop/api/manifests/1-master`),
        headers: {},
        repository: "shop/api"
      }, 30_000))
      assert.strictEqual(failure.tooLargeLimit, MAX_BODY_BYTES.manifest)
      assert.include(failure.description, "larger than the 4 MiB a manifest answer may have")
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      assert.isBelow(registry.sent.bytes, MAX_BODY_BYTES.manifest + 16 * 1024 * 1024)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))
})
