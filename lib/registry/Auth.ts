/**
 * @module Auth — registry authentication: `WWW-Authenticate` challenge parsing (pure), and an
 * authorizer that answers Basic and Bearer challenges, with a token cache keyed by
 * realm + service + scope that honours `expires_in` (measured with `Clock`, so `TestClock` drives it).
 *
 * The challenge is learnt once per host: the first request to a host goes out anonymously and
 * every other request to that host waits for its answer (single flight, as crane's ping of
 * `/v2/` does, but without a request of its own). The host's challenge is then remembered, so
 * every later request (other repositories too) authenticates up front and costs no extra 401
 * round trip. Tokens are fetched once per realm + service + scope, concurrent askers sharing
 * one fetch.
 */
import { Clock, Effect, Exit, Redacted, Schema } from "effect"
import { RegistryError } from "./RegistryError.ts"
import { displayUrl } from "./Transport.ts"
import type { Transport, WireRequest, WireResponse } from "./Transport.ts"
import { readHeaderValue } from "./HeaderValue.ts"
import { makeSingleFlight } from "./SingleFlight.ts"

/** Username and password for the registry (and its token server), or an identity token. */
export interface Credentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  /**
   * An OAuth2 refresh token (`identitytoken` of a Docker config, or a credential helper's answer
   * for user `<token>`): exchanged at the token server for access tokens (`grant_type=refresh_token`,
   * a POST, as Docker does) instead of sending the password.
   */
  readonly identityToken?: Redacted.Redacted<string> | undefined
  /** Where the credentials came from, for messages (`docker-credential-pass (credHelpers in …)`); never a secret. */
  readonly source?: string | undefined
}

/** One parsed challenge of a `WWW-Authenticate` header; scheme lower-case, param names lower-case. */
export interface Challenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
}

/**
 * Parses a `WWW-Authenticate` value into its challenges, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
 */
export const parseChallenges = (header: string): ReadonlyArray<Challenge> => {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = []
  let i = 0
  const n = header.length
  const skip = (pattern: RegExp) => {
    while (i < n && pattern.test(header[i]!)) i++
  }
  while (i < n) {
    skip(/[\s,]/)
    let token = ""
    while (i < n && /[^\s,=]/.test(header[i]!)) token += header[i++]
    if (token === "") break
    skip(/\s/)
    if (header[i] === "=" && challenges.length > 0) {
      // An auth-param of the current challenge.
      i++
      skip(/\s/)
      const read = readHeaderValue(header, i, /[\s,]/)
      const value = read.value
      i = read.end
      challenges[challenges.length - 1]!.params[token.toLowerCase()] = value
    } else {
      challenges.push({ scheme: token.toLowerCase(), params: {} })
    }
  }
  return challenges
}

/** Encodes `user:password` for `Authorization: Basic` (UTF-8, base64). */
export const basicAuthorization = (credentials: Credentials): string => {
  const bytes = new TextEncoder().encode(`${credentials.username}:${Redacted.value(credentials.password)}`)
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return `Basic ${btoa(binary)}`
}

const TokenResponse = Schema.Struct({
  token: Schema.optional(Schema.String),
  access_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number),
  issued_at: Schema.optional(Schema.String)
})

/** The OAuth2 client id sent with identity-token requests. */
const CLIENT_ID = "fleet-rollback"

/** `GET realm?service=…&scope=…` with Basic credentials, if any (distribution's token spec). */
const passwordTokenRequest = (realm: URL, service: string | undefined, scope: string | undefined, credentials: Credentials | undefined, repository: string | undefined): WireRequest => {
  if (service !== undefined) realm.searchParams.append("service", service)
  for (const one of (scope ?? "").split(" ").filter((s) => s !== "")) realm.searchParams.append("scope", one)
  const headers: Record<string, string> = { accept: "application/json" }
  if (credentials !== undefined) headers["authorization"] = basicAuthorization(credentials)
  return { kind: "token", method: "GET", url: realm, headers, repository }
}

/** `POST realm` with `grant_type=refresh_token` and the identity token (distribution's OAuth2 token spec, as Docker sends it). */
const refreshTokenRequest = (realm: URL, service: string | undefined, scope: string | undefined, identityToken: Redacted.Redacted<string>, repository: string | undefined): WireRequest => {
  const form = new URLSearchParams({ grant_type: "refresh_token", client_id: CLIENT_ID, refresh_token: Redacted.value(identityToken) })
  if (service !== undefined) form.append("service", service)
  const scopes = (scope ?? "").split(" ").filter((s) => s !== "")
  if (scopes.length > 0) form.append("scope", scopes.join(" "))
  return {
    kind: "token",
    method: "POST",
    url: realm,
    headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
    body: Redacted.make(form.toString()),
    repository
  }
}

/** How a host wants to be authenticated, learnt from its challenge. */
type HostAuth =
  | { readonly scheme: "basic" }
  | { readonly scheme: "bearer"; readonly realm: string; readonly service: string | undefined }

interface CachedToken {
  readonly token: Redacted.Redacted<string>
  readonly expiresAt: number
}

/** Sends registry requests with the right `Authorization`, answering challenges. */
export interface Authorizer {
  /**
   * Sends `request` to the registry with authentication for `scope` (e.g. `repository:shop/api:pull`).
   * Answers a 401 challenge once; a second 401 (or a 403) fails as `Unauthorized`.
   */
  readonly send: (request: WireRequest, scope: string | undefined) => Effect.Effect<WireResponse, RegistryError>
}

/** The advice every authentication failure carries (never the password itself). */
export const CREDENTIALS_ADVICE =
  "check REGISTRY_USERNAME and REGISTRY_PASSWORD (or REGISTRY_PASSWORD_FILE), or the credentials for this registry in your auth files (docker login / podman login; README \"Registry credentials\")"

/** Builds an authorizer over a transport. */
export const makeAuthorizer = (
  transport: Transport,
  credentials: Credentials | undefined,
  registryUrl: URL
): Authorizer => {
  const hosts = new Map<string, HostAuth>()
  const tokens = new Map<string, CachedToken>()
  /** Token fetches in flight, by key: concurrent askers of one scope share one fetch (`tokens` keeps the result). */
  const fetching = makeSingleFlight<string, CachedToken, RegistryError>("nothing")
  /** Hosts whose first answer came (the challenge, if any, is learnt). */
  const probed = new Set<string>()
  /** The first request to a host, in flight: the others wait for it. */
  const probing = makeSingleFlight<string, WireResponse, RegistryError>("nothing")

  const tokenKey = (realm: string, service: string | undefined, scope: string | undefined) =>
    `${realm}\u0000${service ?? ""}\u0000${scope ?? ""}`

  const unauthorized = (request: WireRequest, status: number, detail: string) =>
    new RegistryError({
      reason: "Unauthorized",
      repository: request.repository,
      status,
      message: credentials === undefined
        ? `${request.method} ${displayUrl(request.url)} answered ${status}: ${detail}. The registry wants credentials and none were given: set REGISTRY_USERNAME and REGISTRY_PASSWORD (or REGISTRY_PASSWORD_FILE), or log in with docker login`
        : `${request.method} ${displayUrl(request.url)} answered ${status}: ${detail} for user ${credentials.username}${credentials.source === undefined ? "" : ` (from ${credentials.source})`}: ${CREDENTIALS_ADVICE}`
    })

  const fetchToken = (
    request: WireRequest,
    auth: Extract<HostAuth, { scheme: "bearer" }>,
    scope: string | undefined
  ): Effect.Effect<CachedToken, RegistryError> =>
    Effect.gen(function*() {
      const realm = URL.parse(auth.realm)
      if (realm === null || (realm.protocol !== "https:" && realm.protocol !== "http:")) {
        return yield* new RegistryError({
          reason: "BadResponse",
          repository: request.repository,
          message: `the registry's Bearer challenge names realm "${auth.realm}", which is not an http(s) URL`
        })
      }
      if (realm.protocol === "http:" && registryUrl.protocol === "https:" && credentials !== undefined) {
        return yield* new RegistryError({
          reason: "InsecureLink",
          repository: request.repository,
          message: `the registry ${registryUrl.host} (https) sends credentials to the token server ${displayUrl(realm)} over plain http; refusing to send the password there. Fix the registry's auth.token.realm`
        })
      }
      const tokenRequest = credentials?.identityToken !== undefined
        ? refreshTokenRequest(realm, auth.service, scope, credentials.identityToken, request.repository)
        : passwordTokenRequest(realm, auth.service, scope, credentials, request.repository)
      const response = yield* transport.send(tokenRequest)
      if (response.status === 401 || response.status === 403) {
        return yield* unauthorized(tokenRequest, response.status, "the token server refused to issue a token")
      }
      if (response.status !== 200) {
        return yield* new RegistryError({
          reason: "BadResponse",
          repository: request.repository,
          status: response.status,
          message: `the token server ${displayUrl(realm)} answered ${response.status}, expected 200 with a token`
        })
      }
      const decoded = yield* Schema.decodeUnknownEffect(Schema.fromJsonString(TokenResponse))(
        new TextDecoder().decode(response.body)
      ).pipe(Effect.mapError((cause) =>
        new RegistryError({
          reason: "BadResponse",
          repository: request.repository,
          message: `the token server ${displayUrl(realm)} answered something that is not a token response ({"token", "expires_in"}): ${cause.message}`
        })
      ))
      const token = decoded.token ?? decoded.access_token
      if (token === undefined || token === "") {
        return yield* new RegistryError({
          reason: "BadResponse",
          repository: request.repository,
          message: `the token server ${displayUrl(realm)} answered without "token" or "access_token"`
        })
      }
      const lifetimeMs = (decoded.expires_in !== undefined && decoded.expires_in > 0 ? decoded.expires_in : 60) * 1000
      // Refresh a little early so a token does not expire between check and use.
      const margin = Math.min(10_000, lifetimeMs / 10)
      const now = yield* Clock.currentTimeMillis
      const cached: CachedToken = { token: Redacted.make(token), expiresAt: now + lifetimeMs - margin }
      tokens.set(tokenKey(auth.realm, auth.service, scope), cached)
      return cached
    })

  /**
   * A valid cached token, or a new one. `rejected` is a token the registry just refused: another
   * cached token is used as is, that one is replaced. Concurrent askers share one fetch.
   */
  const tokenFor = (
    request: WireRequest,
    auth: Extract<HostAuth, { scheme: "bearer" }>,
    scope: string | undefined,
    rejected: string | undefined
  ): Effect.Effect<Redacted.Redacted<string>, RegistryError> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const key = tokenKey(auth.realm, auth.service, scope)
      const cached = tokens.get(key)
      if (cached !== undefined && cached.expiresAt > now && Redacted.value(cached.token) !== rejected) {
        return Effect.succeed(cached.token)
      }
      return Effect.map(fetching.run(key, () => fetchToken(request, auth, scope)), (t) => t.token)
    })

  const authorizationFor = (
    request: WireRequest,
    scope: string | undefined,
    rejected: string | undefined
  ): Effect.Effect<string | undefined, RegistryError> => {
    const auth = hosts.get(request.url.host)
    if (auth === undefined) return noAuthorization
    if (auth.scheme === "basic") return basicHeader
    return Effect.map(tokenFor(request, auth, scope, rejected), (token) => `Bearer ${Redacted.value(token)}`)
  }

  /** `Authorization: Basic …`, encoded once (kept redacted). */
  const basicValue = credentials === undefined ? undefined : Redacted.make(basicAuthorization(credentials))
  const basicHeader: Effect.Effect<string | undefined> = Effect.sync(() => basicValue === undefined ? undefined : Redacted.value(basicValue))

  /** No authentication known for the host (anonymous registries): nothing to add. */
  const noAuthorization: Effect.Effect<string | undefined> = Effect.succeed(undefined)

  const withAuthorization = (request: WireRequest, authorization: string | undefined): WireRequest =>
    authorization === undefined ? request : { ...request, headers: { ...request.headers, authorization } }

  const learn = (request: WireRequest, response: WireResponse): boolean => {
    const challenges = parseChallenges(response.headers["www-authenticate"] ?? "")
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params["realm"] !== undefined)
    if (bearer !== undefined) {
      hosts.set(request.url.host, { scheme: "bearer", realm: bearer.params["realm"]!, service: bearer.params["service"] })
      return true
    }
    if (challenges.some((c) => c.scheme === "basic") && credentials !== undefined) {
      hosts.set(request.url.host, { scheme: "basic" })
      return true
    }
    return false
  }

  /** Sends with what is known of the host, answering a 401 challenge once. */
  const sendKnowing = (request: WireRequest, scope: string | undefined): Effect.Effect<WireResponse, RegistryError> =>
    // Suspended: what is known of the host is read when the request goes, not when it is built.
    Effect.suspend(() => {
      const known = hosts.has(request.url.host)
      // The common case — an answer that is not 401/403 — costs no generator.
      return Effect.flatMap(authorizationFor(request, scope, undefined), (authorization) =>
        Effect.flatMap(transport.send(withAuthorization(request, authorization)), (first) => {
          if (first.status === 403) return Effect.fail(unauthorized(request, 403, "access denied"))
          if (first.status !== 401) return Effect.succeed(first)
          return answerChallenge(request, scope, known, authorization, first)
        }))
    })

  /** A 401: (re)learn the challenge and answer it once with fresh authentication. */
  const answerChallenge = (
    request: WireRequest,
    scope: string | undefined,
    known: boolean,
    authorization: string | undefined,
    first: WireResponse
  ): Effect.Effect<WireResponse, RegistryError> =>
    Effect.gen(function*() {
      if (!learn(request, first)) {
        return yield* unauthorized(
          request,
          401,
          known ? "the credentials were rejected" : "authentication required"
        )
      }
      const challengeScope = parseChallenges(first.headers["www-authenticate"] ?? "")
        .find((c) => c.scheme === "bearer")?.params["scope"]
      const rejected = authorization?.startsWith("Bearer ") === true ? authorization.slice(7) : undefined
      const second = yield* transport.send(
        withAuthorization(request, yield* authorizationFor(request, challengeScope ?? scope, rejected))
      )
      if (second.status === 401) return yield* unauthorized(request, 401, "the credentials were rejected")
      if (second.status === 403) return yield* unauthorized(request, 403, "access denied")
      return second
    })

  /** True when a failure came with an HTTP answer (so the host's challenge, if any, is known). */
  const answered = (exit: Exit.Exit<WireResponse, RegistryError>): boolean =>
    Exit.isSuccess(exit) || exit.cause.reasons.some((r) => r._tag === "Fail" && r.error.status !== undefined)

  /**
   * The first request to a host goes alone; requests that come meanwhile wait for its answer,
   * then go knowing the host's challenge. When it got no answer at all (refused, TLS, time-out,
   * after its retries), they fail the same way instead of each retrying on its own, and the
   * next request probes again.
   */
  const send = (request: WireRequest, scope: string | undefined): Effect.Effect<WireResponse, RegistryError> =>
    // Suspended: whether the host is known is read when the request goes, not when it is built.
    Effect.suspend(() => {
      const host = request.url.host
      if (probed.has(host)) return sendKnowing(request, scope)
      return probing.runOrJoin(
        host,
        () =>
          sendKnowing(request, scope).pipe(
            Effect.onExit((exit) =>
              Effect.sync(() => {
                if (answered(exit) || hosts.has(host)) probed.add(host)
              })
            )
          ),
        (first) => {
          if (Exit.isSuccess(first) || probed.has(host)) return sendKnowing(request, scope)
          const failure = first.cause.reasons.find((r) => r._tag === "Fail")
          // The first request died (a defect): nothing was learnt, this one goes on its own.
          if (failure === undefined) return sendKnowing(request, scope)
          return Effect.fail(
            new RegistryError({
              reason: failure.error.reason,
              repository: request.repository,
              message: `${request.method} ${displayUrl(request.url)} was not sent because the first request to ${host} failed: ${failure.error.message}`,
              ...(failure.error.cause === undefined ? {} : { cause: failure.error.cause })
            })
          )
        }
      )
    })

  return { send }
}
