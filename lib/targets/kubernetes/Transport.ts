/**
 * @module Transport — how each request reaches the API server: undici connection pools with the
 * cluster's TLS settings (its CA, the client certificate, verification off only when the
 * kubeconfig says so), the bearer token of the moment ({@link Credentials}), one more try after a
 * 401 once the credentials are renewed (an exec plugin re-run, a token file re-read), reads
 * retried with backoff on 429 / 5xx / a lost connection, writes never re-sent by this module
 * (a write whose answer was lost fails with `noAnswer`, and the caller reads the object to learn
 * whether it was applied), 429 retried for every verb (the server refused it before doing
 * anything) honouring `Retry-After`. Answers come back whole and JSON-decoded; non-2xx answers are
 * returned, not failed, so the API layer can say which workload they are about.
 */
import * as tls from "node:tls"
import { Clock, Effect, Ref } from "effect"
import { Agent } from "undici"
import { readJsonLines } from "../../target/JsonLines.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Credentials, RequestCredentials } from "./Credentials.ts"
import type { ClusterAccess } from "./Kubeconfig.ts"

/** One request to the API server: a path under it, a query, an optional JSON body. */
export interface KubeRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>> | undefined
  readonly body?: unknown
  /** Content-Type of the body (PATCH: the patch type). */
  readonly contentType?: string | undefined
  /** Accept (default `application/json`); e.g. metadata-only lists. */
  readonly accept?: string | undefined
}

/** A whole answer. */
export interface KubeResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** The JSON body, or the text when it is not JSON. */
  readonly body: unknown
}

/** Options of the transport. */
export interface TransportOptions {
  /** Per request (default 30 s). */
  readonly timeoutMs?: number
  /** Extra tries of a read (default 3). */
  readonly retries?: number
  /** First backoff (default 200 ms), doubled per try. */
  readonly backoffMs?: number
  /** Connections per origin (default 16). */
  readonly connections?: number
}

/** The transport of one cluster access. */
export interface Transport {
  readonly send: (request: KubeRequest) => Effect.Effect<KubeResponse, TargetError>
  /**
   * A watch (`?watch=1`): each line of the answer, one JSON event, goes to `onEvent` as it comes,
   * until the server ends the stream (the answer then has no body) or the effect is interrupted
   * (the request is aborted). A non-2xx answer comes back whole, as from `send`. Never retried
   * here (after a 401 once, with renewed credentials): the caller lists again and watches on.
   */
  readonly stream: (request: KubeRequest, onEvent: (event: unknown) => void) => Effect.Effect<KubeResponse, TargetError>
  /** How many requests went out (for the bench). */
  readonly requestCount: Effect.Effect<number>
  /** Closes every pool. */
  readonly close: Effect.Effect<void>
}

const trustedCas = (extra: string | undefined): Array<string> => extra !== undefined ? [extra] : [...tls.rootCertificates]

const unreachable = (access: ClusterAccess, request: KubeRequest, error: unknown): TargetError => {
  const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string }
  const code = e.code ?? e.cause?.code ?? ""
  const detail = e.cause?.message ?? e.message ?? String(error)
  const tlsProblem = /CERT|SELF_SIGNED|TLS|SSL/i.test(code) || /certificate/i.test(detail)
  return new TargetError({
    reason: "Unreachable",
    noAnswer: true,
    message: tlsProblem
      ? `the Kubernetes API server ${access.server} (${access.source}) failed the TLS check (${code || detail}): the kubeconfig's certificate-authority must be the cluster's CA`
      : `no answer from the Kubernetes API server ${access.server} to ${request.method} ${request.path} (${code || detail}): check the server URL in ${access.source} and that the cluster is reachable`
  })
}

const RETRYABLE_READ = new Set([429, 500, 502, 503, 504])

/** Builds the transport of a cluster access. */
export const makeTransport = (access: ClusterAccess, credentials: Credentials, options: TransportOptions = {}): Effect.Effect<Transport> =>
  Effect.gen(function*() {
    const agents = new Map<string, Agent>()
    const counter = yield* Ref.make(0)
    const timeoutMs = options.timeoutMs ?? 30_000
    const retries = options.retries ?? 3
    const backoffMs = options.backoffMs ?? 200
    const agentFor = (c: RequestCredentials): Agent => {
      const key = `${c.clientCertPem ?? ""}\u0000${c.clientKeyPem ?? ""}`
      let agent = agents.get(key)
      if (agent === undefined) {
        agent = new Agent({
          keepAliveTimeout: 30_000,
          connections: options.connections ?? 16,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          connect: {
            ca: trustedCas(access.caPem),
            rejectUnauthorized: !access.insecureSkipTlsVerify,
            ...(access.tlsServerName === undefined ? {} : { servername: access.tlsServerName }),
            ...(c.clientCertPem === undefined ? {} : { cert: c.clientCertPem, key: c.clientKeyPem })
          }
        })
        agents.set(key, agent)
      }
      return agent
    }
    /** The request as undici takes it, with the credentials of the moment. */
    const prepare = (request: KubeRequest, c: RequestCredentials, signal: AbortSignal) => {
      const url = new URL(access.server + request.path)
      for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
      const headers: Record<string, string> = { accept: request.accept ?? "application/json", "user-agent": "fleet-rollback" }
      if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`
      if (request.body !== undefined) headers["content-type"] = request.contentType ?? "application/json"
      return {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        signal,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) })
      }
    }
    const parsed = (status: number, headers: Record<string, string>, text: string): KubeResponse => {
      let body: unknown = text
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {
        // Not JSON: kept as text for the message.
      }
      return { status, headers, body }
    }
    const once = (request: KubeRequest, c: RequestCredentials): Effect.Effect<KubeResponse, TargetError> =>
      Ref.update(counter, (n) => n + 1).pipe(
        Effect.andThen(Effect.tryPromise({
          try: (signal) =>
            agentFor(c).request(prepare(request, c, signal)).then(async (r) => parsed(r.statusCode, r.headers as Record<string, string>, await r.body.text())),
          catch: (error) => unreachable(access, request, error)
        }))
      )
    /** One watch request: its events to `onEvent`, line by line, until the stream ends. */
    const streamOnce = (request: KubeRequest, c: RequestCredentials, onEvent: (event: unknown) => void): Effect.Effect<KubeResponse, TargetError> =>
      Ref.update(counter, (n) => n + 1).pipe(
        Effect.andThen(Effect.tryPromise({
          try: async (signal) => {
            const r = await agentFor(c).request(prepare(request, c, signal))
            const h = r.headers as Record<string, string>
            if (r.statusCode < 200 || r.statusCode >= 300) return parsed(r.statusCode, h, await r.body.text())
            await readJsonLines(r.body, onEvent)
            return { status: r.statusCode, headers: h, body: undefined }
          },
          catch: (error) => unreachable(access, request, error)
        }))
      )
    const send = (request: KubeRequest): Effect.Effect<KubeResponse, TargetError> =>
      Effect.gen(function*() {
        let renewed = false
        for (let attempt = 0;; attempt++) {
          const c = yield* credentials.current
          const result = yield* Effect.result(once(request, c))
          const read = request.method === "GET"
          if (result._tag === "Failure") {
            if (!read || attempt >= retries) return yield* Effect.fail(result.failure)
          } else {
            const response = result.success
            if (response.status === 401 && !renewed && (yield* credentials.invalidate)) {
              renewed = true
              continue
            }
            const retryable = response.status === 429 || (read && RETRYABLE_READ.has(response.status))
            if (!retryable || attempt >= retries) return response
            const retryAfter = Number(response.headers["retry-after"] ?? "")
            if (Number.isFinite(retryAfter) && retryAfter > 0) {
              yield* Effect.sleep(Math.min(retryAfter, 10) * 1000)
              continue
            }
          }
          const now = yield* Clock.currentTimeMillis
          yield* Effect.sleep(backoffMs * 2 ** attempt + (now % 50))
        }
      })
    const stream = (request: KubeRequest, onEvent: (event: unknown) => void): Effect.Effect<KubeResponse, TargetError> =>
      Effect.gen(function*() {
        const response = yield* streamOnce(request, yield* credentials.current, onEvent)
        if (response.status !== 401 || !(yield* credentials.invalidate)) return response
        return yield* streamOnce(request, yield* credentials.current, onEvent)
      })
    return {
      send,
      stream,
      requestCount: Ref.get(counter),
      close: Effect.promise(() => Promise.all([...agents.values()].map((a) => a.close()))).pipe(Effect.asVoid)
    }
  })
