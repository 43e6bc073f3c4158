/**
 * @module pushImage — pushes fixture images into a registry through the distribution HTTP API
 * with plain `fetch`: Docker schema2 images, OCI images (optionally annotated), multi-arch OCI
 * indexes with a BuildKit attestation entry, signed Docker schema1 images (as docker 1.x pushed
 * them), and whole fleets for the benchmark.
 *
 * Blobs go up monolithically (`POST /v2/<name>/blobs/uploads/` then `PUT <location>&digest=`;
 * distribution 2.8.2 ignores a `digest` on the POST), shared layers are mounted across
 * repositories, then the manifest is `PUT`. Auth: none, Basic, or Bearer (the 401 challenge is
 * answered with a push token from the realm it names, e.g. the test TokenServer).
 * Test harness code: plain Node APIs and async on purpose.
 */
import { createHash } from "node:crypto"
import { gzipSync } from "node:zlib"
import type { RegistryUser } from "./DockerRegistry.ts"
import { SCHEMA1_SIGNED, signedSchema1Manifest } from "./schema1.ts"
import type { SignedSchema1 } from "./schema1.ts"

/** Media types used by the fixtures. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  inToto: "application/vnd.in-toto+json"
} as const

/** The annotation keys the date reader cares about. */
export const Annotation = {
  created: "org.opencontainers.image.created",
  revision: "org.opencontainers.image.revision"
} as const

/** Where to push, and as whom. */
export interface PushTarget {
  /** Registry base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** Basic credentials; also used at the token realm when the registry asks for Bearer. */
  readonly credentials?: RegistryUser | undefined
}

/** What goes into an image config blob. */
export interface ConfigSpec {
  /** RFC 3339 `created`; omitted from the blob when undefined. */
  readonly created?: string | undefined
  /** `config.Labels`, e.g. `org.opencontainers.image.revision`. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly architecture?: string | undefined
  readonly os?: string | undefined
  /**
   * The config's `history`, one entry per layer (the fixtures have one): what a registry needs to
   * make a schema1 conversion of the image for a client that accepts no schema2 type.
   */
  readonly history?: ReadonlyArray<{ readonly created: string; readonly createdBy: string }> | undefined
}

/** A content descriptor as it appears in manifests. */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string }
  readonly annotations?: Readonly<Record<string, string>>
}

/** The outcome of pushing one manifest. */
export interface PushedManifest {
  /** `sha256:…` of the manifest bytes, as the registry confirmed in `Docker-Content-Digest`. */
  readonly digest: string
  readonly mediaType: string
  readonly size: number
  /** The exact bytes pushed. */
  readonly body: string
  /** Digest of the config blob (single-platform manifests). */
  readonly configDigest?: string
}

/** `sha256:<hex>` of some bytes. */
export const sha256Digest = (data: Uint8Array | string): string =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`

// One empty tar (two 512-byte zero blocks), gzipped: a valid, tiny layer every fixture shares.
const EMPTY_TAR = Buffer.alloc(1024)
const LAYER = gzipSync(EMPTY_TAR, { level: 9 })
const LAYER_DIGEST = sha256Digest(LAYER)
const DIFF_ID = sha256Digest(EMPTY_TAR)

/** The config blob bytes for a spec (key order fixed, so equal specs give equal digests). */
export const configBlob = (spec: ConfigSpec): Buffer => {
  const config: Record<string, unknown> = {}
  if (spec.created !== undefined) config["created"] = spec.created
  config["architecture"] = spec.architecture ?? "amd64"
  config["os"] = spec.os ?? "linux"
  config["config"] = spec.labels === undefined ? {} : { Labels: spec.labels }
  config["rootfs"] = { type: "layers", diff_ids: [DIFF_ID] }
  if (spec.history !== undefined) config["history"] = spec.history.map((h) => ({ created: h.created, created_by: h.createdBy }))
  return Buffer.from(JSON.stringify(config))
}

const basicHeader = (user: RegistryUser): string =>
  `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`

/** Parses `Bearer realm="…",service="…",scope="…"`. */
const parseChallenge = (header: string | null): { scheme: string; params: Record<string, string> } | undefined => {
  if (header === null) return undefined
  const match = /^(\w+)\s*(.*)$/.exec(header.trim())
  if (match === null) return undefined
  const params: Record<string, string> = {}
  for (const m of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!
  return { scheme: match[1]!.toLowerCase(), params }
}

/**
 * A pushing session against one registry: remembers the auth scheme, one push token per
 * repository, and which blobs each repository already has (so shared layers go up once).
 */
export class Pusher {
  /** Number of HTTP requests made to the registry (not counting the token realm). */
  requests = 0
  private scheme: "unknown" | "basic" | "bearer" = "unknown"
  private bearer: { realm: string; service: string } | undefined
  private readonly tokens = new Map<string, Promise<string>>()
  private readonly blobs = new Map<string, Promise<void>>()
  /** Repository that first received a blob, to mount it from. */
  private readonly blobHome = new Map<string, string>()
  readonly base: string

  readonly target: PushTarget

  constructor(target: PushTarget) {
    this.target = target
    this.base = target.url.replace(/\/+$/, "")
  }

  private token(repository: string): Promise<string> {
    const cached = this.tokens.get(repository)
    if (cached !== undefined) return cached
    const bearer = this.bearer!
    const promise = (async () => {
      const query = new URLSearchParams({ service: bearer.service, scope: `repository:${repository}:pull,push` })
      const headers: Record<string, string> = this.target.credentials === undefined
        ? {}
        : { authorization: basicHeader(this.target.credentials) }
      const response = await fetch(`${bearer.realm}?${query}`, { headers })
      if (!response.ok) throw new Error(`push token for ${repository}: the token realm answered ${response.status}`)
      const body = (await response.json()) as { token?: string; access_token?: string }
      const token = body.token ?? body.access_token
      if (token === undefined) throw new Error(`push token for ${repository}: no token in the answer`)
      return token
    })()
    promise.catch(() => this.tokens.delete(repository))
    this.tokens.set(repository, promise)
    return promise
  }

  private async authorization(repository: string): Promise<string | undefined> {
    if (this.scheme === "basic" && this.target.credentials !== undefined) return basicHeader(this.target.credentials)
    if (this.scheme === "bearer") return `Bearer ${await this.token(repository)}`
    return undefined
  }

  /** One registry request with auth; answers a 401 challenge once. */
  async request(
    repository: string,
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: Buffer | undefined }
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const usedToken = this.scheme === "bearer" ? this.tokens.get(repository) : undefined
      const authorization = await this.authorization(repository)
      const headers: Record<string, string> = { ...init.headers }
      if (authorization !== undefined) headers["authorization"] = authorization
      this.requests++
      const response = await fetch(url.startsWith("http") ? url : `${this.base}${url}`, {
        method: init.method,
        headers,
        ...(init.body === undefined ? {} : { body: new Uint8Array(init.body) })
      })
      if (response.status !== 401 || attempt > 0) return response
      await response.arrayBuffer()
      const challenge = parseChallenge(response.headers.get("www-authenticate"))
      if (challenge?.scheme === "basic") {
        if (this.target.credentials === undefined) return response
        this.scheme = "basic"
      } else if (challenge?.scheme === "bearer" && challenge.params["realm"] !== undefined) {
        this.scheme = "bearer"
        this.bearer = { realm: challenge.params["realm"], service: challenge.params["service"] ?? "" }
        // Drop the token only when it is the one that was refused (concurrent first requests
        // all see a 401 before any token exists: they share the one fetched next).
        if (usedToken !== undefined && this.tokens.get(repository) === usedToken) this.tokens.delete(repository)
      } else {
        return response
      }
    }
  }

  private async failure(what: string, response: Response): Promise<Error> {
    const text = await response.text()
    return new Error(`${what}: the registry answered ${response.status} ${text.slice(0, 500)}`)
  }

  /** Uploads a blob unless this session already put it into the repository; returns its digest. */
  pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data)
    const key = `${repository}@${digest}`
    let pending = this.blobs.get(key)
    if (pending === undefined) {
      pending = this.uploadBlob(repository, digest, data)
      pending.catch(() => this.blobs.delete(key))
      this.blobs.set(key, pending)
    }
    return pending.then(() => digest)
  }

  private async uploadBlob(repository: string, digest: string, data: Buffer): Promise<void> {
    const home = this.blobHome.get(digest)
    // A mount needs pull access to the source repository: under Bearer, 2.8.2 answers 401 to a
    // token scoped to the target only (it does not fall back to a plain upload), so upload then.
    const start = home !== undefined && home !== repository && this.scheme !== "bearer"
      ? `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(home)}`
      : `/v2/${repository}/blobs/uploads/`
    const started = await this.request(repository, start, { method: "POST" })
    if (started.status === 201) {
      await started.arrayBuffer()
      return // mounted from another repository
    }
    if (started.status !== 202) throw await this.failure(`starting an upload to ${repository}`, started)
    await started.arrayBuffer()
    const location = started.headers.get("location")
    if (location === null) throw new Error(`upload to ${repository}: 202 without Location`)
    const absolute = new URL(location, `${this.base}/`)
    absolute.searchParams.set("digest", digest)
    const put = await this.request(repository, absolute.toString(), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(data.length) },
      body: data
    })
    if (put.status !== 201) throw await this.failure(`uploading blob ${digest} to ${repository}`, put)
    await put.arrayBuffer()
    if (!this.blobHome.has(digest)) this.blobHome.set(digest, repository)
  }

  /** PUTs a manifest under a tag (or digest) and checks the digest the registry confirms. */
  async pushManifest(repository: string, reference: string, mediaType: string, body: string): Promise<PushedManifest> {
    const bytes = Buffer.from(body)
    const digest = sha256Digest(bytes)
    const response = await this.request(repository, `/v2/${repository}/manifests/${reference}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: bytes
    })
    if (response.status !== 201) throw await this.failure(`putting manifest ${repository}:${reference}`, response)
    await response.arrayBuffer()
    const confirmed = response.headers.get("docker-content-digest")
    if (confirmed !== digest) {
      throw new Error(`manifest ${repository}:${reference}: registry confirmed ${confirmed}, pushed ${digest}`)
    }
    return { digest, mediaType, size: bytes.length, body }
  }

  /** Pushes config + shared layer + a single-platform manifest (OCI or Docker schema2). */
  async pushSinglePlatform(options: {
    readonly repository: string
    /** Tag to put it under; undefined pushes by digest only (index children). */
    readonly tag?: string | undefined
    readonly format: "oci" | "docker"
    readonly config: ConfigSpec
    readonly annotations?: Readonly<Record<string, string>> | undefined
  }): Promise<PushedManifest> {
    const oci = options.format === "oci"
    const config = configBlob(options.config)
    const [configDigest] = await Promise.all([
      this.pushBlob(options.repository, config),
      this.pushBlob(options.repository, LAYER)
    ])
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
      config: { mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: oci ? MediaType.ociLayer : MediaType.dockerLayer, digest: LAYER_DIGEST, size: LAYER.length }]
    }
    if (options.annotations !== undefined && Object.keys(options.annotations).length > 0) {
      manifest["annotations"] = options.annotations
    }
    const body = JSON.stringify(manifest)
    const pushed = await this.pushManifest(options.repository, options.tag ?? sha256Digest(body), manifest["mediaType"] as string, body)
    return { ...pushed, configDigest }
  }

  /**
   * Pushes a signed schema1 image as docker 1.x did (the registry must run with
   * `schema1: true`): the layer blob, then the pretty JWS; `created` per layer, newest first.
   * Checks the registry confirms the digest of the payload without signatures.
   */
  async pushSchema1(options: {
    readonly repository: string
    readonly tag: string
    readonly created: ReadonlyArray<string>
    readonly architecture?: string
  }): Promise<SignedSchema1> {
    await this.pushBlob(options.repository, LAYER)
    const manifest = signedSchema1Manifest({
      name: options.repository,
      tag: options.tag,
      layers: options.created.map((created) => ({ blobSum: LAYER_DIGEST, created })),
      ...(options.architecture === undefined ? {} : { architecture: options.architecture })
    })
    const response = await this.request(options.repository, `/v2/${options.repository}/manifests/${options.tag}`, {
      method: "PUT",
      headers: { "content-type": SCHEMA1_SIGNED },
      body: Buffer.from(manifest.body)
    })
    if (response.status !== 201) throw await this.failure(`putting schema1 manifest ${options.repository}:${options.tag}`, response)
    await response.arrayBuffer()
    const confirmed = response.headers.get("docker-content-digest")
    if (confirmed !== manifest.digest) {
      throw new Error(`schema1 manifest ${options.repository}:${options.tag}: registry confirmed ${confirmed}, the payload's digest is ${manifest.digest}`)
    }
    return manifest
  }

  /** A BuildKit-style attestation manifest (config of os/arch `unknown`, one in-toto layer). */
  async pushAttestation(repository: string, subject: string): Promise<PushedManifest> {
    const statement = Buffer.from(JSON.stringify({
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://spdx.dev/Document",
      subject: [{ name: "fixture", digest: { sha256: subject.slice("sha256:".length) } }],
      predicate: {}
    }))
    const config = Buffer.from(JSON.stringify({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [sha256Digest(statement)] } }))
    const [configDigest, layerDigest] = await Promise.all([
      this.pushBlob(repository, config),
      this.pushBlob(repository, statement)
    ])
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: [{
        mediaType: MediaType.inToto,
        digest: layerDigest,
        size: statement.length,
        annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" }
      }]
    })
    const pushed = await this.pushManifest(repository, sha256Digest(body), MediaType.ociManifest, body)
    return { ...pushed, configDigest }
  }
}

/** Annotations for `org.opencontainers.image.created` / `revision`, leaving out what is undefined. */
export const imageAnnotations = (options: { readonly created?: string | undefined; readonly revision?: string | undefined }): Record<string, string> => {
  const annotations: Record<string, string> = {}
  if (options.created !== undefined) annotations[Annotation.created] = options.created
  if (options.revision !== undefined) annotations[Annotation.revision] = options.revision
  return annotations
}

/** Pushes a Docker schema2 image (config `created` and labels as given); returns the manifest. */
export const pushDockerImage = (
  target: PushTarget | Pusher,
  options: { readonly repository: string; readonly tag: string; readonly config: ConfigSpec }
): Promise<PushedManifest> =>
  asPusher(target).pushSinglePlatform({ ...options, format: "docker" })

/**
 * Pushes an OCI image; `annotations.created` / `annotations.revision` become
 * `org.opencontainers.image.created` / `.revision` manifest annotations.
 */
export const pushOciImage = (
  target: PushTarget | Pusher,
  options: {
    readonly repository: string
    readonly tag: string
    readonly config: ConfigSpec
    readonly annotations?: { readonly created?: string | undefined; readonly revision?: string | undefined }
  }
): Promise<PushedManifest> =>
  asPusher(target).pushSinglePlatform({
    repository: options.repository,
    tag: options.tag,
    format: "oci",
    config: options.config,
    annotations: imageAnnotations(options.annotations ?? {})
  })

/** The outcome of {@link pushMultiArchIndex}. */
export interface PushedIndex extends PushedManifest {
  /** Child manifests by platform (`linux/amd64`, `linux/arm64`, `unknown/unknown`). */
  readonly children: Readonly<Record<string, PushedManifest>>
}

/**
 * Pushes a multi-arch OCI index: one OCI manifest per platform (each with its own config),
 * plus, unless `attestation: false`, a BuildKit attestation entry for the first platform
 * (`platform: unknown/unknown`, `vnd.docker.reference.type: attestation-manifest`).
 */
export const pushMultiArchIndex = async (
  target: PushTarget | Pusher,
  options: {
    readonly repository: string
    readonly tag: string
    /** Config per platform, e.g. `{ "linux/amd64": {created…}, "linux/arm64": {created…} }`. */
    readonly platforms: Readonly<Record<string, ConfigSpec>>
    readonly attestation?: boolean
    readonly annotations?: { readonly created?: string | undefined; readonly revision?: string | undefined }
  }
): Promise<PushedIndex> => {
  const pusher = asPusher(target)
  const entries = Object.entries(options.platforms)
  const children: Record<string, PushedManifest> = {}
  const manifests: Array<Descriptor> = []
  for (const [platform, config] of entries) {
    const [os = "linux", architecture = "amd64", variant] = platform.split("/")
    const pushed = await pusher.pushSinglePlatform({
      repository: options.repository,
      format: "oci",
      config: { ...config, os, architecture }
    })
    children[platform] = pushed
    manifests.push({
      mediaType: pushed.mediaType,
      digest: pushed.digest,
      size: pushed.size,
      platform: variant === undefined ? { architecture, os } : { architecture, os, variant }
    })
  }
  const first = manifests[0]
  if (options.attestation !== false && first !== undefined) {
    const attestation = await pusher.pushAttestation(options.repository, first.digest)
    children["unknown/unknown"] = attestation
    manifests.push({
      mediaType: attestation.mediaType,
      digest: attestation.digest,
      size: attestation.size,
      platform: { architecture: "unknown", os: "unknown" },
      annotations: {
        "vnd.docker.reference.digest": first.digest,
        "vnd.docker.reference.type": "attestation-manifest"
      }
    })
  }
  const index: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }
  const annotations = imageAnnotations(options.annotations ?? {})
  if (Object.keys(annotations).length > 0) index["annotations"] = annotations
  const pushed = await pusher.pushManifest(options.repository, options.tag, MediaType.ociIndex, JSON.stringify(index))
  return { ...pushed, children }
}

const asPusher = (target: PushTarget | Pusher): Pusher => (target instanceof Pusher ? target : new Pusher(target))

/** One image of a declared fleet. */
export interface FleetImage {
  readonly tag: string
  /** Config `created` (RFC 3339). */
  readonly created: string
  /** `org.opencontainers.image.created` annotation (OCI only); none when undefined. */
  readonly annotationCreated?: string | undefined
  /** `org.opencontainers.image.revision`, as annotation (OCI) and config label. */
  readonly revision?: string | undefined
  /** Manifest format, default `oci`. */
  readonly format?: "oci" | "docker"
}

/** A declared fleet: repositories, each with its tags and dates. */
export interface Fleet {
  readonly repositories: ReadonlyArray<{ readonly name: string; readonly images: ReadonlyArray<FleetImage> }>
}

/** The outcome of {@link pushFleet}: digest per repository and tag, and request figures. */
export interface PushedFleet {
  readonly digests: ReadonlyMap<string, ReadonlyMap<string, string>>
  readonly images: number
  readonly requests: number
  readonly millis: number
}

/**
 * Pushes every image of a fleet concurrently (default 16 in flight). The one tiny layer is
 * uploaded once and mounted into the other repositories; each image costs a tiny config blob
 * (POST + PUT) and a manifest PUT. Progress, when asked, is reported every 500 images.
 */
export const pushFleet = async (
  registryUrl: string | PushTarget,
  fleet: Fleet,
  options: { readonly concurrency?: number; readonly onProgress?: (done: number, total: number) => void } = {}
): Promise<PushedFleet> => {
  const started = performance.now()
  const pusher = new Pusher(typeof registryUrl === "string" ? { url: registryUrl } : registryUrl)
  const jobs = fleet.repositories.flatMap((repository) => repository.images.map((image) => ({ repository: repository.name, image })))
  const digests = new Map<string, Map<string, string>>()
  for (const repository of fleet.repositories) digests.set(repository.name, new Map())
  // Upload the shared layer once before fanning out, so every other repository mounts it.
  const firstRepository = fleet.repositories[0]
  if (firstRepository !== undefined) await pusher.pushBlob(firstRepository.name, LAYER)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const job = jobs[next++]
      if (job === undefined) return
      const { image, repository } = job
      const labels = image.revision === undefined ? undefined : { [Annotation.revision]: image.revision }
      const pushed = await pusher.pushSinglePlatform({
        repository,
        tag: image.tag,
        format: image.format ?? "oci",
        config: { created: image.created, labels },
        annotations: (image.format ?? "oci") === "oci"
          ? imageAnnotations({ created: image.annotationCreated, revision: image.revision })
          : undefined
      })
      digests.get(repository)!.set(image.tag, pushed.digest)
      done++
      if (options.onProgress !== undefined && (done % 500 === 0 || done === jobs.length)) options.onProgress(done, jobs.length)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker))
  return { digests, images: jobs.length, requests: pusher.requests, millis: performance.now() - started }
}
