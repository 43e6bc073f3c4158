/**
 * @module NodeHttp.test — TLS on Node against a loopback https registry with a private CA made by
 * `openssl`: refused by default, trusted with --ca-file, accepted with insecureSkipVerify only.
 * And keep-alive: `--verify-tags` HEADs reuse connections instead of opening one per tag.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { NodeHttpOptions } from "../../lib/node/NodeHttp.ts"

let dir = ""
let server: https.Server | undefined
let url = ""

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-tls-"))
  // A missing openssl is a failure (execFileSync throws), not a skip.
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", "1",
    "-subj", "/CN=fleet-rollback test registry", "-addext", "subjectAltName=IP:127.0.0.1"
  ], { stdio: "pipe" })
  server = https.createServer({
    key: fs.readFileSync(path.join(dir, "key.pem")),
    cert: fs.readFileSync(path.join(dir, "cert.pem"))
  }, (_request, res) => {
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({ name: "shop/api", tags: ["1"] }))
  })
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => server === undefined ? resolve() : server.close(() => resolve()))
  fs.rmSync(dir, { recursive: true, force: true })
})

const listWith = (options: NodeHttpOptions) =>
  Registry.use((r) => r.listTags("shop/api")).pipe(
    Effect.provide(
      Registry.layer({ url, retries: 0 }).pipe(
        Layer.provide(Layer.mergeAll(nodeHttpClientLayer(options), NodeFileSystem.layer))
      )
    )
  )

describe("TLS", () => {
  it.live("a registry certificate from a private CA is refused by default, with advice to use --ca-file", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(listWith({}))
      assert.strictEqual(error.reason, "Tls")
      assert.include(error.message, "--ca-file")
    }))

  it.live("--ca-file adds the private CA to the trusted ones", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* listWith({ caFile: path.join(dir, "cert.pem") }), ["1"])
    }))

  it.live("insecureSkipVerify accepts it (and only when asked)", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* listWith({ insecureSkipVerify: true }), ["1"])
    }))

  it.live("an unreadable CA file is a Tls error naming the file", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(listWith({ caFile: path.join(dir, "missing.pem") }))
      assert.strictEqual(error.reason, "Tls")
      assert.include(error.message, "missing.pem")
    }))
})

describe("keep-alive", () => {
  it.live("--verify-tags' HEAD per tag reuses the open connection instead of connecting once per tag", () =>
    Effect.gen(function*() {
      let connections = 0
      const digest = `sha256:${"ab".repeat(32)}`
      const plain = http.createServer((request, res) => {
        // Like docker-registry: HEAD answers with the manifest's Content-Length and no body.
        res.writeHead(request.url?.includes("/manifests/") ? 200 : 404, {
          "content-type": "application/vnd.oci.image.manifest.v1+json",
          "content-length": "529",
          "docker-content-digest": digest
        })
        res.end()
      })
      plain.on("connection", () => connections++)
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve))),
        () =>
          Effect.promise(() =>
            new Promise<void>((resolve) => {
              plain.closeAllConnections()
              plain.close(() => resolve())
            })
          )
      )
      const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`
      const digests = yield* Registry.use((r) =>
        Effect.forEach(Array.from({ length: 20 }, (_, i) => `${i + 1}-master`), (tag) => r.headDigest("shop/api", tag))
      ).pipe(
        Effect.provide(
          Registry.layer({ url: plainUrl, retries: 0 }).pipe(
            Layer.provide(Layer.mergeAll(nodeHttpClientLayer({}), NodeFileSystem.layer))
          )
        )
      )
      assert.strictEqual(digests.length, 20)
      assert.isTrue(digests.every((d) => d === digest))
      // Before: one connection per HEAD (20). Now the pool's connections are reused (undici may
      // open a second while the first goes back to the pool).
      assert.isAtMost(connections, 2)
    }).pipe(Effect.scoped))
})
