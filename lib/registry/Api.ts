/**
 * @module Api — one function per registry operation (tags list, manifest HEAD/GET, blob GET).
 *
 * A request is data ({@link RegistryRequest}: kind, method, repository, path, query); only
 * {@link makeApi}'s `execute` turns it into a URL on the registry. Redirects are followed here, by
 * hand: `Authorization` is only ever sent to the registry's own host:port, and never after a
 * redirect to another host (S3, CDN) or a downgrade from https to http.
 */
import * as cryptoModule from "node:crypto"
import { createHash } from "node:crypto"
import { Effect, Result, Schema } from "effect"
import type { Authorizer } from "./Auth.ts"
import { nextLinkTarget, resolveLink } from "./Link.ts"
import { DIGEST_PATTERN, isSchema1MediaType, MANIFEST_ACCEPT, ManifestBody, schema1Payload } from "./Manifest.ts"
import { RegistryError } from "./RegistryError.ts"
import { displayUrl } from "./Transport.ts"
import type { RequestKind, Transport, WireRequest, WireResponse } from "./Transport.ts"

/** A registry request as data; `path` is absolute on the registry (`/v2/<name>/…`). */
export interface RegistryRequest {
  readonly kind: RequestKind
  readonly method: "GET" | "HEAD"
  readonly repository: string
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly accept?: string | undefined
}

/** Page size asked for on tag lists (ECR rejects more than 1000). */
export const TAGS_PAGE_SIZE = 1000

/** `GET /v2/<name>/tags/list?n=1000`. */
export const tagsListRequest = (repository: string): RegistryRequest => ({
  kind: "tags",
  method: "GET",
  repository,
  path: `/v2/${repository}/tags/list`,
  query: [["n", String(TAGS_PAGE_SIZE)]],
  accept: "application/json"
})

/** `GET` or `HEAD /v2/<name>/manifests/<reference>` with all four manifest media types accepted. */
export const manifestRequest = (repository: string, reference: string, method: "GET" | "HEAD"): RegistryRequest => ({
  kind: method === "GET" ? "manifest" : "manifest-head",
  method,
  repository,
  path: `/v2/${repository}/manifests/${reference}`,
  query: [],
  accept: MANIFEST_ACCEPT
})

/** `GET /v2/<name>/blobs/<digest>`. */
export const blobRequest = (repository: string, digest: string): RegistryRequest => ({
  kind: "blob",
  method: "GET",
  repository,
  path: `/v2/${repository}/blobs/${digest}`,
  query: []
})

/** The pull scope of a repository for Bearer tokens. */
export const pullScope = (repository: string): string => `repository:${repository}:pull`

/** One fetched manifest: its verified digest, media type and decoded body (layers dropped). */
export interface FetchedManifest {
  readonly digest: string
  readonly contentType: string | undefined
  readonly manifest: ManifestBody
}

/** The registry operations. */
export interface Api {
  /** All tags of a repository, following `Link: rel="next"`; `"tags": null` is no tags. */
  readonly listTags: (repository: string) => Effect.Effect<ReadonlyArray<string>, RegistryError>
  /** The digest of a reference from `HEAD` (`Docker-Content-Digest`), falling back to GET when absent. */
  readonly headManifest: (repository: string, reference: string) => Effect.Effect<string, RegistryError>
  /** A manifest, its digest checked against the sha256 of its body. */
  readonly getManifest: (repository: string, reference: string) => Effect.Effect<FetchedManifest, RegistryError>
  /** A blob, checked against its digest. */
  readonly getBlob: (repository: string, digest: string) => Effect.Effect<Uint8Array, RegistryError>
}

/** One UTF-8 decoder for all bodies (decoding without `stream` keeps no state between calls). */
const utf8 = new TextDecoder()

/** The `{"errors":[{"code","message"}]}` body of a registry error answer, as text for messages. */
const errorDetail = (response: WireResponse): string => {
  const text = utf8.decode(response.body.subarray(0, 2000))
  const decoded = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Struct({
    errors: Schema.Array(Schema.Struct({ code: Schema.optional(Schema.String), message: Schema.optional(Schema.String) }))
  })))(text)
  if (decoded._tag === "Some" && decoded.value.errors.length > 0) {
    return decoded.value.errors.map((e) => [e.code, e.message].filter((x) => x !== undefined).join(": ")).join("; ")
  }
  return ""
}

/**
 * Decodes a manifest's JSON synchronously to a `Result`; built once. Decoding thousands of
 * manifests per run, the effect form cost twice the time of the decoding itself.
 */
const decodeManifestBody = Schema.decodeUnknownResult(Schema.fromJsonString(ManifestBody))

/** `crypto.hash` (Node ≥ 21.7): one call, no Hash object per body; absent elsewhere. */
const oneShotHash = (cryptoModule as { readonly hash?: (algorithm: string, data: Uint8Array, encoding: "hex") => string }).hash

/**
 * Hex sha256/sha512 of bytes, synchronously. `node:crypto` hashes synchronously (Node and Deno
 * both have it); Web Crypto's async digest cost about a quarter of a millisecond per small
 * manifest. `crypto.hash` is used where it exists (one call instead of a Hash object).
 */
export const hashHexSync = (algorithm: "sha256" | "sha512", bytes: Uint8Array): string =>
  oneShotHash !== undefined ? oneShotHash(algorithm, bytes, "hex") : createHash(algorithm).update(bytes).digest("hex")

/** The digest of `body` with the algorithm of `like` (sha256 unless `like` is sha512), synchronously. */
export const digestOfSync = (body: Uint8Array, like?: string): string => {
  const algorithm = like?.startsWith("sha512:") ? "sha512" : "sha256"
  return `${algorithm}:${hashHexSync(algorithm, body)}`
}

/**
 * The digest of a manifest answer as the registry computes it: over the body, except for a signed
 * Docker schema1 manifest, whose digest is over its payload without the signature block (see
 * `schema1Payload`; the registry re-signs it on every GET, so the body changes, the digest not).
 * The payload is tried when the answer says schema1, or when the body's own digest is not the one
 * claimed and the body carries signatures.
 */
export const manifestDigestSync = (body: Uint8Array, contentType: string | undefined, claimed: string | undefined): string => {
  const plain = digestOfSync(body, claimed)
  if (plain === claimed || (claimed === undefined && !isSchema1MediaType(contentType))) return plain
  const signed = schema1Payload(body)
  return signed._tag === "Signed" ? digestOfSync(signed.payload, claimed) : plain
}

const MAX_REDIRECTS = 5

/** Builds the API over an authorizer and a transport for the registry at `registryUrl`. */
export const makeApi = (registryUrl: URL, authorizer: Authorizer, transport: Transport): Api => {
  const origin = registryUrl.origin

  const wire = (request: RegistryRequest, url: URL): WireRequest => ({
    kind: request.kind,
    method: request.method,
    url,
    headers: request.accept === undefined ? {} : { accept: request.accept },
    repository: request.repository
  })

  const isRedirect = (response: WireResponse): boolean =>
    response.status >= 301 && response.status <= 308 && response.status !== 304 && response.status !== 305 &&
    response.status !== 306 && response.headers["location"] !== undefined

  /** Sends a request, authenticating on the registry host and following redirects by hand. */
  const execute = (request: RegistryRequest): Effect.Effect<WireResponse, RegistryError> =>
    Effect.suspend(() => {
      const url = request.query.length === 0 ? new URL(`${origin}${request.path}`) : new URL(request.path, origin)
      for (const [name, value] of request.query) url.searchParams.append(name, value)
      // Most answers are not redirects: those cost no generator.
      return Effect.flatMap(
        authorizer.send(wire(request, url), pullScope(request.repository)),
        (response) => isRedirect(response) ? followRedirects(request, url, response) : Effect.succeed(response)
      )
    })

  /** Follows the redirects of an answer, never sending `Authorization` off the registry host. */
  const followRedirects = (request: RegistryRequest, url: URL, first: WireResponse): Effect.Effect<WireResponse, RegistryError> =>
    Effect.gen(function*() {
      let response = first
      let leftRegistry = false
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const location = response.headers["location"]
        if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined) return response
        if (hop === MAX_REDIRECTS) break
        const next = URL.parse(location, response.url)
        if (next === null || (next.protocol !== "https:" && next.protocol !== "http:")) {
          return yield* new RegistryError({
            reason: "BadResponse",
            repository: request.repository,
            status: response.status,
            message: `${request.method} ${displayUrl(response.url)} redirects to an unusable location`
          })
        }
        if (response.url.protocol === "https:" && next.protocol === "http:") {
          return yield* new RegistryError({
            reason: "InsecureLink",
            repository: request.repository,
            status: response.status,
            message: `${request.method} ${displayUrl(response.url)} redirects from https down to plain http (${displayUrl(next)}); refusing to follow`
          })
        }
        leftRegistry = leftRegistry || next.host !== registryUrl.host || next.protocol !== registryUrl.protocol
        const method = response.status === 303 ? "GET" : request.method
        const redirected: RegistryRequest = { ...request, method }
        response = leftRegistry
          // Another host: never send the registry's Authorization there.
          ? yield* transport.send(wire(redirected, next))
          : yield* authorizer.send(wire(redirected, next), pullScope(request.repository))
      }
      return yield* new RegistryError({
        reason: "BadResponse",
        repository: request.repository,
        message: `${request.method} ${displayUrl(url)} redirected more than ${MAX_REDIRECTS} times`
      })
    })

  const unexpected = (request: RegistryRequest, response: WireResponse, expected: string) => {
    const detail = errorDetail(response)
    return new RegistryError({
      reason: response.status === 404 ? "NotFound" : "BadResponse",
      repository: request.repository,
      status: response.status,
      message: `${request.method} ${displayUrl(response.url)} answered ${response.status}${
        detail === "" ? "" : ` (${detail})`
      }, expected ${expected}`
    })
  }

  const TagsPage = Schema.fromJsonString(Schema.Struct({
    name: Schema.optional(Schema.NullOr(Schema.String)),
    tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String)))
  }))

  const listTags = (repository: string): Effect.Effect<ReadonlyArray<string>, RegistryError> =>
    Effect.gen(function*() {
      const tags: Array<string> = []
      const seen = new Set<string>()
      let request: RegistryRequest | undefined = tagsListRequest(repository)
      while (request !== undefined) {
        const current: RegistryRequest = request
        const response = yield* execute(current)
        if (response.status === 404) {
          const detail = errorDetail(response)
          return yield* new RegistryError({
            reason: "NotFound",
            repository,
            status: 404,
            message: `repository ${repository} was not found at registry ${origin}${
              detail === "" ? "" : ` (${detail})`
            }: check the repository name (official Docker Hub images live under library/) and the registry URL`
          })
        }
        if (response.status !== 200) return yield* unexpected(current, response, "200 with a tag list")
        const page = yield* Schema.decodeUnknownEffect(TagsPage)(utf8.decode(response.body)).pipe(
          Effect.mapError((cause) =>
            new RegistryError({
              reason: "BadResponse",
              repository,
              message: `GET ${displayUrl(response.url)} answered something that is not a tag list ({"name", "tags": [...]}): ${cause.message}`
            })
          )
        )
        for (const tag of page.tags ?? []) tags.push(tag)
        seen.add(response.url.href)
        const target = nextLinkTarget(response.headers["link"])
        if (target === undefined) break
        const resolved = resolveLink(response.url, target)
        if (resolved._tag === "Foreign") {
          // Like every URL in messages, without its query (it may carry signatures or tokens).
          const shown = URL.parse(resolved.url)
          return yield* new RegistryError({
            reason: "InsecureLink",
            repository,
            message: `the tag list of ${repository} links its next page to ${shown === null ? "something that is not a URL" : displayUrl(shown)}, refused because ${resolved.why}; the registry (or a proxy in front of it) is misconfigured`
          })
        }
        if (seen.has(resolved.url.href)) break
        request = {
          ...current,
          path: resolved.url.pathname,
          query: Array.from(resolved.url.searchParams.entries())
        }
      }
      return tags
    })

  /** The digest of a manifest answer, checked against `Docker-Content-Digest` and a digest asked for. */
  const verifiedDigest = (
    request: RegistryRequest,
    response: WireResponse,
    reference: string
  ): string | RegistryError => {
    const header = response.headers["docker-content-digest"]?.trim()
    const claimed = header !== undefined && header !== ""
      ? header
      : DIGEST_PATTERN.test(reference) ? reference : undefined
    const computed = manifestDigestSync(response.body, response.headers["content-type"], claimed)
    if (claimed !== undefined && claimed !== computed) {
      return new RegistryError({
        reason: "DigestMismatch",
        repository: request.repository,
        message: `${request.method} ${displayUrl(response.url)}: the body's digest is ${computed} but the registry says ${claimed}; the content was changed on the way (proxy?) or the registry is corrupt — do not deploy from it until this is explained`
      })
    }
    if (DIGEST_PATTERN.test(reference) && reference !== computed) {
      return new RegistryError({
        reason: "DigestMismatch",
        repository: request.repository,
        message: `${request.method} ${displayUrl(response.url)}: asked for ${reference}, got content with digest ${computed}`
      })
    }
    return computed
  }

  /** A manifest answer checked and decoded, or why not. */
  const readManifest = (request: RegistryRequest, response: WireResponse, reference: string): FetchedManifest | RegistryError => {
    if (response.status !== 200) return unexpected(request, response, `200 with the manifest of ${request.repository}:${reference}`)
    const digest = verifiedDigest(request, response, reference)
    if (typeof digest !== "string") return digest
    const decoded = decodeManifestBody(utf8.decode(response.body))
    if (Result.isFailure(decoded)) {
      return new RegistryError({
        reason: "BadResponse",
        repository: request.repository,
        message: `GET ${displayUrl(response.url)} answered something that is not an OCI/Docker manifest: ${decoded.failure.message}`
      })
    }
    return { digest, contentType: response.headers["content-type"], manifest: decoded.success }
  }

  const getManifest = (repository: string, reference: string): Effect.Effect<FetchedManifest, RegistryError> => {
    const request = manifestRequest(repository, reference, "GET")
    return Effect.flatMap(execute(request), (response) => {
      const read = readManifest(request, response, reference)
      return read instanceof RegistryError ? Effect.fail(read) : Effect.succeed(read)
    })
  }

  const headManifest = (repository: string, reference: string): Effect.Effect<string, RegistryError> => {
    const request = manifestRequest(repository, reference, "HEAD")
    return Effect.flatMap(execute(request), (response) => {
      if (response.status !== 200) return Effect.fail(unexpected(request, response, `200 for ${repository}:${reference}`))
      const digest = response.headers["docker-content-digest"]?.trim()
      if (digest !== undefined && DIGEST_PATTERN.test(digest)) return Effect.succeed(digest)
      // No usable Docker-Content-Digest: the body is the only way to know.
      return Effect.map(getManifest(repository, reference), (manifest) => manifest.digest)
    })
  }

  const getBlob = (repository: string, digest: string): Effect.Effect<Uint8Array, RegistryError> => {
    const request = blobRequest(repository, digest)
    return Effect.flatMap(execute(request), (response) => {
      if (response.status !== 200) return Effect.fail(unexpected(request, response, `200 with blob ${digest}`))
      // A CDN answers with its own headers: check the body against the digest we asked for.
      const computed = digestOfSync(response.body, digest)
      if (computed !== digest) {
        return Effect.fail(
          new RegistryError({
            reason: "DigestMismatch",
            repository,
            message: `GET ${displayUrl(new URL(request.path, origin))}: the blob's digest is ${computed}, expected ${digest}; do not deploy from this registry until this is explained`
          })
        )
      }
      return Effect.succeed(response.body)
    })
  }

  return { listTags, headManifest, getManifest, getBlob }
}
