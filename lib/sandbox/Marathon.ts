/**
 * @module Marathon — a Marathon-compatible HTTP server on loopback (optionally behind a DC/OS
 * login), holding apps in memory, for tests, the `demo` command and rehearsals.
 *
 * It follows `../shared/marathon-api/FACTS.md`: partial updates replace whole top-level
 * fields, an array `PUT /v2/apps` is one deployment, deployments progress over
 * `deploymentMs` and then disappear, 409 while an app is locked, 422 with `details`, versions
 * and the version-rollback form, the rollback form of `DELETE /v2/deployments/{id}`, broken
 * images whose deployments never finish, crashing images, the limit of running deployments, and
 * Marathon's order of a change (the deployment is listed before the new definitions are stored),
 * and the read-only endpoints for tasks, groups and the launch queue (`marathon/Reads.ts`). Debian's
 * python3-marathon, an independently written client, is run against it in the tests.
 * For rehearsals it injects faults: error answers (before or after applying the change, or in
 * the window between listing and storing), connection resets, late answers and outages. Node-only (node:http, node:crypto), Promise-based.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { DcosAuth } from "./marathon/DcosAuth.ts"
import { LabelSelectorError, matchesLabelSelectors, parseLabelSelectors } from "./marathon/LabelSelector.ts"
import { allTasks, appTasks, groupInfo, launchQueue, resolveAppEmbed } from "./marathon/Reads.ts"
import {
  clone,
  type DeploymentResult,
  type Json,
  MarathonState,
  normalizeContainer,
  READ_ONLY_FIELDS,
  type StoreDelay,
  withDefaults
} from "./marathon/State.ts"
import {
  HttpError,
  invalidJson,
  isObject,
  normalizeAppId,
  notValid,
  readAppJson,
  validateApp,
  validateAppId
} from "./marathon/Validation.ts"

/** A Marathon app definition (AppDefinition JSON) as the sandbox stores it. */
export type SandboxApp = Record<string, unknown>

/** How to start a sandbox. */
export interface MarathonSandboxOptions {
  /** Initial app definitions; their tasks start running and healthy, no deployment. */
  readonly apps?: ReadonlyArray<Record<string, unknown>>
  /**
   * Earlier versions of seeded apps, by app id, oldest first: when each began and the image it ran
   * (what `GET /v2/apps/{id}/versions` then lists before the seeded definition).
   */
  readonly appHistory?: Readonly<Record<string, ReadonlyArray<{ readonly version: string; readonly image: string }>>>
  /** How long a deployment takes before it disappears (default 300 ms). */
  readonly deploymentMs?: number
  /** Images whose tasks fail: their deployments never finish and `lastTaskFailure` is set. */
  readonly brokenImages?: ReadonlyArray<string>
  /**
   * Images whose tasks start and then crash: without health checks the deployment finishes, then
   * no task runs and `lastTaskFailure` is set; with health checks it never finishes (as broken).
   */
  readonly crashingImages?: ReadonlyArray<string>
  /** Marathon's `--max_running_deployments`: one more deployment is refused with 403 (default: no limit). */
  readonly maxRunningDeployments?: number
  /**
   * Every change lists its deployment at once but stores the new app definitions only this much
   * later, and answers after that, as Marathon's `updateRoot` does (`deploy(plan)`, then
   * `storeRoot`) on a slow store: meanwhile the deployment is listed (and in the apps'
   * `deployments`) while the apps show their old definitions. Default 0: at once.
   */
  readonly storeDelayMs?: number
  /**
   * DC/OS mode: Marathon is served under `/service/marathon` and requires
   * `Authorization: token=…` from `POST /acs/api/v1/auth/login`.
   */
  readonly dcos?: {
    /** uid → password. */
    readonly users?: Record<string, string>
    /** uid → public key PEM; login with an RS256 JWT `{uid, exp}`. */
    readonly serviceAccounts?: Record<string, string>
    /** Lifetime of issued tokens (default 5 days). */
    readonly tokenTtlMs?: number
  }
  /** Plain Marathon: require `Authorization: token=<it>` (or `Bearer <it>`). */
  readonly marathonToken?: string
  /** Plain Marathon: require HTTP Basic with these credentials (either auth form is accepted). */
  readonly basicAuth?: { readonly username: string; readonly password: string }
  /** Port to bind on 127.0.0.1 (default 0: a free port). */
  readonly port?: number
}

/** One logged request. Passwords and service-login tokens in login bodies are masked. */
export interface SandboxRequest {
  readonly method: string
  /** The full request path as received (under DC/OS it starts with `/service/marathon`). */
  readonly path: string
  /** The raw query string without `?` ("" when none). */
  readonly query: string
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  readonly body: unknown
  readonly authorization?: string
}

/** A running sandbox. */
export interface MarathonSandbox {
  /** Marathon base URL (`…/service/marathon` under DC/OS). */
  readonly url: string
  /** `http://127.0.0.1:<port>`. */
  readonly clusterUrl: string
  /** Deep copies of the current app definitions (no read-only fields), sorted by id. */
  apps(): ReadonlyArray<Record<string, unknown>>
  /** The AppInfo `GET /v2/apps/{id}` returns, or undefined. */
  app(id: string): Record<string, unknown> | undefined
  /** What `GET /v2/deployments` returns. */
  deployments(): ReadonlyArray<Record<string, unknown>>
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<SandboxRequest>
  /** From now on, tasks of this image fail. */
  markBroken(image: string): void
  /** DC/OS: every token issued so far becomes invalid (expiry mid-run). */
  expireTokens(): void
  /** From now on, tasks of this image start and then crash. */
  markCrashing(image: string): void
  /**
   * The next `times` (default 1) matching requests fail: with an HTTP status (and Marathon's body
   * for it, or `match.body`) or `"reset"` (the connection is closed without an answer). By default
   * the request changes nothing; with `match.afterApplying` it is carried out first and only its
   * answer is lost. With `match.thenUnreachable` every later request is reset until {@link recover}.
   */
  failNext(answer: SandboxFault, times?: number, match?: FaultMatch): void
  /**
   * The next matching request is held open BEFORE it is carried out (Marathon busy behind a
   * lock), until {@link releaseHeld}; then it is carried out and answered, if its client still
   * listens. Lets a test show that a request without an answer may still be applied later.
   */
  holdNext(match?: Pick<FaultMatch, "method" | "path">): void
  /** Lets every request {@link holdNext} holds go on (carried out now); returns how many. */
  releaseHeld(): number
  /** The next `times` matching requests are carried out at once but answered only after `ms`. */
  delayNext(ms: number, times?: number, match?: Pick<FaultMatch, "method" | "path">): void
  /** Marathon is unreachable: every request's connection is reset, until {@link recover}. */
  goDown(): void
  /** Ends an outage ({@link goDown}, `thenUnreachable`). */
  recover(): void
  /**
   * Stores now the new definitions of a deployment whose store is deferred (`storeAfterMs`,
   * `storeWhenReleased`, `storeDelayMs`); the change's answer, if held, goes out. False when none waits.
   */
  releaseStore(): boolean
  /** Event streams (`GET /v2/events`) attached now: a test waits on this, not on the clock. */
  eventStreams(): number
  /** Ends every attached event stream, as a proxy's idle timeout does. */
  closeEventStreams(): void
  /**
   * Ends a running deployment now as Marathon does: `deployment_success` published at once, the
   * deployment gone from `GET /v2/deployments` `leadMs` later (Marathon publishes, then deletes).
   * False when there is no such deployment.
   */
  finishDeployment(id: string, leadMs?: number): boolean
  /** Sends at once every answer `delayNext` holds back; returns how many. */
  sendLateAnswers(): number
  /** Resolves once no deployment waits to store its definitions. */
  whenStored(): Promise<void>
  /**
   * Resolves with the deployment ids of the next answer to `GET /v2/deployments` that lists at
   * least one deployment, once that answer has been written.
   */
  whenDeploymentListed(): Promise<ReadonlyArray<string>>
  /** The whole state (apps with their versions and failures, running deployments), for "nothing changed" checks. */
  snapshot(): Record<string, unknown>
  /** Stops the server. */
  stop(): Promise<void>
}

/** What an injected fault answers: an HTTP status, or a connection closed without an answer. */
export type SandboxFault = 500 | 502 | 503 | 504 | 403 | 409 | 422 | "reset"

/** Which requests a fault hits, and how. */
export interface FaultMatch {
  readonly method?: string
  /** Tested against the full request path (`/service/marathon/v2/apps` under DC/OS). */
  readonly path?: RegExp
  /** Carry the request out first; only its answer is replaced ("applied, answer lost"). */
  readonly afterApplying?: boolean
  /** The body of the injected answer instead of Marathon's usual one for the status. */
  readonly body?: unknown
  /** After this fault, Marathon stays unreachable until `recover()`. */
  readonly thenUnreachable?: boolean
  /**
   * Carry the request out (as `afterApplying`) the way Marathon's `updateRoot` does: the
   * deployment is listed at once, the new app definitions are stored only this many ms later;
   * the fault answers at once, in that window (a proxy's 504, a request timeout, a 500 from a
   * failing store). Changes that come meanwhile wait for the store, as Marathon serializes them.
   */
  readonly storeAfterMs?: number
  /**
   * As {@link storeAfterMs}, but the definitions are stored only when the test calls
   * `releaseStore()` (e.g. once `whenDeploymentListed()` resolves): the order of events is the
   * test's, not the clock's.
   */
  readonly storeWhenReleased?: boolean
}

const MARATHON_VERSION = "1.10.17"

interface Injected {
  readonly answer: SandboxFault
  remaining: number
  readonly match: FaultMatch
}

interface Delayed {
  readonly ms: number
  remaining: number
  readonly match: Pick<FaultMatch, "method" | "path">
}

const injectedBody = (status: number): unknown => {
  switch (status) {
    case 502:
    case 504:
      return `<html><body><h1>${status} ${status === 502 ? "Bad Gateway" : "Gateway Timeout"}</h1>(injected by the sandbox)</body></html>`
    case 403:
      return { message: "Max number (1) of running deployments is achieved. Wait for existing deployments to complete or cancel them." }
    case 503:
      return { message: "Could not determine the current leader (injected by the sandbox)" }
    case 500:
      return { message: "Internal server error (injected by the sandbox)" }
    case 409:
      return {
        message:
          "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
        deployments: [{ id: "00000000-0000-4000-8000-000000000000" }]
      }
    default:
      return { message: "Object is not valid", details: [{ path: "/", errors: ["injected by the sandbox"] }] }
  }
}

/**
 * A boolean query parameter as Marathon's Jersey reads it (`@QueryParam … force: Boolean`, converted
 * with `java.lang.Boolean.valueOf`): "true" in any case is true, anything else false; absent →
 * the `@DefaultValue`. python3-marathon sends `force=True`/`force=False`.
 */
const queryBoolean = (value: string | null, absent: boolean): boolean =>
  value === null ? absent : value.toLowerCase() === "true"

const send = (res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) => {
  if (body === undefined) {
    res.writeHead(status, { ...headers })
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(text)
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parseJsonBody = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new HttpError(400, { message: "Invalid JSON", details: e instanceof Error ? e.message : String(e) })
  }
}

const maskLogin = (body: unknown): unknown => {
  if (!isObject(body)) return body
  const out: Json = { ...body }
  if ("password" in out) out.password = "***"
  if ("token" in out) out.token = "***"
  return out
}

/**
 * Drops the AppInfo-only fields (counts, tasks, deployments, …): Marathon's reader for the PUT
 * body (`raml.AppUpdate`, generated from the RAML `App` type) has no such fields and ignores
 * them. `version` and `versionInfo` are App fields and stay for {@link resolveUpdate}.
 */
const stripReadOnly = (json: Json): Json => {
  const out: Json = { ...json }
  for (const key of READ_ONLY_FIELDS) if (key !== "version" && key !== "versionInfo") delete out[key]
  delete out.tasksStats
  return out
}

const VERSION_ONLY = "The 'version' field may only be combined with the 'id' field."

/**
 * Turns one update (as sent) into the complete new definition, Marathon style:
 * partial updates replace whole top-level fields; `{"version": ts}` restores that version.
 */
const resolveUpdate = (
  state: MarathonState,
  appId: string,
  raw: Json,
  partialUpdate: boolean,
  prefix: string,
  existing: Json | undefined = state.definition(appId)
): Json => {
  const update = stripReadOnly(raw)
  if (!partialUpdate) {
    delete update.version
    delete update.versionInfo
    return withDefaults({ ...update, id: appId })
  }
  const others = Object.keys(update).filter((k) => k !== "id" && k !== "version")
  if (update.version !== undefined) {
    if (others.length > 0) throw notValid([{ path: prefix === "" ? "/" : prefix, errors: [VERSION_ONLY] }])
    if (existing === undefined) throw new HttpError(404, { message: `App '${appId}' does not exist` })
    const old = state.versionOf(appId, String(update.version))
    if (old === undefined) {
      throw new HttpError(404, { message: `App '${appId}' does not exist in version ${String(update.version)}` })
    }
    return old
  }
  // Marathon keeps the app's versionInfo whatever the update says (`api/v2/AppHelpers.scala`
  // `updateApp`: "versionInfo doesn't change - it's never overridden by an AppUpdate")
  delete update.versionInfo
  if (existing === undefined) return withDefaults({ ...update, id: appId })
  return normalizeContainer({ ...existing, ...update, id: appId })
}

const checkValid = (def: Json, prefix: string): void => {
  const details = validateApp(def, prefix)
  if (details.length > 0) throw notValid(details)
}

/** Starts a sandbox on 127.0.0.1. */
export const startMarathonSandbox = async (options: MarathonSandboxOptions = {}): Promise<MarathonSandbox> => {
  const state = new MarathonState(options.deploymentMs ?? 300, options.brokenImages ?? [], {
    maxRunningDeployments: options.maxRunningDeployments,
    crashingImages: options.crashingImages
  })
  for (const app of options.apps ?? []) {
    const id = normalizeAppId(String(app.id ?? ""))
    try {
      const def = withDefaults({ ...stripReadOnly(readAppJson(clone(app))), id })
      delete def.version
      delete def.versionInfo
      checkValid(def, "")
      state.seed(def, options.appHistory?.[id] ?? [])
    } catch (e) {
      if (!(e instanceof HttpError)) throw e
      throw new Error(`Sandbox option apps: ${id} is not a valid Marathon app: ${JSON.stringify(e.body)}`)
    }
  }
  const dcos = options.dcos ? new DcosAuth(options.dcos) : undefined
  const base = dcos ? "/service/marathon" : ""
  const requests: Array<SandboxRequest> = []
  const injected: Array<Injected> = []
  const delayed: Array<Delayed> = []
  /** Requests `holdNext` will hold, requests held now, and who waits for one to be held. */
  const holds: Array<Pick<FaultMatch, "method" | "path">> = []
  const held: Array<() => void> = []
  /** Answers held back by `delayNext`: their timers, and how to send each at once. */
  const lateAnswers = new Map<ReturnType<typeof setTimeout>, () => void>()
  const listedWaiters: Array<(ids: ReadonlyArray<string>) => void> = []
  let down = false
  let port = 0

  /** Answers with the injected fault (an error status, or a reset connection). */
  const injectFault = (req: IncomingMessage, res: ServerResponse, fault: Injected): void => {
    if (fault.match.thenUnreachable === true) down = true
    if (fault.answer === "reset") {
      req.socket.destroy()
      return
    }
    const body = fault.match.body !== undefined ? fault.match.body : injectedBody(fault.answer)
    if (typeof body === "string") {
      res.writeHead(fault.answer, { "content-type": "text/html" })
      res.end(body)
      return
    }
    send(res, fault.answer, body)
  }

  const authorizedPlain = (auth: string | undefined): boolean => {
    if (options.marathonToken === undefined && options.basicAuth === undefined) return true
    if (auth === undefined) return false
    if (options.marathonToken !== undefined) {
      if (auth === `token=${options.marathonToken}` || auth === `Bearer ${options.marathonToken}`) return true
    }
    if (options.basicAuth !== undefined && auth.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8")
      if (decoded === `${options.basicAuth.username}:${options.basicAuth.password}`) return true
    }
    return false
  }

  const marathon = async (
    method: string,
    route: string,
    params: URLSearchParams,
    req: IncomingMessage,
    bodyText: string
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string>; text?: string }> => {
    const jsonBody = (): unknown => {
      const type = req.headers["content-type"] ?? ""
      if (!type.toLowerCase().includes("application/json")) {
        throw new HttpError(415, { message: `Unsupported Media Type: expected application/json, got '${type}'` })
      }
      return parseJsonBody(bodyText)
    }
    const force = queryBoolean(params.get("force"), false)
    const partialUpdate = queryBoolean(params.get("partialUpdate"), true)

    if (route === "/ping" && method === "GET") return { status: 200, body: undefined, text: "pong" }
    if (route === "/v2/info" && method === "GET") return { status: 200, body: info(port) }
    if (route === "/v2/leader" && method === "GET") return { status: 200, body: { leader: `127.0.0.1:${port}` } }

    if (route === "/v2/apps") {
      if (method === "GET") {
        const idFilter = params.get("id")?.toLowerCase()
        const cmdFilter = params.get("cmd")?.toLowerCase()
        const labelQuery = params.get("label")
        let selectors: ReturnType<typeof parseLabelSelectors> = []
        if (labelQuery !== null && labelQuery.trim() !== "") {
          try {
            selectors = parseLabelSelectors(labelQuery)
          } catch (e) {
            if (e instanceof LabelSelectorError) throw new HttpError(422, { message: e.message })
            throw e
          }
        }
        // `AppsResource.index`: counts and deployments always, the rest as embedded
        const embed = resolveAppEmbed(params.getAll("embed"), ["counts", "deployments"])
        const apps = state
          .appIds()
          .filter((id) => idFilter === undefined || id.toLowerCase().includes(idFilter))
          .map((id) => state.appInfo(id, embed)!)
          .filter((a) => cmdFilter === undefined || (typeof a.cmd === "string" && a.cmd.toLowerCase().includes(cmdFilter)))
          .filter((a) => matchesLabelSelectors(selectors, isObject(a.labels) ? a.labels : {}))
        return { status: 200, body: { apps } }
      }
      if (method === "PUT") {
        const body = jsonBody()
        if (!Array.isArray(body)) throw invalidJson([{ path: "", errors: ["error.expected.jsarray"] }])
        // elements apply in order, like Marathon's fold over the root group: a second element
        // for the same app updates the result of the first
        const pending = new Map<string, Json>()
        body.forEach((element, i) => {
          const prefix = `/${i}`
          const raw = readAppJson(element, prefix)
          if (typeof raw.id !== "string" || raw.id.trim() === "") {
            throw notValid([{ path: `${prefix}/id`, errors: ["must not be empty"] }])
          }
          const appId = normalizeAppId(raw.id)
          const idProblems = validateAppId(appId, `${prefix}/id`)
          if (idProblems.length > 0) throw notValid(idProblems)
          const def = resolveUpdate(state, appId, raw, partialUpdate, prefix, pending.get(appId) ?? state.definition(appId))
          checkValid(def, prefix)
          pending.set(appId, def)
        })
        const changes = [...pending].map(([appId, def]) => ({ appId, def }))
        const result = state.deploy(changes, force)
        return deploymentAnswer(200, result)
      }
      if (method === "POST") {
        const raw = readAppJson(jsonBody())
        const appId = normalizeAppId(typeof raw.id === "string" ? raw.id : "")
        const def = withDefaults({ ...stripReadOnly(raw), id: appId })
        delete def.version
        delete def.versionInfo
        checkValid(def, "")
        if (state.definition(appId) !== undefined) {
          throw new HttpError(409, { message: `An app with id [${appId}] already exists.` })
        }
        const result = state.deploy([{ appId, def }], force)
        const created = state.appInfo(appId, { lastTaskFailure: false, tasks: false })
        return {
          status: 201,
          body: created,
          headers: { location: `${base}/v2/apps${appId}`, "marathon-deployment-id": result.deploymentId }
        }
      }
      return methodNotAllowed()
    }

    if (route.startsWith("/v2/apps/")) {
      const rest = route.slice("/v2/apps".length)
      const versionsAt = rest.search(/\/versions(\/[^/]+)?$/)
      if (versionsAt >= 0 && method === "GET") {
        const appId = normalizeAppId(decodeURIComponent(rest.slice(0, versionsAt)))
        const tail = rest.slice(versionsAt + "/versions".length)
        const versions = state.versionList(appId)
        if (versions === undefined) throw appNotFound(appId)
        if (tail === "") return { status: 200, body: { versions } }
        const v = decodeURIComponent(tail.slice(1))
        const def = state.versionOf(appId, v)
        if (def === undefined) throw new HttpError(404, { message: `App '${appId}' does not exist in version ${v}` })
        return { status: 200, body: { ...def, version: v } }
      }
      if (rest.endsWith("/tasks") && method === "GET") {
        return { status: 200, body: appTasks(state, normalizeAppId(decodeURIComponent(rest.slice(0, -"/tasks".length)))) }
      }
      const appId = normalizeAppId(decodeURIComponent(rest))
      if (method === "GET") {
        // `AppsResource.show`: counts, tasks, lastTaskFailure and deployments always
        const embed = resolveAppEmbed(params.getAll("embed"), ["counts", "tasks", "lastTaskFailure", "deployments"])
        const app = state.appInfo(appId, embed)
        if (app === undefined) throw appNotFound(appId)
        return { status: 200, body: { app } }
      }
      if (method === "PUT") {
        const idProblems = validateAppId(appId)
        if (idProblems.length > 0) throw notValid(idProblems)
        const raw = readAppJson(jsonBody())
        const existed = state.definition(appId) !== undefined
        const def = resolveUpdate(state, appId, raw, partialUpdate, "")
        checkValid(def, "")
        return deploymentAnswer(existed ? 200 : 201, state.deploy([{ appId, def }], force))
      }
      if (method === "DELETE") {
        if (state.definition(appId) === undefined) throw appNotFound(appId)
        return deploymentAnswer(200, state.deploy([{ appId, def: null }], force))
      }
      return methodNotAllowed()
    }

    if (method === "GET" && route === "/v2/tasks") return { status: 200, body: allTasks(state) }
    if (method === "GET" && route === "/v2/queue") return { status: 200, body: launchQueue(state) }
    if (method === "GET" && (route === "/v2/groups" || route.startsWith("/v2/groups/"))) {
      const groupId = normalizeAppId(decodeURIComponent(route.slice("/v2/groups".length)))
      return { status: 200, body: groupInfo(state, groupId, params.getAll("embed")) }
    }
    if (route === "/v2/deployments") {
      if (method === "GET") return { status: 200, body: state.deploymentList() }
      return methodNotAllowed()
    }
    if (route.startsWith("/v2/deployments/")) {
      if (method !== "DELETE") return methodNotAllowed()
      const id = decodeURIComponent(route.slice("/v2/deployments/".length))
      const result = state.cancel(id, force)
      if (result === undefined) return { status: 202, body: undefined }
      return deploymentAnswer(200, result)
    }
    throw new HttpError(404, { message: `Not found: ${route}` })
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const method = req.method ?? "GET"
    const bodyText = await readBody(req)
    const authorization = req.headers.authorization
    let loggedBody: unknown = undefined
    if (bodyText !== "") {
      try {
        loggedBody = JSON.parse(bodyText)
      } catch {
        loggedBody = bodyText
      }
    }
    const isLogin = url.pathname === "/acs/api/v1/auth/login"
    if (down) {
      // an outage: the request is seen, never answered
      requests.push({ method, path: url.pathname, query: url.search.replace(/^\?/, ""), body: isLogin ? maskLogin(loggedBody) : loggedBody })
      req.socket.destroy()
      return
    }
    requests.push({
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      body: isLogin ? maskLogin(loggedBody) : loggedBody,
      ...(authorization !== undefined ? { authorization } : {})
    })

    try {
      // authentication comes before anything else, as on a real cluster
      let route: string
      if (dcos) {
        if (isLogin) {
          if (method !== "POST") return send(res, 405, { title: "Method Not Allowed", description: "Use POST", code: "ERR_METHOD" })
          const failure = takeInjected(method, url.pathname)
          if (failure) return injectFault(req, res, failure)
          let body: unknown
          try {
            body = JSON.parse(bodyText)
          } catch {
            body = undefined
          }
          const result = dcos.login(body)
          if ("token" in result) return send(res, 200, { token: result.token })
          return send(res, result.status, result.body)
        }
        const prefix = ["/service/marathon", "/marathon"].find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`))
        if (prefix === undefined) {
          return send(res, 404, { title: "Not Found", description: `No such resource: ${url.pathname}`, code: "ERR_NOT_FOUND" })
        }
        const token = /^token=(.+)$/.exec(authorization ?? "")?.[1]
        if (token === undefined || dcos.check(token) === undefined) {
          return send(
            res,
            401,
            {
              title: "Unauthorized",
              description:
                token === undefined
                  ? "Please provide authentication credentials (Authorization: token=<token>)."
                  : "The authentication token is invalid or has expired; log in again.",
              code: token === undefined ? "ERR_MISSING_AUTH_TOKEN" : "ERR_INVALID_AUTH_TOKEN"
            },
            { "www-authenticate": "acsjwt" }
          )
        }
        route = url.pathname.slice(prefix.length) || "/"
      } else {
        route = url.pathname
        if (route !== "/ping" && !authorizedPlain(authorization)) {
          return send(
            res,
            401,
            { message: "Invalid username or password." },
            options.basicAuth ? { "www-authenticate": 'Basic realm="Mesosphere"' } : {}
          )
        }
      }
      const holdAt = holds.findIndex((h) => matches(h, method, url.pathname))
      if (holdAt >= 0) {
        holds.splice(holdAt, 1)
        await new Promise<void>((resolve) => held.push(resolve))
      }
      // Marathon serializes changes of the root: one waits for the store of the one before.
      const changing = method !== "GET" && route !== "/v2/events"
      if (changing) await state.whenStored()
      const failure = takeInjected(method, url.pathname)
      const deferring = failure !== undefined && (failure.match.storeAfterMs !== undefined || failure.match.storeWhenReleased === true)
      const applying = failure !== undefined && (failure.match.afterApplying === true || deferring)
      if (failure && !applying) return injectFault(req, res, failure)
      if (route === "/v2/events") return events(method, req, res, url.searchParams)
      const storeDelay: StoreDelay | undefined = failure?.match.storeWhenReleased === true
        ? "released"
        : failure?.match.storeAfterMs ?? (changing && (options.storeDelayMs ?? 0) > 0 ? options.storeDelayMs : undefined)
      if (storeDelay !== undefined) state.deferNextStore(storeDelay)
      const answer = await marathon(method, route, url.searchParams, req, bodyText).catch((e: unknown) => {
        if (failure) return undefined // applied (or refused) — the answer is lost either way
        throw e
      }).finally(() => state.deferNextStore(undefined))
      if (failure) return injectFault(req, res, failure)
      if (answer === undefined) return
      // Marathon answers a change once its new root is stored.
      if (storeDelay !== undefined) await state.whenStored()
      const late = takeDelayed(method, url.pathname)
      if (late !== undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            lateAnswers.delete(timer)
            resolve()
          }, late.ms)
          lateAnswers.set(timer, resolve)
        })
        if (res.destroyed) return
      }
      if (answer.text !== undefined) {
        res.writeHead(answer.status, { "content-type": "text/plain; charset=utf-8" })
        res.end(answer.text)
        return
      }
      send(res, answer.status, answer.body, answer.headers ?? {})
      if (method === "GET" && route === "/v2/deployments" && Array.isArray(answer.body) && answer.body.length > 0) {
        const ids = answer.body.map((d: Json) => String(d.id))
        for (const waiter of listedWaiters.splice(0)) waiter(ids)
      }
    } catch (e) {
      if (e instanceof HttpError) return send(res, e.status, e.body, e.headers)
      send(res, 500, { message: `Sandbox error: ${e instanceof Error ? e.message : String(e)}` })
    }
  }

  let attachedStreams = 0
  const streamEnds = new Set<() => void>()
  /** `GET /v2/events`: server-sent events, optionally filtered by repeated `event_type=`. */
  const events = (method: string, req: IncomingMessage, res: ServerResponse, params: URLSearchParams): void => {
    if (method !== "GET") return send(res, 405, { message: "HTTP 405 Method Not Allowed" })
    if (!(req.headers.accept ?? "").includes("text/event-stream")) {
      return send(res, 405, { message: "Use Accept: text/event-stream for the event stream" })
    }
    const types = params.getAll("event_type")
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
    res.flushHeaders()
    const write = (event: { readonly eventType: string; readonly [key: string]: unknown }) => {
      if (types.length === 0 || types.includes(event.eventType)) {
        res.write(`event: ${event.eventType}\ndata: ${JSON.stringify(event)}\n\n`)
      }
    }
    write({ eventType: "event_stream_attached", timestamp: new Date().toISOString(), remoteAddress: "127.0.0.1" })
    const unsubscribe = state.subscribe(write)
    attachedStreams++
    const end = () => res.end()
    streamEnds.add(end)
    // the response's close: the client went, or the stream was ended here
    res.on("close", () => {
      attachedStreams--
      streamEnds.delete(end)
      unsubscribe()
    })
  }

  const matches = (match: Pick<FaultMatch, "method" | "path">, method: string, path: string) =>
    (match.method === undefined || match.method.toUpperCase() === method) && (match.path === undefined || match.path.test(path))

  const takeInjected = (method: string, path: string): Injected | undefined => {
    const found = injected.find((f) => f.remaining > 0 && matches(f.match, method, path))
    if (found) {
      found.remaining--
      if (found.remaining === 0) injected.splice(injected.indexOf(found), 1)
    }
    return found
  }

  const takeDelayed = (method: string, path: string): Delayed | undefined => {
    const found = delayed.find((d) => d.remaining > 0 && matches(d.match, method, path))
    if (found) {
      found.remaining--
      if (found.remaining === 0) delayed.splice(delayed.indexOf(found), 1)
    }
    return found
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `Sandbox error: ${String(e)}` })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  port = (server.address() as AddressInfo).port
  const clusterUrl = `http://127.0.0.1:${port}`

  return {
    url: clusterUrl + base,
    clusterUrl,
    apps: () => state.definitions(),
    app: (id) => state.appInfo(normalizeAppId(id), { lastTaskFailure: true, tasks: true }),
    deployments: () => state.deploymentList(),
    requests,
    markBroken: (image) => state.markBroken(image),
    markCrashing: (image) => state.markCrashing(image),
    expireTokens: () => dcos?.expireAll(),
    failNext: (answer, times = 1, match = {}) => {
      injected.push({ answer, remaining: times, match })
    },
    holdNext: (match = {}) => {
      holds.push(match)
    },
    releaseHeld: () => {
      const waiting = held.splice(0)
      for (const resolve of waiting) resolve()
      return waiting.length
    },
    delayNext: (ms, times = 1, match = {}) => {
      delayed.push({ ms, remaining: times, match })
    },
    goDown: () => {
      down = true
    },
    recover: () => {
      down = false
    },
    releaseStore: () => state.releaseStore(),
    eventStreams: () => attachedStreams,
    closeEventStreams: () => {
      for (const end of streamEnds) end()
    },
    finishDeployment: (id, leadMs = 0) => state.finish(id, leadMs),
    sendLateAnswers: () => {
      const held = [...lateAnswers]
      lateAnswers.clear()
      for (const [timer, resolve] of held) {
        clearTimeout(timer)
        resolve()
      }
      return held.length
    },
    whenStored: () => state.whenStored(),
    whenDeploymentListed: () => new Promise((resolve) => listedWaiters.push(resolve)),
    snapshot: () => state.snapshot(),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of lateAnswers.keys()) clearTimeout(timer)
        lateAnswers.clear()
        for (const resolve of held.splice(0)) resolve()
        state.close()
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
  }
}

const appNotFound = (appId: string): HttpError => new HttpError(404, { message: `App '${appId}' does not exist` })

const methodNotAllowed = (): { status: number; body: unknown } => ({ status: 405, body: { message: "HTTP 405 Method Not Allowed" } })

const deploymentAnswer = (status: number, result: DeploymentResult) => ({
  status,
  body: { deploymentId: result.deploymentId, version: result.version },
  headers: { "marathon-deployment-id": result.deploymentId }
})

const info = (port: number): Json => ({
  name: "marathon",
  version: MARATHON_VERSION,
  buildref: "sandbox",
  elected: true,
  leader: `127.0.0.1:${port}`,
  frameworkId: "00000000-0000-4000-8000-000000000000-0000",
  marathon_config: {
    checkpoint: true,
    executor: "//cmd",
    failover_timeout: 604800,
    features: [],
    framework_name: "marathon",
    ha: false,
    hostname: "127.0.0.1",
    local_port_max: 20000,
    local_port_min: 10000,
    master: "local",
    mesos_role: "*",
    mesos_user: "nobody",
    webui_url: `http://127.0.0.1:${port}`
  },
  zookeeper_config: { zk: "zk://localhost:2181/marathon", zk_timeout: 10000 },
  http_config: { http_port: port, https_port: 8443 }
})
