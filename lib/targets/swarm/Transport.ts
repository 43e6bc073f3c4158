/**
 * @module Transport — how the Swarm client reaches a Docker Engine: where (`DOCKER_HOST`: a unix
 * socket, or `tcp://` with `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` TLS), which API version
 * (negotiated with `GET /version`, the engine's `ApiVersion` capped at the newest this client
 * knows, refused below the oldest it needs; `DOCKER_API_VERSION` pins it), and what happens around
 * each request: a time limit, retries of reads (never of changes: a lost answer to a change is the
 * caller's to resolve by reading the service again), and the mapping of answers to
 * {@link SwarmError}s. Requests go out through undici on one connection pool per engine.
 */
import { readFileSync } from "node:fs"
import { Duration, Effect, Random } from "effect"
import type { Scope } from "effect"
import { Agent, request as undiciRequest } from "undici"
import { readJsonLines } from "../../target/JsonLines.ts"
import { SwarmError } from "./SwarmError.ts"

/** The newest Engine API this client knows (Docker 20.10; FACTS: moby `api/common.go`). */
const CLIENT_API_VERSION = "1.41"
/** The oldest Engine API this client can drive: the daemon stopped resolving digests itself at 1.30. */
const MIN_API_VERSION = "1.30"

/** Where the engine is. */
export type DockerEndpoint =
  | { readonly _tag: "Unix"; readonly socketPath: string }
  | {
    readonly _tag: "Tcp"
    readonly host: string
    readonly port: number
    /** TLS settings; undefined = plain HTTP (as the docker CLI without DOCKER_TLS_VERIFY/DOCKER_CERT_PATH). */
    readonly tls?: { readonly certPath: string | undefined; readonly verify: boolean } | undefined
  }

/** The engine settings as an operator gives them (the docker CLI's environment variables). */
export interface DockerHostSettings {
  /** `DOCKER_HOST`; default `unix:///var/run/docker.sock`. */
  readonly host?: string | undefined
  /** `DOCKER_TLS_VERIFY`: non-empty = TLS with verification (as the docker CLI reads it). */
  readonly tlsVerify?: string | undefined
  /** `DOCKER_CERT_PATH`: `ca.pem`, `cert.pem`, `key.pem`. */
  readonly certPath?: string | undefined
  /** `DOCKER_API_VERSION`: pins the API version instead of negotiating it. */
  readonly apiVersion?: string | undefined
  /**
   * Connect with TLS but without checking the engine's certificate. Only by explicit choice: unlike
   * the docker CLI, `DOCKER_CERT_PATH` without `DOCKER_TLS_VERIFY` still verifies.
   */
  readonly insecureSkipVerify?: boolean | undefined
}

/** The settings from the docker CLI's environment variables. */
export const dockerHostFromEnv = (env: Record<string, string | undefined>): DockerHostSettings => ({
  host: env["DOCKER_HOST"] || undefined,
  tlsVerify: env["DOCKER_TLS_VERIFY"],
  certPath: env["DOCKER_CERT_PATH"] || undefined,
  apiVersion: env["DOCKER_API_VERSION"] || undefined
})

const DEFAULT_HOST = "unix:///var/run/docker.sock"

const invalid = (message: string) => new SwarmError({ reason: "Invalid", message })

/** Parses `DOCKER_HOST` and the TLS variables into an endpoint; a clear error for what cannot work. */
export const parseDockerHost = (settings: DockerHostSettings, homeDir = ""): SwarmError | DockerEndpoint => {
  const host = (settings.host ?? DEFAULT_HOST).trim()
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length)
    if (!socketPath.startsWith("/")) return invalid(`DOCKER_HOST ${JSON.stringify(host)}: expected unix:///absolute/path/to/docker.sock`)
    return { _tag: "Unix", socketPath }
  }
  if (host.startsWith("ssh://")) {
    return new SwarmError({
      reason: "Unsupported",
      message: `DOCKER_HOST ${JSON.stringify(host)}: ssh:// is not supported; forward the engine's socket (ssh -L /tmp/docker.sock:/var/run/docker.sock host) and set DOCKER_HOST=unix:///tmp/docker.sock, or use tcp:// with TLS`
    })
  }
  const tcp = /^(?:tcp|https?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host)
  if (tcp === null) {
    return invalid(`DOCKER_HOST ${JSON.stringify(host)} is not an engine address: expected unix:///path/docker.sock or tcp://host:port`)
  }
  const tlsVerify = settings.tlsVerify !== undefined && settings.tlsVerify !== ""
  const useTls = tlsVerify || settings.certPath !== undefined || settings.insecureSkipVerify === true
  const certPath = settings.certPath ?? (tlsVerify && homeDir !== "" ? `${homeDir.replace(/\/+$/, "")}/.docker` : undefined)
  const port = tcp[2] !== undefined ? Number(tcp[2]) : useTls ? 2376 : 2375
  return {
    _tag: "Tcp",
    host: tcp[1]!.replace(/^\[|\]$/g, ""),
    port,
    tls: useTls ? { certPath, verify: settings.insecureSkipVerify !== true } : undefined
  }
}

/** The engine's address for messages and the report (never a secret: no credentials live in it). */
export const describeEndpoint = (endpoint: DockerEndpoint): string =>
  endpoint._tag === "Unix" ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`

/** One request to the Engine API: data only; the path is unversioned (`/services`). */
export interface EngineRequest {
  readonly method: "GET" | "POST" | "DELETE"
  readonly path: string
  readonly query?: Readonly<Record<string, string | undefined>> | undefined
  readonly body?: unknown
  /** Extra headers (`X-Registry-Auth`); their values never appear in errors or logs. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** What the request is for, in messages: "reading service shop_api". */
  readonly what: string
}

/** One complete answer. */
export interface EngineResponse {
  readonly status: number
  readonly text: string
}

/** Options of the transport. */
export interface TransportOptions {
  /** Per request, default 30 s. */
  readonly requestTimeoutMs?: number | undefined
  /** Retries of reads (GET) after 5xx or a failed connection, default 3. */
  readonly readRetries?: number | undefined
}

/** The transport of one engine: its negotiated API version and `send`. */
export interface Transport {
  /** The engine's address for messages (`unix:///var/run/docker.sock`). */
  readonly address: string
  /** The API version every path is prefixed with (`1.41`). */
  readonly apiVersion: string
  /** Sends one request; a non-2xx answer fails with its mapped {@link SwarmError}. */
  readonly send: (request: EngineRequest) => Effect.Effect<EngineResponse, SwarmError>
  /**
   * Follows the engine's event stream (`GET /events` with these filters, from now on): each event
   * to `onEvent` as it comes, until the effect is interrupted or the engine ends the stream
   * (then it succeeds). Fails when the stream cannot be opened.
   */
  readonly events: (filters: Readonly<Record<string, ReadonlyArray<string>>>, onEvent: (event: unknown) => void) => Effect.Effect<void, SwarmError>
}

const compareVersions = (a: string, b: string): number => {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number)
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number)
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor
}

/** The error an engine's answer means; the engine's own message kept (`{"message": …}`). */
const errorOfStatus = (request: EngineRequest, status: number, text: string): SwarmError => {
  let said = text.trim()
  try {
    const parsed = JSON.parse(text) as { message?: unknown }
    if (typeof parsed?.message === "string") said = parsed.message
  } catch {
    // not JSON: keep the text
  }
  said = said.slice(0, 500)
  const where = `${request.what}: the engine answered ${status}${said === "" ? "" : ` "${said}"`}`
  if (status === 500 && /update out of sequence/i.test(said)) {
    return new SwarmError({ reason: "OutOfSequence", status, message: `${where}: the service was changed by someone else meanwhile` })
  }
  if (status === 400) return new SwarmError({ reason: "Invalid", status, message: where })
  if (status === 401 || status === 403) {
    return new SwarmError({ reason: "Unauthorized", status, message: `${where}: check the TLS client certificate (DOCKER_CERT_PATH) or the proxy in front of the engine` })
  }
  if (status === 404) return new SwarmError({ reason: "NotFound", status, message: where })
  if (status === 503) {
    return new SwarmError({ reason: "NotManager", status, message: `${where}: point DOCKER_HOST at a manager node of the swarm` })
  }
  if (status >= 500) return new SwarmError({ reason: "Unavailable", status, message: where })
  return new SwarmError({ reason: "BadResponse", status, message: where })
}

const connectionCodes = (error: unknown): Array<string> => {
  const codes: Array<string> = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { cause?: unknown }).cause
  }
  return codes
}

/** True when a connection failed in the TLS handshake (certificate checks, alerts from the engine). */
const isTlsFailure = (codes: ReadonlyArray<string>, error: unknown): boolean =>
  codes.some((c) => /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|EPROTO|ALTNAME/.test(c)) || /certificate|handshake|alert/i.test(String((error as Error)?.message ?? ""))

const pathOf = (apiVersion: string | undefined, request: EngineRequest): string => {
  const query = Object.entries(request.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)
  const search = query.length === 0 ? "" : `?${new URLSearchParams(query).toString()}`
  return `${apiVersion === undefined ? "" : `/v${apiVersion}`}${request.path}${search}`
}

/** Reads the TLS files of `DOCKER_CERT_PATH` (missing ones left out; a client certificate needs both halves). */
const tlsOptions = (endpoint: Extract<DockerEndpoint, { _tag: "Tcp" }>): Effect.Effect<Record<string, unknown>, SwarmError> =>
  Effect.try({
    try: () => {
      const tls = endpoint.tls!
      const read = (name: string): string | undefined => {
        if (tls.certPath === undefined) return undefined
        try {
          return readFileSync(`${tls.certPath}/${name}`, "utf8")
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
          throw error
        }
      }
      const ca = read("ca.pem")
      const cert = read("cert.pem")
      const key = read("key.pem")
      return {
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
        rejectUnauthorized: tls.verify,
        servername: endpoint.host
      }
    },
    catch: (error) =>
      new SwarmError({
        reason: "Unreachable",
        message: `cannot read the TLS files in DOCKER_CERT_PATH (${endpoint.tls?.certPath}): ${(error as Error).message}`
      })
  })

/**
 * Opens the transport to an engine (a connection pool closed with the scope) and negotiates the
 * API version. Fails when the engine cannot be reached or speaks an API older than
 * {@link MIN_API_VERSION}.
 */
export const makeTransport = (
  settings: DockerHostSettings,
  options: TransportOptions = {},
  homeDir = ""
): Effect.Effect<Transport, SwarmError, Scope.Scope> =>
  Effect.gen(function*() {
    const parsed = parseDockerHost(settings, homeDir)
    if (parsed instanceof SwarmError) return yield* parsed
    const endpoint = parsed
    const address = describeEndpoint(endpoint)
    const origin = endpoint._tag === "Unix" ? "http://docker" : `${endpoint.tls !== undefined ? "https" : "http"}://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`
    const connect = endpoint._tag === "Unix" ? { socketPath: endpoint.socketPath } : endpoint.tls !== undefined ? yield* tlsOptions(endpoint) : {}
    if (endpoint._tag === "Tcp" && endpoint.tls !== undefined && !endpoint.tls.verify) {
      yield* Effect.logWarning(`!!! TLS VERIFICATION OF THE DOCKER ENGINE AT ${address} IS OFF: anyone in between can act as the engine. !!!`)
    }
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => new Agent({ connect, keepAliveTimeout: 30_000 })),
      (agent) => Effect.promise(() => agent.close().catch(() => undefined))
    )
    const timeoutMs = options.requestTimeoutMs ?? 30_000
    const readRetries = options.readRetries ?? 3

    const once = (apiVersion: string | undefined, request: EngineRequest): Effect.Effect<EngineResponse, SwarmError> =>
      Effect.tryPromise({
        try: async (signal) => {
          const body = request.body === undefined ? undefined : JSON.stringify(request.body)
          const response = await undiciRequest(`${origin}${pathOf(apiVersion, request)}`, {
            dispatcher: agent,
            method: request.method,
            headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...request.headers },
            ...(body !== undefined ? { body } : {}),
            signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
          })
          return { status: response.statusCode, text: await response.body.text() }
        },
        catch: (error) => {
          const codes = connectionCodes(error)
          const timedOut = (error as Error)?.name === "TimeoutError"
          return new SwarmError({
            reason: timedOut ? "Timeout" : "Unreachable",
            noAnswer: true,
            message: timedOut
              ? `${request.what}: the engine at ${address} gave no complete answer within ${timeoutMs} ms`
              : isTlsFailure(codes, error)
              ? `${request.what}: TLS with the engine at ${address} failed (${codes[0] ?? (error as Error)?.message}): check DOCKER_CERT_PATH — ca.pem must be the CA that signed the engine's certificate, cert.pem and key.pem a client certificate the engine accepts`
              : `${request.what}: cannot reach the engine at ${address} (${codes[0] ?? (error as Error)?.message ?? String(error)}); check DOCKER_HOST and that the engine runs`
          })
        }
      }).pipe(
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300 ? Effect.succeed(response) : Effect.fail(errorOfStatus(request, response.status, response.text))
        )
      )

    /** Reads are retried after 5xx (not 503: a worker stays a worker) or a failed connection; changes never. */
    const withRetries = (apiVersion: string | undefined, request: EngineRequest, attempt: number): Effect.Effect<EngineResponse, SwarmError> =>
      once(apiVersion, request).pipe(
        Effect.catchIf(
          (e) => request.method === "GET" && attempt < readRetries && (e.reason === "Unavailable" || e.reason === "Unreachable" || e.reason === "Timeout"),
          () =>
            Random.nextIntBetween(100, 250 * 2 ** attempt).pipe(
              Effect.flatMap((ms) => Effect.sleep(Duration.millis(ms))),
              Effect.andThen(withRetries(apiVersion, request, attempt + 1))
            )
        )
      )

    const apiVersion = settings.apiVersion ?? (yield* negotiate((r) => withRetries(undefined, r, 0), address))
    if (compareVersions(apiVersion, MIN_API_VERSION) < 0) {
      return yield* new SwarmError({
        reason: "Unsupported",
        message: `the engine at ${address} speaks Docker Engine API ${apiVersion}; fleet-rollback needs ${MIN_API_VERSION} or newer (Docker 17.06+)`
      })
    }
    const events = (filters: Readonly<Record<string, ReadonlyArray<string>>>, onEvent: (event: unknown) => void): Effect.Effect<void, SwarmError> => {
      const request: EngineRequest = { method: "GET", path: "/events", query: { filters: JSON.stringify(filters) }, what: "following the engine's events" }
      return Effect.tryPromise({
        try: async (signal) => {
          const response = await undiciRequest(`${origin}${pathOf(apiVersion, request)}`, { dispatcher: agent, method: "GET", signal, bodyTimeout: 0 })
          if (response.statusCode < 200 || response.statusCode >= 300) return { status: response.statusCode, text: await response.body.text() }
          await readJsonLines(response.body, onEvent)
          return { status: response.statusCode, text: "" }
        },
        catch: (error) => new SwarmError({ reason: "Unreachable", noAnswer: true, message: `${request.what}: ${(error as Error)?.message ?? String(error)}` })
      }).pipe(Effect.flatMap((r) => (r.status >= 200 && r.status < 300 ? Effect.void : Effect.fail(errorOfStatus(request, r.status, r.text)))))
    }
    return { address, apiVersion, send: (request) => withRetries(apiVersion, request, 0), events }
  })

/** `GET /version` (unversioned): the engine's newest API capped at ours; refused when ours is older than its minimum. */
const negotiate = (
  send: (request: EngineRequest) => Effect.Effect<EngineResponse, SwarmError>,
  address: string
): Effect.Effect<string, SwarmError> =>
  send({ method: "GET", path: "/version", what: `asking the engine at ${address} for its API version` }).pipe(
    Effect.flatMap((response) => {
      let version: { ApiVersion?: unknown; MinAPIVersion?: unknown } = {}
      try {
        version = JSON.parse(response.text) as typeof version
      } catch {
        // checked below
      }
      const engine = version.ApiVersion
      if (typeof engine !== "string" || !/^\d+\.\d+$/.test(engine)) {
        return Effect.fail(new SwarmError({ reason: "BadResponse", message: `GET /version at ${address} did not name an ApiVersion: is this a Docker Engine?` }))
      }
      const minimum = typeof version.MinAPIVersion === "string" ? version.MinAPIVersion : undefined
      if (minimum !== undefined && compareVersions(CLIENT_API_VERSION, minimum) < 0) {
        return Effect.fail(new SwarmError({
          reason: "Unsupported",
          message: `the engine at ${address} needs Engine API ${minimum} or newer; fleet-rollback speaks up to ${CLIENT_API_VERSION}`
        }))
      }
      return Effect.succeed(compareVersions(engine, CLIENT_API_VERSION) < 0 ? engine : CLIENT_API_VERSION)
    })
  )
