/**
 * @module Transport — how the Marathon / DC/OS client talks to Marathon: URLs (plain Marathon, or
 * a DC/OS cluster's `/service/marathon`), auth (DC/OS login with a password or a service-account
 * key, logged in again ONCE on 401; a Marathon token; Basic), retries of reads with backoff,
 * changes sent once (only a request that cannot have left this machine is sent again), lost
 * answers told apart from refusals, and every non-success answer turned into a readable
 * {@link MarathonError}. No secret reaches a message.
 */
import { Effect, Redacted, Ref, Result, Schema, Semaphore, Stream } from "effect"
import { Sse } from "effect/encoding"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { HttpClientError, HttpClientResponse } from "effect/http"
import { MarathonError, MarathonErrorDetail } from "./MarathonError.ts"
import { makeServiceAccountToken } from "./ServiceAccountToken.ts"

/** Where Marathon is and how to authenticate. Secrets are `Redacted` and never printed. */
export interface MarathonConfig {
  /** Marathon base URL (plain) — or, with `dcos`, the cluster URL (Marathon at `<cluster>/service/marathon`). */
  readonly url: string
  /** DC/OS login: uid plus `DCOS_PASSWORD` or the key from `DCOS_PRIVATE_KEY_FILE`. */
  readonly dcos?:
    | {
      readonly uid: string
      readonly password?: Redacted.Redacted<string> | undefined
      readonly privateKeyPem?: Redacted.Redacted<string> | undefined
    }
    | undefined
  /** Plain Marathon: `MARATHON_TOKEN`, sent as `Authorization: token=…`. */
  readonly token?: Redacted.Redacted<string> | undefined
  /** Plain Marathon: `MARATHON_USERNAME` / `MARATHON_PASSWORD`, sent as Basic. */
  readonly basic?: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined
  /** Retries of 503 / no leader / refused connections, with exponential backoff; default 4. */
  readonly retries?: number | undefined
  /**
   * How long one request may take before its answer counts as lost; default 60 000 ms. A change
   * without an answer in time is checked like any lost answer, never simply sent again.
   */
  readonly requestTimeoutMs?: number | undefined
}

/** The HTTP methods the client uses. */
export type Method = "GET" | "PUT" | "DELETE" | "POST"

/** One call to Marathon: method, path under Marathon's URL, query, JSON body, and what it does. */
export interface Call {
  readonly method: Method
  readonly path: string
  /** Query parameters; a list repeats the parameter (`event_type=a&event_type=b`). */
  readonly query?: Readonly<Record<string, string | ReadonlyArray<string>>>
  readonly body?: unknown
  /** What the call does, for messages: "reading app /shop/api". */
  readonly what: string
}

/** Marathon's answer: status, parsed body (JSON, or the text), headers. */
export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers: Record<string, string | undefined>
}

/** No answer to a request: why, and whether it may have reached Marathon. */
export interface NoReply {
  readonly _tag: "NoReply"
  /** A transport failure (no connection, reset, timeout) rather than an unreadable answer. */
  readonly transport: boolean
  /** False only when the request cannot have left this machine (connection refused, unknown host). */
  readonly maybeSent: boolean
  /**
   * True when Marathon held the request open without answering until our request timeout: it
   * may still be working on it, so what it shows right afterwards does not say it never will.
   */
  readonly heldOpen?: boolean | undefined
  readonly cause: string
}

/** The event stream's request answered: the stream (200), or another status with its text. */
type StreamOpened = { readonly status: number; readonly response: HttpClientResponse.HttpClientResponse } | { readonly status: number; readonly text: string }

/** What one attempt at a request brought. */
export type Attempt = { readonly _tag: "Reply"; readonly reply: Reply } | NoReply

/** Removes user info (`user:pass@`) from every URL in a text, so no secret reaches a message. */
export const withoutUserInfo = (text: string): string => text.replace(/\/\/[^/@\s]*@/g, "//")

/** The base URL: trimmed, no trailing slash, no user info (credentials come from the config, never the URL). */
const trimUrl = (url: string): string => withoutUserInfo(url.trim()).replace(/\/+$/, "")

/** A URL for messages: no user info, no query. */
export const printableUrl = (url: string): string => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined) return withoutUserInfo(url)
  parsed.username = ""
  parsed.password = ""
  parsed.search = ""
  return parsed.toString().replace(/\/$/, "")
}

const parseBody = (text: string): unknown => {
  if (text.trim() === "") return undefined
  const parsed = Result.try(() => JSON.parse(text) as unknown)
  return Result.isSuccess(parsed) ? parsed.success : text
}

/** True for a JSON object (not an array, not null). */
export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A short, secret-free text of a server body (Marathon message, IAM description, or text). */
export const serverMessage = (body: unknown): string | undefined => {
  if (typeof body === "string") return body.trim().slice(0, 300) || undefined
  if (!isRecord(body)) return undefined
  const parts = [body["message"], body["title"], body["description"], body["code"]]
    .filter((p): p is string => typeof p === "string" && p !== "")
  return parts.length > 0 ? parts.join(" — ") : undefined
}

/** The root of a transport failure, e.g. `ECONNREFUSED`. */
const transportCause = (error: HttpClientError.HttpClientError): string => {
  const seen = new Set<unknown>()
  let current: unknown = error.reason
  let best: string = error.reason._tag
  while (isRecord(current) || current instanceof Error) {
    if (seen.has(current)) break
    seen.add(current)
    const record = current as Record<string, unknown>
    if (typeof record["code"] === "string") return withoutUserInfo(record["code"] as string)
    if (typeof record["message"] === "string" && record["message"] !== "") {
      best = withoutUserInfo(record["message"] as string)
    }
    current = record["cause"]
  }
  return best
}

/**
 * Error codes meaning the request never left this machine: no connection was made (refused,
 * unknown host, no route, connect timeout) or TLS failed before anything was sent.
 */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

/** True when a failed request certainly did not reach the server (see {@link NOT_SENT_CODES}). */
const neverSent = (error: HttpClientError.HttpClientError): boolean => {
  if (error.reason._tag === "InvalidUrlError" || error.reason._tag === "EncodeError") return true
  if (error.reason._tag !== "TransportError") return false
  const seen = new Set<unknown>()
  let current: unknown = error.reason
  while ((isRecord(current) || current instanceof Error) && !seen.has(current)) {
    seen.add(current)
    const record = current as Record<string, unknown>
    if (typeof record["code"] === "string" && NOT_SENT_CODES.has(record["code"])) return true
    current = record["cause"]
  }
  return false
}

const formatDetails = (details: ReadonlyArray<MarathonErrorDetail>): string =>
  details.map((d) => `${d.path}: ${d.errors.join(", ")}`).join("; ")

/** Statuses worth another try: a proxy or Marathon without a leader. */
export const TRANSIENT_STATUSES = new Set([502, 503, 504])

/** `450 ms`, `12 s`, `10 min`: a duration for messages. */
export const formatMillis = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 6000) / 10} min`

/** Backoff before retry `attempt` (0-based): 250 ms doubling, capped at 4 s. */
export const backoffMillis = (attempt: number): number => Math.min(250 * 2 ** attempt, 4000)

const decodeDetails = Schema.decodeUnknownOption(Schema.Array(MarathonErrorDetail))

/** The same error, saying that the change was certainly not applied. */
export const notApplied = (error: MarathonError): MarathonError =>
  new MarathonError({
    reason: error.reason,
    message: `${error.message} Nothing was changed.`,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.details !== undefined ? { details: error.details } : {}),
    ...(error.blockingDeployments !== undefined ? { blockingDeployments: error.blockingDeployments } : {})
  })

/** The transport for one Marathon (or DC/OS cluster): what the API calls ({@link Transport}) are built on. */
export const makeTransport = (config: MarathonConfig) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const clusterUrl = trimUrl(config.url)
    const marathonUrl = config.dcos !== undefined ? `${clusterUrl}/service/marathon` : clusterUrl
    const retries = Math.max(0, config.retries ?? 4)
    const requestTimeoutMs = Math.max(1, config.requestTimeoutMs ?? 60_000)
    const dcosToken = yield* Ref.make<Redacted.Redacted<string> | undefined>(undefined)
    const loginLock = yield* Semaphore.make(1)

    /** Which environment variables hold the credentials in use (for 401/403 messages). */
    const credentialHint = (): string => {
      if (config.dcos !== undefined) {
        return config.dcos.privateKeyPem !== undefined
          ? `the DC/OS service account '${config.dcos.uid}' and its key in DCOS_PRIVATE_KEY_FILE`
          : `the DC/OS uid '${config.dcos.uid}' and DCOS_PASSWORD`
      }
      if (config.token !== undefined) return "MARATHON_TOKEN"
      if (config.basic !== undefined) return `MARATHON_USERNAME ('${config.basic.username}') and MARATHON_PASSWORD`
      return "the credentials: none were configured (set MARATHON_TOKEN, or MARATHON_USERNAME and MARATHON_PASSWORD, " +
        "or use DC/OS login with DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE)"
    }

    /** One attempt, never retried: Marathon's reply, or why none came. */
    const attemptOnce = (request: HttpClientRequest.HttpClientRequest, timeoutMs: number = requestTimeoutMs): Effect.Effect<Attempt> =>
      http.execute(request).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.text, (text): Attempt => ({
            _tag: "Reply",
            reply: {
              status: response.status,
              body: parseBody(text),
              headers: response.headers as Record<string, string | undefined>
            }
          }))
        ),
        Effect.timeoutOption(timeoutMs),
        Effect.map((answered): Attempt =>
          answered._tag === "Some"
            ? answered.value
            : { _tag: "NoReply", transport: true, maybeSent: true, heldOpen: true, cause: `no answer within ${formatMillis(timeoutMs)}` }
        ),
        Effect.catch((error) =>
          Effect.succeed<Attempt>({
            _tag: "NoReply",
            transport: error.reason._tag === "TransportError",
            maybeSent: !neverSent(error),
            cause: transportCause(error)
          })
        )
      )

    const unreachable = (request: HttpClientRequest.HttpClientRequest, what: string, lost: NoReply, attempts: number) =>
      new MarathonError({
        reason: lost.transport ? "Unreachable" : "BadResponse",
        message: `Cannot reach ${printableUrl(request.url)} while ${what}: ${lost.cause}` +
          (attempts > 1 ? ` (tried ${attempts} times)` : "") +
          ". Check the URL and that Marathon (or the DC/OS cluster) is up and reachable from here."
      })

    const unavailable = (request: HttpClientRequest.HttpClientRequest, what: string, reply: Reply, attempts: number) => {
      const said = serverMessage(reply.body)
      return new MarathonError({
        reason: "Unavailable",
        status: reply.status,
        message: `${printableUrl(request.url)} answered ${reply.status} while ${what}` +
          (said !== undefined ? ` (${said})` : "") +
          `, still after ${attempts} attempt${attempts > 1 ? "s" : ""}: Marathon has no leader or is overloaded. ` +
          "Try again in a minute; check the Marathon leader (GET /v2/info)."
      })
    }

    /**
     * Executes a request that is safe to repeat (reads, login): transport failures and
     * 502/503/504 are retried with backoff.
     */
    const executeWithRetries = (request: HttpClientRequest.HttpClientRequest, what: string) =>
      Effect.gen(function*() {
        for (let attempt = 0;; attempt++) {
          const outcome = yield* attemptOnce(request)
          if (outcome._tag === "NoReply") {
            if (outcome.transport && attempt < retries) {
              yield* Effect.sleep(backoffMillis(attempt))
              continue
            }
            return yield* unreachable(request, what, outcome, attempt + 1)
          }
          const reply = outcome.reply
          if (TRANSIENT_STATUSES.has(reply.status) && attempt < retries) {
            yield* Effect.sleep(backoffMillis(attempt))
            continue
          }
          if (TRANSIENT_STATUSES.has(reply.status)) return yield* unavailable(request, what, reply, attempt + 1)
          return reply
        }
      })

    /**
     * Executes a change (a deployment, a cancel), which must never be repeated blindly: only a
     * request that cannot have left this machine (connection refused, no such host) is retried
     * here; anything else comes back to the caller to find out what happened.
     */
    const executeUnlessSent = (request: HttpClientRequest.HttpClientRequest, timeoutMs?: number) =>
      Effect.gen(function*() {
        for (let attempt = 0;; attempt++) {
          const outcome = yield* attemptOnce(request, timeoutMs)
          if (outcome._tag === "NoReply" && !outcome.maybeSent && attempt < retries) {
            yield* Effect.sleep(backoffMillis(attempt))
            continue
          }
          return outcome
        }
      })

    /** DC/OS login with the password or a service-account JWT; caches the token. */
    const login = Effect.fn("Marathon.login")(function*() {
      const dcos = config.dcos!
      let body: Record<string, string>
      if (dcos.privateKeyPem !== undefined) {
        body = { uid: dcos.uid, token: yield* makeServiceAccountToken(dcos.uid, dcos.privateKeyPem) }
      } else if (dcos.password !== undefined) {
        body = { uid: dcos.uid, password: Redacted.value(dcos.password) }
      } else {
        return yield* new MarathonError({
          reason: "Unauthorized",
          message: `DC/OS login for uid '${dcos.uid}' needs a secret: set DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE.`
        })
      }
      const request = HttpClientRequest.post(`${clusterUrl}/acs/api/v1/auth/login`).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyText(JSON.stringify(body), "application/json")
      )
      const reply = yield* executeWithRetries(request, `logging in to DC/OS as '${dcos.uid}'`)
      if (reply.status === 200 && isRecord(reply.body) && typeof reply.body["token"] === "string") {
        const token = Redacted.make(reply.body["token"])
        yield* Ref.set(dcosToken, token)
        return token
      }
      const said = serverMessage(reply.body)
      if (reply.status === 401 || reply.status === 400 || reply.status === 403) {
        return yield* new MarathonError({
          reason: "Unauthorized",
          status: reply.status,
          message: `DC/OS refused the login of '${dcos.uid}' (${reply.status}${said !== undefined ? `: ${said}` : ""}). ` +
            `Check ${credentialHint()}.`
        })
      }
      return yield* new MarathonError({
        reason: "BadResponse",
        status: reply.status,
        message: `DC/OS login at ${printableUrl(`${clusterUrl}/acs/api/v1/auth/login`)} answered ${reply.status}` +
          `${said !== undefined ? ` (${said})` : ""} instead of 200 with a token. Is ${clusterUrl} a DC/OS cluster?`
      })
    })

    /**
     * The DC/OS token to use: the cached one, unless it is the one just `rejected`; concurrent
     * callers share one login (single flight).
     */
    const dcosTokenFor = (rejected: Redacted.Redacted<string> | undefined) =>
      loginLock.withPermit(Effect.gen(function*() {
        const current = yield* Ref.get(dcosToken)
        if (current !== undefined && current !== rejected) return current
        return yield* login()
      }))

    const authorize = (request: HttpClientRequest.HttpClientRequest, dcos: Redacted.Redacted<string> | undefined) => {
      if (dcos !== undefined) return HttpClientRequest.setHeader(request, "authorization", `token=${Redacted.value(dcos)}`)
      if (config.token !== undefined) {
        return HttpClientRequest.setHeader(request, "authorization", `token=${Redacted.value(config.token)}`)
      }
      if (config.basic !== undefined) {
        return HttpClientRequest.basicAuth(request, config.basic.username, Redacted.value(config.basic.password))
      }
      return request
    }

    const buildRequest = (call: Call): HttpClientRequest.HttpClientRequest => {
      let request = HttpClientRequest.make(call.method)(`${marathonUrl}${call.path}`).pipe(HttpClientRequest.acceptJson)
      if (call.query !== undefined) request = HttpClientRequest.setUrlParams(request, call.query)
      if (call.body !== undefined) {
        request = HttpClientRequest.bodyText(request, JSON.stringify(call.body), "application/json")
      }
      return request
    }

    /**
     * Sends a call with auth: DC/OS logs in when needed, and once more on 401 (a 401 means the
     * request was refused, so sending it again is safe even for a change).
     */
    const authorized = <R>(call: Call, execute: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<R, MarathonError>, statusOf: (r: R) => number | undefined) =>
      Effect.gen(function*() {
        const request = buildRequest(call)
        if (config.dcos === undefined) return yield* execute(authorize(request, undefined))
        const token = (yield* Ref.get(dcosToken)) ?? (yield* dcosTokenFor(undefined))
        const first = yield* execute(authorize(request, token))
        if (statusOf(first) !== 401) return first
        // DC/OS has no refresh endpoint: the token expired or was revoked; log in again ONCE.
        const fresh = yield* dcosTokenFor(token)
        return yield* execute(authorize(request, fresh))
      })

    /** Sends a read (or another call safe to repeat), with retries. */
    const send = (call: Call): Effect.Effect<Reply, MarathonError> =>
      authorized(call, (request) => executeWithRetries(request, call.what), (reply) => reply.status)

    /** Sends a change once (see {@link executeUnlessSent}); the caller decides about what came back. */
    const sendOnce = (call: Call, timeoutMs?: number): Effect.Effect<Attempt, MarathonError> =>
      authorized(call, (request) => executeUnlessSent(request, timeoutMs === undefined ? undefined : Math.max(1, Math.min(timeoutMs, requestTimeoutMs))), (a) => (a._tag === "Reply" ? a.reply.status : undefined))

    /** Turns a non-success reply into a specific, readable MarathonError. */
    const failure = (call: Call, reply: Reply): MarathonError => {
      const body = reply.body
      const said = serverMessage(body)
      const where = `${call.method} ${call.path}`
      switch (reply.status) {
        case 401:
          return new MarathonError({
            reason: "Unauthorized",
            status: 401,
            message: `Marathon answered 401 Unauthorized while ${call.what} (${where})` +
              (config.dcos !== undefined ? " even with a fresh DC/OS token" : "") +
              `${said !== undefined ? `: ${said}` : ""}. Check ${credentialHint()}.`
          })
        case 403:
          if (said !== undefined && /max number\b.*\brunning deployments/i.test(said)) {
            return new MarathonError({
              reason: "TooManyDeployments",
              status: 403,
              message: `Marathon refused ${call.what}: it already runs as many deployments as it allows (${said}). ` +
                "This is not a permissions problem and nothing was changed: wait for running deployments to finish " +
                "(GET /v2/deployments) and try again, or raise Marathon's --max_running_deployments."
            })
          }
          return new MarathonError({
            reason: "Forbidden",
            status: 403,
            message: `Marathon answered 403 Forbidden while ${call.what} (${where})${said !== undefined ? `: ${said}` : ""}. ` +
              `The credentials were accepted but are not allowed to do this; check the permissions of ${credentialHint()}.`
          })
        case 404:
          return new MarathonError({
            reason: "NotFound",
            status: 404,
            message: `Not found while ${call.what} (${where})${said !== undefined ? `: ${said}` : ""}.`
          })
        case 409: {
          const ids = isRecord(body) && Array.isArray(body["deployments"])
            ? body["deployments"].flatMap((d) => (isRecord(d) && typeof d["id"] === "string" ? [d["id"]] : []))
            : []
          return new MarathonError({
            reason: "Locked",
            status: 409,
            blockingDeployments: ids,
            message: `Marathon refused ${call.what}: the app is locked by ` +
              (ids.length > 0 ? `deployment${ids.length > 1 ? "s" : ""} ${ids.join(", ")}` : "a running deployment") +
              ". Wait for it to finish (GET /v2/deployments) or cancel it, or pass --force to override " +
              "(the running deployment is then replaced)."
          })
        }
        case 400:
        case 422: {
          const details = isRecord(body) ? decodeDetails(body["details"]) : undefined
          const list = details !== undefined && details._tag === "Some" ? details.value : undefined
          const textDetails = isRecord(body) && typeof body["details"] === "string" ? body["details"] : undefined
          return new MarathonError({
            reason: "Invalid",
            status: reply.status,
            ...(list !== undefined ? { details: list } : {}),
            message: `Marathon rejected ${call.what} (${reply.status}${said !== undefined ? ` ${said}` : ""})` +
              (list !== undefined && list.length > 0 ? `: ${formatDetails(list)}` : "") +
              (textDetails !== undefined ? `: ${textDetails}` : "") + "."
          })
        }
        default:
          return new MarathonError({
            reason: "BadResponse",
            status: reply.status,
            message: `Marathon answered ${reply.status} while ${call.what} (${where})${said !== undefined ? `: ${said}` : ""}; ` +
              "this client did not expect that status."
          })
      }
    }

    /** Sends and insists on one of the expected statuses. */
    const expect = (call: Call, ok: ReadonlyArray<number>) =>
      Effect.flatMap(send(call), (reply) => (ok.includes(reply.status) ? Effect.succeed(reply) : Effect.fail(failure(call, reply))))

    const badBody = (call: Call, expected: string) => (error: unknown) =>
      new MarathonError({
        reason: "BadResponse",
        message: `Marathon's answer to ${call.method} ${call.path} (${call.what}) is not ${expected}: ${String(error)}`
      })

    const decodeWith = <S extends Schema.Decoder<unknown>>(schema: S, call: Call, expected: string) => (body: unknown) =>
      Schema.decodeUnknownEffect(schema)(body).pipe(Effect.mapError(badBody(call, expected))) as Effect.Effect<
        S["Type"],
        MarathonError
      >

    /**
     * Follows Marathon's event stream (`GET /v2/events`, server-sent events) of `types`, calling
     * `onEvent` with each event's type and parsed data until the stream ends (a proxy's idle
     * timeout: it is not reopened) or the fiber is interrupted. Fails when it cannot be opened (no
     * answer, 405 without the Accept header, an auth error): the caller polls regardless, so the
     * stream only hurries it along. It holds one connection while open: with a connection pool of
     * one per host it would hold back the polls.
     */
    const events = (types: ReadonlyArray<string>, onEvent: (type: string, data: unknown) => void): Effect.Effect<void, MarathonError> => {
      const call: Call = { method: "GET", path: "/v2/events", query: { event_type: types }, what: "following the event stream" }
      return Effect.gen(function*() {
        const opened = yield* authorized(
          call,
          (request) =>
            http.execute(HttpClientRequest.setHeader(request, "accept", "text/event-stream")).pipe(
              // any answer but the stream is read to its end (frees its connection, and says why)
              Effect.flatMap((r): Effect.Effect<StreamOpened> =>
                r.status === 200 ? Effect.succeed({ status: 200, response: r }) : Effect.map(r.text.pipe(Effect.orElseSucceed(() => "")), (text) => ({ status: r.status, text }))
              ),
              Effect.mapError((e) => new MarathonError({ reason: "Unreachable", message: `${call.what}: ${transportCause(e)}` })),
              Effect.timeoutOption(requestTimeoutMs),
              Effect.flatMap((answered) =>
                answered._tag === "Some" ? Effect.succeed(answered.value) : Effect.fail(new MarathonError({ reason: "Unreachable", message: `${call.what}: no answer within ${formatMillis(requestTimeoutMs)}` }))
              )
            ),
          (r) => r.status
        )
        if (!("response" in opened)) return yield* Effect.fail(failure(call, { status: opened.status, body: parseBody(opened.text), headers: {} }))
        const response = opened.response
        const decoder = new TextDecoder()
        const parser = Sse.makeParser((event) => {
          // a Marathon before 1.3.7 sends every event whatever event_type says: only these are parsed
          if (event._tag !== "Event" || !types.includes(event.event)) return
          let data: unknown
          try {
            data = JSON.parse(event.data)
          } catch {
            return // not JSON: not an event this client reads
          }
          onEvent(event.event, data)
        })
        yield* Stream.runForEach(response.stream, (chunk) => Effect.sync(() => void parser.feed(decoder.decode(chunk, { stream: true })))).pipe(
          Effect.mapError((e) => new MarathonError({ reason: "Unreachable", message: `${call.what}: ${transportCause(e)}` }))
        )
      })
    }

    return { clusterUrl, marathonUrl, retries, buildRequest, send, sendOnce, failure, expect, unreachable, unavailable, badBody, decodeWith, events }
  })

/** The transport's operations ({@link makeTransport}). */
export type Transport = Effect.Success<ReturnType<typeof makeTransport>>
