/**
 * @module oldNode — a `node` older than the 22.19 fleet-rollback needs, as on the hosts it meets
 * (Debian 12 and this machine ship Node 20 as /usr/bin/node). When the system's Node is not old,
 * a stand-in that reports 20.20.2 as its version (the version check is what is under test).
 */
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const isOld = (version: string): boolean => {
  const [major = 0, minor = 0] = version.split(".").map(Number)
  return major < 22 || (major === 22 && minor < 19)
}

/** Makes `<dir>/node` an old Node and returns `dir` (put it first on a PATH). */
export const oldNodeDir = (dir: string): { readonly dir: string; readonly version: string } => {
  mkdirSync(dir, { recursive: true })
  const system = "/usr/bin/node"
  const systemVersion = existsSync(system) ? execFileSync(system, ["-p", "process.versions.node"], { encoding: "utf8" }).trim() : undefined
  if (systemVersion !== undefined && isOld(systemVersion)) {
    symlinkSync(system, join(dir, "node"))
    return { dir, version: systemVersion }
  }
  const preload = join(dir, "old-node-version.cjs")
  writeFileSync(preload, `Object.defineProperty(process.versions, "node", { value: "20.20.2" })\n`)
  writeFileSync(join(dir, "node"), `#!/bin/sh\nexec '${process.execPath}' --require '${preload}' "$@"\n`)
  chmodSync(join(dir, "node"), 0o755)
  return { dir, version: "20.20.2" }
}
