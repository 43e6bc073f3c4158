/**
 * @module Wire — how one registry request goes out and its whole answer comes back: the seam
 * between the registry client and an HTTP stack.
 *
 * The client sends thousands of small requests per run, so this seam is as thin as it can be:
 * a {@link WireRequest} (data) in, a fully read {@link WireResponse} or a {@link WireFailure}
 * out, within a time limit. {@link RegistryWire.layerHttpClient} runs it over any `effect/http`
 * `HttpClient` (fetch on Deno and in the Promise API, a fake in tests); on Node,
 * `lib/node/NodeHttp.ts` sends straight through an undici dispatcher, which costs a third of the
 * client's CPU less on big fleets (see bench/). Retries, limits and errors live in Transport.
 */
import { Context, Duration, Effect, Layer, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { HttpClientError } from "effect/http"

/** What a request is for, used to count requests by kind in the stats. */
export type RequestKind = "token" | "tags" | "manifest" | "manifest-head" | "blob" | "hub"

const MiB = 1024 * 1024

/**
 * The largest answer body read for each kind of request, in bytes; a bigger answer is refused
 * (`RegistryError` reason `BadResponse`, not retried: a manifest or config is then a tag not
 * read, a tag list fails its repository) as soon as its `Content-Length` or its first bytes past
 * the limit show it, so a hostile or broken registry cannot fill the memory:
 * - `manifest` 4 MiB: the distribution registry refuses to store bigger manifests;
 * - `blob` (image configs) 8 MiB: a config with every build argument and label is a few KiB;
 * - `tags` and `hub` 8 MiB per page: 1,000 tags of the longest allowed name (128 characters);
 * - `token` 1 MiB: a JSON web token;
 * - `manifest-head` 64 KiB: a `HEAD` has no body, only an error answer might.
 */
export const MAX_BODY_BYTES: Readonly<Record<RequestKind, number>> = {
  manifest: 4 * MiB,
  blob: 8 * MiB,
  tags: 8 * MiB,
  hub: 8 * MiB,
  token: 1 * MiB,
  "manifest-head": 64 * 1024
}

/** Bytes as people read them in messages: `4 MiB`, `64 KiB`. */
export const formatBytes = (bytes: number): string =>
  bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`

/** One HTTP request on the wire: absolute URL, method and headers (data only). */
export interface WireRequest {
  readonly kind: RequestKind
  /** `POST` only for a token request with an identity token (a form body). */
  readonly method: "GET" | "HEAD" | "POST"
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The request body (a token request's form, with the identity token: kept redacted). */
  readonly body?: Redacted.Redacted<string> | undefined
  /** The repository this request serves, named in errors. */
  readonly repository?: string | undefined
}

/** One fully read HTTP response; header names are lower-case. */
export interface WireResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly url: URL
}

/**
 * A request that got no complete answer: timed out, or failed below HTTP (refused, reset, DNS,
 * TLS). Holds no request object, and its description is scrubbed of the request's header values
 * ({@link wireFailure}), so no `Authorization` header can leak through it.
 */
export interface WireFailure {
  readonly _tag: "WireFailure"
  /** True when the time limit ran out first. */
  readonly timedOut: boolean
  /** `code`s found along the error's cause chain (`ECONNREFUSED`, `CERT_HAS_EXPIRED`…). */
  readonly codes: ReadonlyArray<string>
  /** A plain description for messages and logs. */
  readonly description: string
  /** Set when the answer was bigger than {@link MAX_BODY_BYTES} allows: that limit, in bytes. */
  readonly tooLargeLimit?: number | undefined
}

/**
 * The {@link WireFailure} of an answer bigger than the limit of its kind ({@link MAX_BODY_BYTES});
 * `announced` is its `Content-Length`, when that already told.
 */
export const tooLargeFailure = (request: WireRequest, announced?: number): WireFailure => ({
  _tag: "WireFailure",
  timedOut: false,
  codes: [],
  description: `the answer is ${announced === undefined ? "larger" : `${formatBytes(announced)}, larger`} than the ${formatBytes(MAX_BODY_BYTES[request.kind])} a ${request.kind} answer may have`,
  tooLargeLimit: MAX_BODY_BYTES[request.kind]
})

/**
 * The announced `Content-Length` when it exceeds the limit of the request's kind, else undefined.
 * Never for a HEAD: its `Content-Length` is the size of the body a GET would get, and none comes.
 */
export const announcedTooLarge = (request: WireRequest, contentLength: string | undefined): number | undefined => {
  if (request.method === "HEAD" || contentLength === undefined || !/^\d+$/.test(contentLength.trim())) return undefined
  const length = Number(contentLength.trim())
  return length > MAX_BODY_BYTES[request.kind] ? length : undefined
}

/** Parts of a header value at least this long are scrubbed on their own too (`Bearer <token>`). */
const SCRUBBED_PART_LENGTH = 8

/**
 * Removes every request header value from `text`: the value as sent, trimmed, and each of its
 * parts (split at white space and control characters) of {@link SCRUBBED_PART_LENGTH} or more
 * characters. HTTP stacks echo header values in their errors (fetch: `Headers.append: "Bearer
 * <token>…" is an invalid header value`), and `Authorization` carries a token or a password.
 */
export const scrubHeaderValues = (text: string, headers: Readonly<Record<string, string>>): string => {
  const secrets = new Set<string>()
  for (const name in headers) {
    const value = headers[name]!
    for (const whole of [value, value.trim()]) if (whole.length >= 4) secrets.add(whole)
    for (const part of value.split(/[\s\x00-\x1f\x7f]+/)) if (part.length >= SCRUBBED_PART_LENGTH) secrets.add(part)
  }
  let scrubbed = text
  // Longest first, so a part never leaves the rest of a longer value behind.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (scrubbed.includes(secret)) scrubbed = scrubbed.split(secret).join("<header value>")
  }
  return scrubbed
}

/**
 * Builds the {@link WireFailure} of `request`. Every wire reports failures through this, so the
 * description never carries a header value of the request (see {@link scrubHeaderValues}).
 */
export const wireFailure = (
  request: WireRequest,
  timedOut: boolean,
  codes: ReadonlyArray<string>,
  description: string
): WireFailure => ({
  _tag: "WireFailure",
  timedOut,
  codes,
  description: scrubHeaderValues(description, request.headers)
})

/** Collects `code` properties along an error's `cause` chain. */
export const errorCodes = (error: unknown): ReadonlyArray<string> => {
  const codes: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { cause?: unknown }).cause
  }
  return codes
}

/** The messages along an error's `cause` chain, joined (no request, no headers). */
export const errorMessages = (error: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const message = (current as { message?: unknown }).message
    if (typeof message === "string" && message !== "" && !messages.includes(message)) messages.push(message)
    current = (current as { cause?: unknown }).cause
  }
  return messages.join(": ")
}

/** What the {@link RegistryWire} does. */
export interface RegistryWireShape {
  readonly send: (request: WireRequest, timeoutMs: number) => Effect.Effect<WireResponse, WireFailure>
}

/** The base class of {@link RegistryWire}, declared with its type (JSR: no slow types). */
const RegistryWire_base: Context.ServiceClass<RegistryWire, "fleet-rollback/registry/RegistryWire", RegistryWireShape> = Context.Service<RegistryWire, RegistryWireShape>()("fleet-rollback/registry/RegistryWire")

/** The registry wire: sends one request and reads its whole answer within `timeoutMs`. */
export class RegistryWire extends RegistryWire_base {
  /** The wire over an `effect/http` `HttpClient` (fetch, undici, or a test's fake). */
  static readonly fromHttpClient = (client: HttpClient.HttpClient): RegistryWire["Service"] => ({
    send: (request, timeoutMs) => sendThroughHttpClient(client, request, timeoutMs)
  })

  /** {@link RegistryWire.fromHttpClient} over the `HttpClient` in context. */
  static readonly layerHttpClient: Layer.Layer<RegistryWire, never, HttpClient.HttpClient> = Layer.effect(
    RegistryWire,
    Effect.gen(function*() {
      return RegistryWire.fromHttpClient(yield* HttpClient.HttpClient)
    })
  )
}

const EMPTY_BODY = new Uint8Array(0)

/** A plain description of an `HttpClientError` (its reason and the cause's codes and message). */
const describeHttpClientError = (request: WireRequest, error: HttpClientError.HttpClientError): WireFailure => {
  const codes = errorCodes(error.reason)
  const inner = (error.reason as { readonly cause?: unknown }).cause
  const description = [error.reason._tag, ...codes, inner === undefined ? undefined : errorMessages(inner)]
    .filter((x) => x !== undefined && x !== "")
    .join(": ")
  return wireFailure(request, false, codes, description)
}

/** Reads a body stream whole, failing as soon as it grows past `limit` bytes (the rest is never read). */
const readCapped = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  limit: number,
  tooLarge: () => WireFailure
): Effect.Effect<Uint8Array, E | WireFailure> =>
  Stream.runFoldEffect(stream, () => ({ chunks: [] as Array<Uint8Array>, size: 0 }), (acc, chunk) => {
    acc.size += chunk.length
    if (acc.size > limit) return Effect.fail(tooLarge())
    acc.chunks.push(chunk)
    return Effect.succeed(acc)
  }).pipe(Effect.map(({ chunks, size }) => {
    if (chunks.length === 1) return chunks[0]!
    const body = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      body.set(chunk, offset)
      offset += chunk.length
    }
    return body
  }))

const sendThroughHttpClient = (
  client: HttpClient.HttpClient,
  request: WireRequest,
  timeoutMs: number
): Effect.Effect<WireResponse, WireFailure> => {
  const base = HttpClientRequest.make(request.method)(request.url.href, { headers: request.headers })
  const httpRequest = request.body === undefined
    ? base
    : HttpClientRequest.bodyText(base, Redacted.value(request.body), request.headers["content-type"] ?? "application/x-www-form-urlencoded")
  const limit = MAX_BODY_BYTES[request.kind]
  return Effect.gen(function*() {
    const response = yield* client.execute(httpRequest)
    const announced = announcedTooLarge(request, response.headers["content-length"])
    if (announced !== undefined) return yield* Effect.fail(tooLargeFailure(request, announced))
    const body = request.method === "HEAD" ? EMPTY_BODY : yield* readCapped(response.stream, limit, () => tooLargeFailure(request))
    const wire: WireResponse = {
      status: response.status,
      headers: response.headers as Readonly<Record<string, string>>,
      body,
      url: request.url
    }
    return wire
  }).pipe(
    Effect.mapError((error) => ("_tag" in error && error._tag === "WireFailure" ? error : describeHttpClientError(request, error as HttpClientError.HttpClientError))),
    Effect.timeoutOrElse({
      duration: Duration.millis(timeoutMs),
      orElse: () => Effect.fail(wireFailure(request, true, [], `no complete answer within ${timeoutMs} ms`))
    })
  )
}
