/**
 * @module DockerHub.test — the optional Docker Hub web API against a loopback stand-in of the
 * test's own serving the documented shapes (FACTS.md "Docker Hub web API"): tags, digests and
 * push times in pages of 100 following `next`, `X-RateLimit-*` read, a 429 with `X-Retry-After`
 * (unix time) waited out; dates still from the registry API by digest, cached forever. Docker
 * Hub itself is not reachable from here.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { RegistryConfig } from "../../lib/registry/Registry.ts"
import { getRollbacks } from "../../lib/workflow/GetRollbacks.ts"
import { image, index, registryHandler, repo, startServer } from "./fakeRegistry.ts"
import type { ImageFixture, LoopbackServer, Reply, Seen, Stored } from "./fakeRegistry.ts"

const serve = (handle: (request: Seen) => Reply | undefined | Promise<Reply | undefined>) =>
  Effect.acquireRelease(Effect.promise(() => startServer(handle)), (server) => Effect.promise(() => server.close()))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-hub-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A tag as the Hub lists it: `digest` (the index's for multi-platform tags), `images[]` per platform. */
interface HubEntry {
  readonly name: string
  readonly digest: string
  readonly tag_last_pushed: string
  readonly images: ReadonlyArray<{ architecture: string; os: string; variant?: string | null; digest: string; last_pushed: string }>
}

const single = (name: string, fixture: ImageFixture, pushed: string, architecture = "amd64"): HubEntry => ({
  name,
  digest: fixture.manifest.digest,
  tag_last_pushed: pushed,
  images: [{ architecture, os: "linux", variant: null, digest: fixture.manifest.digest, last_pushed: pushed }]
})

const multi = (name: string, manifest: Stored, children: ReadonlyArray<readonly [string, ImageFixture]>, pushed: string): HubEntry => ({
  name,
  digest: manifest.digest,
  tag_last_pushed: pushed,
  images: [
    ...children.map(([platform, child]) => ({ architecture: platform.split("/")[1]!, os: "linux", digest: child.manifest.digest, last_pushed: pushed })),
    { architecture: "unknown", os: "unknown", digest: "sha256:" + "0".repeat(64), last_pushed: pushed }
  ]
})

/** The Hub stand-in: `/v2/namespaces/{ns}/repositories/{repo}/tags` in pages of `page_size`, `next` absolute. */
const hubHandler = (
  repositories: Record<string, ReadonlyArray<HubEntry>>,
  options: { readonly headers?: () => Record<string, string>; readonly before?: (request: Seen) => Reply | undefined } = {}
) =>
(base: () => string) =>
(request: Seen): Reply | undefined => {
  const early = options.before?.(request)
  if (early !== undefined) return early
  const match = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags$/.exec(request.path)
  if (match === null) return undefined
  const entries = repositories[`${match[1]}/${match[2]}`]
  if (entries === undefined) return { status: 404, headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "object not found", errinfo: {} }) }
  const size = Number(request.query.get("page_size") ?? 10)
  const page = Number(request.query.get("page") ?? 1)
  const results = entries.slice((page - 1) * size, page * size)
  const more = page * size < entries.length
  return {
    status: 200,
    headers: { "content-type": "application/json", ...options.headers?.() },
    body: JSON.stringify({
      count: entries.length,
      next: more ? `${base()}${request.path}?page=${page + 1}&page_size=${size}` : null,
      previous: page > 1 ? `${base()}${request.path}?page=${page - 1}&page_size=${size}` : null,
      results
    })
  }
}

const serveHub = (handler: ReturnType<typeof hubHandler>) =>
  Effect.gen(function*() {
    let url = ""
    const server = yield* serve(handler(() => url))
    url = server.url
    return server
  })

const withRegistry = <A, E>(registry: LoopbackServer, hub: LoopbackServer, config: Omit<RegistryConfig, "url">, body: Effect.Effect<A, E, Registry>) =>
  Effect.provide(
    body,
    Registry.layer({ url: registry.url, dockerHubApi: { url: hub.url }, ...config }).pipe(
      Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))
    )
  )

const pushedAt = (i: number) => new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString()

describe("Docker Hub web API", () => {
  it.live("250 tags come in pages of 100 following next; digests from the Hub, no tags/list and no manifest GET by tag; push times kept", () =>
    Effect.gen(function*() {
      const images = Array.from({ length: 250 }, (_, i) => image({ created: `2026-01-01T00:00:00Z`, labels: { n: String(i) } }))
      const fixture = repo(Object.fromEntries(images.map((fixture, i) => [`${i + 1}-master`, fixture])))
      const registry = yield* serve(registryHandler({ "shop/api": fixture }))
      const hub = yield* serveHub(hubHandler({
        "shop/api": images.map((fixture, i) => single(`${i + 1}-master`, fixture, pushedAt(i)))
      }, { headers: () => ({ "x-ratelimit-limit": "180", "x-ratelimit-remaining": "170", "x-ratelimit-reset": "1772323260" }) }))
      const [read, stats] = yield* withRegistry(registry, hub, {}, Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats])))
      assert.strictEqual(read.images.length, 250)
      const first = read.images.find((i) => i.tag === "1-master")!
      assert.deepStrictEqual(first, {
        repository: "shop/api",
        tag: "1-master",
        digest: images[0]!.manifest.digest,
        dates: { config: "2026-01-01T00:00:00Z", push: pushedAt(0) }
      })
      assert.deepStrictEqual(hub.seen.map((s) => [s.query.get("page"), s.query.get("page_size")]), [[null, "100"], ["2", "100"], ["3", "100"]])
      assert.isFalse(registry.seen.some((s) => s.path.endsWith("/tags/list")))
      assert.isFalse(registry.seen.some((s) => /\/manifests\/\d+-master$/.test(s.path)), "manifests are read by digest only")
      assert.deepStrictEqual(stats.requestsByKind, { hub: 3, manifest: 250, blob: 250 })
      assert.deepStrictEqual(stats.rateLimits[hub.host], { limit: 180, remaining: 170, resetAt: 1772323260000 })
    }).pipe(Effect.scoped))

  it.live("the push time is the date of last resort: an image without annotation or config date is dated by tag_last_pushed", () =>
    Effect.gen(function*() {
      const undated = image({})
      const dated = image({ created: "2026-02-01T00:00:00Z" })
      const registry = yield* serve(registryHandler({ "shop/api": repo({ "1-master": undated, "2-master": dated }) }))
      const hub = yield* serveHub(hubHandler({
        "shop/api": [single("1-master", undated, "2026-01-15T10:00:00.000Z"), single("2-master", dated, "2026-02-02T00:00:00.000Z")]
      }))
      const result = yield* getRollbacks({
        services: [{ name: "api", repository: "shop/api" }],
        registryUrl: registry.url,
        scheme: TAG_SCHEME_PRESETS["build-branch"]!,
        schemeName: "build-branch",
        environment: "master",
        tagFilter: "master",
        granularity: "instant",
        timeZone: "UTC"
      }).pipe((effect) => withRegistry(registry, hub, {}, effect))
      assert.deepStrictEqual(
        result.file.images["api"]!.map((i) => [i.tag, i.created, i.dateSource]),
        [["2-master", "2026-02-01T00:00:00.000Z", "config"], ["1-master", "2026-01-15T10:00:00.000Z", "push"]]
      )
      assert.deepStrictEqual(result.ignored["api"]!.unknownDate, [])
    }).pipe(Effect.scoped))

  it.live("a 429 with X-Retry-After (a unix time) is waited out, then the page comes", () =>
    Effect.gen(function*() {
      const one = image({ created: "2026-01-01T00:00:00Z" })
      const registry = yield* serve(registryHandler({ "shop/api": repo({ "1-master": one }) }))
      let refused = false
      const hub = yield* serveHub(hubHandler({ "shop/api": [single("1-master", one, pushedAt(1))] }, {
        before: () => {
          if (refused) return undefined
          refused = true
          return {
            status: 429,
            headers: { "x-retry-after": String(Math.ceil(Date.now() / 1000) + 1), "x-ratelimit-limit": "180", "x-ratelimit-remaining": "0" },
            body: "{\"message\":\"too many requests\"}"
          }
        }
      }))
      const started = Date.now()
      const read = yield* withRegistry(registry, hub, {}, Registry.use((r) => r.readRepository("shop/api")))
      assert.strictEqual(read.images.length, 1)
      assert.strictEqual(hub.seen.length, 2)
      assert.isAtLeast(Date.now() - started, 900)
    }).pipe(Effect.scoped))

  it.live("an index the Hub lists without the wanted platform is skipped without a request; with it, the index and the child are read by digest", () =>
    Effect.gen(function*() {
      const arm = image({ created: "2026-03-01T00:00:00Z", architecture: "arm64" })
      const amd = image({ created: "2026-03-02T00:00:00Z" })
      const armOnly = index([{ platform: "linux/arm64", image: arm }])
      const both = index([{ platform: "linux/arm64", image: arm }, { platform: "linux/amd64", image: amd }], { annotations: { "org.opencontainers.image.revision": "r5" } })
      const registry = yield* serve(registryHandler({ "shop/web": repo({ "4-master": armOnly, "5-master": both }) }))
      const hub = yield* serveHub(hubHandler({
        "shop/web": [
          multi("4-master", armOnly.manifest, [["linux/arm64", arm]], pushedAt(4)),
          multi("5-master", both.manifest, [["linux/arm64", arm], ["linux/amd64", amd]], pushedAt(5))
        ]
      }))
      const read = yield* withRegistry(registry, hub, {}, Registry.use((r) => r.readRepository("shop/web")))
      assert.deepStrictEqual(read.skipped.map((s) => [s.tag, s.kind]), [["4-master", "no-platform"]])
      assert.include(read.skipped[0]!.reason, "linux/arm64")
      assert.isFalse(registry.seen.some((s) => s.path.endsWith(armOnly.manifest.digest)), "the arm-only index is never fetched")
      assert.deepStrictEqual(read.images, [{
        repository: "shop/web",
        tag: "5-master",
        digest: both.manifest.digest,
        dates: { config: "2026-03-02T00:00:00Z", push: pushedAt(5) },
        revision: "r5",
        platform: "linux/amd64"
      }])
    }).pipe(Effect.scoped))

  it.live("a warm run asks only the Hub: a moved tag's new digest comes from it, without a HEAD; known digests are cached forever", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      const v1 = image({ created: "2026-01-01T00:00:00Z" })
      const v2 = image({ created: "2026-01-02T00:00:00Z" })
      const registry = yield* serve(registryHandler({ "shop/api": repo({ "1-master": v1, "2-master": v2 }) }))
      let latest = v1
      const hub = yield* serveHub(hubHandler({ "shop/api": [] }, {
        before: (request) =>
          hubHandler({ "shop/api": [single("1-master", v1, pushedAt(1)), single("latest", latest, pushedAt(2))] })(() => "")(request)
      }))
      yield* withRegistry(registry, hub, { cacheDir }, Registry.use((r) => r.readRepository("shop/api")))
      const coldRegistryRequests = registry.seen.length
      const warm = yield* withRegistry(registry, hub, { cacheDir }, Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats])))
      assert.deepStrictEqual(warm[1].requestsByKind, { hub: 1 })
      assert.strictEqual(registry.seen.length, coldRegistryRequests)
      latest = v2
      const moved = yield* withRegistry(registry, hub, { cacheDir }, Registry.use((r) => Effect.all([r.readRepository("shop/api"), r.stats])))
      assert.strictEqual(moved[0].images.find((i) => i.tag === "latest")!.digest, v2.manifest.digest)
      assert.deepStrictEqual(moved[1].requestsByKind, { hub: 1, manifest: 1, blob: 1 })
    }).pipe(Effect.scoped))

  it.live("a repository the Hub does not show (private, 404) is read through the registry API instead, with a warning", () =>
    Effect.gen(function*() {
      const one = image({ created: "2026-01-01T00:00:00Z" })
      const registry = yield* serve(registryHandler({ "shop/private": repo({ "1-master": one }) }))
      const hub = yield* serveHub(hubHandler({}))
      const warnings: Array<string> = []
      const read = yield* withRegistry(registry, hub, {}, Registry.use((r) => r.readRepository("shop/private"))).pipe(
        Effect.provide(Logger.layer([Logger.make((o) => o.logLevel === "Warn" && warnings.push(String(o.message)))]))
      )
      assert.deepStrictEqual(read.images.map((i) => i.tag), ["1-master"])
      assert.isTrue(registry.seen.some((s) => s.path.endsWith("/tags/list")))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, "shop/private")
    }).pipe(Effect.scoped))

  it.live("a next page on another host is refused (InsecureLink), and that host never hears from us", () =>
    Effect.gen(function*() {
      const elsewhere = yield* serve(() => undefined)
      const registry = yield* serve(registryHandler({}))
      const hub = yield* serve(() => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ count: 2, next: `${elsewhere.url}/v2/namespaces/shop/repositories/api/tags?page=2&token=secret-query`, results: [] })
      }))
      const error = yield* Effect.flip(withRegistry(registry, hub, {}, Registry.use((r) => r.readRepository("shop/api"))))
      assert.strictEqual(error.reason, "InsecureLink")
      assert.notInclude(error.message, "secret-query")
      assert.strictEqual(elsewhere.seen.length, 0)
    }).pipe(Effect.scoped))

  it.live("asked for on a registry that is not Docker Hub, without naming the API's URL: InvalidInput before any request", () =>
    Effect.gen(function*() {
      const registry = yield* serve(registryHandler({ "shop/api": repo({}) }))
      const error = yield* Effect.flip(
        Registry.use((r) => r.readRepository("shop/api")).pipe(
          Effect.provide(Registry.layer({ url: registry.url, dockerHubApi: {} }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))))
        )
      )
      assert.strictEqual(error.reason, "InvalidInput")
      assert.include(error.message, "not Docker Hub")
      assert.strictEqual(registry.seen.length, 0)
    }).pipe(Effect.scoped))

  for (const [what, url, mentions] of [
    ["a URL that is not http(s)", "ftp://hub.example.com", "is not an http:// or https:// URL"],
    ["a URL carrying credentials", "https://robot:s3cr3t@hub.example.com", "must not carry credentials"]
  ] as const) {
    it.live(`the API's URL is checked by the client itself: ${what} is InvalidInput before any request, never showing a password`, () =>
      Effect.gen(function*() {
        const registry = yield* serve(registryHandler({ "shop/api": repo({}) }))
        const error = yield* Effect.flip(
          Registry.use((r) => r.readRepository("shop/api")).pipe(
            Effect.provide(Registry.layer({ url: registry.url, dockerHubApi: { url } }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer))))
          )
        )
        assert.strictEqual(error.reason, "InvalidInput")
        assert.isUndefined(error.repository, "a setting of the client, not of one repository")
        assert.include(error.message, mentions)
        assert.notInclude(error.message, "s3cr3t")
        assert.strictEqual(registry.seen.length, 0)
      }).pipe(Effect.scoped))
  }
})
