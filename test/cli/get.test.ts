/**
 * `get` as an operator meets it: the progress on a terminal and in CI, the summary (images per
 * service, where dates came from, tags ignored and why, images without a date), and the edge
 * cases — a registry that does not answer (exit 1, the failed repositories named, no file), bad
 * flags (exit 2), a tag scheme without an environment part.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { makeProgress, progressText } from "../../lib/cli/commands/Get.ts"
import type { GetProgress } from "../../lib/workflow/GetRollbacks.ts"
import { image, index, registryHandler, repo, startServer } from "../registry/fakeRegistry.ts"
import type { Reply } from "../registry/fakeRegistry.ts"
import { assertValidRollbackFile } from "../support/JsonSchema.ts"
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
  it("a malformed --platform is bad input: exit 2 naming the flag once (not once per repository), no request, no rollback.json", async () => {
    const registry = await startSandboxRegistry({ images: [{ repository: "shop/api", tag: "1-master", created: "2026-11-10T10:00:00Z" }] })
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api,shop/web,shop/worker", "--platform", "linux", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.strictEqual(result.stderr.split("the platform \"linux\" (--platform").length - 1, 1, result.stderr)
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
    // A barrier, not a clock: the first manifest requests are held until 16 are in flight at once
    // (the event), then all go; a generous deadline only keeps a broken client from hanging the test.
    let releaseAll: () => void = () => {}
    const sixteenInFlight = new Promise<void>((resolve) => {
      releaseAll = resolve
    })
    const deadline = setTimeout(releaseAll, 30_000)
    const server = await startServer(async (request) => {
      inFlight++
      most = Math.max(most, inFlight)
      if (inFlight >= 16) releaseAll()
      if (request.path.includes("/manifests/")) await sixteenInFlight
      inFlight--
      return answer(request) as Reply
    })
    try {
      const result = await runCli(["get", "--registry", server.url, "--repo", "shop/api", "--concurrency", "16", "--no-cache", "--quiet"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(most, 16)
    } finally {
      clearTimeout(deadline)
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

  it("--since keeps the points at or after a date, or a duration before now; anything else is exit 2 naming the forms, no file", async () => {
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString()
    const registry = await startSandboxRegistry({
      images: [
        { repository: "shop/api", tag: "1-master", created: daysAgo(20) },
        { repository: "shop/api", tag: "2-master", created: daysAgo(10) },
        { repository: "shop/api", tag: "3-master", created: daysAgo(1) }
      ]
    })
    try {
      const tagsOf = () => (JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8")) as { points: Array<{ changes: Array<{ tag: string }> }> }).points.flatMap((p) => p.changes.map((c) => c.tag)).sort()
      const get = (since: string) => runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--quiet", "--since", since], { cwd: dir })
      const relative = await get("3d")
      assert.strictEqual(relative.code, 0, relative.stderr)
      assert.deepStrictEqual(tagsOf(), ["3-master"])
      const dated = await get(daysAgo(15).slice(0, 10))
      assert.strictEqual(dated.code, 0, dated.stderr)
      assert.deepStrictEqual(tagsOf(), ["2-master", "3-master"])
      rmSync(join(dir, "rollback.json"))
      const bad = await get("yesterday")
      assert.strictEqual(bad.code, 2, bad.stderr)
      assert.include(bad.stderr, "--since \"yesterday\": expected a duration such as 14d, 36h, 2w, or a date YYYY-MM-DD")
      assert.isFalse(existsSync(join(dir, "rollback.json")))
    } finally {
      await registry.stop()
    }
  })

  it("a scheme whose order is not created writes rollback.json version 2, which choices reads; the default stays version 1", async () => {
    // 2.0.0 on the 1st; the 1.2.4 backport on the 5th: by semver the target stays 2.0.0, so one point
    const registry = await startSandboxRegistry({
      images: [
        { repository: "shop/api", tag: "v2.0.0", created: "2026-11-01T10:00:00Z" },
        { repository: "shop/api", tag: "v1.2.4", created: "2026-11-05T10:00:00Z" }
      ]
    })
    try {
      writeFileSync(join(dir, "fleet-rollback.yaml"), "scheme:\n  pattern: 'v(?<version>\\d+\\.\\d+\\.\\d+)'\n  order: semver\n")
      const ordered = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--quiet"], { cwd: dir })
      assert.strictEqual(ordered.code, 0, ordered.stderr)
      const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
      assert.strictEqual(file.schemaVersion, 2)
      assert.deepStrictEqual(file.scheme, { pattern: "v(?<version>\\d+\\.\\d+\\.\\d+)", order: "semver" })
      const choices = await runCli(["choices", "--file", "rollback.json"], { cwd: dir })
      assert.strictEqual(choices.code, 0, choices.stderr)
      assert.deepStrictEqual(choices.stdout.trim().split("\n").map((line) => line.includes("v2.0.0")), [true])
      writeFileSync(join(dir, "fleet-rollback.yaml"), "scheme: semver\n")
      const plain = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--quiet"], { cwd: dir })
      assert.strictEqual(plain.code, 0, plain.stderr)
      const v1 = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
      assert.deepStrictEqual([v1.schemaVersion, v1.scheme, v1.points.length], [1, "semver", 2])
    } finally {
      await registry.stop()
    }
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

describe("get's progress", () => {
  const at = (p: Partial<GetProgress>): GetProgress => ({
    repositoriesDone: 0, repositoriesTotal: 2, repositoriesListed: 2, imagesDone: 0, imagesTotal: 400, ...p
  })

  it("on a terminal: one line redrawn with repositories and images done of their totals, about a hundred redraws however big the fleet", () => {
    const written: Array<string> = []
    const progress = makeProgress({ stderrIsTerminal: true, writeStderr: (text) => written.push(text) }, false)
    progress.update(at({ repositoriesListed: 1, imagesTotal: 150 }))
    progress.update(at({ imagesTotal: 400 }))
    for (let done = 1; done <= 400; done++) progress.update(at({ imagesDone: done, repositoriesDone: done >= 150 ? 1 : 0 }))
    progress.update(at({ imagesDone: 400, repositoriesDone: 2 }))
    progress.done()
    assert.strictEqual(written[0], "\rreading registry: 0/2 repositories, 0/150+ images (1/2 tag lists read)\u001b[K")
    assert.strictEqual(written[1], "\rreading registry: 0/2 repositories, 0/400 images\u001b[K")
    assert.include(written, "\rreading registry: 1/2 repositories, 150/400 images\u001b[K", "a repository done is drawn at once")
    assert.isTrue(written.some((w) => /^\rreading registry: 1\/2 repositories, 2\d\d\/400 images/.test(w)))
    assert.strictEqual(written.at(-2), "\rreading registry: 2/2 repositories, 400/400 images\u001b[K")
    assert.strictEqual(written.at(-1), "\r\u001b[K", "the line is cleared at the end")
    assert.isAtMost(written.length, 110)
    assert.isTrue(written.every((w) => !w.includes("\n")), "a terminal line is redrawn, never a new line")
  })

  it("in CI: plain lines, once the tag lists are read, at each tenth of the images, and at the end", () => {
    const written: Array<string> = []
    const progress = makeProgress({ stderrIsTerminal: false, writeStderr: (text) => written.push(text) }, false)
    progress.update(at({ repositoriesListed: 1, imagesTotal: 150 }))
    progress.update(at({ imagesTotal: 400 }))
    for (let done = 1; done <= 400; done++) progress.update(at({ imagesDone: done, repositoriesDone: done >= 150 ? 1 : 0 }))
    progress.update(at({ imagesDone: 400, repositoriesDone: 2 }))
    progress.done()
    assert.strictEqual(written[0], "reading registry: 2 tag lists read, 400 images to read\n")
    assert.strictEqual(written[1], "reading registry: 0/2 repositories, 40/400 images\n")
    assert.strictEqual(written.at(-1), "reading registry: 2/2 repositories, 400/400 images\n")
    assert.strictEqual(written.length, 1 + 10 + 1)
    assert.isTrue(written.every((w) => w.endsWith("\n") && !w.includes("\r") && !w.includes("\u001b")))
  })

  it("--quiet prints no progress", () => {
    const written: Array<string> = []
    const progress = makeProgress({ stderrIsTerminal: true, writeStderr: (text) => written.push(text) }, true)
    progress.update(at({ imagesDone: 10 }))
    progress.done()
    assert.deepStrictEqual(written, [])
  })

  it("reads the same in both", () => {
    assert.strictEqual(progressText(at({ repositoriesDone: 1, imagesDone: 7 })), "reading registry: 1/2 repositories, 7/400 images")
  })
})

describe("get's summary", () => {
  it("shows images per service, dates by source, tags ignored and why (those not read by name), images with unknown dates", async () => {
    const annotated = image({ created: "1970-01-01T00:00:00Z", annotations: { "org.opencontainers.image.created": "2026-03-02T11:00:00Z" } })
    const server = await startServer(registryHandler({
      "shop/api": repo({
        "41-master": image({ created: "2026-03-01T10:00:00Z" }),
        "42-master": annotated,
        "43-master": image({}),
        "12-develop": image({ created: "2026-02-20T09:00:00Z" }),
        latest: annotated
      }),
      "shop/web": repo({
        "5-master": index([{ platform: "linux/amd64", image: image({ created: "2026-03-05T08:00:00Z" }) }]),
        "6-master": index([{ platform: "linux/arm64", image: image({ created: "2026-03-06T08:00:00Z" }) }])
      }, ["5-master", "6-master", "7-master"])
    }))
    try {
      const result = await runCli(["get", "--registry", server.url, "--repo", "shop/api,shop/web", "--env", "master", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      const lines = result.stdout.split("\n")
      assert.match(lines[0]!, /^SERVICE\s+REPOSITORY\s+IMAGES\s+DATES FROM\s+TAGS IGNORED\s+UNKNOWN DATE$/)
      assert.match(lines[1]!, /^api\s+shop\/api\s+2\s+annotation 1, config 1\s+1 outside scheme, 1 other env\s+43-master$/)
      assert.match(lines[2]!, /^web\s+shop\/web\s+1\s+config 1\s+2 not read \(1 no-platform, 1 vanished\)\s+-$/)
      assert.match(result.stdout, /^ {2}web: 6-master not read \(no-platform\): no linux\/amd64 image in the index \(it has linux\/arm64\)/m)
      assert.match(result.stdout, /^ {2}web: 7-master not read \(vanished\): /m)
      assert.include(result.stdout, "Wrote rollback.json: 3 images of 2 services")
      // Not a terminal: plain progress lines on stderr.
      assert.include(result.stderr, "reading registry: 2 tag lists read, 6 images to read\n")
      assert.include(result.stderr, "reading registry: 2/2 repositories, 6/6 images\n")
      const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
      assert.deepStrictEqual(file.ignored.web.notRead.map((n: { tag: string; reason: string }) => [n.tag, n.reason]), [["6-master", "no-platform"], ["7-master", "vanished"]])
    } finally {
      await server.close()
    }
  })
})

describe("get --docker-hub-api", () => {
  it("reads tags, digests and push times from the Hub's web API (URL from the config) and dates an undated image by its push", async () => {
    const undated = image({})
    const registry = await startServer(registryHandler({ "shop/api": repo({ "1-master": undated }) }))
    const hub = await startServer((request) =>
      request.path === "/v2/namespaces/shop/repositories/api/tags"
        ? {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            count: 1,
            next: null,
            results: [{ name: "1-master", digest: undated.manifest.digest, tag_last_pushed: "2026-01-15T10:00:00Z", images: [{ architecture: "amd64", os: "linux", digest: undated.manifest.digest }] }]
          })
        }
        : undefined
    )
    try {
      writeFileSync(join(dir, "fleet-rollback.yaml"), `registry:\n  url: ${registry.url}\n  dockerHubApi: ${hub.url}\n`)
      const result = await runCli(["get", "--repo", "shop/api", "--docker-hub-api", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
      assert.deepStrictEqual(file.images.api.map((i: { tag: string; created: string; dateSource: string }) => [i.tag, i.created, i.dateSource]), [["1-master", "2026-01-15T10:00:00.000Z", "push"]])
      assert.strictEqual(hub.seen.length, 1)
      assert.isFalse(registry.seen.some((s) => s.path.endsWith("/tags/list")))
    } finally {
      await Promise.all([registry.close(), hub.close()])
    }
  })

  it("on a registry that is not Docker Hub, without the API's URL, is bad input naming the flag", async () => {
    const registry = await startSandboxRegistry({ images: [{ repository: "shop/api", tag: "1-master", created: "2026-11-10T10:00:00Z" }] })
    try {
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--docker-hub-api", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, "--docker-hub-api")
      assert.include(result.stderr, "not Docker Hub")
      assert.strictEqual(registry.requests, 0)
      assert.isFalse(existsSync(join(dir, "rollback.json")))
    } finally {
      await registry.stop()
    }
  })
})

describe("get --out is checked before the registry is read", () => {
  const images = [{ repository: "shop/api", tag: "1-master", created: "2026-11-10T10:00:00Z" }]

  it("a directory, or a path under a file: exit 2 naming the flag, no registry request", async () => {
    const registry = await startSandboxRegistry({ images })
    try {
      mkdirSync(join(dir, "out-dir"))
      writeFileSync(join(dir, "a-file"), "")
      for (const [out, problem] of [[join(dir, "out-dir"), "is a directory"], [join(dir, "a-file", "rollback.json"), "is not a directory"]] as const) {
        const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--out", out], { cwd: dir })
        assert.strictEqual(result.code, 2, result.stderr)
        assert.include(result.stderr, `--out ${out}: `)
        assert.include(result.stderr, problem)
        assert.include(result.stderr, "nothing was changed")
      }
      assert.strictEqual(registry.requests, 0, "the registry was not read")
    } finally {
      await registry.stop()
    }
  })

  it("a directory this user cannot write to: exit 2 before the registry is read (root ignores permissions, so as root the run is made as nobody)", async () => {
    const registry = await startSandboxRegistry({ images })
    try {
      chmodSync(dir, 0o777)
      const readOnly = join(dir, "read-only")
      mkdirSync(readOnly)
      chmodSync(readOnly, 0o555)
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
      const out = join(readOnly, "rollback.json")
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache", "--out", out], { cwd: dir, ...asUser })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, `--out ${out}: the directory ${readOnly} is not writable by this user`)
      assert.strictEqual(registry.requests, 0, "the registry was not read")
      assert.isFalse(existsSync(out))
    } finally {
      await registry.stop()
    }
  })

  it("a symbolic link is written through: the file it points to gets the new content, the link stays", async () => {
    const registry = await startSandboxRegistry({ images })
    try {
      mkdirSync(join(dir, "shared"))
      writeFileSync(join(dir, "shared", "rollback.json"), "{\"old\":true}\n")
      symlinkSync(join(dir, "shared", "rollback.json"), join(dir, "rollback.json"))
      const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--no-cache"], { cwd: dir })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.isTrue(lstatSync(join(dir, "rollback.json")).isSymbolicLink(), "the link is kept")
      const written = JSON.parse(readFileSync(join(dir, "shared", "rollback.json"), "utf8"))
      assert.deepStrictEqual(written.images.api.map((i: { tag: string }) => i.tag), ["1-master"])
      assertValidRollbackFile(written)
    } finally {
      await registry.stop()
    }
  })
})
