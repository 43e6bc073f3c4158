/**
 * @module Transport — what happens around each request the registry client sends: per-host
 * concurrency, per-request timeout, retries with exponential backoff and jitter (honouring
 * `Retry-After`), request counting, and the mapping of wire failures (connection reset, TLS) to
 * {@link RegistryError}s. The bytes go out through the injected {@link RegistryWire}; nothing
 * above this module sends a request except through it.
 *
 * It knows nothing about auth or the registry API: it sends one {@link WireRequest} and returns one
 * fully read {@link WireResponse}. Redirects are never followed here (callers decide, because
 * `Authorization` must be dropped when a redirect leaves the registry host).
 */
import { Clock, Duration, Effect, Option, Random } from "effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import { makeLimiter } from "./Limiter.ts"
import { describeRateLimit, isRateLimitLow, parseRateLimit } from "./RateLimit.ts"
import type { RateLimit } from "./RateLimit.ts"
import type { Limiter } from "./Limiter.ts"
import { RegistryError } from "./RegistryError.ts"
import type { RegistryWire, WireFailure, WireRequest, WireResponse } from "./Wire.ts"

export type { RequestKind, WireRequest, WireResponse } from "./Wire.ts"

/** Options of the transport; see `RegistryConfig` for the defaults. */
export interface TransportOptions {
  readonly concurrency: number
  readonly requestTimeoutMs: number
  readonly retries: number
  /** First backoff delay; doubled per attempt, capped at `maxBackoffMs`, with jitter. */
  readonly baseBackoffMs?: number
  readonly maxBackoffMs?: number
  /** A `Retry-After` longer than this is not waited for: the request fails as RateLimited. */
  readonly maxRetryAfterMs?: number
}

/** Mutable request counters shared by one client. */
export interface RequestCounters {
  requests: number
  readonly byKind: Record<string, number>
  cacheHits: number
  /** The rate limit each host announced last (the lowest `remaining` seen), by host. */
  readonly rateLimits: Record<string, RateLimit>
}

/** Creates zeroed counters. */
export const makeCounters = (): RequestCounters => ({ requests: 0, byKind: {}, cacheHits: 0, rateLimits: {} })

/** The transport service value: send one request, with retries. */
export interface Transport {
  readonly send: (request: WireRequest) => Effect.Effect<WireResponse, RegistryError>
  readonly counters: RequestCounters
}

/** A URL for messages: no query string (pre-signed redirect URLs carry signatures there). */
export const displayUrl = (url: URL): string => `${url.origin}${url.pathname}`

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO"
])

const NOT_RETRIED_CODES = new Set(["ENOTFOUND", "EAI_AGAIN_NEVER"])

/**
 * Parses `Retry-After` (delta seconds or an HTTP date) to milliseconds from `now`; undefined when
 * absent or unreadable.
 */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (!Number.isFinite(date)) return undefined
  return Math.max(0, date - now)
}

/**
 * Parses Docker Hub's `X-Retry-After` (a unix time in seconds) to milliseconds from `now`;
 * undefined when absent or unreadable.
 */
export const parseUnixRetryAfter = (value: string | undefined, now: number): number | undefined => {
  const trimmed = value?.trim()
  if (trimmed === undefined || !/^\d+$/.test(trimmed)) return undefined
  return Math.max(0, Number(trimmed) * 1000 - now)
}

const isRetriedStatus = (status: number): boolean => status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505)

type Attempt =
  | { readonly _tag: "Done"; readonly response: WireResponse }
  | {
    readonly _tag: "Retry"
    readonly failure: RegistryError
    /** `Retry-After`: delta seconds or an HTTP date. */
    readonly retryAfterHeader?: string | undefined
    /** Docker Hub web API's `X-Retry-After`: a unix time. */
    readonly xRetryAfterHeader?: string | undefined
  }

/** Builds a transport over an injected wire (see {@link RegistryWire}). */
export const makeTransport = (
  wire: RegistryWire["Service"],
  options: TransportOptions,
  counters: RequestCounters = makeCounters()
): Transport => {
  const limiters = new Map<string, Limiter>()
  const limiterFor = (host: string): Limiter => {
    let limiter = limiters.get(host)
    if (limiter === undefined) {
      limiter = makeLimiter(options.concurrency)
      limiters.set(host, limiter)
    }
    return limiter
  }
  const baseBackoff = options.baseBackoffMs ?? 250
  const maxBackoff = options.maxBackoffMs ?? 8_000
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000

  const where = (request: WireRequest) =>
    `${request.method} ${displayUrl(request.url)}${request.repository === undefined ? "" : ` (repository ${request.repository})`}`

  const timedOut = (request: WireRequest) =>
    new RegistryError({
      reason: "Timeout",
      repository: request.repository,
      message: `${where(request)} got no complete answer within ${options.requestTimeoutMs} ms`
    })

  /** What a transport failure means: TLS (never retried), a name that does not resolve, or a retry. */
  const classifyFailure = (request: WireRequest, failure: WireFailure): Effect.Effect<Attempt, RegistryError> => {
    if (failure.timedOut) return Effect.succeed({ _tag: "Retry", failure: timedOut(request) })
    if (failure.tooLargeLimit !== undefined) {
      // The same answer would come again: refused at once, never retried.
      return Effect.fail(
        new RegistryError({
          reason: "BadResponse",
          repository: request.repository,
          message: `${where(request)}: ${failure.description}; refused, to keep this process's memory bounded (README, "Limits")`
        })
      )
    }
    const tlsCode = failure.codes.find((code) => TLS_CODES.has(code))
    if (tlsCode !== undefined) {
      return Effect.fail(
        new RegistryError({
          reason: "Tls",
          repository: request.repository,
          message:
            `${where(request)}: TLS verification failed (${tlsCode}). If the registry uses a private CA, pass its certificate with --ca-file (registry.caFile); never turn verification off unless you accept the risk`,
          cause: failure.description
        })
      )
    }
    const unreachable = new RegistryError({
      reason: "Unreachable",
      repository: request.repository,
      message: `${where(request)} failed: ${failure.codes[0] ?? failure.description}`,
      cause: failure.description
    })
    return failure.codes.some((code) => NOT_RETRIED_CODES.has(code))
      ? Effect.fail(unreachable)
      : Effect.succeed({ _tag: "Retry", failure: unreachable })
  }

  /** What an answer means: done, or a status worth retrying (429, 408, 5xx). */
  const classifyResponse = (request: WireRequest, response: WireResponse): Attempt => {
    if (!isRetriedStatus(response.status)) return { _tag: "Done", response }
    const rateLimited = response.status === 429
    const announced = rateLimited ? parseRateLimit(response.headers) : undefined
    return {
      _tag: "Retry",
      retryAfterHeader: response.headers["retry-after"],
      xRetryAfterHeader: response.headers["x-retry-after"],
      failure: new RegistryError({
        reason: rateLimited ? "RateLimited" : "ServerError",
        repository: request.repository,
        status: response.status,
        message: `${where(request)} answered ${response.status}${
          rateLimited ? ` (too many requests${announced === undefined ? "" : `: ${describeRateLimit(announced)}`})` : ""
        }`
      })
    }
  }

  /** Hosts already warned about a low rate limit (once per host and run). */
  const warnedLow = new Set<string>()

  /** Keeps the rate limit a host announced (the lowest `remaining`), warning once when it runs low. */
  const noteRateLimit = (request: WireRequest, response: WireResponse): Effect.Effect<void> => {
    const announced = parseRateLimit(response.headers)
    if (announced === undefined) return Effect.void
    const host = request.url.host
    const known = counters.rateLimits[host]
    if (known === undefined || announced.remaining <= known.remaining || announced.limit !== known.limit) {
      counters.rateLimits[host] = announced
    }
    if (!isRateLimitLow(announced) || warnedLow.has(host)) return Effect.void
    warnedLow.add(host)
    return Effect.logWarning(
      `the rate limit of ${host} is running low: ${describeRateLimit(announced)}. ` +
        "Requests beyond it are refused (429) until the window resets: log in for a higher limit, or read less (--env, a warm cache)"
    )
  }

  /** One attempt: count, send, classify. */
  const attempt = (request: WireRequest): Effect.Effect<Attempt, RegistryError> =>
    Effect.suspend(() => {
      counters.requests++
      counters.byKind[request.kind] = (counters.byKind[request.kind] ?? 0) + 1
      return Effect.matchEffect(wire.send(request, options.requestTimeoutMs), {
        onFailure: (failure) => classifyFailure(request, failure),
        onSuccess: (response) => Effect.as(noteRateLimit(request, response), classifyResponse(request, response))
      })
    })

  const backoff = (retry: number) =>
    Effect.map(Random.next, (r) => {
      const ceiling = Math.min(maxBackoff, baseBackoff * 2 ** retry)
      return Math.round(ceiling / 2 + (r * ceiling) / 2)
    })

  const advice = (failure: RegistryError): string => {
    switch (failure.reason) {
      case "RateLimited":
        return "the registry is rate limiting: wait, lower --concurrency, or log in for a higher limit"
      case "ServerError":
        return "the registry is failing: try again later or ask its operators"
      case "Timeout":
        return "the registry is slow or unreachable: check the network, or give it more time with --request-timeout SECONDS (registry.requestTimeoutSeconds; default 30)"
      default:
        return "check the registry URL and that the registry is running and reachable from here"
    }
  }

  const exhausted = (request: WireRequest, failure: RegistryError, tries: number, extra = ""): RegistryError =>
    new RegistryError({
      reason: failure.reason,
      repository: request.repository,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      message: `${failure.message}; gave up after ${tries} attempt${tries === 1 ? "" : "s"}${extra}: ${advice(failure)}`,
      ...(failure.cause === undefined ? {} : { cause: failure.cause })
    })

  const loop = (request: WireRequest, retry: number): Effect.Effect<WireResponse, RegistryError> =>
    Effect.flatMap(
      limiterFor(request.url.host).withPermit(attempt(request)),
      (result): Effect.Effect<WireResponse, RegistryError> => {
        if (result._tag === "Done") return Effect.succeed(result.response)
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const retryAfter = parseRetryAfter(result.retryAfterHeader, now) ?? parseUnixRetryAfter(result.xRetryAfterHeader, now)
          if (retryAfter !== undefined && retryAfter > maxRetryAfter) {
            return Effect.fail(
              exhausted(request, result.failure, retry + 1, ` (the registry asks to wait ${Math.ceil(retryAfter / 1000)} s)`)
            )
          }
          if (retry >= options.retries) return Effect.fail(exhausted(request, result.failure, retry + 1))
          return Effect.flatMap(
            retryAfter === undefined ? backoff(retry) : Effect.succeed(retryAfter),
            (delay) =>
              Effect.logDebug(`retrying ${where(request)} in ${delay} ms after: ${result.failure.message}`).pipe(
                Effect.andThen(Effect.sleep(Duration.millis(delay))),
                Effect.andThen(loop(request, retry + 1))
              )
          )
        })
      }
    )

  return { send: (request) => loop(request, 0), counters }
}

/**
 * Runs a registry operation with the HTTP client settings the transport needs:
 * - fetch-based clients told not to follow redirects (`redirect: "manual"`), keeping any
 *   `RequestInit` already provided (undici-based clients never follow redirects);
 * - no client span per request: `effect/http` otherwise builds a span and adds `b3` and
 *   `traceparent` headers to every registry request, which no one reads here and which cost
 *   CPU on fleets of thousands of tags.
 * Provided once around a whole operation, not per request (each `provideService` copies the context).
 */
export const withClientSettings = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (existing) =>
    effect.pipe(
      Effect.provideService(FetchHttpClient.RequestInit, {
        ...Option.getOrElse(existing, () => ({})),
        redirect: "manual"
      }),
      Effect.provideService(HttpClient.TracerDisabledWhen, () => true)
    ))
