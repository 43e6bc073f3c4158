/**
 * @module Registry (sandbox) — a small in-memory registry speaking the OCI distribution API,
 * serving a sample fleet to `fleet-rollback demo` and rehearsals when no real registry is at hand.
 *
 * It serves `GET /v2/`, `GET /v2/<name>/tags/list` (lexical order, `n`/`last` and a `Link` to
 * the next page as distribution 3 does), `GET|HEAD /v2/<name>/manifests/<tag|digest>` (OCI image
 * manifests with `Docker-Content-Digest`) and `GET|HEAD /v2/<name>/blobs/<digest>` (config blobs
 * with `created` and labels, and one shared empty layer). Digests are real sha256 digests of the
 * bytes served. Errors carry distribution's JSON body (`{"errors":[{"code","message","detail"}]}`).
 *
 * A Node-only adapter (node:http, node:crypto); it binds to 127.0.0.1 only.
 */
import { createHash } from "node:crypto"
import { createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { pauseLayer } from "./PauseProgram.ts"

/** One image the sandbox serves. */
export interface SandboxImage {
  /** Repository path, e.g. `shop/api`. */
  readonly repository: string
  readonly tag: string
  /** The config blob's `created` (ISO-8601 / RFC 3339). */
  readonly created: string
  /** `org.opencontainers.image.revision`, as config label and manifest annotation. */
  readonly revision?: string | undefined
  /** `org.opencontainers.image.created` manifest annotation; none when absent. */
  readonly annotationCreated?: string | undefined
}

/** Options of {@link startSandboxRegistry}. */
export interface SandboxRegistryOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  readonly images: ReadonlyArray<SandboxImage>
  /**
   * Images a real Docker Engine can run (the Swarm demo): a second layer holds `/pause`, a tiny
   * static x86-64 program that waits until killed (lib/sandbox/PauseProgram.ts), the entrypoint,
   * stopped with SIGKILL. Default false: the layer-less images of the Marathon demo.
   */
  readonly runnable?: boolean | undefined
}

/** A running sandbox registry. */
export interface SandboxRegistry {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string
  /** Number of HTTP requests served so far. */
  readonly requests: number
  /** Stops listening and closes open connections. */
  readonly stop: () => Promise<void>
}

/** The OCI media types the sandbox serves. */
export const SandboxMediaType = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip"
} as const

/** Largest page of tags served, whatever `n` asks for. */
export const SANDBOX_MAX_PAGE = 1000

const digestOf = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`

// The one layer every sandbox image shares: an empty tar (1024 zero bytes) in a gzip member
// with a stored (uncompressed) deflate block — valid gzip without needing node:zlib.
const emptyTar = new Uint8Array(1024)
const layerBytes: Uint8Array = ((): Uint8Array => {
  // gzip member: header, one stored deflate block, CRC32 and size of the uncompressed data.
  const crc = crc32(emptyTar)
  const out = new Uint8Array(10 + 5 + emptyTar.length + 8)
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], 0)
  out.set([1, emptyTar.length & 0xff, emptyTar.length >> 8, ~emptyTar.length & 0xff, (~emptyTar.length >> 8) & 0xff], 10)
  out.set(emptyTar, 15)
  const view = new DataView(out.buffer)
  view.setUint32(15 + emptyTar.length, crc, true)
  view.setUint32(19 + emptyTar.length, emptyTar.length, true)
  return out
})()

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

interface StoredManifest {
  readonly digest: string
  readonly body: Uint8Array
}

interface StoredRepository {
  /** Tag → manifest digest. */
  readonly tags: Map<string, string>
  /** Manifest digest → manifest. */
  readonly manifests: Map<string, StoredManifest>
  /** Blob digest → bytes (configs and the layer). */
  readonly blobs: Map<string, Uint8Array>
}

const encoder = new TextEncoder()

/** Builds the config blob and OCI manifest of one image (deterministic bytes). */
const buildImage = (image: SandboxImage, runnable: boolean): { config: Uint8Array; manifest: Uint8Array } => {
  const labels: Record<string, string> = {}
  if (image.revision !== undefined) labels["org.opencontainers.image.revision"] = image.revision
  const config = encoder.encode(JSON.stringify({
    created: image.created,
    architecture: "amd64",
    os: "linux",
    config: runnable ? { Labels: labels, Entrypoint: ["/pause"], StopSignal: "SIGKILL" } : { Labels: labels },
    rootfs: { type: "layers", diff_ids: runnable ? [digestOf(emptyTar), digestOf(pauseLayer.tar)] : [digestOf(emptyTar)] }
  }))
  const annotations: Record<string, string> = {}
  if (image.annotationCreated !== undefined) annotations["org.opencontainers.image.created"] = image.annotationCreated
  if (image.revision !== undefined) annotations["org.opencontainers.image.revision"] = image.revision
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: SandboxMediaType.manifest,
    config: { mediaType: SandboxMediaType.config, digest: digestOf(config), size: config.length },
    layers: [
      { mediaType: SandboxMediaType.layer, digest: digestOf(layerBytes), size: layerBytes.length },
      ...(runnable ? [{ mediaType: SandboxMediaType.layer, digest: digestOf(pauseLayer.gzip), size: pauseLayer.gzip.length }] : [])
    ]
  }
  if (Object.keys(annotations).length > 0) manifest["annotations"] = annotations
  return { config, manifest: encoder.encode(JSON.stringify(manifest)) }
}

/** Indexes the images by repository; a later image with the same repository and tag wins. */
const buildStore = (images: ReadonlyArray<SandboxImage>, runnable: boolean): Map<string, StoredRepository> => {
  const store = new Map<string, StoredRepository>()
  for (const image of images) {
    let repository = store.get(image.repository)
    if (repository === undefined) {
      repository = { tags: new Map(), manifests: new Map(), blobs: new Map([[digestOf(layerBytes), layerBytes]]) }
      if (runnable) repository.blobs.set(digestOf(pauseLayer.gzip), pauseLayer.gzip)
      store.set(image.repository, repository)
    }
    const { config, manifest } = buildImage(image, runnable)
    const digest = digestOf(manifest)
    repository.blobs.set(digestOf(config), config)
    repository.manifests.set(digest, { digest, body: manifest })
    repository.tags.set(image.tag, digest)
  }
  return store
}

const sendError = (
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  detail: Record<string, string>,
  head: boolean
): void => {
  const body = JSON.stringify({ errors: [{ code, message, detail }] })
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": encoder.encode(body).length,
    "docker-distribution-api-version": "registry/2.0"
  })
  res.end(head ? undefined : body)
}

const sendBytes = (
  res: ServerResponse,
  contentType: string,
  bytes: Uint8Array,
  digest: string | undefined,
  head: boolean
): void => {
  const headers: Record<string, string | number> = {
    "content-type": contentType,
    "content-length": bytes.length,
    "docker-distribution-api-version": "registry/2.0"
  }
  if (digest !== undefined) {
    headers["docker-content-digest"] = digest
    headers["etag"] = `"${digest}"`
  }
  res.writeHead(200, headers)
  res.end(head ? undefined : bytes)
}

/** The page of `tags` after `last` (exclusive), at most `n` long, and whether more follow. */
export const pageOfTags = (
  tags: ReadonlyArray<string>,
  n: number | undefined,
  last: string | undefined
): { readonly page: ReadonlyArray<string>; readonly more: boolean } => {
  const sorted = [...tags].sort()
  const start = last === undefined ? 0 : sorted.findIndex((tag) => tag > last)
  const rest = start < 0 ? [] : sorted.slice(start)
  const size = n === undefined ? rest.length : Math.min(n, SANDBOX_MAX_PAGE)
  // n=0 asks for nothing: no page and no Link (a Link with n=0 would send clients round forever).
  return { page: rest.slice(0, size), more: size > 0 && rest.length > size }
}

const route = /^\/v2\/(.+)\/(tags\/list|manifests\/[^/]+|blobs\/[^/]+)$/

/** Answers one request against the store. */
const handle = (store: Map<string, StoredRepository>) => (req: IncomingMessage, res: ServerResponse): void => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1")
  const head = req.method === "HEAD"
  if (req.method !== "GET" && !head) {
    sendError(res, 405, "UNSUPPORTED", "the sandbox registry is read-only", { method: req.method ?? "" }, false)
    return
  }
  if (url.pathname === "/v2/" || url.pathname === "/v2") {
    sendBytes(res, "application/json; charset=utf-8", encoder.encode("{}"), undefined, head)
    return
  }
  const match = route.exec(url.pathname)
  if (match === null) {
    sendError(res, 404, "NOT_FOUND", "not found", { path: url.pathname }, head)
    return
  }
  const name = match[1] ?? ""
  const resource = match[2] ?? ""
  const repository = store.get(name)
  if (repository === undefined) {
    sendError(res, 404, "NAME_UNKNOWN", "repository name not known to registry", { name }, head)
    return
  }
  if (resource === "tags/list") {
    const nParam = url.searchParams.get("n")
    const n = nParam === null ? undefined : Number(nParam)
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
      sendError(res, 400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", { n: nParam ?? "" }, head)
      return
    }
    const last = url.searchParams.get("last") ?? undefined
    const { more, page } = pageOfTags([...repository.tags.keys()], n, last)
    const lastOfPage = page[page.length - 1]
    if (more && lastOfPage !== undefined && n !== undefined) {
      const next = new URLSearchParams({ last: lastOfPage, n: String(Math.min(n, SANDBOX_MAX_PAGE)) })
      res.setHeader("link", `</v2/${name}/tags/list?${next}>; rel="next"`)
    }
    sendBytes(res, "application/json; charset=utf-8", encoder.encode(JSON.stringify({ name, tags: page })), undefined, head)
    return
  }
  const reference = decodeURIComponent(resource.slice(resource.indexOf("/") + 1))
  if (resource.startsWith("manifests/")) {
    const digest = reference.startsWith("sha256:") ? reference : repository.tags.get(reference)
    const manifest = digest === undefined ? undefined : repository.manifests.get(digest)
    if (manifest === undefined) {
      const detail: Record<string, string> = reference.startsWith("sha256:") ? { Digest: reference } : { Tag: reference }
      sendError(res, 404, "MANIFEST_UNKNOWN", "manifest unknown", detail, head)
      return
    }
    sendBytes(res, SandboxMediaType.manifest, manifest.body, manifest.digest, head)
    return
  }
  const blob = repository.blobs.get(reference)
  if (blob === undefined) {
    sendError(res, 404, "BLOB_UNKNOWN", "blob unknown to registry", { digest: reference }, head)
    return
  }
  sendBytes(res, "application/octet-stream", blob, reference, head)
}

/**
 * Starts the sandbox registry on 127.0.0.1 (`port` 0 = a free port) serving `images`.
 * Resolves once it listens; `stop()` closes it (idempotent).
 */
export const startSandboxRegistry = (options: SandboxRegistryOptions): Promise<SandboxRegistry> => {
  const store = buildStore(options.images, options.runnable === true)
  let requests = 0
  const answer = handle(store)
  const server: Server = createServer((req, res) => {
    requests++
    answer(req, res)
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      const { port } = server.address() as AddressInfo
      let stopped: Promise<void> | undefined
      resolve({
        url: `http://127.0.0.1:${port}`,
        get requests() {
          return requests
        },
        stop: () => {
          stopped ??= new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
          return stopped
        }
      })
    })
  })
}
