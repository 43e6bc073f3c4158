/**
 * @module schema1 real-registry tests — seed 004's era on Debian's docker-registry 2.8.2 with
 * `compatibility.schema1.enabled`: signed schema1 images pushed as docker 1.x pushed them, mixed
 * with Docker schema2 and OCI images in one repository, read by `fleet-rollback get` end to end
 * (a child process). Dates come from the first history entry (`schema1-history`), digests are the
 * registry's (over the payload without signatures); a schema1 *conversion* of a schema2 image
 * (what the registry makes when a proxy drops `Accept`) is refused, never dated; and `--last N`
 * reads N manifests per repository, counted by a proxy in front of the registry.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import { runCli } from "../cli/runCli.ts"
import { startCountingProxy } from "../support/CountingProxy.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"
import { Pusher } from "../support/pushImage.ts"
import type { PushedManifest } from "../support/pushImage.ts"
import type { SignedSchema1 } from "../support/schema1.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-schema1-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

let registry: DockerRegistry
const pushed: Record<string, SignedSchema1 | PushedManifest> = {}

beforeAll(async () => {
  registry = await startDockerRegistry({ schema1: true })
  const pusher = new Pusher({ url: registry.url })
  // shop/old: two schema1 builds (2016), then a Docker schema2 and an OCI build, and a develop build.
  pushed["old:1"] = await pusher.pushSchema1({ repository: "shop/old", tag: "1-master", created: ["2016-05-01T10:00:00Z", "2016-04-01T09:00:00Z"] })
  // the seed's script took the newest of every history entry; the first entry is the image's own
  pushed["old:2"] = await pusher.pushSchema1({ repository: "shop/old", tag: "2-master", created: ["2016-06-01T12:30:00.5Z", "2015-01-01T00:00:00Z"] })
  pushed["old:3"] = await pusher.pushSinglePlatform({ repository: "shop/old", tag: "3-master", format: "docker",
    // with the history a registry needs to convert it to schema1 (second test)
    config: { created: "2017-01-10T08:00:00Z", history: [{ created: "2017-01-10T08:00:00Z", createdBy: "/bin/sh -c #(nop) ADD app /app" }] }
  })
  pushed["old:4"] = await pusher.pushSinglePlatform({
    repository: "shop/old",
    tag: "4-master",
    format: "oci",
    config: { created: "1970-01-01T00:00:00Z" },
    annotations: { "org.opencontainers.image.created": "2017-02-01T09:00:00Z" }
  })
  await pusher.pushSchema1({ repository: "shop/old", tag: "5-develop", created: ["2016-07-01T00:00:00Z"] })
  // shop/web: unchanged since 2016, schema1 only
  pushed["web:10"] = await pusher.pushSchema1({ repository: "shop/web", tag: "10-master", created: ["2016-05-15T00:00:00Z"] })
  // shop/long: a long history of Docker schema2 builds 95…106 (99-master sorts after 106-master as text)
  for (let build = 95; build <= 106; build++) {
    await pusher.pushSinglePlatform({
      repository: "shop/long",
      tag: `${build}-master`,
      format: "docker",
      config: { created: `2026-01-${String(build - 90).padStart(2, "0")}T10:00:00Z` }
    })
  }
  await pusher.pushSinglePlatform({ repository: "shop/long", tag: "300-develop", format: "docker", config: { created: "2026-02-01T00:00:00Z" } })
}, 60_000)
afterAll(async () => {
  await registry?.stop()
})

const readFile = () => JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))

describe("schema1 images on docker-registry 2.8.2 (compatibility.schema1.enabled)", () => {
  it("get dates schema1, schema2 and OCI images of one repository, each by its own source, with the registry's digests, and the points interleave them", async () => {
    const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/old,shop/web", "--env", "master", "--no-cache"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    const file = readFile()
    assert.strictEqual(file.schemaVersion, 1)
    assert.deepStrictEqual(file.images, {
      old: [
        { tag: "4-master", digest: pushed["old:4"]!.digest, created: "2017-02-01T09:00:00.000Z", dateSource: "annotation", build: 4 },
        { tag: "3-master", digest: pushed["old:3"]!.digest, created: "2017-01-10T08:00:00.000Z", dateSource: "config", build: 3 },
        { tag: "2-master", digest: pushed["old:2"]!.digest, created: "2016-06-01T12:30:00.500Z", dateSource: "schema1-history", build: 2 },
        { tag: "1-master", digest: pushed["old:1"]!.digest, created: "2016-05-01T10:00:00.000Z", dateSource: "schema1-history", build: 1 }
      ],
      web: [
        { tag: "10-master", digest: pushed["web:10"]!.digest, created: "2016-05-15T00:00:00.000Z", dateSource: "schema1-history", build: 10 }
      ]
    })
    assert.deepStrictEqual(file.points.map((p: { id: string; changes: unknown }) => [p.id, p.changes]), [
      ["2017-02-01T09:00:00.000Z", [{ service: "old", tag: "4-master" }]],
      ["2017-01-10T08:00:00.000Z", [{ service: "old", tag: "3-master" }]],
      ["2016-06-01T12:30:00.500Z", [{ service: "old", tag: "2-master" }]],
      ["2016-05-15T00:00:00.000Z", [{ service: "web", tag: "10-master" }]],
      ["2016-05-01T10:00:00.000Z", [{ service: "old", tag: "1-master" }]]
    ])
    assert.deepStrictEqual(file.ignored.old.notRead, [])
    assert.strictEqual(file.ignored.old.otherEnvironment, 1)
    assert.match(result.stdout, /^old\s+shop\/old\s+4\s+annotation 1, config 1, schema1-history 2\s/m)
    const choices = await runCli(["choices"], { cwd: dir })
    assert.strictEqual(choices.code, 0, choices.stderr)
    assert.deepStrictEqual(choices.stdout.trim().split("\n"), file.points.map((p: { label: string }) => p.label))
  })

  it("a proxy that drops Accept brings a schema1 conversion of the schema2 build: it is refused (stored nowhere by its digest), never dated", async () => {
    const proxy = await startCountingProxy(registry.url, {
      dropAccept: (method, path) => method === "GET" && path === "/v2/shop/old/manifests/3-master"
    })
    try {
      const result = await runCli(["get", "--registry", proxy.url, "--repo", "shop/old", "--env", "master", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      const file = readFile()
      assert.deepStrictEqual(file.images.old.map((i: { tag: string }) => i.tag), ["4-master", "2-master", "1-master"])
      assert.deepStrictEqual(file.ignored.old.notRead.map((n: { tag: string; reason: string }) => [n.tag, n.reason]), [["3-master", "schema1-conversion"]], JSON.stringify(file.ignored.old.notRead))
      assert.include(file.ignored.old.notRead[0].detail, "Accept")
      // the conversion really came: the registry answered the stripped request with schema1
      const headByDigest = proxy.manifestRequests("HEAD").filter((r) => r.path.includes("sha256:"))
      assert.strictEqual(headByDigest.length, 3, "one HEAD by digest per schema1 answer: 1-master, 2-master and the conversion")
      assert.notInclude(headByDigest.map((r) => r.path).join(" "), pushed["old:3"]!.digest)
    } finally {
      await proxy.close()
    }
  })
})

describe("get --last N on docker-registry 2.8.2", () => {
  it("reads N manifests of a long history (by build number, not as text), then with the cache the same run reads none, and a larger N only the new ones", async () => {
    const proxy = await startCountingProxy(registry.url)
    try {
      const cacheDir = join(dir, "cache")
      const get = (last: number) => runCli(["get", "--registry", proxy.url, "--repo", "shop/long", "--env", "master", "--last", String(last), "--cache-dir", cacheDir], { cwd: dir })
      const first = await get(3)
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stderr, "greatest build number")
      const file = readFile()
      assert.deepStrictEqual(file.images.long.map((i: { tag: string }) => i.tag), ["106-master", "105-master", "104-master"])
      assert.strictEqual(file.ignored.long.beyondLast, 9)
      assert.strictEqual(file.points.length, 3)
      assert.deepStrictEqual(proxy.manifestRequests("GET").map((r) => r.path).sort(), [
        "/v2/shop/long/manifests/104-master",
        "/v2/shop/long/manifests/105-master",
        "/v2/shop/long/manifests/106-master"
      ])
      assert.strictEqual(proxy.requests.filter((r) => r.path.includes("/blobs/")).length, 3)
      const choices = await runCli(["choices"], { cwd: dir })
      assert.deepStrictEqual(choices.stdout.trim().split("\n"), file.points.map((p: { label: string }) => p.label))

      proxy.requests.length = 0
      const again = await get(3)
      assert.strictEqual(again.code, 0, again.stderr)
      assert.deepStrictEqual(readFile().images, file.images)
      assert.deepStrictEqual(proxy.requests.map((r) => r.path), ["/v2/shop/long/tags/list?n=1000"], "build-numbered tags are cached: only the tag list")

      proxy.requests.length = 0
      const more = await get(5)
      assert.strictEqual(more.code, 0, more.stderr)
      assert.deepStrictEqual(readFile().images.long.map((i: { tag: string }) => i.tag), ["106-master", "105-master", "104-master", "103-master", "102-master"])
      assert.deepStrictEqual(proxy.manifestRequests("GET").map((r) => r.path).sort(), ["/v2/shop/long/manifests/102-master", "/v2/shop/long/manifests/103-master"])
    } finally {
      await proxy.close()
    }
  })

  it("--last 0 is bad input: exit 2, what was expected, nothing written", async () => {
    const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/long", "--last", "0"], { cwd: dir })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, "--last expects a whole number")
    assert.throws(() => readFileSync(join(dir, "rollback.json")))
  })
})
