/**
 * @module bench/support/skopeo — the scripted baseline: `skopeo inspect` once per tag, one after
 * the other, as a shell loop would. A sample is timed and scaled to the whole fleet.
 */
import { existsSync } from "node:fs"
import { delimiter, join } from "node:path"
import { runChild } from "./processes.ts"

/** Where `skopeo` is on PATH, or undefined. */
export const findSkopeo = (): string | undefined => {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir, "skopeo")
    if (dir !== "" && existsSync(candidate)) return candidate
  }
  return undefined
}

/** What the sample took. */
export interface SkopeoResult {
  readonly sample: number
  readonly millis: number
  readonly perImageMillis: number
}

/** Runs `skopeo inspect --tls-verify=false docker://<host>/<repo>:<tag>` for each reference in turn. */
export const runSkopeoSample = async (
  skopeo: string,
  host: string,
  references: ReadonlyArray<{ readonly repository: string; readonly tag: string }>
): Promise<SkopeoResult> => {
  const started = performance.now()
  for (const { repository, tag } of references) {
    const result = await runChild(skopeo, ["inspect", "--tls-verify=false", `docker://${host}/${repository}:${tag}`], { timeoutMs: 30_000 })
    if (result.code !== 0) {
      throw new Error(`skopeo inspect ${repository}:${tag} failed (exit ${result.code}${result.timedOut ? ", timed out" : ""}): ${result.stderr.slice(-500)}`)
    }
    const created = (JSON.parse(result.stdout) as { Created?: string }).Created
    if (created === undefined) throw new Error(`skopeo inspect ${repository}:${tag} printed no Created date`)
  }
  const millis = performance.now() - started
  return { sample: references.length, millis, perImageMillis: millis / Math.max(1, references.length) }
}
