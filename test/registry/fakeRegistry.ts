/**
 * @module fakeRegistry — a small registry of our own on loopback for what Debian's 2.8.2 cannot
 * show (Link pagination, 429/500, redirects to another host, `"tags": null`, bearer tokens…).
 * Every request is recorded; answers come from declared fixtures plus per-test overrides.
 */
import { createHash } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/** One request as the server saw it. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
}

/** One answer. */
export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string | Uint8Array
  /** Drop the connection without an answer (connection reset). */
  readonly destroy?: boolean
}

/** A running loopback server. */
export interface LoopbackServer {
  readonly url: string
  readonly host: string
  readonly seen: Array<Seen>
  readonly close: () => Promise<void>
}

/** Starts a server on 127.0.0.1:0 answering with `handle` (undefined = 404). */
export const startServer = async (
  handle: (request: Seen) => Reply | undefined | Promise<Reply | undefined>
): Promise<LoopbackServer> => {
  const seen: Array<Seen> = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const request: Seen = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers }
    seen.push(request)
    req.resume()
    req.on("end", () => {
      Promise.resolve(handle(request)).then((reply) => {
        if (reply?.destroy === true) {
          req.socket.destroy()
          return
        }
        const answer = reply ?? { status: 404, body: JSON.stringify({ errors: [{ code: "NOT_FOUND", message: "no route" }] }) }
        const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.from(answer.body)
        res.writeHead(answer.status, { "content-length": String(body.length), ...answer.headers })
        res.end(request.method === "HEAD" ? undefined : body)
      }, (error) => {
        res.writeHead(500)
        res.end(String(error))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** sha256 digest of bytes. */
export const sha256 = (bytes: string | Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

/** A stored blob or manifest. */
export interface Stored {
  readonly bytes: string
  readonly digest: string
  readonly mediaType: string
}

const store = (value: unknown, mediaType: string): Stored => {
  const bytes = JSON.stringify(value)
  return { bytes, digest: sha256(bytes), mediaType }
}

/** What an image fixture is made of. */
export interface ImageSpec {
  readonly created?: string
  readonly annotations?: Record<string, string>
  readonly labels?: Record<string, string>
  readonly architecture?: string
  readonly os?: string
  readonly docker?: boolean
}

/** An image: config blob and manifest. */
export interface ImageFixture {
  readonly config: Stored
  readonly manifest: Stored
}

/** Builds an image manifest (OCI, or Docker schema2 with `docker: true`) and its config. */
export const image = (spec: ImageSpec): ImageFixture => {
  const config = store({
    ...(spec.created === undefined ? {} : { created: spec.created }),
    architecture: spec.architecture ?? "amd64",
    os: spec.os ?? "linux",
    config: spec.labels === undefined ? {} : { Labels: spec.labels },
    rootfs: { type: "layers", diff_ids: [] }
  }, spec.docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json")
  const mediaType = spec.docker
    ? "application/vnd.docker.distribution.manifest.v2+json"
    : "application/vnd.oci.image.manifest.v1+json"
  const manifest = store({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
    layers: [],
    ...(spec.annotations === undefined ? {} : { annotations: spec.annotations })
  }, mediaType)
  return { config, manifest }
}

/** Builds an OCI index over platform images plus optional extra raw descriptors (attestations). */
export const index = (
  children: ReadonlyArray<{ readonly platform: string; readonly image: ImageFixture }>,
  options: { readonly annotations?: Record<string, string>; readonly attestationFor?: ImageFixture } = {}
): { readonly manifest: Stored; readonly children: ReadonlyArray<ImageFixture>; readonly attestation?: ImageFixture } => {
  const attestation = options.attestationFor === undefined ? undefined : image({ created: "2024-01-01T00:00:00Z" })
  const manifests: Array<unknown> = []
  if (attestation !== undefined) {
    // Put the attestation first to prove it is skipped, not merely not reached.
    manifests.push({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: attestation.manifest.digest,
      size: attestation.manifest.bytes.length,
      platform: { architecture: "unknown", os: "unknown" },
      annotations: {
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": options.attestationFor!.manifest.digest
      }
    })
  }
  for (const child of children) {
    const [os, architecture, variant] = child.platform.split("/")
    manifests.push({
      mediaType: child.image.manifest.mediaType,
      digest: child.image.manifest.digest,
      size: child.image.manifest.bytes.length,
      platform: { architecture, os, ...(variant === undefined ? {} : { variant }) }
    })
  }
  const manifest = store({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests,
    ...(options.annotations === undefined ? {} : { annotations: options.annotations })
  }, "application/vnd.oci.image.index.v1+json")
  return {
    manifest,
    children: [...children.map((c) => c.image), ...(attestation === undefined ? [] : [attestation])],
    ...(attestation === undefined ? {} : { attestation })
  }
}

/** The content of one fake repository. */
export interface RepoFixture {
  /** The tag list as the registry will send it (`null` allowed). */
  readonly tagList?: ReadonlyArray<string> | null
  /** tag → manifest. */
  readonly tags: Record<string, Stored>
  /** Every manifest and blob reachable by digest. */
  readonly objects: ReadonlyArray<Stored>
}

/** Builds a repository fixture from tags → images/indexes. */
export const repo = (
  tags: Record<string, ImageFixture | { readonly manifest: Stored; readonly children: ReadonlyArray<ImageFixture> }>,
  tagList?: ReadonlyArray<string> | null
): RepoFixture => {
  const objects: Array<Stored> = []
  const tagMap: Record<string, Stored> = {}
  for (const [tag, value] of Object.entries(tags)) {
    tagMap[tag] = value.manifest
    objects.push(value.manifest)
    if ("config" in value) objects.push(value.config)
    if ("children" in value) {
      for (const child of value.children) objects.push(child.manifest, child.config)
    }
  }
  return tagList === undefined ? { tags: tagMap, objects } : { tags: tagMap, objects, tagList }
}

/**
 * The standard answers of a registry for `repos`: tags/list, manifests by tag or digest (GET and
 * HEAD, with Docker-Content-Digest), blobs. Returns undefined for anything else.
 */
export const registryHandler = (repos: Record<string, RepoFixture>) => (request: Seen): Reply | undefined => {
  const match = /^\/v2\/(.+)\/(tags\/list|manifests\/([^/]+)|blobs\/([^/]+))$/.exec(request.path)
  if (request.path === "/v2/" || request.path === "/v2") return { status: 200, body: "{}" }
  if (match === null) return undefined
  const name = match[1]!
  const fixture = repos[name]
  if (fixture === undefined) {
    return { status: 404, headers: { "content-type": "application/json" }, body: JSON.stringify({ errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] }) }
  }
  if (match[2] === "tags/list") {
    const tags = fixture.tagList === undefined ? Object.keys(fixture.tags) : fixture.tagList
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ name, tags }) }
  }
  const reference = match[3] ?? match[4]!
  const found = fixture.tags[reference] ?? fixture.objects.find((o) => o.digest === reference)
  if (found === undefined) {
    return { status: 404, headers: { "content-type": "application/json" }, body: JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }) }
  }
  return {
    status: 200,
    headers: { "content-type": found.mediaType, "docker-content-digest": found.digest },
    body: found.bytes
  }
}
