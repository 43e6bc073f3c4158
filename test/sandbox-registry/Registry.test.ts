/**
 * @module sandbox Registry tests — the demo's in-memory registry answers like a distribution
 * registry does: paginated tag lists with `Link`, manifests whose digest is the sha256 of the
 * bytes served, config blobs carrying the dates the fleet was declared with, distribution's
 * error bodies.
 */
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { gunzipSync } from "node:zlib"
import { afterAll, beforeAll } from "vitest"
import { pageOfTags, startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

// Build numbers that sort differently as text and as numbers: the lexical order is the API's.
const apiTags = ["9-master", "10-master", "99-master", "100-master", "101-develop", "latest"]

let sandbox: SandboxRegistry

beforeAll(async () => {
  sandbox = await startSandboxRegistry({
    images: [
      ...apiTags.map((tag, i) => ({
        repository: "shop/api",
        tag,
        created: `2026-03-${String(i + 1).padStart(2, "0")}T10:00:00Z`,
        revision: `rev${i}`
      })),
      { repository: "shop/web", tag: "1-master", created: "1970-01-01T00:00:00Z", annotationCreated: "2026-03-02T12:00:00Z" }
    ]
  })
})

afterAll(async () => {
  await sandbox?.stop()
})

const getJson = async (path: string): Promise<{ status: number; headers: Headers; body: any }> => {
  const response = await fetch(`${sandbox.url}${path}`)
  return { status: response.status, headers: response.headers, body: await response.json() }
}

describe("sandbox registry", () => {
  it("binds to loopback and answers the /v2/ ping with the distribution API header", async () => {
    assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const response = await fetch(`${sandbox.url}/v2/`)
    assert.strictEqual(response.status, 200)
    assert.strictEqual(response.headers.get("docker-distribution-api-version"), "registry/2.0")
    assert.deepStrictEqual(await response.json(), {})
  })

  it("lists every tag of a repository in lexical order without Link when n is absent", async () => {
    const { body, headers, status } = await getJson("/v2/shop/api/tags/list")
    assert.strictEqual(status, 200)
    assert.strictEqual(headers.get("link"), null)
    assert.deepStrictEqual(body, { name: "shop/api", tags: [...apiTags].sort() })
  })

  it("pages tags with n and last, linking each page to the next until the last page has no Link", async () => {
    const seen: Array<string> = []
    let path: string | undefined = "/v2/shop/api/tags/list?n=4"
    let pages = 0
    while (path !== undefined) {
      const { body, headers, status }: { status: number; headers: Headers; body: any } = await getJson(path)
      assert.strictEqual(status, 200)
      assert.isAtMost(body.tags.length, 4)
      seen.push(...body.tags)
      pages++
      const link = headers.get("link")
      path = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1]
      if (link !== null) assert.isDefined(path, `Link header has the RFC 5988 shape: ${link}`)
    }
    assert.strictEqual(pages, 2)
    assert.deepStrictEqual(seen, [...apiTags].sort())
  })

  it("treats last as exclusive and returns an empty page past the end", async () => {
    const after = await getJson("/v2/shop/api/tags/list?n=2&last=100-master")
    // Lexical: 10-master, 100-master, 101-develop, 9-master, 99-master, latest.
    assert.deepStrictEqual(after.body.tags, ["101-develop", "9-master"])
    assert.strictEqual(after.headers.get("link"), '</v2/shop/api/tags/list?last=9-master&n=2>; rel="next"')
    const end = await getJson("/v2/shop/api/tags/list?n=2&last=latest")
    assert.deepStrictEqual(end.body.tags, [])
    assert.strictEqual(end.headers.get("link"), null)
  })

  it("serves an OCI manifest whose Docker-Content-Digest is the sha256 of the body, by tag and by digest", async () => {
    const byTag = await fetch(`${sandbox.url}/v2/shop/api/manifests/100-master`)
    assert.strictEqual(byTag.status, 200)
    assert.strictEqual(byTag.headers.get("content-type"), OCI_MANIFEST)
    const bytes = new Uint8Array(await byTag.arrayBuffer())
    const digest = byTag.headers.get("docker-content-digest")
    assert.strictEqual(digest, sha256(bytes))

    const byDigest = await fetch(`${sandbox.url}/v2/shop/api/manifests/${digest}`)
    assert.strictEqual(byDigest.status, 200)
    assert.deepStrictEqual(new Uint8Array(await byDigest.arrayBuffer()), bytes)

    const head = await fetch(`${sandbox.url}/v2/shop/api/manifests/100-master`, { method: "HEAD" })
    assert.strictEqual(head.status, 200)
    assert.strictEqual(head.headers.get("docker-content-digest"), digest)
    assert.strictEqual(head.headers.get("content-length"), String(bytes.length))
  })

  it("gives different tags different digests and keeps the declared revision as an annotation", async () => {
    const a = await fetch(`${sandbox.url}/v2/shop/api/manifests/9-master`, { method: "HEAD" })
    const b = await fetch(`${sandbox.url}/v2/shop/api/manifests/10-master`, { method: "HEAD" })
    assert.notStrictEqual(a.headers.get("docker-content-digest"), b.headers.get("docker-content-digest"))
    const manifest = (await getJson("/v2/shop/api/manifests/9-master")).body
    assert.strictEqual(manifest.mediaType, OCI_MANIFEST)
    assert.strictEqual(manifest.annotations["org.opencontainers.image.revision"], "rev0")
    assert.isUndefined(manifest.annotations["org.opencontainers.image.created"])
  })

  it("serves the config blob with the declared created date and revision label, digest matching the manifest", async () => {
    const manifest = (await getJson("/v2/shop/api/manifests/99-master")).body
    const blob = await fetch(`${sandbox.url}/v2/shop/api/blobs/${manifest.config.digest}`)
    assert.strictEqual(blob.status, 200)
    const bytes = new Uint8Array(await blob.arrayBuffer())
    assert.strictEqual(sha256(bytes), manifest.config.digest)
    assert.strictEqual(bytes.length, manifest.config.size)
    const config = JSON.parse(new TextDecoder().decode(bytes))
    assert.strictEqual(config.created, "2026-03-03T10:00:00Z")
    assert.strictEqual(config.config.Labels["org.opencontainers.image.revision"], "rev2")
    assert.strictEqual(config.os, "linux")
    assert.strictEqual(config.architecture, "amd64")
  })

  it("keeps a 1970 config date next to a real created annotation (a reproducible build)", async () => {
    const manifest = (await getJson("/v2/shop/web/manifests/1-master")).body
    assert.strictEqual(manifest.annotations["org.opencontainers.image.created"], "2026-03-02T12:00:00Z")
    const config = (await getJson(`/v2/shop/web/blobs/${manifest.config.digest}`)).body
    assert.strictEqual(config.created, "1970-01-01T00:00:00Z")
  })

  it("serves the shared layer as a valid gzipped empty tar whose digest matches", async () => {
    const manifest = (await getJson("/v2/shop/web/manifests/1-master")).body
    const layer = manifest.layers[0]
    const response = await fetch(`${sandbox.url}/v2/shop/web/blobs/${layer.digest}`)
    const bytes = new Uint8Array(await response.arrayBuffer())
    assert.strictEqual(sha256(bytes), layer.digest)
    assert.deepStrictEqual(gunzipSync(bytes), Buffer.alloc(1024))
  })

  it("answers unknown tags, digests, repositories and blobs with distribution's 404 error bodies", async () => {
    const tag = await getJson("/v2/shop/api/manifests/no-such-tag")
    assert.strictEqual(tag.status, 404)
    assert.deepStrictEqual(tag.body, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "no-such-tag" } }] })
    const missingDigest = `sha256:${"0".repeat(64)}`
    const digest = await getJson(`/v2/shop/api/manifests/${missingDigest}`)
    assert.strictEqual(digest.status, 404)
    assert.strictEqual(digest.body.errors[0].code, "MANIFEST_UNKNOWN")
    const repo = await getJson("/v2/shop/nope/tags/list")
    assert.strictEqual(repo.status, 404)
    assert.deepStrictEqual(repo.body, { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name: "shop/nope" } }] })
    const blob = await getJson(`/v2/shop/api/blobs/${missingDigest}`)
    assert.strictEqual(blob.status, 404)
    assert.strictEqual(blob.body.errors[0].code, "BLOB_UNKNOWN")
  })

  it("refuses writes: the demo fleet cannot be changed through the API", async () => {
    const response = await fetch(`${sandbox.url}/v2/shop/api/manifests/evil`, { method: "PUT", body: "{}" })
    assert.strictEqual(response.status, 405)
    await response.arrayBuffer()
  })

  it("counts the requests it served", async () => {
    const before = sandbox.requests
    await (await fetch(`${sandbox.url}/v2/`)).arrayBuffer()
    await (await fetch(`${sandbox.url}/v2/shop/api/tags/list`)).arrayBuffer()
    assert.strictEqual(sandbox.requests - before, 2)
  })

  it("listens on a requested port and frees it on stop", async () => {
    const first = await startSandboxRegistry({ images: [] })
    const port = Number(new URL(first.url).port)
    await first.stop()
    const second = await startSandboxRegistry({ port, images: [{ repository: "a", tag: "1", created: "2026-01-01T00:00:00Z" }] })
    try {
      assert.strictEqual(second.url, `http://127.0.0.1:${port}`)
      assert.deepStrictEqual((await (await fetch(`${second.url}/v2/a/tags/list`)).json()), { name: "a", tags: ["1"] })
    } finally {
      await second.stop()
    }
  })
})

describe("pageOfTags", () => {
  it("caps a page at 1000 however large n is", () => {
    const tags = Array.from({ length: 1500 }, (_, i) => `t${String(i).padStart(4, "0")}`)
    const { more, page } = pageOfTags(tags, 5000, undefined)
    assert.strictEqual(page.length, 1000)
    assert.isTrue(more)
  })

  it("n=0 gives an empty page and no next page (a client following Links must not loop)", () => {
    assert.deepStrictEqual(pageOfTags(["a", "b"], 0, undefined), { page: [], more: false })
  })

  it("starts after a last tag that is not itself in the list", () => {
    assert.deepStrictEqual(pageOfTags(["a", "c", "e"], 10, "b"), { page: ["c", "e"], more: false })
  })
})
