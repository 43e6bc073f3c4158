/**
 * @module Schema1AndLast.test — the registry client on schema1 answers and `get --last N`
 * against a loopback registry of our own (the real one is in test/registry-real/schema1.test.ts):
 * a signed schema1 manifest served re-signed has the digest of its payload without signatures,
 * a tampered one is a digest mismatch, a cache entry from before schema1 support is read again;
 * `--last` costs N manifest requests on a long history (more only when the newest give no dated
 * image), and a scheme whose tags carry no order reads every tag and keeps the N newest by date.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import type { TagScheme } from "../../lib/core/TagScheme.ts"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { schema1Payload } from "../../lib/registry/Manifest.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { RegistryConfig } from "../../lib/registry/Registry.ts"
import { getRollbacks } from "../../lib/workflow/GetRollbacks.ts"
import { resignedSchema1, SCHEMA1_SIGNED, signedSchema1Manifest } from "../support/schema1.ts"
import { image, registryHandler, repo, sha256, startServer } from "./fakeRegistry.ts"
import type { ImageFixture, LoopbackServer, Reply, RepoFixture, Seen } from "./fakeRegistry.ts"

const serve = (handle: (request: Seen) => Reply | undefined) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(handle)),
    (server) => Effect.promise(() => server.close())
  )

const withRegistry = <A, E>(config: RegistryConfig, body: Effect.Effect<A, E, Registry>) =>
  Effect.provide(body, Registry.layer(config).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))))

const layer = (created: string) => ({ blobSum: sha256(created), created })
const old1 = signedSchema1Manifest({ name: "shop/old", tag: "1-master", layers: [layer("2016-05-01T10:00:00Z"), layer("2016-04-01T00:00:00Z")] })

/** Serves `old1` as a registry does: re-signed on every GET, by tag and by digest, with the payload's digest. */
const schema1Registry = (body: () => string) => (request: Seen): Reply | undefined => {
  if (request.path === "/v2/shop/old/tags/list") return { status: 200, body: JSON.stringify({ name: "shop/old", tags: ["1-master"] }) }
  if (request.path === "/v2/shop/old/manifests/1-master" || request.path === `/v2/shop/old/manifests/${old1.digest}`) {
    return { status: 200, headers: { "content-type": SCHEMA1_SIGNED, "docker-content-digest": old1.digest }, body: body() }
  }
  return undefined
}

describe("schema1 manifests", () => {
  it("the digest is over the payload without the signature block, as libtrust rebuilds it from formatLength/formatTail", () => {
    const served = new TextEncoder().encode(resignedSchema1(old1))
    const payload = schema1Payload(served)
    assert.strictEqual(payload._tag, "Signed")
    if (payload._tag === "Signed") assert.strictEqual(new TextDecoder().decode(payload.payload), old1.payload)
    assert.deepStrictEqual(schema1Payload(new TextEncoder().encode(old1.payload)), { _tag: "Unsigned" })
    // two signatures that disagree on where the payload ends
    const twice = JSON.parse(old1.body) as { signatures: Array<{ protected: string }> }
    const other = Buffer.from(JSON.stringify({ formatLength: 10, formatTail: "Cn0" })).toString("base64url")
    twice.signatures.push({ ...twice.signatures[0]!, protected: other })
    assert.strictEqual(schema1Payload(new TextEncoder().encode(JSON.stringify(twice)))._tag, "Invalid")
  })

  it.live("an image served re-signed (a new body each GET) is read with the registry's digest and its first history entry's date, one GET and one HEAD by digest", () =>
    Effect.gen(function*() {
      const server = yield* serve(schema1Registry(() => resignedSchema1(old1)))
      const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/old")))
      assert.deepStrictEqual(read.images, [{ repository: "shop/old", tag: "1-master", digest: old1.digest, dates: { schema1: "2016-05-01T10:00:00Z" } }])
      assert.deepStrictEqual(read.skipped, [])
      assert.deepStrictEqual(server.seen.filter((s) => s.path.includes("/manifests/")).map((s) => `${s.method} ${s.path.split("/").pop()}`), ["GET 1-master", `HEAD ${old1.digest}`])
    }).pipe(Effect.scoped))

  it.live("a payload changed on the way (the digest header the stored one) is a digest mismatch, not an image", () =>
    Effect.gen(function*() {
      const tampered = resignedSchema1(old1).replace("2016-05-01T10:00:00Z", "2016-05-09T10:00:00Z")
      const server = yield* serve(schema1Registry(() => tampered))
      const error = yield* Effect.flip(withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/old"))))
      assert.strictEqual(error.reason, "DigestMismatch")
      assert.include(error.message, old1.digest)
    }).pipe(Effect.scoped))

  it.live("a cache written before schema1 support (the digest skipped as schema1) is read again, and then remembered", () =>
    Effect.gen(function*() {
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-schema1-cache-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(cacheDir, { recursive: true, force: true })))
      const server = yield* serve(schema1Registry(() => resignedSchema1(old1)))
      const host = encodeURIComponent(`http_${server.host}`)
      fs.mkdirSync(path.join(cacheDir, "registry-v1", host), { recursive: true })
      fs.writeFileSync(path.join(cacheDir, "registry-v1", host, `${encodeURIComponent("shop/old")}.json`), JSON.stringify({
        schemaVersion: 1,
        tags: { "1-master": old1.digest },
        images: { [`linux/amd64|${old1.digest}`]: { dates: {}, skipKind: "schema1", skip: "a Docker schema1 manifest (no reliable build date)" } }
      }))
      const config = { url: server.url, cacheDir, isMutableTag: () => false }
      const first = yield* withRegistry(config, Registry.use((r) => r.readRepository("shop/old")))
      assert.deepStrictEqual(first.images.map((i) => [i.tag, i.dates]), [["1-master", { schema1: "2016-05-01T10:00:00Z" }]])
      const requestsAfterFirst = server.seen.length
      assert.isAbove(requestsAfterFirst, 1)
      const second = yield* withRegistry(config, Registry.use((r) => r.readRepository("shop/old")))
      assert.deepStrictEqual(second.images, first.images)
      assert.deepStrictEqual(server.seen.slice(requestsAfterFirst).map((s) => s.path), ["/v2/shop/old/tags/list"])
    }).pipe(Effect.scoped))
})

/** A repository of `count` master builds 1…count (build n created on day n of 2026) and a few develop builds. */
const longHistory = (count: number, overrides: Record<string, ImageFixture> = {}): RepoFixture => {
  const tags: Record<string, ImageFixture> = {}
  for (let build = 1; build <= count; build++) {
    tags[`${build}-master`] = image({ created: new Date(Date.UTC(2026, 0, build, 10)).toISOString() })
  }
  for (let build = 1; build <= 5; build++) tags[`${1000 + build}-develop`] = image({ created: "2027-01-01T00:00:00Z" })
  return repo({ ...tags, ...overrides })
}

const get = (server: LoopbackServer, scheme: TagScheme, last: number | undefined, badTags?: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const result = yield* getRollbacks({
      services: [{ name: "api", repository: "shop/api" }],
      registryUrl: server.url,
      scheme,
      schemeName: scheme.name,
      environment: "master",
      tagFilter: "master",
      granularity: "instant",
      timeZone: "UTC",
      last,
      badTags
    })
    return { result, stats: yield* (yield* Registry).stats }
  }).pipe(Effect.provide(Registry.layer({ url: server.url }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))))

describe("get --last N", () => {
  const buildBranch = TAG_SCHEME_PRESETS["build-branch"]!

  it.live("of 300 builds reads the 10 newest: 10 manifest and 10 config requests instead of 300 each; choices offers every point of those", () =>
    Effect.gen(function*() {
      const server = yield* serve(registryHandler({ "shop/api": longHistory(300) }))
      const { result, stats } = yield* get(server, buildBranch, 10)
      assert.deepStrictEqual(result.file.images["api"]!.map((i) => i.build), [300, 299, 298, 297, 296, 295, 294, 293, 292, 291])
      assert.strictEqual(result.file.points.length, 10)
      assert.strictEqual(stats.requestsByKind["manifest"], 10)
      assert.strictEqual(stats.requestsByKind["blob"], 10)
      assert.strictEqual(result.ignored["api"]!.beyondLast, 290)
      assert.strictEqual(result.ignored["api"]!.otherEnvironment, 5)
      const full = yield* get(server, buildBranch, undefined)
      assert.strictEqual(full.stats.requestsByKind["manifest"], 300)
      assert.notProperty(full.result.ignored["api"]!, "beyondLast")
    }).pipe(Effect.scoped))

  it.live("when newest builds give no usable image (deleted since the listing, no date, marked bad) the next ones are read until N are", () =>
    Effect.gen(function*() {
      const fixture = longHistory(40, { "39-master": image({}) })
      const server = yield* serve((request) => request.path.endsWith("/manifests/40-master") ? undefined : registryHandler({ "shop/api": fixture })(request))
      const { result, stats } = yield* get(server, buildBranch, 3, ["38-master"])
      // 40 vanished, 39 undated, 38 marked bad: 37, 36, 35 are the three
      assert.deepStrictEqual(result.file.images["api"]!.map((i) => i.tag), ["37-master", "36-master", "35-master"])
      assert.strictEqual(stats.requestsByKind["manifest"], 6)
      assert.deepStrictEqual(result.ignored["api"]!.unknownDate, ["39-master"])
      assert.deepStrictEqual(result.ignored["api"]!.notRead.map((n) => [n.tag, n.reason]), [["40-master", "vanished"]])
      assert.strictEqual(result.ignored["api"]!.markedBad, 1)
      assert.strictEqual(result.ignored["api"]!.beyondLast, 34)
    }).pipe(Effect.scoped))

  it.live("a scheme whose tags carry no build number or timestamp (branch-sha) reads every tag and keeps the N newest by date", () =>
    Effect.gen(function*() {
      const tags: Record<string, ImageFixture> = {}
      // sha order says nothing about time: dates are spread the other way round
      for (let i = 0; i < 12; i++) tags[`master-${(0xa000000 + i).toString(16)}`] = image({ created: new Date(Date.UTC(2026, 5, 30 - i)).toISOString() })
      const server = yield* serve(registryHandler({ "shop/api": repo(tags) }))
      const { result, stats } = yield* get(server, TAG_SCHEME_PRESETS["branch-sha"]!, 4)
      assert.strictEqual(stats.requestsByKind["manifest"], 12)
      assert.deepStrictEqual(result.file.images["api"]!.map((i) => i.tag), ["master-a000000", "master-a000001", "master-a000002", "master-a000003"])
      assert.strictEqual(result.ignored["api"]!.beyondLast, 8)
      assert.strictEqual(result.file.points.length, 4)
    }).pipe(Effect.scoped))

  it.live("--last 0 is refused as bad input before any request", () =>
    Effect.gen(function*() {
      const server = yield* serve(registryHandler({ "shop/api": longHistory(3) }))
      const error = yield* Effect.flip(get(server, buildBranch, 0))
      assert.strictEqual(error._tag, "RollbackError")
      assert.include(error.message, "--last expects a whole number")
      assert.strictEqual(server.seen.length, 0)
    }).pipe(Effect.scoped))
})
