/**
 * @module Registry.test — the registry client against a loopback registry of our own, one incident
 * per test; every test runs over both wires: undici straight (Node, the CLI) and an `HttpClient`
 * over fetch (Deno, the Promise API).
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry, RegistryWire } from "../../lib/registry/Registry.ts"
import type { RegistryConfig } from "../../lib/registry/Registry.ts"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import { isMutableUnder } from "../../lib/workflow/GetRollbacks.ts"
import { image, index, registryHandler, repo, sha256, startServer } from "./fakeRegistry.ts"
import type { LoopbackServer, Reply, Seen } from "./fakeRegistry.ts"

const servers: Array<LoopbackServer> = []
const serve = (handle: (request: Seen) => Reply | undefined | Promise<Reply | undefined>) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(handle)),
    (server) => Effect.promise(() => server.close())
  ).pipe(Effect.tap((server) => Effect.sync(() => servers.push(server))))

/** The two ways a request goes out. */
const WIRES = [
  ["undici (Node)", nodeHttpClientLayer()],
  ["HttpClient over fetch (Deno, Promise API)", RegistryWire.layerHttpClient.pipe(Layer.provide(FetchHttpClient.layer))]
] as const

type WireLayer = (typeof WIRES)[number][1]

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

const jsonReply = (value: unknown, headers: Record<string, string> = {}): Reply => ({
  status: 200,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(value)
})

const api = image({ created: "2024-03-01T10:00:00Z", annotations: { "org.opencontainers.image.revision": "abc123" } })

const suite = (wire: WireLayer) => {
  const withRegistry = <A, E>(config: RegistryConfig, body: Effect.Effect<A, E, Registry>) =>
    Effect.provide(body, Registry.layer(config).pipe(Layer.provide(Layer.mergeAll(wire, NodeFileSystem.layer))))

  describe("HEAD of a manifest", () => {
    it.live("a manifest larger than a HEAD answer may be: its Content-Length is the GET's size, not a body, and the digest is read", () =>
      Effect.gen(function*() {
        const digest = sha256("a large manifest")
        const server = yield* serve((request) =>
          request.path === "/v2/shop/api/manifests/1"
            ? { status: 200, headers: { "content-type": "application/vnd.oci.image.index.v1+json", "docker-content-digest": digest, "content-length": String(200 * 1024) }, body: "" }
            : undefined
        )
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.headDigest("shop/api", "1")))
        assert.strictEqual(read, digest)
        assert.deepStrictEqual(server.seen.map((s) => s.method), ["HEAD"])
      }))
  })

  describe("tag lists", () => {
    it.live("a tag list split over three pages by Link headers is read whole, following each link as given", () =>
      Effect.gen(function*() {
        const server = yield* serve((request) => {
          if (request.path !== "/v2/shop/api/tags/list") return undefined
          const last = request.query.get("last")
          if (last === null) {
            return jsonReply({ name: "shop/api", tags: ["1", "2"] }, { link: "</v2/shop/api/tags/list?last=2&n=2>; rel=\"next\"" })
          }
          if (last === "2") {
            return jsonReply({ name: "shop/api", tags: ["3", "4"] }, { link: "</v2/shop/api/tags/list?last=4&n=2>; rel=\"next\"" })
          }
          return jsonReply({ name: "shop/api", tags: ["5"] })
        })
        const tags = yield* withRegistry({ url: server.url }, Registry.use((r) => r.listTags("shop/api")))
        assert.deepStrictEqual(tags, ["1", "2", "3", "4", "5"])
        assert.deepStrictEqual(server.seen.map((s) => s.query.toString()), ["n=1000", "last=2&n=2", "last=4&n=2"])
      }))

    it.live("a Link pointing to another host is refused (InsecureLink) and that host never hears from us", () =>
      Effect.gen(function*() {
        const elsewhere = yield* serve(() => jsonReply({ tags: ["evil"] }))
        const server = yield* serve(() =>
          jsonReply({ name: "shop/api", tags: ["1"] }, { link: `<${elsewhere.url}/v2/shop/api/tags/list?last=1>; rel="next"` })
        )
        const error = yield* failure(withRegistry({ url: server.url }, Registry.use((r) => r.listTags("shop/api"))))
        assert.strictEqual(error.reason, "InsecureLink")
        assert.strictEqual(error.repository, "shop/api")
        assert.include(error.message, elsewhere.host)
        assert.strictEqual(elsewhere.seen.length, 0)
      }))

    it.live("a Link to another host is shown without its query: signatures and tokens there stay out of the message", () =>
      Effect.gen(function*() {
        const server = yield* serve(() =>
          jsonReply({ name: "shop/api", tags: ["1"] }, { link: `<https://cdn.example.net/v2/shop/api/tags/list?last=1&X-Amz-Signature=sig-never-shown>; rel="next"` })
        )
        const error = yield* failure(withRegistry({ url: server.url }, Registry.use((r) => r.listTags("shop/api"))))
        assert.strictEqual(error.reason, "InsecureLink")
        assert.include(error.message, "https://cdn.example.net/v2/shop/api/tags/list")
        assert.notInclude(error.message, "sig-never-shown")
        assert.notInclude(error.message, "last=1")
      }))

    it.live("a platform that is not os/architecture is InvalidInput before any request is made", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({ "shop/api": repo({ "1": api }) }))
        const error = yield* failure(withRegistry({ url: server.url, platform: "linux" }, Registry.use((r) => r.readRepository("shop/api"))))
        assert.strictEqual(error.reason, "InvalidInput")
        assert.include(error.message, "\"linux\"")
        assert.include(error.message, "linux/amd64")
        assert.strictEqual(server.seen.length, 0)
      }))

    it.live("Nexus' \"tags\": null means no tags, not a crash", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({ "shop/empty": repo({}, null) }))
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/empty")))
        assert.deepStrictEqual(read, { repository: "shop/empty", images: [], skipped: [] })
      }))

    it.live("Artifactory's digests in the tag list are skipped with a reason; real tags are read", () =>
      Effect.gen(function*() {
        const digest = api.manifest.digest
        const server = yield* serve(registryHandler({ "shop/api": repo({ "1-master": api }, ["1-master", digest]) }))
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/api")))
        assert.deepStrictEqual(read.images.map((i) => i.tag), ["1-master"])
        assert.strictEqual(read.skipped.length, 1)
        assert.strictEqual(read.skipped[0]!.tag, digest)
        assert.include(read.skipped[0]!.reason, "digest")
        assert.strictEqual(read.skipped[0]!.kind, "digest-in-tag-list")
        assert.isFalse(server.seen.some((s) => s.path.endsWith(`/manifests/${digest}`)))
      }))

    it.live("keepTag leaves other environments out, reported as skipped, never fetched", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({ "shop/api": repo({ "1-master": api, "1-develop": api }) }))
        const progress: Array<number> = []
        const read = yield* withRegistry(
          { url: server.url },
          Registry.use((r) =>
            r.readRepository("shop/api", { keepTag: (t) => t.endsWith("-master"), onImage: () => progress.push(1) })
          )
        )
        assert.deepStrictEqual(read.images.map((i) => i.tag), ["1-master"])
        assert.deepStrictEqual(read.skipped.map((s) => [s.tag, s.kind]), [["1-develop", "filtered"]])
        assert.strictEqual(progress.length, 1)
        assert.isFalse(server.seen.some((s) => s.path.endsWith("/manifests/1-develop")))
      }))

    it.live("an unknown repository is NotFound naming the repository and the registry", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({}))
        const error = yield* failure(withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/nope"))))
        assert.strictEqual(error.reason, "NotFound")
        assert.include(error.message, "shop/nope")
        assert.include(error.message, server.url)
      }))
  })

  describe("images, platforms and dates", () => {
    it.live("a single-platform image costs two requests (manifest, config) and yields digest, dates and revision", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({ "shop/api": repo({ "7-master": api }) }))
        const [img, stats] = yield* withRegistry(
          { url: server.url },
          Registry.use((r) => Effect.all([r.readImage("shop/api", "7-master"), r.stats]))
        )
        assert.deepStrictEqual(img, {
          repository: "shop/api",
          tag: "7-master",
          digest: api.manifest.digest,
          dates: { config: "2024-03-01T10:00:00Z" },
          revision: "abc123"
        })
        assert.strictEqual(stats.requests, 2)
        assert.deepStrictEqual(stats.requestsByKind, { manifest: 1, blob: 1 })
        const manifestGet = server.seen.find((s) => s.path.endsWith("/manifests/7-master"))!
        const accept = String(manifestGet.headers["accept"])
        for (
          const type of [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json"
          ]
        ) assert.include(accept, type)
      }))

    it.live("a multi-arch index with a BuildKit attestation listed first yields linux/amd64, and linux/arm64 when asked", () =>
      Effect.gen(function*() {
        const amd64 = image({ created: "2024-05-01T00:00:00Z", architecture: "amd64" })
        const arm64 = image({ created: "2024-05-02T00:00:00Z", architecture: "arm64" })
        const multi = index([{ platform: "linux/arm64", image: arm64 }, { platform: "linux/amd64", image: amd64 }], { attestationFor: amd64 })
        const server = yield* serve(registryHandler({ "shop/web": repo({ "9": multi }) }))
        const onAmd = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readImage("shop/web", "9")))
        assert.strictEqual(onAmd.digest, multi.manifest.digest)
        assert.strictEqual(onAmd.platform, "linux/amd64")
        assert.deepStrictEqual(onAmd.dates, { config: "2024-05-01T00:00:00Z" })
        assert.isFalse(server.seen.some((s) => s.path.endsWith(multi.attestation!.manifest.digest)))
        const onArm = yield* withRegistry(
          { url: server.url, platform: "linux/arm64" },
          Registry.use((r) => r.readImage("shop/web", "9"))
        )
        assert.strictEqual(onArm.platform, "linux/arm64")
        assert.strictEqual(onArm.dates.config, "2024-05-02T00:00:00Z")
      }))

    it.live("an index without the wanted platform is skipped with the platforms it has", () =>
      Effect.gen(function*() {
        const arm = index([{ platform: "linux/arm64", image: image({ created: "2024-01-01T00:00:00Z" }) }])
        const server = yield* serve(registryHandler({ "shop/web": repo({ "9": arm }) }))
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/web")))
        assert.strictEqual(read.images.length, 0)
        assert.include(read.skipped[0]!.reason, "linux/arm64")
        assert.strictEqual(read.skipped[0]!.kind, "no-platform")
      }))

    it.live("a Helm chart pushed next to the images is skipped as an artifact, its config never fetched", () =>
      Effect.gen(function*() {
        const configBytes = "{\"name\":\"chart\"}"
        const chart = {
          config: { bytes: configBytes, digest: sha256(configBytes), mediaType: "application/vnd.cncf.helm.config.v1+json" },
          manifest: (() => {
            const bytes = JSON.stringify({
              schemaVersion: 2,
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: sha256(configBytes), size: configBytes.length },
              layers: []
            })
            return { bytes, digest: sha256(bytes), mediaType: "application/vnd.oci.image.manifest.v1+json" }
          })()
        }
        const server = yield* serve(registryHandler({ "shop/api": repo({ "1": api, "chart-1.0.0": chart }) }))
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/api")))
        assert.deepStrictEqual(read.images.map((i) => i.tag), ["1"])
        assert.include(read.skipped.find((s) => s.tag === "chart-1.0.0")!.reason, "helm")
        assert.strictEqual(read.skipped.find((s) => s.tag === "chart-1.0.0")!.kind, "artifact")
        assert.isFalse(server.seen.some((s) => s.path.endsWith(chart.config.digest)))
      }))

    it.live("a tag deleted since the listing, a garbled manifest and a schema1 manifest stored nowhere by its digest (a conversion) are skipped, each with its kind and what was found", () =>
      Effect.gen(function*() {
        const schema1 = JSON.stringify({ schemaVersion: 1, name: "shop/api", tag: "old", fsLayers: [], history: [] })
        const fixture = registryHandler({ "shop/api": repo({ "1-master": api }, ["1-master", "2-master", "3-master", "old"]) })
        const server = yield* serve((request) => {
          if (request.path.endsWith("/manifests/3-master")) {
            return { status: 200, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" }, body: "<html>proxy error</html>" }
          }
          if (request.path.endsWith("/manifests/old")) {
            return { status: 200, headers: { "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws" }, body: schema1 }
          }
          return fixture(request)
        })
        const read = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readRepository("shop/api")))
        assert.deepStrictEqual(read.images.map((i) => i.tag), ["1-master"])
        assert.deepStrictEqual(read.skipped.map((s) => [s.tag, s.kind]), [["2-master", "vanished"], ["3-master", "unreadable"], ["old", "schema1-conversion"]])
        assert.include(read.skipped[0]!.reason, "404")
        assert.include(read.skipped[1]!.reason, "not an OCI/Docker manifest")
      }))

    it.live("a reproducible build's 1970 config date is reported as read (the core decides it is unknown)", () =>
      Effect.gen(function*() {
        const jib = image({ created: "1970-01-01T00:00:00Z", labels: { "org.opencontainers.image.revision": "fromlabel" }, docker: true })
        const server = yield* serve(registryHandler({ "shop/jib": repo({ "3": jib }) }))
        const img = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readImage("shop/jib", "3")))
        assert.deepStrictEqual(img.dates, { config: "1970-01-01T00:00:00Z" })
        assert.strictEqual(img.revision, "fromlabel")
        assert.isUndefined(img.platform)
      }))

    it.live("a real created annotation spares the config blob: one request per image", () =>
      Effect.gen(function*() {
        const annotated = image({
          created: "1970-01-01T00:00:00Z",
          annotations: { "org.opencontainers.image.created": "2024-06-01T12:00:00Z", "org.opencontainers.image.revision": "fromannotation" }
        })
        const server = yield* serve(registryHandler({ "shop/api": repo({ "3": annotated }) }))
        const [img, stats] = yield* withRegistry({ url: server.url }, Registry.use((r) => Effect.all([r.readImage("shop/api", "3"), r.stats])))
        assert.deepStrictEqual(img.dates, { annotation: "2024-06-01T12:00:00Z" })
        assert.strictEqual(img.revision, "fromannotation")
        assert.strictEqual(stats.requestsByKind["blob"] ?? 0, 0)
        assert.isFalse(server.seen.some((s) => s.path.endsWith(annotated.config.digest)))
      }))

    it.live("a 1970 placeholder annotation does not count: the config blob is read for the date", () =>
      Effect.gen(function*() {
        const placeholder = image({ created: "2024-06-02T08:00:00Z", annotations: { "org.opencontainers.image.created": "1970-01-01T00:00:00Z" } })
        const server = yield* serve(registryHandler({ "shop/api": repo({ "4": placeholder }) }))
        const img = yield* withRegistry({ url: server.url }, Registry.use((r) => r.readImage("shop/api", "4")))
        assert.deepStrictEqual(img.dates, { annotation: "1970-01-01T00:00:00Z", config: "2024-06-02T08:00:00Z" })
      }))

    it.live("two tags on one digest cost one config request: nothing is requested twice in a run", () =>
      Effect.gen(function*() {
        const server = yield* serve(registryHandler({ "shop/api": repo({ "5-master": api, "latest": api }) }))
        const [read, stats] = yield* withRegistry(
          { url: server.url },
          Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats]))
        )
        assert.strictEqual(read.images.length, 2)
        assert.deepStrictEqual(stats.requestsByKind, { tags: 1, manifest: 2, blob: 1 })
      }))

    it.live("a manifest whose body does not match Docker-Content-Digest is a DigestMismatch", () =>
      Effect.gen(function*() {
        const server = yield* serve((request) =>
          request.path.endsWith("/manifests/1")
            ? {
              status: 200,
              headers: { "content-type": api.manifest.mediaType, "docker-content-digest": sha256("something else") },
              body: api.manifest.bytes
            }
            : registryHandler({ "shop/api": repo({ "1": api }) })(request)
        )
        const error = yield* failure(withRegistry({ url: server.url }, Registry.use((r) => r.readImage("shop/api", "1"))))
        assert.strictEqual(error.reason, "DigestMismatch")
        assert.strictEqual(error.repository, "shop/api")
      }))

    it.live("a config blob that does not hash to its digest is a DigestMismatch", () =>
      Effect.gen(function*() {
        const server = yield* serve((request) =>
          request.path.includes("/blobs/")
            ? { status: 200, body: "{\"created\":\"2099-01-01T00:00:00Z\"}" }
            : registryHandler({ "shop/api": repo({ "1": api }) })(request)
        )
        const error = yield* failure(withRegistry({ url: server.url }, Registry.use((r) => r.readImage("shop/api", "1"))))
        assert.strictEqual(error.reason, "DigestMismatch")
      }))
  })

  describe("transport: retries, redirects", () => {
    it.live("429 with Retry-After: 1 is waited out, then the tag list comes", () =>
      Effect.gen(function*() {
        let calls = 0
        const server = yield* serve((request) => {
          calls++
          if (calls === 1) return { status: 429, headers: { "retry-after": "1" }, body: "slow down" }
          return registryHandler({ "shop/api": repo({ "1": api }) })(request)
        })
        const started = Date.now()
        const tags = yield* withRegistry({ url: server.url }, Registry.use((r) => r.listTags("shop/api")))
        assert.deepStrictEqual(tags, ["1"])
        assert.strictEqual(server.seen.length, 2)
        assert.isAtLeast(Date.now() - started, 900)
      }))

    it.live("the pull limit the registry announces is kept in the stats (lowest remaining), with one warning when it runs low", () =>
      Effect.gen(function*() {
        const tags = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${i + 1}-master`, image({ created: `2024-01-0${i + 1}T00:00:00Z` })]))
        const fixture = registryHandler({ "shop/api": repo(tags) })
        let remaining = 14
        const server = yield* serve((request) => {
          const reply = fixture(request)
          if (reply === undefined) return undefined
          const left = Math.max(0, remaining--)
          return { ...reply, headers: { ...reply.headers, "ratelimit-limit": "100;w=21600", "ratelimit-remaining": `${left};w=21600` } }
        })
        const warnings: Array<string> = []
        const logger = Logger.make((options) => {
          if (options.logLevel === "Warn") warnings.push(String(options.message))
        })
        const stats = yield* withRegistry(
          { url: server.url },
          Registry.use((r) => Effect.andThen(r.readRepository("shop/api"), r.stats))
        ).pipe(Effect.provide(Logger.layer([logger])))
        const host = new URL(server.url).host
        assert.deepStrictEqual(stats.rateLimits[host], { limit: 100, remaining: 14 - (stats.requests - 1), windowSeconds: 21600 })
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!, host)
        assert.include(warnings[0]!, "of 100 requests left per 6 h")
      }))

    it.live("a 429 says how much of the announced limit is left, after the retries", () =>
      Effect.gen(function*() {
        const server = yield* serve(() => ({
          status: 429,
          headers: { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600", "retry-after": "0" },
          body: "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}"
        }))
        const error = yield* failure(withRegistry({ url: server.url, retries: 1 }, Registry.use((r) => r.listTags("shop/api"))))
        assert.strictEqual(error.reason, "RateLimited")
        assert.include(error.message, "0 of 100 requests left per 6 h")
        assert.include(error.message, "log in for a higher limit")
      }))

    it.live("a 500 is retried and the next answer is used", () =>
      Effect.gen(function*() {
        let calls = 0
        const server = yield* serve((request) => {
          calls++
          if (calls === 1) return { status: 500, body: "oops" }
          return registryHandler({ "shop/api": repo({ "1": api }) })(request)
        })
        const [tags, stats] = yield* withRegistry(
          { url: server.url },
          Registry.use((r) => Effect.all([r.listTags("shop/api"), r.stats]))
        )
        assert.deepStrictEqual(tags, ["1"])
        assert.strictEqual(stats.requests, 2)
      }))

    it.live("a registry that keeps failing gives up after the retries with an error naming the repository and what to do", () =>
      Effect.gen(function*() {
        const server = yield* serve(() => ({ status: 503, body: "down" }))
        const error = yield* failure(
          withRegistry({ url: server.url, retries: 2 }, Registry.use((r) => r.listTags("shop/api")))
        )
        assert.strictEqual(error.reason, "ServerError")
        assert.strictEqual(error.repository, "shop/api")
        assert.include(error.message, "shop/api")
        assert.include(error.message, "3 attempts")
        assert.strictEqual(server.seen.length, 3)
      }))

    it.live("a hanging registry times out per request", () =>
      Effect.gen(function*() {
        const server = yield* serve(() => new Promise<Reply>((resolve) => setTimeout(() => resolve({ status: 200, body: "{}" }), 2_000)))
        const error = yield* failure(
          withRegistry({ url: server.url, retries: 0, requestTimeoutMs: 200 }, Registry.use((r) => r.listTags("shop/api")))
        )
        assert.strictEqual(error.reason, "Timeout")
      }))

    it.live("a refused connection is Unreachable after retries", () =>
      Effect.gen(function*() {
        const server = yield* serve(() => undefined)
        const url = server.url
        yield* Effect.promise(() => server.close())
        const error = yield* failure(withRegistry({ url, retries: 1 }, Registry.use((r) => r.listTags("shop/api"))))
        assert.strictEqual(error.reason, "Unreachable")
        assert.include(error.message, "shop/api")
      }))

    it.live("a connection reset is retried like a 5xx", () =>
      Effect.gen(function*() {
        let calls = 0
        const server = yield* serve((request) => {
          calls++
          return calls === 1 ? { status: 0, destroy: true } : registryHandler({ "shop/api": repo({ "1": api }) })(request)
        })
        const tags = yield* withRegistry({ url: server.url }, Registry.use((r) => r.listTags("shop/api")))
        assert.deepStrictEqual(tags, ["1"])
        assert.strictEqual(server.seen.length, 2)
      }))

    it.live("when resets never stop, the error names the repository and carries neither password nor Authorization", () =>
      Effect.gen(function*() {
        const server = yield* serve((request) =>
          request.headers["authorization"] === undefined
            ? { status: 401, headers: { "www-authenticate": "Basic realm=\"r\"" } }
            : { status: 0, destroy: true }
        )
        const error = yield* failure(withRegistry(
          { url: server.url, retries: 1, credentials: { username: "ci", password: Redacted.make("pw-never-shown") } },
          Registry.use((r) => r.listTags("shop/api"))
        ))
        assert.strictEqual(error.reason, "Unreachable")
        assert.include(error.message, "shop/api")
        const everything = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify(error.cause)} ${error.stack}`
        assert.notInclude(everything, "pw-never-shown")
        assert.notInclude(everything, Buffer.from("ci:pw-never-shown").toString("base64"))
      }))

    {
      it.live(`a blob redirect to another host (CDN) is followed without the registry's Authorization`, () =>
        Effect.gen(function*() {
          const cdn = yield* serve((request) => {
            const found = request.path === "/blob" ? api.config : undefined
            return found === undefined ? undefined : { status: 200, body: found.bytes }
          })
          const expected = `Basic ${Buffer.from("ci:s3cret").toString("base64")}`
          const registry = yield* serve((request) => {
            if (request.headers["authorization"] !== expected) {
              return { status: 401, headers: { "www-authenticate": "Basic realm=\"registry\"" }, body: "" }
            }
            if (request.path.includes("/blobs/")) {
              return { status: 307, headers: { location: `${cdn.url}/blob?X-Amz-Signature=secret` } }
            }
            return registryHandler({ "shop/api": repo({ "1": api }) })(request)
          })
          const [img, stats] = yield* Registry.use((r) => Effect.all([r.readImage("shop/api", "1"), r.stats])).pipe(
            Effect.provide(
              Registry.layer({ url: registry.url, credentials: { username: "ci", password: Redacted.make("s3cret") } }).pipe(
                Layer.provide(Layer.mergeAll(wire, NodeFileSystem.layer))
              )
            )
          )
          assert.strictEqual(img.dates.config, "2024-03-01T10:00:00Z")
          // The client followed the redirect itself (fetch told redirect: "manual"): two blob requests.
          assert.strictEqual(stats.requestsByKind["blob"], 2)
          assert.isTrue(registry.seen.some((s) => s.path.includes("/blobs/") && s.headers["authorization"] === expected))
          assert.strictEqual(cdn.seen.length, 1)
          assert.isUndefined(cdn.seen[0]!.headers["authorization"])
        }))
    }
  })

  describe("auth", () => {
    const bearerRegistry = (tokenServer: LoopbackServer, fixture: ReturnType<typeof registryHandler>) => (request: Seen) => {
      const auth = request.headers["authorization"]
      if (auth === undefined || !/^Bearer tok-\d+$/.test(auth)) {
        return {
          status: 401,
          headers: {
            "www-authenticate": `Bearer realm="${tokenServer.url}/token",service="fake-registry",scope="repository:${/^\/v2\/(.+?)\/(tags|manifests|blobs)\//.exec(request.path)?.[1] ?? "shop/api"}:pull"`
          }
        }
      }
      return fixture(request)
    }

    it.effect("one bearer token serves many manifests, and a new one is fetched after expires_in (TestClock)", () =>
      Effect.gen(function*() {
        let issued = 0
        const tokens = yield* serve((request) => {
          if (request.path !== "/token") return undefined
          issued++
          return jsonReply({ token: `tok-${issued}`, expires_in: 300 })
        })
        const images = Object.fromEntries(
          Array.from({ length: 5 }, (_, i) => [`${i}-master`, image({ created: `2024-01-0${i + 1}T00:00:00Z` })])
        )
        const registry = yield* serve(bearerRegistry(tokens, registryHandler({ "shop/api": repo(images) })))
        yield* withRegistry(
          { url: registry.url, credentials: { username: "ci", password: Redacted.make("pw") } },
          Effect.gen(function*() {
            const r = yield* Registry
            const first = yield* r.readRepository("shop/api")
            assert.strictEqual(first.images.length, 5)
            assert.strictEqual(tokens.seen.length, 1)
            const tokenRequest = tokens.seen[0]!
            assert.strictEqual(tokenRequest.query.get("service"), "fake-registry")
            assert.strictEqual(tokenRequest.query.get("scope"), "repository:shop/api:pull")
            assert.strictEqual(tokenRequest.headers["authorization"], `Basic ${Buffer.from("ci:pw").toString("base64")}`)
            yield* TestClock.adjust("301 seconds")
            yield* r.listTags("shop/api")
            assert.strictEqual(tokens.seen.length, 2)
            // Only the very first request went out without a token (the challenge).
            assert.strictEqual(registry.seen.filter((s) => s.headers["authorization"] === undefined).length, 1)
            assert.strictEqual(registry.seen.at(-1)!.headers["authorization"], "Bearer tok-2")
          })
        )
      }))

    it.live("a cold run over many repositories learns a Basic challenge once: one anonymous request in all, no tag list sent twice", () =>
      Effect.gen(function*() {
        const expected = `Basic ${Buffer.from("ci:pw").toString("base64")}`
        const names = ["shop/a", "shop/b", "shop/c", "shop/d", "shop/e"]
        const fixture = registryHandler(Object.fromEntries(names.map((n) => [n, repo({ "1-master": api })])))
        const registry = yield* serve((request) =>
          request.headers["authorization"] === expected
            ? fixture(request)
            : { status: 401, headers: { "www-authenticate": "Basic realm=\"r\"" } }
        )
        const reads = yield* withRegistry(
          { url: registry.url, credentials: { username: "ci", password: Redacted.make("pw") } },
          Effect.forEach(names, (name) => Registry.use((r) => r.readRepository(name)), { concurrency: "unbounded" })
        )
        assert.deepStrictEqual(reads.map((r) => r.images.length), [1, 1, 1, 1, 1])
        assert.strictEqual(registry.seen.filter((s) => s.headers["authorization"] === undefined).length, 1)
        assert.strictEqual(registry.seen.filter((s) => s.path.endsWith("/tags/list")).length, names.length + 1)
      }))

    it.live("a cold bearer run over many repositories: one anonymous request, one token per repository, each tag list sent once with it", () =>
      Effect.gen(function*() {
        let issued = 0
        const tokens = yield* serve((request) => {
          if (request.path !== "/token") return undefined
          issued++
          return jsonReply({ token: `tok-${issued}`, expires_in: 300 })
        })
        const names = ["shop/a", "shop/b", "shop/c", "shop/d"]
        const registry = yield* serve(bearerRegistry(tokens, registryHandler(Object.fromEntries(names.map((n) => [n, repo({ "1-master": api })])))))
        yield* withRegistry(
          { url: registry.url, credentials: { username: "ci", password: Redacted.make("pw") } },
          Effect.forEach(names, (name) => Registry.use((r) => r.readRepository(name)), { concurrency: "unbounded" })
        )
        assert.strictEqual(registry.seen.filter((s) => s.headers["authorization"] === undefined).length, 1)
        assert.strictEqual(registry.seen.filter((s) => s.path.endsWith("/tags/list")).length, names.length + 1)
        assert.sameMembers(tokens.seen.map((s) => s.query.get("scope")), names.map((n) => `repository:${n}:pull`))
      }))

    it.live("a host that never answers the first request fails every waiting repository with it, without a retry cycle each", () =>
      Effect.gen(function*() {
        const server = yield* serve(() => ({ status: 0, destroy: true }))
        const errors = yield* withRegistry(
          { url: server.url, retries: 1 },
          Effect.forEach(["shop/a", "shop/b", "shop/c"], (name) => Effect.flip(Registry.use((r) => r.listTags(name))), { concurrency: "unbounded" })
        )
        assert.deepStrictEqual(errors.map((e) => [e.reason, e.repository]), [["Unreachable", "shop/a"], ["Unreachable", "shop/b"], ["Unreachable", "shop/c"]])
        // The first request and its one retry; the two others were never sent.
        assert.strictEqual(server.seen.length, 2)
      }))

    it.live("anonymous bearer (Docker Hub, GHCR public images): the token is asked for without credentials", () =>
      Effect.gen(function*() {
        const tokens = yield* serve((request) => request.path === "/token" ? jsonReply({ access_token: "tok-1" }) : undefined)
        const registry = yield* serve(bearerRegistry(tokens, registryHandler({ "shop/api": repo({ "1": api }) })))
        const img = yield* withRegistry({ url: registry.url }, Registry.use((r) => r.readImage("shop/api", "1")))
        assert.strictEqual(img.digest, api.manifest.digest)
        assert.strictEqual(tokens.seen.length, 1)
        assert.isUndefined(tokens.seen[0]!.headers["authorization"])
      }))

    it.live("a token server refusing the credentials is Unauthorized with the advice, without the password", () =>
      Effect.gen(function*() {
        const tokens = yield* serve(() => ({ status: 401, body: "{\"details\":\"incorrect username or password\"}" }))
        const registry = yield* serve(bearerRegistry(tokens, registryHandler({ "shop/api": repo({ "1": api }) })))
        const error = yield* failure(withRegistry(
          { url: registry.url, credentials: { username: "ci", password: Redacted.make("wrong-pw-123") } },
          Registry.use((r) => r.listTags("shop/api"))
        ))
        assert.strictEqual(error.reason, "Unauthorized")
        assert.include(error.message, "REGISTRY_PASSWORD")
        assert.notInclude(error.message, "wrong-pw-123")
      }))

    it.live("wrong credentials are Unauthorized, saying to check REGISTRY_USERNAME/REGISTRY_PASSWORD, never showing the password", () =>
      Effect.gen(function*() {
        const registry = yield* serve(() => ({ status: 401, headers: { "www-authenticate": "Basic realm=\"r\"" } }))
        const error = yield* failure(withRegistry(
          { url: registry.url, credentials: { username: "ci", password: Redacted.make("hunter2-secret") } },
          Registry.use((r) => r.listTags("shop/api"))
        ))
        assert.strictEqual(error.reason, "Unauthorized")
        assert.include(error.message, "REGISTRY_USERNAME")
        assert.include(error.message, "REGISTRY_PASSWORD")
        assert.notInclude(error.message, "hunter2-secret")
        assert.notInclude(JSON.stringify(error), "hunter2-secret")
        assert.notInclude(String(error), "hunter2-secret")
      }))

    it.live("a token with a byte the HTTP stack refuses never reaches the error: the header value is scrubbed from the failure", () =>
      Effect.gen(function*() {
        // fetch echoes a refused header value in its TypeError ("Headers.append: \"Bearer …\" is an invalid header value").
        const secret = "tok\nsecret-token-part-4711"
        const tokens = yield* serve((request) => request.path === "/token" ? jsonReply({ token: secret, expires_in: 300 }) : undefined)
        const registry = yield* serve(bearerRegistry(tokens, registryHandler({ "shop/api": repo({ "1": api }) })))
        const error = yield* failure(withRegistry(
          { url: registry.url, retries: 0, credentials: { username: "ci", password: Redacted.make("pw-never-shown") } },
          Registry.use((r) => r.listTags("shop/api"))
        ))
        assert.strictEqual(error.repository, "shop/api")
        const everything = `${error.message} ${String(error)} ${JSON.stringify(error)} ${String(error.cause)} ${error.stack}`
        assert.notInclude(everything, "secret-token-part-4711")
        assert.notInclude(everything, "pw-never-shown")
        // The registry itself never saw a request with that token.
        assert.isFalse(registry.seen.some((s) => String(s.headers["authorization"] ?? "").includes("secret-token-part")))
      }))

    it.live("a registry wanting credentials when none were given says how to give them", () =>
      Effect.gen(function*() {
        const registry = yield* serve(() => ({ status: 401, headers: { "www-authenticate": "Basic realm=\"r\"" } }))
        const error = yield* failure(withRegistry({ url: registry.url }, Registry.use((r) => r.listTags("shop/api"))))
        assert.strictEqual(error.reason, "Unauthorized")
        assert.include(error.message, "REGISTRY_USERNAME")
      }))
  })

  describe("persistent cache", () => {
    const dirs: Array<string> = []
    const tmp = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-cache-"))
      dirs.push(dir)
      return dir
    }
    // Also when a test fails before its own clean-up.
    afterAll(() => dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))
    // As `get` decides with the default scheme: build-numbered tags are immutable, `latest` may move.
    const isMutableTag = isMutableUnder(TAG_SCHEME_PRESETS["build-branch"]!)

    it.live("a second run with the same cache directory asks only for the tag list; with verifyTags one HEAD per tag", () =>
      Effect.gen(function*() {
        const cacheDir = tmp()
        const multi = index([{ platform: "linux/amd64", image: image({ created: "2024-05-01T00:00:00Z" }) }])
        const fixture = {
          "shop/api": repo({
            "1-master": image({ created: "2024-01-01T00:00:00Z" }),
            "2-master": image({ created: "2024-01-02T00:00:00Z" }),
            "3-master": multi
          })
        }
        const server = yield* serve(registryHandler(fixture))
        const read = Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats]))
        const [cold, coldStats] = yield* withRegistry({ url: server.url, cacheDir, isMutableTag }, read)
        assert.strictEqual(coldStats.requestsByKind["tags"], 1)
        assert.strictEqual(coldStats.requests, 1 + 2 * 2 + 3)
        const [warm, warmStats] = yield* withRegistry({ url: server.url, cacheDir, isMutableTag }, read)
        assert.deepStrictEqual(warm, cold)
        assert.deepStrictEqual(warmStats.requestsByKind, { tags: 1 })
        assert.strictEqual(warmStats.cacheHits, 3)
        const [verified, verifyStats] = yield* withRegistry({ url: server.url, cacheDir, isMutableTag, verifyTags: true }, read)
        assert.deepStrictEqual(verified, cold)
        assert.deepStrictEqual(verifyStats.requestsByKind, { tags: 1, "manifest-head": 3 })
        fs.rmSync(cacheDir, { recursive: true, force: true })
      }))

    it.live("a re-pushed build tag is only noticed with verifyTags (build tags are immutable by convention)", () =>
      Effect.gen(function*() {
        const cacheDir = tmp()
        const v1 = image({ created: "2024-01-01T00:00:00Z" })
        const v2 = image({ created: "2024-02-01T00:00:00Z" })
        let current = repo({ "42-master": v1 })
        const server = yield* serve((request) => registryHandler({ "shop/api": current })(request))
        yield* withRegistry({ url: server.url, cacheDir, isMutableTag }, Registry.use((r) => r.readRepository("shop/api")))
        current = repo({ "42-master": v2 })
        const stale = yield* withRegistry({ url: server.url, cacheDir, isMutableTag }, Registry.use((r) => r.readImage("shop/api", "42-master")))
        assert.strictEqual(stale.digest, v1.manifest.digest)
        const fresh = yield* withRegistry(
          { url: server.url, cacheDir, isMutableTag, verifyTags: true },
          Registry.use((r) => r.readImage("shop/api", "42-master"))
        )
        assert.strictEqual(fresh.digest, v2.manifest.digest)
        assert.strictEqual(fresh.dates.config, "2024-02-01T00:00:00Z")
        fs.rmSync(cacheDir, { recursive: true, force: true })
      }))

    it.live("a moved `latest` is noticed on a warm run without verifyTags: floating tags cost one HEAD, build tags none", () =>
      Effect.gen(function*() {
        const cacheDir = tmp()
        const v1 = image({ created: "2024-01-01T00:00:00Z" })
        const v2 = image({ created: "2024-02-01T00:00:00Z" })
        let current = repo({ "1-master": v1, latest: v1 })
        const server = yield* serve((request) => registryHandler({ "shop/api": current })(request))
        yield* withRegistry({ url: server.url, cacheDir, isMutableTag }, Registry.use((r) => r.readRepository("shop/api")))
        current = repo({ "1-master": v1, "2-master": v2, latest: v2 })
        const [warm, stats] = yield* withRegistry(
          { url: server.url, cacheDir, isMutableTag },
          Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats]))
        )
        assert.deepStrictEqual(
          warm.images.map((i) => [i.tag, i.digest]),
          [["1-master", v1.manifest.digest], ["2-master", v2.manifest.digest], ["latest", v2.manifest.digest]]
        )
        // tags/list, HEAD latest, GET 2-master (+ its config); latest's new digest is then known.
        assert.deepStrictEqual(stats.requestsByKind, { tags: 1, "manifest-head": 1, manifest: 1, blob: 1 })
        fs.rmSync(cacheDir, { recursive: true, force: true })
      }))
  })
}

for (const [name, wire] of WIRES) describe(`over ${name}`, () => suite(wire))

describe("a cache directory shared by two processes", () => {
  const tsxCli = path.resolve(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs")
  const writer = path.resolve(import.meta.dirname, "cacheWriter.ts")
  const runWriter = (input: unknown) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, [tsxCli, writer, JSON.stringify(input)], { timeout: 60_000 }, (error, stdout, stderr) =>
        done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
      )
    )

  it.live("two runs writing different entries of one repository at the same time: both survive, and the cache stays readable", () =>
    Effect.gen(function*() {
      const cacheDir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-cache-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const names = Array.from({ length: 10 }, (_, i) => `${i + 1}-master`)
      const tags = Object.fromEntries(names.map((name, i) => [name, image({ created: `2024-01-01T00:00:${String(i).padStart(2, "0")}Z` })]))
      const repositories = Array.from({ length: 10 }, (_, i) => `shop/r${i}`)
      const fixture = registryHandler(Object.fromEntries(repositories.map((r) => [r, repo(tags)])))
      // The config blobs of a repository are answered only when both processes asked for all of
      // theirs: both then write that repository's cache at the same moment.
      const waiting = new Map<string, Array<() => void>>()
      let writersDone = false
      // Which releases happened: both writers' requests together (the overlap the test is about),
      // or the fallback timer (a writer never came: the overlap did not happen).
      let releasedTogether = 0
      let releasedByTimer = 0
      const server = yield* serve((request) => {
        const blob = /^\/v2\/(.+)\/blobs\//.exec(request.path)
        if (blob === null || writersDone) return fixture(request)
        return new Promise((resolve) => {
          const queue = waiting.get(blob[1]!) ?? []
          queue.push(() => resolve(fixture(request)))
          waiting.set(blob[1]!, queue)
          if (queue.length === names.length) {
            releasedTogether++
            for (const release of queue.splice(0)) release()
          } // Never hang the test on a writer that died: release after a while anyway (and fail below).
          else if (queue.length === 1) {
            setTimeout(() => {
              const left = queue.splice(0)
              if (left.length > 0) releasedByTimer++
              for (const release of left) release()
            }, 10_000).unref()
          }
        })
      })
      const odd = names.filter((_, i) => i % 2 === 0)
      const even = names.filter((_, i) => i % 2 === 1)
      const [a, b] = yield* Effect.promise(() =>
        Promise.all([
          runWriter({ url: server.url, cacheDir, repositories, tags: odd }),
          runWriter({ url: server.url, cacheDir, repositories, tags: even })
        ])
      )
      writersDone = true
      assert.strictEqual(a.code, 0, a.stderr)
      assert.deepStrictEqual(
        { releasedTogether, releasedByTimer },
        { releasedTogether: repositories.length, releasedByTimer: 0 },
        "both writers asked for every repository's configs at the same time"
      )
      assert.strictEqual(b.code, 0, b.stderr)
      assert.deepStrictEqual(JSON.parse(a.stdout), Object.fromEntries(repositories.map((r) => [r, odd.length])))
      assert.deepStrictEqual(JSON.parse(b.stdout), Object.fromEntries(repositories.map((r) => [r, even.length])))
      // Every file left is whole JSON (no torn write), and no temporary file is left.
      const files = fs.readdirSync(cacheDir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(cacheDir, f)).isFile())
      assert.deepStrictEqual(files.filter((f) => f.endsWith(".tmp")), [])
      for (const file of files) JSON.parse(fs.readFileSync(path.join(cacheDir, file), "utf8"))
      // A third run finds both processes' entries of every repository: only the tag lists are asked for.
      const [warm, stats] = yield* Registry.use((r) =>
        Effect.all([Effect.forEach(repositories, (name) => r.readRepository(name, { isMutableTag: () => false })), r.stats])
      ).pipe(
        Effect.provide(Registry.layer({ url: server.url, cacheDir }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))))
      )
      assert.deepStrictEqual(warm.map((read) => read.images.length), repositories.map(() => names.length))
      assert.deepStrictEqual(stats.requestsByKind, { tags: repositories.length }, "entries were lost")
      // That run folded the deltas: one file per repository.
      const after = fs.readdirSync(cacheDir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"))
      assert.strictEqual(after.length, repositories.length, after.join(", "))
    }).pipe(Effect.scoped), 60_000)
})
