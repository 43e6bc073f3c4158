/**
 * @module Marathon — the Marathon / DC/OS client as an Effect service: list and read apps, change
 * images of many apps in ONE deployment (whole containers kept), wait with the client's own
 * timeout, verify, cancel with rollback. Auth: DC/OS login (password or service-account key,
 * re-login once on 401), Marathon token, or Basic. Reads retry 502/503/504 and transport
 * failures with backoff; a change (a deployment, a cancel) is never sent again blindly: after a
 * lost answer Marathon's state tells whether it was applied. The HTTP client is injected.
 */
import { Clock, Context, Effect, Layer, Redacted, Ref, Result, Schema, Semaphore } from "effect"
import type { Option } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { HttpClientError } from "effect/http"
import { groupPath, inGroup, normalizeAppId } from "./AppMatching.ts"
import {
  AppInfoJson,
  AppListJson,
  AppWrapperJson,
  containerWithImage,
  DeploymentListJson,
  DeploymentResultJson,
  lastFailureMarker,
  toMarathonApp
} from "./MarathonApp.ts"
import type { MarathonApp } from "./MarathonApp.ts"
import { MarathonError, MarathonErrorDetail } from "./MarathonError.ts"
import { makeServiceAccountToken } from "./ServiceAccountToken.ts"

export { lastFailureMarker, READ_ONLY_APP_FIELDS } from "./MarathonApp.ts"
export type { MarathonApp } from "./MarathonApp.ts"
export { MarathonError } from "./MarathonError.ts"
export type { MarathonErrorReason } from "./MarathonError.ts"

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

/** One image change: the app and the complete image reference to run. */
export interface ImageChange {
  readonly appId: string
  readonly image: string
}

/** The deployment Marathon started for a change. */
export interface DeploymentStarted {
  /**
   * Its id. Undefined only when Marathon's answer was lost and the deployment was no longer
   * listed when the client looked (it had finished already): the apps show the change applied.
   */
  readonly deploymentId: string | undefined
  /** The version of the changed apps. */
  readonly version: string
  /**
   * Set when Marathon's answer was lost and the change was found applied — in the apps, or as a
   * new deployment of exactly these apps not yet stored in them: what happened.
   */
  readonly answerLost?: string
}

/** A snapshot of a running deployment for progress output. */
export interface DeploymentProgress {
  readonly deploymentId: string
  readonly currentStep: number
  readonly totalSteps: number
  readonly apps: ReadonlyArray<{ id: string; tasksRunning: number; tasksHealthy: number; instances: number }>
}

/** The check of one changed app after its deployment finished. */
export interface AppVerification {
  readonly appId: string
  readonly image: string | undefined
  readonly expectedImage: string
  readonly ok: boolean
  /** What is wrong, readable; absent when ok. */
  readonly problem?: string
}

/** A deployment as listed by `GET /v2/deployments`. */
export interface DeploymentSummary {
  id: string
  /** The version of the apps it deploys (the root group version it leads to). */
  version: string | undefined
  affectedApps: ReadonlyArray<string>
  currentStep: number
  totalSteps: number
}

/** How to wait for a deployment: our own timeout (Marathon has none), poll interval, progress. */
export interface WaitOptions {
  /** Give up after this long (default 600 000 ms) with reason `DeploymentTimeout`. */
  readonly timeoutMs?: number
  /** Poll `GET /v2/deployments` this often (default 1000 ms). */
  readonly pollMs?: number
  /** Called with each poll's progress. */
  readonly onProgress?: (p: DeploymentProgress) => void
  /** Apps whose task counts the progress shows. */
  readonly apps?: ReadonlyArray<string>
}

/** `GET /v2/apps/{id}/versions`. */
const AppVersionsJson = Schema.Struct({ versions: Schema.Array(Schema.String) })

/** The operations of the Marathon client. */
export interface MarathonShape {
  /** `GET /v2/apps`, restricted to a group (`/shop/prod`: its apps and subgroups) and/or a label selector. */
  readonly listApps: (
    options?: { readonly idPrefix?: string; readonly label?: string }
  ) => Effect.Effect<ReadonlyArray<MarathonApp>, MarathonError>
  /** `GET /v2/apps/{id}`. */
  readonly getApp: (id: string) => Effect.Effect<MarathonApp, MarathonError>
  /** `GET /v2/apps/{id}/versions`: the app's versions, newest first (Marathon's order is undocumented). */
  readonly appVersions: (id: string) => Effect.Effect<ReadonlyArray<string>, MarathonError>
  /**
   * ONE `PUT /v2/apps?partialUpdate=true[&force=true]` with an array: each element is the app's
   * id and its complete current container with only `docker.image` changed. Never repeated
   * blindly: the deployments running before are listed first; after a lost answer, a 5xx or a 409
   * on a repeat, the apps and the deployments are read (within {@link LOST_ANSWER_CHECK_MS}) to
   * tell whether this change was applied — the apps show it, or a deployment that was not running
   * before touches exactly these apps (Marathon lists it before it stores the new definitions) —
   * then its deployment is returned (`answerLost` says so); when it certainly was not, a
   * 502/503/504 or a lost answer is retried with backoff; when it cannot be told, the error is
   * `Indeterminate` (`noAnswer` when Marathon did not answer at all). Any other error means
   * nothing was changed.
   */
  readonly deployImages: (
    changes: ReadonlyArray<ImageChange>,
    options?: { readonly force?: boolean }
  ) => Effect.Effect<DeploymentStarted, MarathonError>
  /** Polls `GET /v2/deployments` until the deployment is gone; own timeout → `DeploymentTimeout`. */
  readonly waitForDeployment: (deploymentId: string, options?: WaitOptions) => Effect.Effect<void, MarathonError>
  /**
   * Image equals the target, no deployment still touching the app, all instances running (and
   * healthy), no new `lastTaskFailure`. Fails only when Marathon cannot be read.
   */
  readonly verifyApps: (
    changes: ReadonlyArray<ImageChange>,
    since: { readonly previousFailures: Record<string, string | undefined> }
  ) => Effect.Effect<ReadonlyArray<AppVerification>, MarathonError>
  /**
   * `DELETE /v2/deployments/{id}`: with revert (default) Marathon rolls back and returns the revert
   * deployment. Never repeated blindly: after a lost answer the deployment list tells whether the
   * cancel happened (then the revert deployment is looked up there, and `answerLost` says so).
   * Gone without a revert listed (no `revertDeploymentId`) may mean that the deployment finished
   * before the cancel: nothing was reverted, the caller must put the previous images back itself.
   */
  readonly cancelDeployment: (
    deploymentId: string,
    options?: { readonly revert?: boolean }
  ) => Effect.Effect<{ readonly revertDeploymentId?: string; readonly answerLost?: string }, MarathonError>
  /** `GET /v2/deployments`. */
  readonly deployments: Effect.Effect<ReadonlyArray<DeploymentSummary>, MarathonError>
}

// ---------------------------------------------------------------------------------------------
// Transport: one place for URLs, auth, retries and error mapping.

type Method = "GET" | "PUT" | "DELETE" | "POST"

interface Call {
  readonly method: Method
  readonly path: string
  readonly query?: Record<string, string>
  readonly body?: unknown
  /** What the call does, for messages: "reading app /shop/api". */
  readonly what: string
}

interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers: Record<string, string | undefined>
}

/** No answer to a request: why, and whether it may have reached Marathon. */
interface NoReply {
  readonly _tag: "NoReply"
  /** A transport failure (no connection, reset, timeout) rather than an unreadable answer. */
  readonly transport: boolean
  /** False only when the request cannot have left this machine (connection refused, unknown host). */
  readonly maybeSent: boolean
  readonly cause: string
}

/** What one attempt at a request brought. */
type Attempt = { readonly _tag: "Reply"; readonly reply: Reply } | NoReply

/** Removes user info (`user:pass@`) from every URL in a text, so no secret reaches a message. */
const withoutUserInfo = (text: string): string => text.replace(/\/\/[^/@\s]*@/g, "//")

/** The base URL: trimmed, no trailing slash, no user info (credentials come from the config, never the URL). */
const trimUrl = (url: string): string => withoutUserInfo(url.trim()).replace(/\/+$/, "")

/** A URL for messages: no user info, no query. */
const printableUrl = (url: string): string => {
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

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A short, secret-free text of a server body (Marathon message, IAM description, or text). */
const serverMessage = (body: unknown): string | undefined => {
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

const decodeDetails = Schema.decodeUnknownOption(Schema.Array(MarathonErrorDetail))
const decodeAppInfo = Schema.decodeUnknownEffect(AppInfoJson)
const decodeDeploymentResult = Schema.decodeUnknownOption(DeploymentResultJson)

const formatDetails = (details: ReadonlyArray<MarathonErrorDetail>): string =>
  details.map((d) => `${d.path}: ${d.errors.join(", ")}`).join("; ")

const TRANSIENT_STATUSES = new Set([502, 503, 504])

/** `450 ms`, `12 s`, `10 min`: a duration for messages. */
const formatMillis = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 6000) / 10} min`

/**
 * How long the check after a lost answer (reading the apps and the deployments, with their
 * retries) may take before its outcome counts as unknown: the "cannot tell" path stays short.
 */
export const LOST_ANSWER_CHECK_MS = 30_000

/** What the check after a lost answer found (see `changeApplied`). */
type ChangeState =
  | {
    readonly _tag: "Applied"
    /** Where the change was seen: in the app definitions, or only as a new deployment of exactly these apps. */
    readonly seen: "apps" | "deployments"
    readonly deploymentId: string | undefined
    readonly version: string
  }
  | { readonly _tag: "NotApplied" }
  | { readonly _tag: "Unknown"; readonly why: string; readonly noAnswer: boolean }

/** A {@link ChangeState} as such (keeps the literal tags). */
const checked = (state: ChangeState): ChangeState => state

/** True when a deployment's affected apps are exactly `ids` (normalized app ids). */
const sameIds = (affected: ReadonlyArray<string>, ids: ReadonlySet<string>): boolean => {
  const set = new Set(affected.map(normalizeAppId))
  return set.size === ids.size && [...ids].every((id) => set.has(id))
}

/** Backoff before retry `attempt` (0-based): 250 ms doubling, capped at 4 s. */
const backoffMillis = (attempt: number): number => Math.min(250 * 2 ** attempt, 4000)

const makeMarathon = (config: MarathonConfig): Effect.Effect<MarathonShape, never, HttpClient.HttpClient> =>
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
      return "no credentials were configured: set MARATHON_TOKEN, or MARATHON_USERNAME and MARATHON_PASSWORD, " +
        "or use DC/OS login (DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE)"
    }

    /** One attempt, never retried: Marathon's reply, or why none came. */
    const attemptOnce = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Attempt> =>
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
        Effect.timeoutOption(requestTimeoutMs),
        Effect.map((answered): Attempt =>
          answered._tag === "Some"
            ? answered.value
            : { _tag: "NoReply", transport: true, maybeSent: true, cause: `no answer within ${formatMillis(requestTimeoutMs)}` }
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
    const executeUnlessSent = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function*() {
        for (let attempt = 0;; attempt++) {
          const outcome = yield* attemptOnce(request)
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
    const sendOnce = (call: Call): Effect.Effect<Attempt, MarathonError> =>
      authorized(call, executeUnlessSent, (a) => (a._tag === "Reply" ? a.reply.status : undefined))

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

    const appFromJson = (call: Call) => (json: unknown) =>
      decodeAppInfo(json).pipe(
        Effect.mapError(badBody(call, "a Marathon AppInfo")),
        Effect.map((info) => toMarathonApp(info, json as Record<string, unknown>))
      )

    const appPath = (id: string) =>
      `/v2/apps${normalizeAppId(id).split("/").map((s) => encodeURIComponent(s)).join("/")}`

    // ---------------------------------------------------------------------------------------
    // Operations

    const listApps = Effect.fn("Marathon.listApps")(function*(
      options?: { readonly idPrefix?: string; readonly label?: string }
    ) {
      // counts and deployments are always embedded; the last task failure only on request
      const query: Record<string, string> = { embed: "apps.lastTaskFailure" }
      if (options?.idPrefix !== undefined && options.idPrefix !== "") query["id"] = groupPath(options.idPrefix)
      if (options?.label !== undefined && options.label !== "") query["label"] = options.label
      const call: Call = { method: "GET", path: "/v2/apps", query, what: "listing apps" }
      const reply = yield* expect(call, [200])
      const list = yield* decodeWith(AppListJson, call, "{\"apps\": [...]}")(reply.body)
      const apps = yield* Effect.forEach(list.apps, appFromJson(call))
      // Marathon's `id` filter is a case-insensitive substring match: keep the apps in the group only.
      const group = options?.idPrefix
      return group === undefined || group === "" ? apps : apps.filter((a) => inGroup(a.id, group))
    })

    const getApp = Effect.fn("Marathon.getApp")(function*(id: string) {
      const call: Call = { method: "GET", path: appPath(id), what: `reading app ${normalizeAppId(id)}` }
      const reply = yield* expect(call, [200])
      const wrapper = yield* decodeWith(AppWrapperJson, call, "{\"app\": {...}}")(reply.body)
      return yield* appFromJson(call)(wrapper.app)
    })

    const appVersions = Effect.fn("Marathon.appVersions")(function*(id: string) {
      const call: Call = { method: "GET", path: `${appPath(id)}/versions`, what: `reading the versions of app ${normalizeAppId(id)}` }
      const reply = yield* expect(call, [200])
      const body = yield* decodeWith(AppVersionsJson, call, "{\"versions\": [\"<ISO timestamp>\", ...]}")(reply.body)
      // ISO-8601 timestamps in UTC sort as text
      return [...body.versions].sort().reverse()
    })

    const deployImages = Effect.fn("Marathon.deployImages")(function*(
      changes: ReadonlyArray<ImageChange>,
      options?: { readonly force?: boolean }
    ) {
      if (changes.length === 0) {
        return yield* new MarathonError({ reason: "Invalid", message: "No image changes to deploy (the list is empty)." })
      }
      const ids = changes.map((c) => normalizeAppId(c.appId))
      const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i)
      if (duplicates.length > 0) {
        return yield* new MarathonError({
          reason: "Invalid",
          message: `Each app may get one image per deployment, but ${[...new Set(duplicates)].join(", ")} ` +
            "appear more than once."
        })
      }
      const apps = yield* Effect.forEach(changes, (c) => getApp(c.appId), { concurrency: 8 })
      // The deployments running before the request: Marathon lists a new deployment BEFORE it stores
      // the new app definitions (GroupManagerImpl.updateRoot: deploy(plan), then storeRoot), so after
      // a lost answer a deployment not in this list that touches these apps may be this change. The
      // apps' own `deployments` (always embedded) name those that touch them, should the list fail.
      const listedBefore = yield* listDeployments.pipe(Effect.option)
      const runningBefore = new Set([
        ...(listedBefore._tag === "Some" ? listedBefore.value.map((d) => d.id) : []),
        ...apps.flatMap((a) => a.deployments)
      ])
      const elements: Array<{ id: string; container: Record<string, unknown> }> = []
      for (const [i, change] of changes.entries()) {
        const app = apps[i]!
        const container = containerWithImage(app.raw, change.image)
        if (container === undefined) {
          return yield* new MarathonError({
            reason: "Invalid",
            message: `App ${app.id} has no container.docker to change the image of; ` +
              "it is not a container app and cannot be rolled back by image."
          })
        }
        elements.push({ id: app.id, container })
      }
      const query: Record<string, string> = { partialUpdate: "true" }
      if (options?.force === true) query["force"] = "true"
      const call: Call = {
        method: "PUT",
        path: "/v2/apps",
        query,
        body: elements,
        what: `deploying new images to ${elements.map((e) => e.id).join(", ")}`
      }
      const request = buildRequest(call)
      for (let attempt = 0;; attempt++) {
        const outcome = yield* sendOnce(call)
        let lost: string
        let retryable: boolean
        let reply: Reply | undefined
        if (outcome._tag === "NoReply") {
          // connection refused and the like: already retried, and nothing can have reached Marathon
          if (!outcome.maybeSent) return yield* notApplied(unreachable(request, call.what, outcome, attempt + 1 + retries))
          lost = `no answer: ${outcome.cause}`
          retryable = outcome.transport
        } else {
          reply = outcome.reply
          if (reply.status === 200 || reply.status === 201) {
            const result = decodeDeploymentResult(reply.body)
            if (result._tag === "Some") return { deploymentId: result.value.deploymentId, version: result.value.version }
            lost = `an answer ${reply.status} without {deploymentId, version}`
            retryable = false
          } else if (reply.status >= 500 || (reply.status === 409 && attempt > 0)) {
            // a 5xx may come from a proxy after Marathon applied the change; a 409 on a repeat may
            // be our own first request's deployment
            const said = serverMessage(reply.body)
            lost = `${reply.status}${said !== undefined ? ` ${said}` : ""}`
            retryable = TRANSIENT_STATUSES.has(reply.status)
          } else {
            return yield* failure(call, reply)
          }
        }
        const state = yield* changeApplied(changes, apps, runningBefore)
        if (state._tag === "Applied") {
          return {
            deploymentId: state.deploymentId,
            version: state.version,
            answerLost: `Marathon's answer to the deployment request was lost (${lost}), but ` +
              (state.seen === "apps"
                ? "the apps show the change applied" +
                  (state.deploymentId !== undefined ? `: deployment ${state.deploymentId}` : " and no deployment for it is running any more")
                : `Marathon lists a new deployment ${state.deploymentId} for exactly these apps (it lists a deployment before it ` +
                  "stores the new app definitions): that deployment is this change")
          }
        }
        if (state._tag === "Unknown") {
          return yield* new MarathonError({
            reason: "Indeterminate",
            appIds: ids,
            ...(state.noAnswer ? { noAnswer: true } : {}),
            message: `The deployment MAY have started: Marathon's answer to the deployment request was lost (${lost}), ` +
              `and whether the change was applied cannot be told (${state.why}). Check ${ids.join(", ")} in Marathon ` +
              "(does container.docker.image show the new image? is a deployment running for them, GET /v2/deployments?) " +
              "before trying again."
          })
        }
        if (reply !== undefined && reply.status === 409) return yield* notApplied(failure(call, reply))
        if (retryable && attempt < retries) {
          yield* Effect.sleep(backoffMillis(attempt))
          continue
        }
        if (reply === undefined) {
          return yield* notApplied(unreachable(request, call.what, outcome as NoReply, attempt + 1))
        }
        return yield* notApplied(
          TRANSIENT_STATUSES.has(reply.status) ? unavailable(request, call.what, reply, attempt + 1) : failure(call, reply)
        )
      }
    })

    /**
     * After a change whose answer was lost: did Marathon take it? Read under one short budget
     * ({@link LOST_ANSWER_CHECK_MS}): an on-call engineer is waiting, and a Marathon that does not
     * answer now will not tell more in five minutes.
     * - `Applied` (seen in the apps) when every app that was to change runs its new image under a
     *   new version; its deployment is the listed one of that version, if still listed.
     * - `Applied` (seen in the deployments) when the apps show no change yet but exactly one
     *   deployment that was not running before the request touches exactly the apps that were to
     *   change: Marathon lists a deployment before it stores the new definitions.
     * - `NotApplied` only when no app shows the change AND no new deployment touches these apps.
     * - `Unknown` otherwise: Marathon cannot be read, only some apps show the change, or a new
     *   deployment touches some of these apps (or others besides) while they show no change.
     */
    const changeApplied = (
      changes: ReadonlyArray<ImageChange>,
      before: ReadonlyArray<MarathonApp>,
      runningBefore: ReadonlySet<string>
    ): Effect.Effect<ChangeState> =>
      Effect.gen(function*() {
        const [read, listed] = yield* Effect.all([
          Effect.forEach(changes, (c) => getApp(c.appId), { concurrency: 8 }).pipe(Effect.result),
          listDeployments.pipe(Effect.result)
        ], { concurrency: 2 })
        const movingIds = new Set(changes.filter((c, i) => before[i]!.image !== c.image).map((c) => normalizeAppId(c.appId)))
        const touchesMoving = (affected: ReadonlyArray<string>) => affected.some((id) => movingIds.has(normalizeAppId(id)))
        /** Deployments that were not running before the request and touch an app that was to change. */
        const fresh = Result.isSuccess(listed)
          ? listed.success.filter((d) => !runningBefore.has(d.id) && touchesMoving(d.affectedApps))
          : undefined
        const describe = (ds: ReadonlyArray<DeploymentSummary>) =>
          ds.map((d) => `${d.id} (${d.affectedApps.join(", ")})`).join(", ")
        if (Result.isFailure(read)) {
          const only = fresh !== undefined && fresh.length === 1 ? fresh[0]! : undefined
          if (only !== undefined && sameIds(only.affectedApps, movingIds)) {
            return checked({ _tag: "Applied", seen: "deployments", deploymentId: only.id, version: only.version ?? "" })
          }
          return checked({
            _tag: "Unknown",
            noAnswer: read.failure.reason === "Unreachable",
            why: `reading the apps failed: ${read.failure.message}` +
              (fresh !== undefined && fresh.length > 0 ? `; new deployments touch them: ${describe(fresh)}` : "")
          })
        }
        const moving = read.success.filter((_, i) => before[i]!.image !== changes[i]!.image)
        const changed = moving.filter((app) => {
          const i = read.success.indexOf(app)
          return app.image === changes[i]!.image && app.version !== before[i]!.version
        })
        if (changed.length === 0) {
          // No app shows the change; a new deployment on them may still be this change, not yet stored.
          if (fresh === undefined) {
            const newIds = [...new Set(moving.flatMap((a) => a.deployments))].filter((id) => !runningBefore.has(id))
            if (newIds.length === 0) return checked({ _tag: "NotApplied" })
            return checked({
              _tag: "Unknown",
              noAnswer: Result.isFailure(listed) && listed.failure.reason === "Unreachable",
              why: `the apps show no change, but deployment(s) ${newIds.join(", ")} started on them since the request, ` +
                `and the deployments cannot be listed to tell whose they are (${Result.isFailure(listed) ? listed.failure.message : ""})`
            })
          }
          if (fresh.length === 0) return checked({ _tag: "NotApplied" })
          const only = fresh.length === 1 ? fresh[0]! : undefined
          if (only !== undefined && sameIds(only.affectedApps, movingIds)) {
            return checked({ _tag: "Applied", seen: "deployments", deploymentId: only.id, version: only.version ?? "" })
          }
          return checked({
            _tag: "Unknown",
            noAnswer: false,
            why: `the apps show no change yet, but deployment(s) not running before the request touch them: ${describe(fresh)}; ` +
              "it may be this change (Marathon lists a deployment before it stores the new definitions) or someone else's"
          })
        }
        if (changed.length < moving.length) {
          const others = moving.filter((a) => !changed.includes(a)).map((a) => `${a.id} runs ${a.image ?? "no image"}`)
          return checked({
            _tag: "Unknown",
            noAnswer: false,
            why: `only ${changed.map((a) => a.id).join(", ")} show the new image; ${others.join(", ")}`
          })
        }
        // One update of the root group gives every changed app the deployment's version.
        const versions = new Set(changed.map((a) => a.version))
        const version = changed[0]!.version
        if (Result.isSuccess(listed)) {
          const ours = listed.success.find((d) =>
            d.version !== undefined && versions.has(d.version) && changed.every((a) => d.affectedApps.includes(a.id))
          )
          return checked({ _tag: "Applied", seen: "apps", deploymentId: ours?.id, version })
        }
        // The list cannot be read: the one deployment every changed app reports, if there is one.
        const common = changed[0]!.deployments.filter((id) => changed.every((a) => a.deployments.includes(id)))
        return checked({ _tag: "Applied", seen: "apps", deploymentId: common.length === 1 ? common[0] : undefined, version })
      }).pipe(
        Effect.timeoutOption(LOST_ANSWER_CHECK_MS),
        Effect.map((found) =>
          found._tag === "Some"
            ? found.value
            : checked({ _tag: "Unknown", noAnswer: true, why: `Marathon did not answer the reads within ${formatMillis(LOST_ANSWER_CHECK_MS)}` })
        )
      )

    /** The same error, saying that the change was certainly not applied. */
    const notApplied = (error: MarathonError): MarathonError =>
      new MarathonError({
        reason: error.reason,
        message: `${error.message} Nothing was changed.`,
        ...(error.status !== undefined ? { status: error.status } : {}),
        ...(error.details !== undefined ? { details: error.details } : {}),
        ...(error.blockingDeployments !== undefined ? { blockingDeployments: error.blockingDeployments } : {})
      })

    const listDeployments = Effect.gen(function*() {
      const call: Call = { method: "GET", path: "/v2/deployments", what: "listing deployments" }
      const reply = yield* expect(call, [200])
      const list = yield* decodeWith(DeploymentListJson, call, "a list of deployments")(reply.body)
      return list.map((d): DeploymentSummary => ({
        id: d.id,
        version: d.version,
        affectedApps: d.affectedApps ?? [],
        currentStep: d.currentStep ?? 0,
        totalSteps: d.totalSteps ?? 0
      }))
    }).pipe(Effect.withSpan("Marathon.deployments"))

    const appStates = (ids: ReadonlyArray<string>) =>
      Effect.forEach(ids, (id) => Effect.option(getApp(id)), { concurrency: 8 }).pipe(
        Effect.map((apps) => apps.flatMap((a: Option.Option<MarathonApp>) => (a._tag === "Some" ? [a.value] : [])))
      )

    const waitForDeployment = Effect.fn("Marathon.waitForDeployment")(function*(deploymentId: string, options?: WaitOptions) {
      const timeoutMs = options?.timeoutMs ?? 600_000
      const pollMs = options?.pollMs ?? 1000
      const lastSeen = yield* Ref.make<DeploymentSummary | undefined>(undefined)
      const started = yield* Clock.currentTimeMillis
      const poll = Effect.gen(function*() {
        for (;;) {
          const current = (yield* listDeployments).find((d) => d.id === deploymentId)
          if (current === undefined) return
          yield* Ref.set(lastSeen, current)
          if (options?.onProgress !== undefined) {
            const apps = yield* appStates(options.apps ?? current.affectedApps)
            const progress: DeploymentProgress = {
              deploymentId,
              currentStep: current.currentStep,
              totalSteps: current.totalSteps,
              apps: apps.map((a) => ({
                id: a.id,
                tasksRunning: a.tasksRunning,
                tasksHealthy: a.tasksHealthy,
                instances: a.instances
              }))
            }
            options.onProgress(progress)
          }
          yield* Effect.sleep(pollMs)
        }
      })
      const timedOut = Effect.gen(function*() {
        const last = yield* Ref.get(lastSeen)
        const ids = options?.apps ?? last?.affectedApps ?? []
        const apps = yield* appStates(ids).pipe(
          Effect.timeoutOption(5000),
          Effect.map((o) => (o._tag === "Some" ? o.value : []))
        )
        const elapsed = (yield* Clock.currentTimeMillis) - started
        const states = apps.map((a) =>
          `${a.id}: ${a.tasksRunning}/${a.instances} running` +
          (a.hasHealthChecks ? `, ${a.tasksHealthy} healthy` : "") +
          (a.lastTaskFailure?.message !== undefined ? `, last task failure: ${a.lastTaskFailure.message}` : "")
        )
        return yield* new MarathonError({
          reason: "DeploymentTimeout",
          message: `Deployment ${deploymentId} did not finish within ${formatMillis(timeoutMs)} ` +
            `(waited ${formatMillis(elapsed)}` +
            (last !== undefined ? `, at step ${last.currentStep}/${last.totalSteps}` : "") + ")" +
            (states.length > 0 ? `: ${states.join("; ")}` : "") +
            ". Marathon has no deployment timeout and keeps trying: cancel it with rollback " +
            `(DELETE /v2/deployments/${deploymentId}, or --revert-on-failure) or fix the cause and wait.`
        })
      })
      yield* poll.pipe(Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => timedOut }))
    })

    const verifyApps = Effect.fn("Marathon.verifyApps")(function*(
      changes: ReadonlyArray<ImageChange>,
      since: { readonly previousFailures: Record<string, string | undefined> }
    ) {
      return yield* Effect.forEach(changes, (change) =>
        getApp(change.appId).pipe(
          Effect.map((app): AppVerification => {
            const problems: Array<string> = []
            if (app.image !== change.image) problems.push(`runs ${app.image ?? "no image"}, expected ${change.image}`)
            // Task counts alone cannot tell new tasks from old ones that still run: while a
            // deployment touches the app (ours not yet stored, or another), it is not done.
            if (app.deployments.length > 0) {
              problems.push(`deployment${app.deployments.length > 1 ? "s" : ""} ${app.deployments.join(", ")} still running on it`)
            }
            if (app.tasksRunning !== app.instances) {
              problems.push(`${app.tasksRunning} of ${app.instances} instances running`)
            }
            if (app.hasHealthChecks && app.tasksHealthy !== app.instances) {
              problems.push(`${app.tasksHealthy} of ${app.instances} instances healthy`)
            }
            const before = since.previousFailures[app.id] ?? since.previousFailures[change.appId]
            const now = lastFailureMarker(app)
            if (now !== undefined && now !== before) {
              problems.push(
                `a task failed since the deployment started` +
                  (app.lastTaskFailure?.message !== undefined ? `: ${app.lastTaskFailure.message}` : "") +
                  (app.lastTaskFailure?.timestamp !== undefined ? ` (at ${app.lastTaskFailure.timestamp})` : "")
              )
            }
            return {
              appId: app.id,
              image: app.image,
              expectedImage: change.image,
              ok: problems.length === 0,
              ...(problems.length > 0 ? { problem: problems.join("; ") } : {})
            }
          }),
          Effect.catchIf(
            (e) => e.reason === "NotFound",
            (): Effect.Effect<AppVerification> =>
              Effect.succeed({
                appId: normalizeAppId(change.appId),
                image: undefined,
                expectedImage: change.image,
                ok: false,
                problem: "the app does not exist (any more)"
              })
          )
        ), { concurrency: 8 })
    })

    const cancelDeployment = Effect.fn("Marathon.cancelDeployment")(function*(
      deploymentId: string,
      options?: { readonly revert?: boolean }
    ) {
      const revert = options?.revert ?? true
      const call: Call = {
        method: "DELETE",
        path: `/v2/deployments/${encodeURIComponent(deploymentId)}`,
        query: { force: revert ? "false" : "true" },
        what: revert ? `cancelling deployment ${deploymentId} with rollback` : `cancelling deployment ${deploymentId}`
      }
      const request = buildRequest(call)
      // the deployment as listed before, to find its revert should the answer be lost
      const listedBefore = yield* listDeployments.pipe(Effect.option)
      const original = listedBefore._tag === "Some" ? listedBefore.value.find((d) => d.id === deploymentId) : undefined
      for (let attempt = 0;; attempt++) {
        const outcome = yield* sendOnce(call)
        let lost: string
        let retryable: boolean
        if (outcome._tag === "Reply" && (outcome.reply.status === 200 || outcome.reply.status === 202)) {
          if (!revert || outcome.reply.status === 202) return {}
          const result = decodeDeploymentResult(outcome.reply.body)
          if (result._tag === "Some") return { revertDeploymentId: result.value.deploymentId }
          lost = `an answer ${outcome.reply.status} without {deploymentId, version}`
          retryable = false
        } else if (outcome._tag === "Reply" && (outcome.reply.status < 500 && !(outcome.reply.status === 404 && attempt > 0))) {
          return yield* failure(call, outcome.reply)
        } else if (outcome._tag === "NoReply" && !outcome.maybeSent) {
          return yield* unreachable(request, call.what, outcome, attempt + 1 + retries)
        } else {
          lost = outcome._tag === "NoReply" ? `no answer: ${outcome.cause}` : `${outcome.reply.status}`
          retryable = outcome._tag === "NoReply" ? outcome.transport : TRANSIENT_STATUSES.has(outcome.reply.status)
        }
        // Did the cancel happen? Then the deployment is gone, and its revert (if any) is listed.
        const listed = yield* listDeployments.pipe(Effect.result)
        if (Result.isFailure(listed)) {
          return yield* new MarathonError({
            reason: "Indeterminate",
            ...(original !== undefined ? { appIds: original.affectedApps } : {}),
            message: `Marathon's answer to ${call.what} was lost (${lost}) and the deployments cannot be read now ` +
              `(${listed.failure.message}): deployment ${deploymentId} may or may not have been cancelled. Check GET /v2/deployments.`
          })
        }
        if (!listed.success.some((d) => d.id === deploymentId)) {
          // its revert: a deployment on the same apps that was not running before the cancel
          const runningBefore = new Set(listedBefore._tag === "Some" ? listedBefore.value.map((d) => d.id) : [])
          const revertDeployment = revert && original !== undefined
            ? listed.success.find((d) => !runningBefore.has(d.id) && d.affectedApps.some((app) => original.affectedApps.includes(app)))
            : undefined
          return {
            ...(revertDeployment !== undefined ? { revertDeploymentId: revertDeployment.id } : {}),
            answerLost: `Marathon's answer to ${call.what} was lost (${lost}), but deployment ${deploymentId} is gone` +
              (revertDeployment !== undefined
                ? `; its revert is deployment ${revertDeployment.id}`
                : revert
                ? " and no revert deployment is listed: it may have finished before the cancel (then nothing was reverted) or been cancelled and reverted quickly"
                : "")
          }
        }
        if (retryable && attempt < retries) {
          yield* Effect.sleep(backoffMillis(attempt))
          continue
        }
        return yield* new MarathonError({
          reason: outcome._tag === "NoReply" ? "Unreachable" : "Unavailable",
          ...(outcome._tag === "Reply" ? { status: outcome.reply.status } : {}),
          message: `${printableUrl(request.url)} gave no usable answer while ${call.what} (${lost}, ${attempt + 1} attempts); ` +
            `deployment ${deploymentId} is still running. Try again in a minute; check the Marathon leader (GET /v2/info).`
        })
      }
    })

    return {
      listApps,
      getApp,
      appVersions,
      deployImages,
      waitForDeployment,
      verifyApps,
      cancelDeployment,
      deployments: listDeployments
    } satisfies MarathonShape
  })

/** The Marathon / DC/OS client. */
export class Marathon extends Context.Service<Marathon, MarathonShape>()("fleet-rollback/marathon/Marathon") {
  /** The client for one Marathon (or DC/OS cluster); needs an `HttpClient`. */
  static readonly layer = (config: MarathonConfig): Layer.Layer<Marathon, never, HttpClient.HttpClient> =>
    Layer.effect(Marathon, makeMarathon(config))
}
