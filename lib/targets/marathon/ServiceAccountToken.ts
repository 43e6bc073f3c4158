/**
 * @module ServiceAccountToken — the RS256 JWT a DC/OS service account logs in with
 * (`{uid, exp}` signed with the account's private key), made with WebCrypto only
 * (`globalThis.crypto.subtle`) so the same code runs on Node and Deno.
 */
import { Clock, Effect, Redacted } from "effect"
import { MarathonError } from "./MarathonError.ts"

/** How long a login JWT is valid: DC/OS expects about five minutes. */
export const LOGIN_TOKEN_TTL_SECONDS = 300

const base64UrlFromBytes = (bytes: Uint8Array): string => {
  let binary = ""
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

const base64UrlFromJson = (value: unknown): string => base64UrlFromBytes(new TextEncoder().encode(JSON.stringify(value)))

/** DER length bytes. */
const derLength = (length: number): Array<number> => {
  if (length < 0x80) return [length]
  const bytes: Array<number> = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256)
  return [0x80 | bytes.length, ...bytes]
}

const der = (tag: number, content: Uint8Array): Uint8Array => {
  const header = [tag, ...derLength(content.length)]
  const out = new Uint8Array(header.length + content.length)
  out.set(header, 0)
  out.set(content, header.length)
  return out
}

const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Wraps a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo` (WebCrypto imports only PKCS#8). */
const pkcs1ToPkcs8 = (pkcs1: Uint8Array): Uint8Array => {
  const version = Uint8Array.of(0x02, 0x01, 0x00)
  // SEQUENCE { OID 1.2.840.113549.1.1.1 rsaEncryption, NULL }
  const algorithm = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00)
  return der(0x30, concat(version, algorithm, der(0x04, pkcs1)))
}

const invalidKey = (what: string) =>
  new MarathonError({
    reason: "Unauthorized",
    message:
      `The DC/OS service-account private key cannot be used: ${what}. ` +
      "Check DCOS_PRIVATE_KEY_FILE: it must hold an unencrypted RSA private key in PEM " +
      "(\"BEGIN PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\")."
  })

/** Decodes a PEM private key to PKCS#8 DER bytes (PKCS#1 keys are wrapped). */
export const pemToPkcs8 = (pem: string): Uint8Array | undefined => {
  const match = /-----BEGIN (RSA )?PRIVATE KEY-----([\s\S]+?)-----END (RSA )?PRIVATE KEY-----/.exec(pem)
  if (match === null) return undefined
  const body = match[2]!.replace(/\s+/g, "")
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) return undefined
  const binary = atob(body)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return match[1] === undefined ? bytes : pkcs1ToPkcs8(bytes)
}

/**
 * Makes the login JWT `{uid, exp: now + 300 s}` signed RS256 with the service account's key.
 * Time comes from `Clock`. The key never appears in an error.
 */
export const makeServiceAccountToken = Effect.fn("ServiceAccountToken.make")(function*(
  uid: string,
  privateKeyPem: Redacted.Redacted<string>
) {
  const pkcs8 = pemToPkcs8(Redacted.value(privateKeyPem))
  if (pkcs8 === undefined) return yield* invalidKey("it is not a PEM private key")
  const key = yield* Effect.tryPromise({
    try: () =>
      globalThis.crypto.subtle.importKey(
        "pkcs8",
        pkcs8 as Uint8Array<ArrayBuffer>,
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["sign"]
      ),
    catch: () => invalidKey("it is not an RSA private key WebCrypto can import")
  })
  const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const signingInput = `${base64UrlFromJson({ alg: "RS256", typ: "JWT" })}.${
    base64UrlFromJson({ uid, exp: nowSeconds + LOGIN_TOKEN_TTL_SECONDS })
  }`
  const signature = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(signingInput)),
    catch: () => invalidKey("signing with it failed")
  })
  return `${signingInput}.${base64UrlFromBytes(new Uint8Array(signature))}`
})
