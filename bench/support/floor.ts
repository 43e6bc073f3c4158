/**
 * @module bench/support/floor — the floor baseline: a minimal client that issues exactly the
 * requests a cold `get` needs (tags/list per repository, one manifest GET per tag with the four
 * Accept types, the config blob GET where the real client fetched it) over an undici keep-alive
 * Agent at the same concurrency per host, and does nothing else: no digest checks, no schema
 * decoding, no cache, no retries.
 */
import { Agent, request } from "undici"

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

const CREATED = "org.opencontainers.image.created"

/** Which config blobs the floor fetches: every image's, or only those whose manifest has no created annotation. */
export type FloorConfigs = "all" | "without-annotation"

/** What the floor did. */
export interface FloorResult {
  readonly millis: number
  readonly requests: number
  readonly byKind: Readonly<Record<string, number>>
  readonly images: number
}

/** A counting semaphore: at most `limit` tasks at once. */
const limiter = (limit: number) => {
  let active = 0
  const waiting: Array<() => void> = []
  return async <A>(task: () => Promise<A>): Promise<A> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    else active++
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next !== undefined) next()
      else active--
    }
  }
}

/** Runs the floor client over `repositories` at `url` with `concurrency` requests at once. */
export const runFloor = async (options: {
  readonly url: string
  readonly repositories: ReadonlyArray<string>
  readonly concurrency: number
  readonly configs: FloorConfigs
}): Promise<FloorResult> => {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 30_000 })
  const limit = limiter(options.concurrency)
  const byKind: Record<string, number> = { tags: 0, manifest: 0, blob: 0 }
  let images = 0
  const get = (kind: string, path: string, accept?: string) =>
    limit(async () => {
      byKind[kind] = (byKind[kind] ?? 0) + 1
      const response = await request(`${options.url}${path}`, {
        dispatcher: agent,
        method: "GET",
        ...(accept === undefined ? {} : { headers: { accept } })
      })
      const text = await response.body.text()
      if (response.statusCode !== 200) throw new Error(`floor: GET ${path} answered ${response.statusCode}: ${text.slice(0, 200)}`)
      return text
    })
  const started = performance.now()
  try {
    await Promise.all(options.repositories.map(async (repository) => {
      const list = JSON.parse(await get("tags", `/v2/${repository}/tags/list?n=1000`, "application/json")) as { tags: Array<string> | null }
      await Promise.all((list.tags ?? []).map(async (tag) => {
        const manifest = JSON.parse(await get("manifest", `/v2/${repository}/manifests/${tag}`, MANIFEST_ACCEPT)) as {
          config?: { digest: string }
          annotations?: Record<string, string>
        }
        images++
        const needed = options.configs === "all" || manifest.annotations?.[CREATED] === undefined
        if (needed && manifest.config !== undefined) await get("blob", `/v2/${repository}/blobs/${manifest.config.digest}`)
      }))
    }))
    const millis = performance.now() - started
    const requests = Object.values(byKind).reduce((a, b) => a + b, 0)
    return { millis, requests, byKind, images }
  } finally {
    await agent.close()
  }
}
