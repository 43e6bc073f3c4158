/**
 * @module schema1 — signed Docker schema1 manifests as docker 1.x pushed them (images of seed
 * 004's era): the manifest indented with three spaces, signed with libtrust's "pretty JWS" — an
 * ES256 signature (P-256 key, `jwk` in the header) over `protected.payload`, where the protected
 * header carries `formatLength` and `formatTail` so the registry can cut the `signatures` block
 * back out — and the digest the registry gives it: sha256 of that payload, not of the body.
 *
 * Test harness code: plain Node APIs.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto"
import type { KeyObject } from "node:crypto"

/** The media type a signed schema1 manifest is pushed and served with. */
export const SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

/** One layer of a schema1 image, newest first in `history`. */
export interface Schema1Layer {
  /** The `blobSum` of the layer (a blob the registry holds). */
  readonly blobSum: string
  /** The layer's v1 image JSON `created`. */
  readonly created: string
}

/** A signed schema1 manifest. */
export interface SignedSchema1 {
  /** The pretty JWS as pushed (payload plus `signatures`). */
  readonly body: string
  /** The manifest without its signatures: what the registry stores and digests. */
  readonly payload: string
  /** `sha256:` of the payload: the image's digest on the registry. */
  readonly digest: string
}

const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url")

/** A fresh P-256 key, as docker 1.x kept one per daemon in `key.json`. */
export const schema1SigningKey = (): KeyObject => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey

/**
 * Builds and signs a schema1 manifest for `name:tag`. `layers` are newest first: `history[0]`
 * is the image's own v1 JSON (with `architecture`, `os` and `config`), the others its parents.
 */
export const signedSchema1Manifest = (options: {
  readonly name: string
  readonly tag: string
  readonly layers: ReadonlyArray<Schema1Layer>
  readonly architecture?: string
  readonly key?: KeyObject
}): SignedSchema1 => {
  const architecture = options.architecture ?? "amd64"
  const ids = options.layers.map((layer, i) => createHash("sha256").update(`${options.name}:${options.tag}:${i}:${layer.created}`).digest("hex"))
  const history = options.layers.map((layer, i) => {
    const v1: Record<string, unknown> = { id: ids[i] }
    if (i + 1 < ids.length) v1["parent"] = ids[i + 1]
    v1["created"] = layer.created
    v1["container_config"] = { Cmd: ["/bin/sh", "-c", `#(nop) layer ${i}`] }
    if (i === 0) Object.assign(v1, { architecture, os: "linux", config: { Cmd: ["/app"] } })
    return { v1Compatibility: JSON.stringify(v1) }
  })
  const manifest = {
    schemaVersion: 1,
    name: options.name,
    tag: options.tag,
    architecture,
    fsLayers: options.layers.map((layer) => ({ blobSum: layer.blobSum })),
    history
  }
  // json.MarshalIndent(m, "", "   ") as docker 1.x did; then libtrust.NewJSONSignature.
  const content = JSON.stringify(manifest, null, 3)
  let end = content.length - 1
  while (/\s/.test(content[end]!)) end--
  // content[end] is the closing brace; the format length ends at the last character before it
  let last = end - 1
  while (/\s/.test(content[last]!)) last--
  const formatLength = Buffer.byteLength(content.slice(0, last + 1))
  const formatTail = Buffer.from(content).subarray(formatLength)
  const protectedHeader = b64url(JSON.stringify({ formatLength, formatTail: b64url(formatTail), time: "2016-06-01T12:00:00Z" }))
  const body = prettyJws(content, protectedHeader, formatLength, options.key ?? schema1SigningKey())
  return { body, payload: content, digest: `sha256:${createHash("sha256").update(content).digest("hex")}` }
}

/** libtrust's `Sign` then `PrettySignature`: the payload cut at formatLength, then the signatures, indented alike. */
const prettyJws = (content: string, protectedHeader: string, formatLength: number, key: KeyObject): string => {
  const signature = sign("sha256", Buffer.from(`${protectedHeader}.${b64url(content)}`), { key, dsaEncoding: "ieee-p1363" })
  const jwk = key.export({ format: "jwk" })
  const signatures = [{
    header: { jwk: { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }, alg: "ES256" },
    signature: b64url(signature),
    protected: protectedHeader
  }]
  return `${Buffer.from(content).subarray(0, formatLength).toString("utf8")},\n   "signatures": ${JSON.stringify(signatures, null, 3).split("\n").join("\n   ")}\n}`
}

/**
 * The same manifest as a registry serves it: the payload signed again with another key (the
 * registry signs every GET with its own), so the body differs from the pushed one, the digest not.
 */
export const resignedSchema1 = (manifest: SignedSchema1): string => {
  const pushed = JSON.parse(manifest.body) as { signatures: Array<{ protected: string }> }
  const protectedHeader = pushed.signatures[0]!.protected
  const { formatLength } = JSON.parse(Buffer.from(protectedHeader, "base64url").toString("utf8")) as { formatLength: number }
  return prettyJws(manifest.payload, protectedHeader, formatLength, schema1SigningKey())
}
