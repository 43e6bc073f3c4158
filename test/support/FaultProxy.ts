/**
 * @module FaultProxy — a loopback HTTP proxy in front of a real registry that fails a chosen
 * share of requests the way networks and overloaded registries do: connection resets, 500, 502,
 * 503, 429 with `Retry-After`, bodies cut off half way, and stalls longer than the client's
 * request timeout. Which request fails, and how, is a pure function of the seed, the request
 * (method and path) and how often that request was seen before — not of the order in which
 * concurrent requests arrive — so a run is reproducible from its seed.
 *
 * It also plays a hostile server for requests it is told to: one byte per second, a body that is
 * never finished, a redirect loop.
 *
 * Test and bench harness code: plain Node APIs and async on purpose (it runs outside Effect).
 */
import { createHash } from "node:crypto"
import { request as httpRequest, createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { Socket } from "node:net"

/** How a request is failed. */
export type FaultKind = "reset" | "500" | "502" | "503" | "429" | "truncated" | "stall"

/** Every fault kind. */
export const FAULT_KINDS: ReadonlyArray<FaultKind> = ["reset", "500", "502", "503", "429", "truncated", "stall"]

/** How a hostile server answers: one byte a second, a body never finished, a redirect to itself. */
export type HostileMode = "drip" | "unfinished-body" | "redirect-loop"

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Base URL of the registry behind the proxy, e.g. `http://127.0.0.1:5000`. */
  readonly upstream: string
  /** Share of requests failed, 0 to 1; default 0. */
  readonly failureRate?: number
  /** Seed of the failure choice; default 1. */
  readonly seed?: number
  /** The kinds of failure drawn from (uniformly); default all of {@link FAULT_KINDS}. */
  readonly kinds?: ReadonlyArray<FaultKind>
  /** Every request for these repositories fails (whatever `failureRate` says). */
  readonly failRepositories?: ReadonlyArray<string>
  /** `Retry-After` of the 429 answers, in seconds; default 1. */
  readonly retryAfterSeconds?: number
  /** How long a stall holds the request before closing the connection; default 60 s (clients time out first). */
  readonly stallMs?: number
  /** Answer every request as a hostile server would (nothing reaches the registry). */
  readonly hostile?: HostileMode
}

/** One request the proxy saw and what it did with it. */
export interface ProxiedRequest {
  readonly method: string
  readonly path: string
  /** The fault injected, or `undefined` when the request went through untouched. */
  readonly fault: FaultKind | HostileMode | undefined
}

/** A running proxy. */
export interface FaultProxy {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** `127.0.0.1:<port>`. */
  readonly host: string
  /** Every request seen so far, in arrival order. */
  readonly requests: ReadonlyArray<ProxiedRequest>
  /**
   * Replaces the fault settings (everything but `upstream`), forgets the requests seen and how
   * often, so the next run draws its faults afresh from the seed.
   */
  readonly configure: (options: Omit<FaultProxyOptions, "upstream">) => void
  /** Closes the listener and every open connection. */
  readonly stop: () => Promise<void>
}

/** A number in [0, 1) from the seed and a key: the first 48 bits of sha256(seed, key). */
const draw = (seed: number, key: string): number => {
  const hex = createHash("sha256").update(`${seed}\u0000${key}`).digest("hex").slice(0, 12)
  return Number.parseInt(hex, 16) / 2 ** 48
}

/** The repository a `/v2/<name>/(tags|manifests|blobs)/…` path is for, if any. */
export const repositoryOfPath = (path: string): string | undefined =>
  /^\/v2\/(.+)\/(?:tags|manifests|blobs)\//.exec(path.split("?")[0]!)?.[1]

/** The fault of the `seen`-th time a request was sent (0 for the first), or undefined. */
export const chooseFault = (
  options: Pick<FaultProxyOptions, "failureRate" | "seed" | "kinds" | "failRepositories">,
  method: string,
  path: string,
  seen: number
): FaultKind | undefined => {
  const kinds = options.kinds ?? FAULT_KINDS
  if (kinds.length === 0) return undefined
  const key = `${method} ${path} #${seen}`
  const seed = options.seed ?? 1
  const repository = repositoryOfPath(path)
  const forced = repository !== undefined && (options.failRepositories ?? []).includes(repository)
  if (!forced && draw(seed, `rate ${key}`) >= (options.failureRate ?? 0)) return undefined
  return kinds[Math.floor(draw(seed, `kind ${key}`) * kinds.length)]!
}

const forward = (upstream: URL, req: IncomingMessage, res: ServerResponse, body: Buffer, fault: "truncated" | undefined): void => {
  const out = httpRequest({
    host: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path: req.url,
    // The Host the client used, so that URLs the registry builds point back through the proxy.
    headers: { ...req.headers, connection: "keep-alive" }
  }, (answer) => {
    const chunks: Array<Buffer> = []
    answer.on("data", (chunk: Buffer) => chunks.push(chunk))
    answer.on("end", () => {
      const whole = Buffer.concat(chunks)
      const headers = { ...answer.headers }
      delete headers["transfer-encoding"]
      delete headers["connection"]
      if (fault === "truncated" && whole.length > 1) {
        // The whole length announced, half the body sent, then the connection cut.
        res.writeHead(answer.statusCode ?? 502, { ...headers, "content-length": String(whole.length) })
        res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => res.socket?.destroy())
        return
      }
      if (fault === "truncated") {
        res.socket?.destroy()
        return
      }
      res.writeHead(answer.statusCode ?? 502, { ...headers, "content-length": String(whole.length) })
      res.end(req.method === "HEAD" ? undefined : whole)
    })
    answer.on("error", () => res.socket?.destroy())
  })
  out.on("error", () => res.socket?.destroy())
  out.end(body)
}

const hostileAnswer = (mode: HostileMode, req: IncomingMessage, res: ServerResponse, timers: Set<NodeJS.Timeout>): void => {
  switch (mode) {
    case "redirect-loop":
      res.writeHead(302, { location: req.url ?? "/", "content-length": "0" })
      res.end()
      return
    case "unfinished-body":
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
      res.write("{\"name\":")
      return
    case "drip": {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100000" })
      const timer = setInterval(() => {
        if (res.destroyed) {
          clearInterval(timer)
          timers.delete(timer)
          return
        }
        res.write(" ")
      }, 1000)
      timers.add(timer)
      return
    }
  }
}

/** Starts the proxy on a free loopback port. */
export const startFaultProxy = async (initial: FaultProxyOptions): Promise<FaultProxy> => {
  const upstream = new URL(initial.upstream)
  let options: FaultProxyOptions = initial
  const seen = new Map<string, number>()
  const requests: Array<ProxiedRequest> = []
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const method = req.method ?? "GET"
      const path = req.url ?? "/"
      if (options.hostile !== undefined) {
        requests.push({ method, path, fault: options.hostile })
        hostileAnswer(options.hostile, req, res, timers)
        return
      }
      const key = `${method} ${path}`
      const count = seen.get(key) ?? 0
      seen.set(key, count + 1)
      const fault = chooseFault(options, method, path, count)
      requests.push({ method, path, fault })
      switch (fault) {
        case undefined:
          return forward(upstream, req, res, Buffer.concat(chunks), undefined)
        case "truncated":
          return forward(upstream, req, res, Buffer.concat(chunks), "truncated")
        case "reset":
          req.socket.resetAndDestroy()
          return
        case "stall": {
          const timer = setTimeout(() => {
            timers.delete(timer)
            req.socket.destroy()
          }, options.stallMs ?? 60_000)
          timers.add(timer)
          return
        }
        case "429":
          res.writeHead(429, { "retry-after": String(options.retryAfterSeconds ?? 1), "content-type": "application/json" })
          res.end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "injected by the fault proxy" }] }))
          return
        default:
          res.writeHead(Number(fault), { "content-type": "text/plain" })
          res.end(`injected ${fault}`)
      }
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("the fault proxy has no TCP address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    host: `127.0.0.1:${address.port}`,
    requests,
    configure: (next) => {
      options = { ...next, upstream: initial.upstream }
      seen.clear()
      requests.length = 0
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
