/**
 * @module anonymous real-registry tests — the client against Debian's docker-registry 2.8.2
 * without auth: every fixture comes back with the digest that was pushed and the dates that
 * were written, each request made once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { Registry } from "../../lib/registry/Registry.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"
import { byTag, pushStandardFixtures, registryLayer } from "./fixtures.ts"
import type { PushedFixtures } from "./fixtures.ts"

let registry: DockerRegistry
let fixtures: PushedFixtures

beforeAll(async () => {
  registry = await startDockerRegistry()
  fixtures = await pushStandardFixtures({ url: registry.url })
})

afterAll(async () => {
  await registry?.stop()
})

const withClient = <A, E>(effect: Effect.Effect<A, E, Registry>, config: { readonly platform?: string } = {}) =>
  Effect.suspend(() => effect.pipe(Effect.provide(registryLayer({ url: registry.url, ...config }))))

describe("anonymous registry (docker-registry 2.8.2)", () => {
  it.live("lists every tag, other environments and latest included, in whatever order the registry has them", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const tags = yield* registryClient.listTags("shop/api")
      assert.deepStrictEqual([...tags].sort(), ["12-develop", "13-master", "41-master", "42-master", "latest"])
    })))

  it.live("reads OCI images: pushed digests, config dates, and the annotation of a reproducible 1970 build", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const read = yield* registryClient.readRepository("shop/api")
      assert.strictEqual(read.repository, "shop/api")
      assert.deepStrictEqual(read.skipped, [])
      assert.deepStrictEqual(byTag(read.images), fixtures.expected["shop/api"])
      const reproducible = read.images.find((image) => image.tag === "42-master")!
      // The config says 1970 (SOURCE_DATE_EPOCH); the real build time is the annotation, so
      // the config blob is not even read.
      assert.isUndefined(reproducible.dates.config)
      assert.strictEqual(reproducible.dates.annotation, "2026-03-02T11:00:00Z")
      const stats = yield* registryClient.stats
      assert.strictEqual(stats.requestsByKind["tags"], 1)
      assert.strictEqual(stats.requestsByKind["manifest"], fixtures.manifestGets["shop/api"], "one manifest GET per tag")
      assert.strictEqual(stats.requestsByKind["blob"], fixtures.distinctConfigs["shop/api"], "one config read per image without a real annotation (latest = 42-master has one)")
    })))

  it.live("reads Docker schema2 images with their stored digest (not a schema1 conversion), nanosecond dates and labels", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const read = yield* registryClient.readRepository("shop/legacy")
      assert.deepStrictEqual(byTag(read.images), fixtures.expected["shop/legacy"])
      const noDate = read.images.find((image) => image.tag === "8-stage")!
      assert.deepStrictEqual(noDate.dates, {}, "a config without created reports no config date")
    })))

  it.live("picks linux/amd64 from a multi-arch index with a BuildKit attestation, reporting the index digest", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const read = yield* registryClient.readRepository("shop/web")
      assert.deepStrictEqual(read.images, fixtures.expected["shop/web"])
      const stats = yield* registryClient.stats
      // Index + the amd64 child; the arm64 child and the attestation are never fetched.
      assert.strictEqual(stats.requestsByKind["manifest"], fixtures.manifestGets["shop/web"])
      assert.strictEqual(stats.requestsByKind["blob"], 1)
    })))

  it.live("reads the arm64 child's config date when the platform is linux/arm64", () =>
    withClient(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        const image = yield* registryClient.readImage("shop/web", "5-master")
        assert.deepStrictEqual(image, fixtures.arm64)
      }),
      { platform: "linux/arm64" }
    ))

  it.live("keeps only the tags of one environment when asked, saying why the others were skipped", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const read = yield* registryClient.readRepository("shop/api", { keepTag: (tag) => tag.endsWith("-master") })
      assert.deepStrictEqual(
        byTag(read.images).map((image) => image.tag),
        ["13-master", "41-master", "42-master"]
      )
      assert.deepStrictEqual(read.skipped.map((skip) => skip.tag).sort(), ["12-develop", "latest"])
      const stats = yield* registryClient.stats
      assert.strictEqual(stats.requestsByKind["manifest"], 3, "filtered tags cost no manifest request")
    })))

  it.live("reads one tag, and HEAD gives the digest that was pushed", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const expected = fixtures.expected["shop/legacy"]!.find((image) => image.tag === "7-master")!
      const image = yield* registryClient.readImage("shop/legacy", "7-master")
      assert.deepStrictEqual(image, expected)
      assert.strictEqual(yield* registryClient.headDigest("shop/legacy", "7-master"), expected.digest)
      assert.strictEqual(yield* registryClient.headDigest("shop/web", "5-master"), fixtures.expected["shop/web"]![0]!.digest)
    })))

  it.live("fails with NotFound for a repository or tag the registry does not have", () =>
    withClient(Effect.gen(function*() {
      const registryClient = yield* Registry
      const repository = yield* Effect.flip(registryClient.listTags("shop/nope"))
      assert.strictEqual(repository._tag, "RegistryError")
      assert.strictEqual(repository.reason, "NotFound")
      assert.include(repository.message, "shop/nope")
      const tag = yield* Effect.flip(registryClient.readImage("shop/api", "999-master"))
      assert.strictEqual(tag.reason, "NotFound")
      assert.include(tag.message, "999-master")
    })))
})
