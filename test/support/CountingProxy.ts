/**
 * @module CountingProxy — a loopback HTTP proxy in front of a real registry that records every
 * request (method, path, Accept) and may rewrite requests on the way, e.g. drop `Accept` as a
 * badly configured proxy does (the registry then answers with a schema1 conversion).
 *
 * Test harness code: plain Node APIs and async on purpose.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/** One request the proxy forwarded. */
export interface ProxiedRequest {
  readonly method: string
  readonly path: string
  readonly accept: string | undefined
}

/** A running proxy. */
export interface CountingProxy {
  /** Base URL to give the client instead of the registry's. */
  readonly url: string
  /** Every request forwarded so far, in order. */
  readonly requests: Array<ProxiedRequest>
  /** Requests whose method is `method` and whose path contains `/manifests/`. */
  readonly manifestRequests: (method: "GET" | "HEAD") => ReadonlyArray<ProxiedRequest>
  readonly close: () => Promise<void>
}

/**
 * Starts a proxy on 127.0.0.1:0 forwarding to `target`. `dropAccept(path)` true removes the
 * request's `Accept` header before forwarding.
 */
export const startCountingProxy = async (
  target: string,
  options: { readonly dropAccept?: (method: string, path: string) => boolean } = {}
): Promise<CountingProxy> => {
  const upstream = new URL(target)
  const requests: Array<ProxiedRequest> = []
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/"
    const method = req.method ?? "GET"
    const headers = { ...req.headers, host: upstream.host }
    if (options.dropAccept?.(method, path) === true) delete headers["accept"]
    requests.push({ method, path, accept: typeof headers["accept"] === "string" ? headers["accept"] : undefined })
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method, path, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forward.on("error", (error) => {
      res.writeHead(502)
      res.end(String(error))
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    manifestRequests: (method) => requests.filter((r) => r.method === method && r.path.includes("/manifests/")),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
