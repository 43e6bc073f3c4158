// @ts-self-types="./supported-node.d.ts"
/**
 * @module supported-node — the one check of the Node.js version, run before anything else is
 * loaded: by the `fleet-rollback` bin (scripts/fleet-rollback.js) and by the entry point
 * itself (`tsx scripts/fleet-rollback.ts`). Plain JavaScript on purpose, so that an old Node
 * gets this message instead of a crash deep inside a dependency (undici needs Node >= 22.19).
 */

import { existsSync } from "node:fs"

/** The oldest Node.js fleet-rollback supports (package.json `engines`). */
export const MINIMUM_NODE = "22.19"

/**
 * The message for an unsupported Node, or `undefined` when this runtime is fine (a Node.js >=
 * 22.19, or not Node at all: Deno reports a `process.versions.node` of its own and is checked
 * by `deno` itself).
 * @param {{ readonly node?: string | undefined, readonly deno?: string | undefined }} versions
 * @param {string} executable
 * @param {boolean} inCheckout true when run from a checkout of this project (not an installed package)
 * @returns {string | undefined}
 */
export const unsupportedNodeMessage = (versions, executable, inCheckout) => {
  if (versions.deno !== undefined || versions.node === undefined) return undefined
  const [major = 0, minor = 0] = versions.node.split(".").map(Number)
  const [needMajor = 0, needMinor = 0] = MINIMUM_NODE.split(".").map(Number)
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined
  return [
    `fleet-rollback needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${versions.node} (${executable}).`,
    `Install Node.js ${MINIMUM_NODE} or newer (https://nodejs.org/en/download, your distribution's packages, or nvm) and put it first on the PATH.`,
    ...(inCheckout ? ["In this checkout, `npm run fleet-rollback -- …` or `npx fleet-rollback …` use the Node 24 that `npm ci` installed."] : []),
    ""
  ].join("\n")
}

/** Exits with code 2 (bad input, nothing changed) and the message when this Node is too old. */
export const exitUnlessSupportedNode = () => {
  const process = globalThis.process
  // A checkout has the TypeScript sources next to this file; the package (installed, or in the
  // container image) ships none.
  const inCheckout = existsSync(new URL("./fleet-rollback.ts", import.meta.url))
  const message = unsupportedNodeMessage(process.versions, process.execPath, inCheckout)
  if (message === undefined) return
  process.stderr.write(message)
  process.exit(2)
}
