#!/bin/sh
":" //; command -v node >/dev/null 2>&1 || { echo "fleet-rollback needs Node.js 22.19 or newer; there is no node on the PATH. Install Node.js 22.19 or newer (https://nodejs.org/en/download, your distribution's packages, or nvm) and put it first on the PATH." >&2; exit 2; }; exec node --max-semi-space-size=2 "$0" "$@"
/**
 * @module fleet-rollback.js — the `fleet-rollback` bin (package.json `bin`, `npm run demo`).
 * The package ships its TypeScript sources and has no build step, so this file decides how they
 * run, as cheaply as the Node at hand allows:
 * - in a checkout, Node itself strips the types (Node >= 22.18 does, outside node_modules);
 * - installed (under node_modules, where Node refuses to strip types), through tsx;
 * - either way with Node's compile cache under the user's cache directory, so from the second
 *   start on V8 does not compile the ~500 modules again.
 * An old Node gets a clear message and exit code 2 first (scripts/supported-node.js).
 *
 * Executed, the file is a shell script for its first two lines (to JavaScript the second is a
 * string and a comment): it starts the `node` on PATH (none: the same message and exit code 2
 * as for an old Node) with V8's young generation capped at
 * 2 MiB per semi-space. A command keeps ~45 MiB of live heap, but by default V8 lets the young
 * generation grow to ~100 MiB during a `get` of 10,000 images; with the cap the process peaks
 * at 190–215 MiB instead of ~280 MiB, for about 10% more client CPU (`npm run bench`). A flag on
 * `#!/usr/bin/env -S node …` would need GNU or BSD env: BusyBox's (Alpine) has no `-S`. The
 * flag can only be set when Node starts, so whatever runs this file through `node` explicitly
 * passes it too (package.json `demo`, the Ansible role).
 */
import { exitUnlessSupportedNode } from "./supported-node.js"

exitUnlessSupportedNode()

const { default: module } = await import("node:module")
const { homedir } = await import("node:os")
const { fileURLToPath } = await import("node:url")

// The cache holds V8 code for this user only: under ~/.cache, never in a shared temporary
// directory where another user could plant code. NODE_COMPILE_CACHE / NODE_DISABLE_COMPILE_CACHE
// keep their meaning.
if (process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  const cacheHome = process.env.XDG_CACHE_HOME || `${homedir()}/.cache`
  module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || `${cacheHome}/fleet-rollback/node-compile-cache`)
}

const installed = fileURLToPath(import.meta.url).split(/[\\/]/).includes("node_modules")
if (installed || !process.features.typescript) {
  const { register } = await import("tsx/esm/api")
  register()
}
await import("./fleet-rollback.ts")
