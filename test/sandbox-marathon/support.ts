/**
 * @module support — helpers for the sandbox tests: JSON over real HTTP, the reference files
 * from `../shared/marathon-api/`, and waiting for a condition.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/**
 * Root of the Marathon reference material (RAML, examples, old docs): `../shared/marathon-api/marathon`
 * beside the repository (this file is `test/sandbox-marathon/support.ts`), or `MARATHON_API_DIR`.
 */
export const MARATHON_API = process.env.MARATHON_API_DIR ?? fileURLToPath(new URL("../../../shared/marathon-api/marathon", import.meta.url))

/** Reads a JSON file relative to {@link MARATHON_API}. */
export const reference = <A = unknown>(path: string): A => JSON.parse(readFileSync(join(MARATHON_API, path), "utf8")) as A

/** The example app definitions in `example-apps/`, by file name. */
export const exampleApps = (): ReadonlyArray<{ readonly file: string; readonly app: Record<string, unknown> }> =>
  readdirSync(join(MARATHON_API, "example-apps"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, app: reference<Record<string, unknown>>(join("example-apps", file)) }))

/** One HTTP answer, body parsed as JSON when it is JSON. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: any
  readonly text: string
}

/** Sends `body` as JSON (when given) and reads the answer. */
export const call = async (
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Reply> => {
  const res = await fetch(url, {
    method,
    headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {})
  })
  const text = await res.text()
  let parsed: unknown = undefined
  if ((res.headers.get("content-type") ?? "").includes("application/json") && text !== "") parsed = JSON.parse(text)
  return { status: res.status, headers: res.headers, body: parsed, text }
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
export const waitFor = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Sorted keys of an object. */
export const keys = (o: unknown): ReadonlyArray<string> => Object.keys(o as object).sort()

/** A small app like the ones in the demo fleet. */
export const shopApp = (id: string, image: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  instances: 2,
  cpus: 0.25,
  mem: 256,
  container: {
    type: "DOCKER",
    docker: { image, forcePullImage: false, parameters: [{ key: "log-driver", value: "journald" }] },
    portMappings: [{ containerPort: 8080, hostPort: 0, protocol: "tcp", name: "http" }],
    volumes: [{ containerPath: "/data", hostPath: "/srv/data", mode: "RW" }]
  },
  healthChecks: [{ protocol: "MESOS_HTTP", path: "/health", portIndex: 0 }],
  labels: { team: "shop", env: "prod" },
  ...extra
})
