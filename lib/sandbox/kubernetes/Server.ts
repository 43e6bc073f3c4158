/**
 * @module Server — a Kubernetes API server on loopback for tests, `demo` and rehearsals, faithful
 * to `../shared/kubernetes-api/FACTS.md` for what fleet-rollback and kubectl use: discovery,
 * namespaces, apps/v1 Deployments, StatefulSets and DaemonSets with their ReplicaSets and
 * ControllerRevisions, CronJobs and Pods (listed), get / list / watch / create / update / patch /
 * delete, resourceVersion and generation, 409 on conflicts, dryRun=All, fieldManager, rollouts
 * that progress on the server's clock (broken images end in ProgressDeadlineExceeded), bearer
 * tokens and client certificates over HTTPS, 401/403 Status objects, and injected faults (error
 * answers, lost answers, resets) for transport tests. The real `kubectl` is its judge
 * (test/sandbox-kubernetes/kubectl.test.ts). Node-only (node:http, node:https).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import type { AddressInfo, Socket } from "node:net"
import { OpenShiftControllers, type OpenShiftControls, type OpenShiftSandboxSettings } from "../openshift/ImageStreams.ts"
import { type ForbiddenRule, SandboxAuth, type SandboxToken, type SandboxUser } from "./Auth.ts"
import { apiGroup, apiGroupList, apiResourceList, apiVersionOf, apiVersions, RESOURCE_TYPES, resourceType, type ResourceType, resourceTypeOfKind, versionInfo } from "./Discovery.ts"
import { cloneJson } from "./Patch.ts"
import { podsIn } from "./Pods.ts"
import { Resources, writeOptions } from "./Resources.ts"
import { Controllers } from "./Rollout.ts"
import { StatusError, statusBody } from "./Status.ts"
import { type KubeObject, Store } from "./Store.ts"
import { toTable, wantsTable } from "./Table.ts"
import { serveWatch } from "./Watch.ts"

/** How to start a sandbox. */
export interface KubernetesSandboxOptions {
  /** Objects to start with (Namespaces are made for every namespace named); workloads start rolled out. */
  readonly objects?: ReadonlyArray<KubeObject>
  /** How long a healthy rollout takes (default 300 ms). */
  readonly rolloutMs?: number
  /** How long until a Deployment stuck on a broken image gets ProgressDeadlineExceeded (default 1,500 ms). */
  readonly progressDeadlineMs?: number
  /** Nodes each DaemonSet runs on (default 3). */
  readonly nodes?: number
  /** Images whose pods never pull (ImagePullBackOff). */
  readonly brokenImages?: ReadonlyArray<string>
  /** Images whose pods crash (CrashLoopBackOff). */
  readonly crashingImages?: ReadonlyArray<string>
  /** Bearer tokens accepted: token → user name (or with groups and an expiry). None and no client CA: anyone may. */
  readonly tokens?: Readonly<Record<string, string | SandboxToken>>
  /** Serve HTTPS with this certificate; with `clientCa`, client certificates it signed authenticate (user = CN). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string }
  /** Requests these rules deny get 403 Forbidden. */
  readonly forbid?: ReadonlyArray<ForbiddenRule>
  /** The server's clock (default `Date.now`). */
  readonly now?: () => number
  /** OpenShift ImageStream imports (lib/sandbox/openshift/). */
  readonly openshift?: OpenShiftSandboxSettings
}

/** One request as the sandbox received it (credentials never kept: the user they authenticated as). */
export interface KubernetesRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly contentType: string | undefined
  readonly body: unknown
  /** The authenticated user, or undefined when authentication failed. */
  readonly user: string | undefined
  readonly status: number
}

/** A fault for the next matching request: an HTTP status (a Status body) or a reset connection. */
export interface KubernetesFault {
  readonly answer: number | "reset"
  readonly method?: string
  /** Substring of the path. */
  readonly path?: string
  /** Carry the request out first and lose only its answer. */
  readonly afterApplying?: boolean
  /** How many requests (default 1). */
  readonly times?: number
}

/** A running sandbox. */
export interface KubernetesSandbox {
  /** `http(s)://127.0.0.1:<port>`. */
  readonly url: string
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<KubernetesRequest>
  /** A copy of one object by kind, or undefined. */
  object(kind: string, namespace: string, name: string): KubeObject | undefined
  /** Every stored object, for "nothing changed" checks. */
  snapshot(): Record<string, KubeObject>
  /** The workloads whose rollout is still going (`deployments/shop/api`); empty when the cluster is still. */
  rolling(): ReadonlyArray<string>
  /** Creates or replaces an object as another client would (a kubectl edit meanwhile). */
  apply(object: KubeObject): KubeObject
  /** Changes one container's image as `kubectl set image` would. */
  setImage(kind: string, namespace: string, name: string, container: string, image: string): KubeObject
  /** From now on pods of this image never pull. */
  markBroken(image: string): void
  /** From now on pods of this image crash. */
  markCrashing(image: string): void
  /** Adds a denial. */
  forbid(rule: ForbiddenRule): void
  /** Accepts (or changes) a bearer token. */
  setToken(token: string, spec: SandboxToken): void
  /** Refuses a bearer token from now on. */
  revokeToken(token: string): void
  /** The next matching request(s) fail. */
  failNext(fault: KubernetesFault): void
  /** The OpenShift image import and trigger controllers. */
  readonly openshift: OpenShiftControls
  close(): Promise<void>
}

/** Starts a sandbox on 127.0.0.1 (a free port). */
export const startKubernetesSandbox = async (options: KubernetesSandboxOptions = {}): Promise<KubernetesSandbox> => {
  const core = new SandboxCore(options)
  const handler = (request: IncomingMessage, response: ServerResponse) => core.serve(request, response)
  const server: Server = options.tls === undefined
    ? createHttpServer(handler)
    : createHttpsServer({
      cert: options.tls.cert,
      key: options.tls.key,
      ...(options.tls.clientCa === undefined ? {} : { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: false })
    }, handler)
  const sockets = new Set<Socket>()
  server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const timer = setInterval(() => {
    core.controllers.reconcile()
    core.openshift.tick()
  }, 10)
  timer.unref()
  return {
    url: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    requests: core.requests,
    object: (kind, namespace, name) => {
      const type = resourceTypeOfKind(kind)
      return type === undefined ? undefined : core.store.get(type.resource, type.namespaced ? namespace : "", name)
    },
    snapshot: () => core.store.snapshot(),
    rolling: () => {
      core.controllers.reconcile()
      return core.controllers.rolling()
    },
    apply: (object) => core.applyObject(object),
    setImage: (kind, namespace, name, container, image) => core.setImage(kind, namespace, name, container, image),
    markBroken: (image) => void core.settings.brokenImages.add(image),
    markCrashing: (image) => void core.settings.crashingImages.add(image),
    forbid: (rule) => void core.auth.rules.push(rule),
    setToken: (token, spec) => void core.auth.tokens.set(token, spec),
    revokeToken: (token) => void core.auth.tokens.delete(token),
    failNext: (fault) => void core.faults.push({ ...fault, left: fault.times ?? 1 }),
    openshift: core.openshift,
    close: async () => {
      clearInterval(timer)
      for (const close of core.watchers) close()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A parsed resource URL. */
interface Route {
  readonly type: ResourceType
  readonly namespace: string | undefined
  readonly name: string | undefined
}

/** The server's state and request handling. */
class SandboxCore {
  readonly now: () => number
  readonly store: Store
  readonly settings
  readonly controllers: Controllers
  readonly resources: Resources
  readonly auth: SandboxAuth
  readonly openshift: OpenShiftControllers
  readonly requests: Array<KubernetesRequest> = []
  readonly faults: Array<KubernetesFault & { left: number }> = []
  readonly watchers = new Set<() => void>()

  constructor(options: KubernetesSandboxOptions) {
    this.now = options.now ?? Date.now
    this.store = new Store(this.now)
    this.settings = {
      rolloutMs: options.rolloutMs ?? 300,
      progressDeadlineMs: options.progressDeadlineMs ?? 1500,
      nodes: options.nodes ?? 3,
      brokenImages: new Set(options.brokenImages ?? []),
      crashingImages: new Set(options.crashingImages ?? [])
    }
    this.controllers = new Controllers(this.store, this.settings, this.now)
    this.resources = new Resources(this.store, this.controllers, this.now)
    this.openshift = new OpenShiftControllers(this.store, (resource, namespace, name, object) => {
      const type = RESOURCE_TYPES_BY_RESOURCE(resource)
      try {
        this.resources.update(type, namespace, name, object, { dryRun: false, fieldManager: "openshift-controller-manager" })
      } catch {
        // A conflict: the workload's next event re-checks its triggers.
      }
    }, this.now, options.openshift)
    this.auth = new SandboxAuth(this.now, options.tokens ?? {}, options.tls?.clientCa !== undefined, options.forbid ?? [])
    this.seed(options.objects ?? [])
  }

  private seed(objects: ReadonlyArray<KubeObject>): void {
    const namespaces = new Set(["default", "kube-system", ...objects.map((o) => o.metadata?.namespace).filter((n): n is string => typeof n === "string")])
    for (const ns of objects.filter((o) => o.kind === "Namespace")) namespaces.delete(ns.metadata.name)
    for (const name of namespaces) this.applyObject({ apiVersion: "v1", kind: "Namespace", metadata: { name } })
    for (const object of objects) this.applyObject(object, true)
  }

  /** Creates or replaces an object through the API's own checks (as another client would). */
  applyObject(object: KubeObject, settled = false): KubeObject {
    const type = resourceTypeOfKind(object.kind)
    if (type === undefined) throw new Error(`the sandbox does not serve kind ${object.kind}`)
    const namespace = type.namespaced ? object.metadata.namespace ?? "default" : undefined
    const options = { dryRun: false, fieldManager: "sandbox" }
    const existing = this.store.get(type.resource, namespace ?? "", object.metadata.name)
    if (existing !== undefined) return this.resources.update(type, namespace ?? "", object.metadata.name, { ...cloneJson(object), metadata: { ...object.metadata, resourceVersion: undefined } }, options)
    const created = this.resources.create(type, namespace, object, options)
    if (settled) this.controllers.settle(type.resource, namespace ?? "", object.metadata.name)
    return created
  }

  /** `kubectl set image` from the inside. */
  setImage(kind: string, namespace: string, name: string, container: string, image: string): KubeObject {
    const type = resourceTypeOfKind(kind)!
    return this.resources.patch(type, namespace, name, "application/strategic-merge-patch+json",
      { spec: { template: { spec: { containers: [{ name: container, image }] } } } }, { dryRun: false, fieldManager: "kubectl-set" })
  }

  /** Handles one request. */
  serve(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://sandbox")
      const text = Buffer.concat(chunks).toString("utf8")
      let body: unknown = undefined
      if (text !== "") {
        try {
          body = JSON.parse(text)
        } catch {
          body = text
        }
      }
      const fault = this.takeFault(request.method ?? "GET", url.pathname)
      if (fault !== undefined && fault.afterApplying !== true) return this.answerFault(fault, response)
      let user: SandboxUser | undefined
      let status = 200
      let answer: unknown
      try {
        user = this.auth.authenticate(request)
        this.controllers.reconcile()
        const result = this.route(request, url, body, text, user, response)
        if (result === "streaming") return
        answer = result
      } catch (error) {
        const e = error instanceof StatusError ? error : new StatusError("InternalError", `Internal error occurred: ${(error as Error).message}`)
        status = e.code
        answer = statusBody(e)
      }
      if (answer !== undefined && typeof answer === "object" && (answer as KubeObject).kind === "Status" && (answer as KubeObject).status === "Success") status = 200
      else if (status === 200 && request.method === "POST") status = 201
      this.requests.push({ method: request.method ?? "GET", path: url.pathname, query: url.search.slice(1), contentType: request.headers["content-type"], body, user: user?.name, status })
      if (fault !== undefined) return this.answerFault(fault, response)
      response.writeHead(status, { "content-type": "application/json" })
      response.end(JSON.stringify(answer))
    })
  }

  private takeFault(method: string, path: string): KubernetesFault | undefined {
    const index = this.faults.findIndex((f) => (f.method === undefined || f.method === method) && (f.path === undefined || path.includes(f.path)))
    if (index < 0) return undefined
    const fault = this.faults[index]!
    if (--fault.left <= 0) this.faults.splice(index, 1)
    return fault
  }

  private answerFault(fault: KubernetesFault, response: ServerResponse): void {
    if (fault.answer === "reset") {
      response.socket?.destroy()
      return
    }
    const reason = fault.answer === 503 ? "ServiceUnavailable" : fault.answer === 429 ? "TooManyRequests" : fault.answer === 500 ? "InternalError" : "BadRequest"
    response.writeHead(fault.answer, { "content-type": "application/json", ...(fault.answer === 429 ? { "retry-after": "1" } : {}) })
    response.end(JSON.stringify({ ...statusBody(new StatusError(reason, `injected fault ${fault.answer}`)), code: fault.answer }))
  }

  private route(request: IncomingMessage, url: URL, body: unknown, text: string, user: SandboxUser, response: ServerResponse): unknown {
    const path = url.pathname.replace(/\/+$/, "")
    const method = request.method ?? "GET"
    const discovery = this.discovery(path)
    if (discovery !== undefined) {
      if (method !== "GET") throw new StatusError("MethodNotAllowed", `the server does not allow this method on the requested resource`)
      return discovery
    }
    const route = parseRoute(path)
    if (route === undefined) throw new StatusError("NotFound", "the server could not find the requested resource", {})
    const query = url.searchParams
    const watching = method === "GET" && route.name === undefined && (query.get("watch") === "true" || query.get("watch") === "1")
    const verb = method === "GET" ? (route.name !== undefined ? "get" : watching ? "watch" : "list")
      : method === "POST" ? "create" : method === "PUT" ? "update" : method === "PATCH" ? "patch" : method === "DELETE" ? "delete" : "unknown"
    this.auth.authorize(user, { verb, resource: route.type.resource, group: route.type.group, namespace: route.namespace, name: route.name })
    if (!route.type.verbs.includes(verb)) throw new StatusError("MethodNotAllowed", `the server does not allow this method on the requested resource`)
    if (watching) {
      serveWatch(this.store, route.type, route.namespace, query, request, response, (close) => {
        this.watchers.add(close)
        return () => this.watchers.delete(close)
      })
      this.requests.push({ method, path: url.pathname, query: url.search.slice(1), contentType: undefined, body: undefined, user: user.name, status: 200 })
      return "streaming"
    }
    return this.dispatch(request, route, verb, query, body, text)
  }

  private dispatch(request: IncomingMessage, route: Route, verb: string, query: URLSearchParams, body: unknown, text: string): unknown {
    const { type, namespace, name } = route
    const ns = namespace ?? ""
    const write = () => writeOptions(query, request.headers["user-agent"])
    switch (verb) {
      case "get": {
        const object = this.resources.get(type, type.namespaced ? ns : "", name!)
        return wantsTable(request.headers.accept) ? toTable(type.kind, [object], object.metadata.resourceVersion, this.now()) : object
      }
      case "list": {
        const all = type.resource === "pods" ? this.allPods(namespace) : this.store.list(type.resource, namespace)
        const items = this.resources.list(type, namespace, query, all)
        const rv = String(this.store.resourceVersion)
        if (wantsTable(request.headers.accept)) return toTable(type.kind, items, rv, this.now())
        if (/as=PartialObjectMetadataList/.test(request.headers.accept ?? "")) {
          return { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: rv }, items: items.map((o) => ({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata })) }
        }
        return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: rv }, items }
      }
      case "create":
        return this.resources.create(type, namespace, body, write())
      case "update":
        return this.resources.update(type, ns, name!, body, write())
      case "patch":
        if (typeof body === "string" && text !== "") throw new StatusError("BadRequest", `the patch is not valid JSON`)
        return this.resources.patch(type, ns, name!, request.headers["content-type"] ?? "", body, write())
      default:
        return this.resources.delete(type, ns, name!, write())
    }
  }

  private allPods(namespace: string | undefined): Array<KubeObject> {
    const namespaces = namespace !== undefined ? [namespace] : this.store.list("namespaces").map((n) => n.metadata.name as string)
    return namespaces.flatMap((ns) => podsIn(this.store, this.controllers, ns))
  }

  private discovery(path: string): unknown {
    if (path === "/version") return versionInfo()
    if (path === "/api") return apiVersions()
    if (path === "/apis") return apiGroupList()
    if (path === "/healthz" || path === "/readyz" || path === "/livez") return "ok"
    const core = /^\/api\/(v1)$/.exec(path)
    if (core !== null) return apiResourceList("", core[1]!)
    const group = /^\/apis\/([^/]+)$/.exec(path)
    if (group !== null) return apiGroup(group[1]!) ?? notServed()
    const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path)
    if (groupVersion !== null) return apiResourceList(groupVersion[1]!, groupVersion[2]!) ?? notServed()
    return undefined
  }
}

const RESOURCE_TYPES_BY_RESOURCE = (resource: string): ResourceType => RESOURCE_TYPES.find((t) => t.resource === resource)!

const notServed = (): never => {
  throw new StatusError("NotFound", "the server could not find the requested resource", {})
}

/** Parses `/api/v1/…` and `/apis/<group>/<version>/…` into a resource, namespace and name. */
const parseRoute = (path: string): Route | undefined => {
  const m = /^\/api\/(v1)\/(.+)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)\/(.+)$/.exec(path)
  if (m === null) return undefined
  const [group, version] = m[1]!.includes("/") ? m[1]!.split("/") as [string, string] : ["", m[1]!]
  const parts = m[2]!.split("/").map(decodeURIComponent)
  if (parts[0] === "namespaces" && parts.length >= 3) {
    const type = resourceType(group, version, parts[2]!)
    if (type === undefined || !type.namespaced || parts.length > 4) return undefined
    return { type, namespace: parts[1]!, name: parts[3] }
  }
  const type = resourceType(group, version, parts[0]!)
  if (type === undefined || parts.length > 2) return undefined
  return { type, namespace: undefined, name: parts[1] }
}
