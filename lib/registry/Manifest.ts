/**
 * @module Manifest — OCI / Docker manifest, index and config schemas, and the pure choices made on
 * them: which child of an index to read (platform, attestations skipped) and which dates and
 * revision an image carries; for Docker schema1 manifests (signed JWS, images pushed before
 * 2017) the payload their digest is computed over and the date of their first history entry.
 */
import { Buffer } from "node:buffer"
import { Result, Schema } from "effect"

/** The four manifest media types sent in one `Accept` header (FACTS.md "Manifests and digests"). */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json"
] as const

/** The `Accept` header value for manifest requests. */
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(", ")

/** Annotation holding the build date. */
export const CREATED_ANNOTATION = "org.opencontainers.image.created"
/** Annotation / label holding the source revision. */
export const REVISION_ANNOTATION = "org.opencontainers.image.revision"

const Annotations = Schema.Record(Schema.String, Schema.String)

/** A descriptor (`mediaType`, `digest`, `size`, optional platform and annotations). */
export const Descriptor = Schema.Struct({
  mediaType: Schema.optional(Schema.String),
  digest: Schema.String,
  size: Schema.optional(Schema.Number),
  platform: Schema.optional(Schema.Struct({
    architecture: Schema.String,
    os: Schema.String,
    variant: Schema.optional(Schema.String)
  })),
  annotations: Schema.optional(Annotations)
})

/** A descriptor as decoded. */
export type Descriptor = typeof Descriptor.Type

/** Any manifest body we understand: an index/list (`manifests`) or an image manifest (`config`). */
export const ManifestBody = Schema.Struct({
  schemaVersion: Schema.Number,
  mediaType: Schema.optional(Schema.String),
  manifests: Schema.optional(Schema.Array(Descriptor)),
  config: Schema.optional(Descriptor),
  annotations: Schema.optional(Annotations),
  /** schema1: the image's architecture (one platform per manifest). */
  architecture: Schema.optional(Schema.String),
  /** schema1: one entry per layer, newest first, each the layer's v1 image JSON as a string. */
  history: Schema.optional(Schema.Array(Schema.Struct({ v1Compatibility: Schema.String })))
})

/** A manifest body as decoded. */
export type ManifestBody = typeof ManifestBody.Type

/** The parts of an image config blob we read (`created`, labels, platform). */
export const ConfigBody = Schema.Struct({
  created: Schema.optional(Schema.NullOr(Schema.String)),
  architecture: Schema.optional(Schema.String),
  os: Schema.optional(Schema.String),
  variant: Schema.optional(Schema.String),
  config: Schema.optional(Schema.NullOr(Schema.Struct({
    Labels: Schema.optional(Schema.NullOr(Annotations))
  })))
})

/** A config body as decoded. */
export type ConfigBody = typeof ConfigBody.Type

/** What a manifest is. */
export type ManifestKind = "index" | "image" | "schema1" | "unknown"

/** Classifies a manifest by its `Content-Type`, `mediaType` and shape. */
export const manifestKind = (contentType: string | undefined, body: ManifestBody): ManifestKind => {
  const type = (body.mediaType ?? contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (body.schemaVersion === 1 || type.startsWith("application/vnd.docker.distribution.manifest.v1")) return "schema1"
  if (type.endsWith("index.v1+json") || type.endsWith("manifest.list.v2+json") || body.manifests !== undefined) return "index"
  if (body.config !== undefined) return "image"
  return "unknown"
}

/** A platform `os/architecture[/variant]`. */
export interface Platform {
  readonly os: string
  readonly architecture: string
  readonly variant?: string | undefined
}

/** Parses `linux/amd64` or `linux/arm64/v8`; undefined when it has not 2 or 3 parts. */
export const parsePlatform = (value: string): Platform | undefined => {
  const parts = value.split("/")
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === "")) return undefined
  return { os: parts[0]!, architecture: parts[1]!, variant: parts[2] }
}

/** Formats a platform as `os/architecture[/variant]`. */
export const formatPlatform = (platform: Platform): string =>
  `${platform.os}/${platform.architecture}${platform.variant === undefined ? "" : `/${platform.variant}`}`

/** True for BuildKit attestation entries (`unknown/unknown`, or the attestation reference type annotation). */
export const isAttestation = (descriptor: Descriptor): boolean =>
  descriptor.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" ||
  (descriptor.platform?.os === "unknown" && descriptor.platform.architecture === "unknown")

/**
 * Picks the child of an index for `wanted`: attestations skipped; os and architecture must match;
 * a wanted variant must match (arm64 without a variant matches `v8`); without a wanted variant the
 * child without a variant wins, then the first one.
 */
export const selectPlatform = (manifests: ReadonlyArray<Descriptor>, wanted: Platform): Descriptor | undefined => {
  const candidates = manifests.filter((m) =>
    !isAttestation(m) && m.platform !== undefined && m.platform.os === wanted.os &&
    m.platform.architecture === wanted.architecture
  )
  if (wanted.variant !== undefined) {
    return candidates.find((m) => m.platform?.variant === wanted.variant) ??
      (wanted.architecture === "arm64" && wanted.variant === "v8"
        ? candidates.find((m) => m.platform?.variant === undefined)
        : undefined)
  }
  return candidates.find((m) => m.platform?.variant === undefined) ?? candidates[0]
}

/** The platforms an index offers (attestations left out), for messages. */
export const offeredPlatforms = (manifests: ReadonlyArray<Descriptor>): ReadonlyArray<string> =>
  manifests.filter((m) => !isAttestation(m) && m.platform !== undefined).map((m) => formatPlatform(m.platform!))

/** A digest `algorithm:hex` we can verify (sha256 or sha512). */
export const DIGEST_PATTERN = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/

/** True when a tag-list entry is a digest, not a tag (Artifactory lists them). */
export const looksLikeDigest = (entry: string): boolean => /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(entry)

/** True for a valid tag name per the distribution spec (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
export const isValidTag = (entry: string): boolean => /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(entry)

/** The media type of a signed Docker schema1 manifest (a JWS in libtrust's "pretty" form). */
export const SCHEMA1_SIGNED_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v1+prettyjws"

/** True for a `Content-Type` of a Docker schema1 manifest (signed or not). */
export const isSchema1MediaType = (contentType: string | undefined): boolean =>
  (contentType ?? "").trim().toLowerCase().startsWith("application/vnd.docker.distribution.manifest.v1")

/** What the digest of a schema1 answer is computed over. */
export type Schema1Payload =
  | { readonly _tag: "Signed"; readonly payload: Uint8Array }
  | { readonly _tag: "Unsigned" }
  | { readonly _tag: "Invalid"; readonly why: string }

const decodeJws = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Struct({
  signatures: Schema.optional(Schema.Array(Schema.Struct({ protected: Schema.String })))
})))

const decodeProtectedHeader = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Struct({
  formatLength: Schema.Int,
  formatTail: Schema.String
})))

/**
 * The payload a registry computes a signed schema1 manifest's digest over, as libtrust's
 * `ParsePrettySignature` rebuilds it: the body's first `formatLength` bytes followed by the
 * base64url-decoded `formatTail`, both from each signature's protected header (they must agree),
 * i.e. the manifest without its `signatures` block. `Unsigned` when the body has no signatures
 * (its digest is over the body itself).
 */
export const schema1Payload = (body: Uint8Array): Schema1Payload => {
  const jws = decodeJws(new TextDecoder().decode(body))
  if (Result.isFailure(jws)) return { _tag: "Invalid", why: `not JSON: ${jws.failure.message}` }
  const signatures = jws.success.signatures ?? []
  if (signatures.length === 0) return { _tag: "Unsigned" }
  let format: { length: number; tail: string } | undefined
  for (const signature of signatures) {
    const header = decodeProtectedHeader(Buffer.from(signature.protected, "base64url").toString("utf8"))
    if (Result.isFailure(header)) return { _tag: "Invalid", why: `a signature's protected header has no formatLength/formatTail: ${header.failure.message}` }
    const { formatLength, formatTail } = header.success
    if (format !== undefined && (format.length !== formatLength || format.tail !== formatTail)) {
      return { _tag: "Invalid", why: "the signatures disagree on formatLength/formatTail" }
    }
    format = { length: formatLength, tail: formatTail }
  }
  if (format!.length < 0 || format!.length > body.length) return { _tag: "Invalid", why: `formatLength ${format!.length} is outside the body` }
  const tail = Buffer.from(format!.tail, "base64url")
  const payload = new Uint8Array(format!.length + tail.length)
  payload.set(body.subarray(0, format!.length), 0)
  payload.set(tail, format!.length)
  return { _tag: "Signed", payload }
}

const decodeV1Compatibility = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Struct({
  created: Schema.optional(Schema.NullOr(Schema.String))
})))

/**
 * The build date of a schema1 image: `created` of its first `history` entry's `v1Compatibility`
 * JSON (the newest layer's v1 image JSON, i.e. the image's own); undefined when absent or unreadable.
 */
export const schema1Created = (manifest: ManifestBody): string | undefined => {
  const first = manifest.history?.[0]
  if (first === undefined) return undefined
  const decoded = decodeV1Compatibility(first.v1Compatibility)
  return Result.isSuccess(decoded) ? decoded.success.created ?? undefined : undefined
}
