/**
 * @module cache real-registry tests — the persistent cache against docker-registry 2.8.2: a warm
 * run with the same cache directory asks only for tag lists (plus a HEAD for floating tags like
 * `latest`), returns the same images, and notices a moved `latest`; `verifyTags` re-checks every
 * cached tag with one HEAD and no GET.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import type { RegistryImage } from "../../lib/core/Image.ts"
import { TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import { isMutableUnder } from "../../lib/workflow/GetRollbacks.ts"
import type { RegistryConfig, RegistryStats } from "../../lib/registry/Registry.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"
import { Pusher, pushOciImage } from "../support/pushImage.ts"
import { byTag, pushStandardFixtures, registryLayer } from "./fixtures.ts"
import type { PushedFixtures } from "./fixtures.ts"

let registry: DockerRegistry
let fixtures: PushedFixtures
const cacheDirs: Array<string> = []

beforeAll(async () => {
  registry = await startDockerRegistry()
  fixtures = await pushStandardFixtures({ url: registry.url })
})

afterAll(async () => {
  await registry?.stop()
  for (const dir of cacheDirs) rmSync(dir, { recursive: true, force: true })
})

/** As `get` decides with the default scheme: build-numbered tags are immutable, `latest` may move. */
const isMutableTag = isMutableUnder(TAG_SCHEME_PRESETS["build-branch"]!)

const freshCacheDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-cache-"))
  cacheDirs.push(dir)
  return dir
}

/** One run of the client (a new client, as a new CLI invocation would build): images and stats. */
const run = (
  repositories: ReadonlyArray<string>,
  config: Omit<RegistryConfig, "url">
): Effect.Effect<{ images: Record<string, Array<RegistryImage>>; stats: RegistryStats }> =>
  Effect.suspend(() =>
    Effect.gen(function*() {
      const registryClient = yield* Registry
      const images: Record<string, Array<RegistryImage>> = {}
      for (const repository of repositories) {
        images[repository] = byTag((yield* registryClient.readRepository(repository, { isMutableTag })).images)
      }
      return { images, stats: yield* registryClient.stats }
    }).pipe(
      Effect.provide(registryLayer({ url: registry.url, ...config })),
      Effect.orDie
    )
  )

/** Requests other than tag lists. */
const beyondTagLists = (stats: RegistryStats): Record<string, number> =>
  Object.fromEntries(Object.entries(stats.requestsByKind).filter(([kind, count]) => kind !== "tags" && count > 0))

describe("persistent cache with docker-registry 2.8.2", () => {
  it.live("a warm run of build-numbered tags makes only tags/list requests and returns the same images", () =>
    Effect.gen(function*() {
      const cacheDir = freshCacheDir()
      const repositories = ["shop/legacy", "shop/web"]
      const cold = yield* run(repositories, { cacheDir })
      assert.deepStrictEqual(cold.images, { "shop/legacy": [...fixtures.expected["shop/legacy"]!], "shop/web": [...fixtures.expected["shop/web"]!] })
      assert.isAbove(cold.stats.requestsByKind["manifest"] ?? 0, 0)

      const warm = yield* run(repositories, { cacheDir })
      assert.deepStrictEqual(warm.images, cold.images)
      assert.deepStrictEqual(beyondTagLists(warm.stats), {}, `warm requests: ${JSON.stringify(warm.stats.requestsByKind)}`)
      assert.strictEqual(warm.stats.requestsByKind["tags"], repositories.length)
      assert.strictEqual(warm.stats.cacheHits, 3)
    }))

  it.live("a warm run re-checks only the floating tag latest, with one HEAD", () =>
    Effect.gen(function*() {
      const cacheDir = freshCacheDir()
      yield* run(["shop/api"], { cacheDir })
      const warm = yield* run(["shop/api"], { cacheDir })
      assert.deepStrictEqual(warm.images["shop/api"], fixtures.expected["shop/api"])
      assert.deepStrictEqual(beyondTagLists(warm.stats), { "manifest-head": 1 })
    }))

  it.live("verifyTags re-checks every cached tag with one HEAD each and no manifest or blob GET", () =>
    Effect.gen(function*() {
      const cacheDir = freshCacheDir()
      yield* run(["shop/legacy", "shop/web"], { cacheDir })
      const verified = yield* run(["shop/legacy", "shop/web"], { cacheDir, verifyTags: true })
      assert.deepStrictEqual(verified.images["shop/legacy"], fixtures.expected["shop/legacy"])
      assert.deepStrictEqual(verified.images["shop/web"], fixtures.expected["shop/web"])
      assert.deepStrictEqual(beyondTagLists(verified.stats), { "manifest-head": 3 })
    }))

  it.live("when latest moves between runs, the warm run reports the new digest and its dates", () =>
    Effect.gen(function*() {
      const cacheDir = freshCacheDir()
      const pusher = new Pusher({ url: registry.url })
      const first = yield* Effect.promise(() =>
        pushOciImage(pusher, { repository: "shop/moving", tag: "latest", config: { created: "2026-04-01T00:00:00Z" } })
      )
      const cold = yield* run(["shop/moving"], { cacheDir })
      assert.strictEqual(cold.images["shop/moving"]![0]!.digest, first.digest)
      const second = yield* Effect.promise(() =>
        pushOciImage(pusher, { repository: "shop/moving", tag: "latest", config: { created: "2026-04-02T00:00:00Z" } })
      )
      const warm = yield* run(["shop/moving"], { cacheDir })
      assert.deepStrictEqual(warm.images["shop/moving"], [
        { repository: "shop/moving", tag: "latest", digest: second.digest, dates: { config: "2026-04-02T00:00:00Z" } }
      ])
    }))

  it.live("without a cache directory every run starts cold", () =>
    Effect.gen(function*() {
      const first = yield* run(["shop/legacy"], {})
      const second = yield* run(["shop/legacy"], {})
      assert.deepStrictEqual(second.stats.requestsByKind, first.stats.requestsByKind)
      assert.strictEqual(second.stats.requestsByKind["manifest"], fixtures.manifestGets["shop/legacy"])
      assert.strictEqual(second.stats.cacheHits, 0)
    }))
})
