/**
 * @module GetRollbacks.test — `get` as a workflow over the registry client, against a loopback
 * registry of our own: which tags a warm run re-checks (decided from the tag scheme), tags the
 * registry listed but gave no image for (counted, with why, in rollback.json), and the progress
 * it reports (repositories and images done of their totals).
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { resolveTagScheme, TAG_SCHEME_PRESETS } from "../../lib/core/TagScheme.ts"
import type { TagScheme } from "../../lib/core/TagScheme.ts"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { RegistryConfig } from "../../lib/registry/Registry.ts"
import { getRollbacks, isMutableUnder } from "../../lib/workflow/GetRollbacks.ts"
import type { GetProgress } from "../../lib/workflow/GetRollbacks.ts"
import type { RollbackError } from "../../lib/workflow/RollbackError.ts"
import { assertValidRollbackFile } from "../support/JsonSchema.ts"
import { image, index, registryHandler, repo, startServer } from "./fakeRegistry.ts"
import type { LoopbackServer, RepoFixture } from "./fakeRegistry.ts"

const serve = (fixtures: Record<string, RepoFixture>) =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(registryHandler(fixtures))),
    (server) => Effect.promise(() => server.close())
  )

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-get-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const scheme = (spec: string): TagScheme => {
  const resolved = resolveTagScheme(spec)
  if ("_tag" in resolved) throw new Error(resolved.message)
  return resolved
}

/** One `get` (a new client, as a new CLI run builds it): the result and the client's stats. */
const get = (
  server: LoopbackServer,
  config: Omit<RegistryConfig, "url">,
  options: { readonly scheme: TagScheme; readonly tagFilter?: string; readonly onProgress?: (p: GetProgress) => void; readonly allowEmpty?: boolean }
) =>
  Effect.gen(function*() {
    const result = yield* getRollbacks({
      services: [{ name: "api", repository: "shop/api" }],
      registryUrl: server.url,
      scheme: options.scheme,
      schemeName: options.scheme.name,
      environment: options.tagFilter,
      tagFilter: options.tagFilter,
      granularity: "instant",
      timeZone: "UTC",
      allowEmpty: options.allowEmpty,
      onProgress: options.onProgress
    })
    // What get writes matches docs/rollback.schema.json (Ajv, JSON Schema 2020-12).
    assertValidRollbackFile(JSON.parse(JSON.stringify(result.file)))
    return { result, stats: yield* (yield* Registry).stats }
  }).pipe(Effect.provide(Registry.layer({ url: server.url, ...config }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))))

describe("which tags a warm get re-checks", () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ["build-branch", "1234-master", false],
    ["env-timestamp-sha", "production-20210929025643-7995c5bb", false],
    ["branch-sha", "master-26a4b87", false],
    ["git-sha", "git-abc1234", false],
    ["semver", "v2.0.0", true],
    ["semver", "1.25.3", true],
    ["(?<version>\\d+\\.\\d+)", "1.25", true],
    ["node(?<version>\\d+)", "node20", true],
    ["(?<env>[a-z]+)-(?<build>\\d+)", "prod-17", false],
    ["build-branch", "latest", true]
  ]
  for (const [spec, tag, mutable] of cases) {
    it(`${tag} under ${spec} ${mutable ? "may move: one HEAD on a warm run" : "is immutable by convention"}`, () => {
      assert.strictEqual(isMutableUnder(scheme(spec))(tag), mutable)
    })
  }

  it.live("semver tags (v2.0.0, 1.25.3) are re-checked with one HEAD each on a warm run; build-numbered tags are not", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      const server = yield* serve({
        "shop/api": repo({
          "v2.0.0": image({ created: "2026-01-01T00:00:00Z" }),
          "1.25.3": image({ created: "2026-01-02T00:00:00Z" }),
          "7-master": image({ created: "2026-01-03T00:00:00Z" })
        })
      })
      const semver = TAG_SCHEME_PRESETS["semver"]!
      yield* get(server, { cacheDir }, { scheme: semver })
      const warmSemver = yield* get(server, { cacheDir }, { scheme: semver })
      assert.deepStrictEqual(warmSemver.stats.requestsByKind, { tags: 1, "manifest-head": 2 })
      assert.deepStrictEqual(warmSemver.result.file.images["api"]!.map((i) => i.tag), ["1.25.3", "v2.0.0"])
      const builds = TAG_SCHEME_PRESETS["build-branch"]!
      yield* get(server, { cacheDir }, { scheme: builds })
      const warmBuilds = yield* get(server, { cacheDir }, { scheme: builds })
      assert.deepStrictEqual(warmBuilds.stats.requestsByKind, { tags: 1 })
    }).pipe(Effect.scoped))
})

describe("tags the registry gave no image for", () => {
  it.live("are counted in rollback.json's ignored with the kind and what was found, never silently dropped", () =>
    Effect.gen(function*() {
      const armOnly = index([{ platform: "linux/arm64", image: image({ created: "2026-01-05T00:00:00Z" }) }])
      const server = yield* serve({
        "shop/api": repo({
          "1-master": image({ created: "2026-01-01T00:00:00Z" }),
          "2-master": armOnly,
          "3-develop": image({ created: "2026-01-03T00:00:00Z" }),
          "4-master": image({})
        }, ["1-master", "2-master", "3-develop", "4-master", "5-master", "latest"])
      })
      const { result } = yield* get(server, {}, { scheme: TAG_SCHEME_PRESETS["build-branch"]!, tagFilter: "master" })
      const ignored = result.file.ignored!["api"]!
      assert.deepStrictEqual(
        ignored.notRead!.map((n) => [n.tag, n.reason]),
        [["2-master", "no-platform"], ["5-master", "vanished"]]
      )
      assert.include(ignored.notRead![0]!.detail, "linux/arm64")
      assert.strictEqual(ignored.otherEnvironment, 1)
      assert.strictEqual(ignored.noSchemeMatch, 1)
      assert.deepStrictEqual(ignored.unknownDate, ["4-master"])
      assert.deepStrictEqual(result.file.images["api"]!.map((i) => i.tag), ["1-master"])
      assert.deepStrictEqual(result.ignored["api"], ignored)
    }).pipe(Effect.scoped))
})

describe("progress", () => {
  it.live("reports repositories and images done of their totals; the image total is known once every tag list is read", () =>
    Effect.gen(function*() {
      const tags = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`${i + 1}-master`, image({ created: `2026-01-0${i + 1}T00:00:00Z` })]))
      const server = yield* serve({ "shop/api": repo({ ...tags, "9-develop": image({ created: "2026-01-09T00:00:00Z" }) }) })
      const seen: Array<GetProgress> = []
      yield* get(server, {}, { scheme: TAG_SCHEME_PRESETS["build-branch"]!, tagFilter: "master", onProgress: (p) => seen.push(p) })
      assert.deepStrictEqual(seen[0], { repositoriesDone: 0, repositoriesTotal: 1, repositoriesListed: 1, imagesDone: 0, imagesTotal: 5 })
      assert.deepStrictEqual(seen.at(-1), { repositoriesDone: 1, repositoriesTotal: 1, repositoriesListed: 1, imagesDone: 5, imagesTotal: 5 })
      assert.deepStrictEqual(seen.map((p) => p.imagesDone), [0, 1, 2, 3, 4, 5, 5])
    }).pipe(Effect.scoped))
})

describe("a setting of the whole client", () => {
  it.live("a malformed platform fails every repository the same way: one BadInput saying it once, before any request", () =>
    Effect.gen(function*() {
      const server = yield* serve({ "shop/api": repo({ "1-master": image({ created: "2026-01-01T00:00:00Z" }) }) })
      const error = yield* getRollbacks({
        services: ["api", "web", "worker"].map((name) => ({ name, repository: `shop/${name}` })),
        registryUrl: server.url,
        scheme: TAG_SCHEME_PRESETS["build-branch"]!,
        schemeName: "build-branch",
        environment: undefined,
        tagFilter: undefined,
        granularity: "instant",
        timeZone: "UTC"
      }).pipe(
        Effect.provide(Registry.layer({ url: server.url, platform: "linux" }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))),
        Effect.flip
      )
      assert.strictEqual(error._tag === "RollbackError" ? error.kind : error._tag, "BadInput")
      assert.strictEqual(error.message.split("the platform \"linux\"").length - 1, 1, error.message)
      assert.include(error.message, "linux/amd64")
      assert.include(error.message, "rollback.json was not written")
      assert.notInclude(error.message, "shop/web")
      assert.strictEqual(server.seen.length, 0)
    }).pipe(Effect.scoped))
})

describe("each tag is parsed once", () => {
  /** A pattern that counts its matches (the `v` flag keeps parseTag on the pattern itself). */
  class CountingPattern extends RegExp {
    calls = 0
    override exec(text: string): RegExpExecArray | null {
      this.calls++
      return super.exec(text)
    }
  }

  it.live("by the choice of tags to read, and that answer serves the warm run's re-check, the merge and the summary", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      const pattern = new CountingPattern("^(?<build>\\d+)-(?<env>[a-z]+)$", "v")
      const counting: TagScheme = { ...TAG_SCHEME_PRESETS["build-branch"]!, name: "counting", pattern }
      const server = yield* serve({
        "shop/api": repo({
          "1-master": image({ created: "2026-01-01T00:00:00Z" }),
          "2-master": image({ created: "2026-01-02T00:00:00Z" }),
          "3-develop": image({ created: "2026-01-03T00:00:00Z" }),
          latest: image({ created: "2026-01-04T00:00:00Z" })
        })
      })
      const cold = yield* get(server, { cacheDir }, { scheme: counting, tagFilter: "master" })
      assert.deepStrictEqual(cold.result.file.images["api"]!.map((i) => [i.tag, i.build]), [["2-master", 2], ["1-master", 1]])
      assert.deepStrictEqual([cold.result.ignored["api"]!.otherEnvironment, cold.result.ignored["api"]!.noSchemeMatch], [1, 1])
      assert.strictEqual(pattern.calls, 4, "four tags listed, each parsed once")
      pattern.calls = 0
      // warm: isMutableTag asks about each cached tag; the answer is already known
      const warm = yield* get(server, { cacheDir }, { scheme: counting, tagFilter: "master" })
      assert.deepStrictEqual(warm.result.file.images["api"]!.map((i) => i.tag), ["2-master", "1-master"])
      assert.strictEqual(pattern.calls, 4)
    }).pipe(Effect.scoped))
})

describe("an environment the scheme cannot filter by", () => {
  it.live("get keeps the scheme's tags and its result carries the note saying why", () =>
    Effect.gen(function*() {
      const server = yield* serve({ "shop/api": repo({ "v1.2.0": image({ created: "2026-01-01T00:00:00Z" }) }) })
      const { result } = yield* get(server, {}, { scheme: TAG_SCHEME_PRESETS["semver"]!, tagFilter: "master" })
      assert.include(result.environmentNote, "the semver tag scheme has no environment part, so tags are not filtered by \"master\"")
      assert.deepStrictEqual(result.file.images["api"]!.map((i) => i.tag), ["v1.2.0"])
      const { result: filtered } = yield* get(server, {}, { scheme: TAG_SCHEME_PRESETS["build-branch"]!, tagFilter: "master", allowEmpty: true })
      assert.isUndefined(filtered.environmentNote)
    }).pipe(Effect.scoped))
})

describe("a repository that gives no image to roll back to", () => {
  const getEmpty = (fixture: RepoFixture, allowEmpty?: boolean) =>
    Effect.gen(function*() {
      const server = yield* serve({ "shop/api": fixture, "shop/web": repo({ "1-master": image({ created: "2026-01-01T00:00:00Z" }) }) })
      const layer = Registry.layer({ url: server.url }).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))
      return yield* getRollbacks({
        services: [{ name: "api", repository: "shop/api" }, { name: "web", repository: "shop/web" }],
        registryUrl: server.url,
        scheme: TAG_SCHEME_PRESETS["build-branch"]!,
        schemeName: "build-branch",
        environment: "master",
        tagFilter: "master",
        granularity: "instant",
        timeZone: "UTC",
        ...(allowEmpty === undefined ? {} : { allowEmpty })
      }).pipe(Effect.provide(layer), Effect.result)
    })

  it.live("\"tags\": null fails the run (exit 1) naming the repository, unless allowEmpty", () =>
    Effect.gen(function*() {
      const failed = yield* getEmpty(repo({}, null))
      assert.isTrue(failed._tag === "Failure")
      if (failed._tag !== "Failure") return
      assert.strictEqual((failed.failure as RollbackError).exitCode, 1)
      assert.include(failed.failure.message, "api (shop/api): the registry lists no tags for it")
      assert.include(failed.failure.message, "rollback.json was not written")
      assert.include(failed.failure.message, "--allow-empty")
      assert.notInclude(failed.failure.message, "web (shop/web)")
      const allowed = yield* getEmpty(repo({}, null), true)
      assert.isTrue(allowed._tag === "Success")
      if (allowed._tag === "Success") assert.deepStrictEqual(allowed.success.file.images["api"], [])
    }).pipe(Effect.scoped))

  it.live("every tag unreadable (gone since the listing, no date) fails the run (exit 1) with the first reason", () =>
    Effect.gen(function*() {
      const failed = yield* getEmpty(repo({ "2-master": image({}) }, ["1-master", "2-master"]))
      assert.isTrue(failed._tag === "Failure")
      if (failed._tag !== "Failure") return
      assert.strictEqual((failed.failure as RollbackError).exitCode, 1)
      assert.include(failed.failure.message, "api (shop/api): none of its tags gave a dated image: 1 not read (first: 1-master, vanished")
      assert.include(failed.failure.message, "1 without a known date")
    }).pipe(Effect.scoped))

  it.live("tags all of another environment: bad input (exit 2) saying to check --env and --scheme", () =>
    Effect.gen(function*() {
      const failed = yield* getEmpty(repo({ "1-develop": image({ created: "2026-01-01T00:00:00Z" }) }))
      assert.isTrue(failed._tag === "Failure")
      if (failed._tag !== "Failure") return
      assert.strictEqual((failed.failure as RollbackError).exitCode, 2)
      assert.include(failed.failure.message, "no tag matches the scheme build-branch and the environment's tag filter master (0 outside the scheme, 1 of other environments")
    }).pipe(Effect.scoped))
})
