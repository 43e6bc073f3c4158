#!/usr/bin/env sh
":" //; command -v node >/dev/null 2>&1 || { echo "fleet-rollback needs Node.js 22.19 or newer; there is no node on the PATH. Install Node.js 22.19 or newer (https://nodejs.org/en/download, your distribution's packages, or nvm) and put it first on the PATH." >&2; exit 2; }; exec node --max-semi-space-size=2 "$0" "$@"
/**
 * @module fleet-rollback.js — the `fleet-rollback` bin of a checkout (`npm run demo`,
 * `npm run fleet-rollback`, `node scripts/fleet-rollback.js`, the Jenkins stage script and the
 * Ansible role pointed at a project directory). It runs the TypeScript sources: Node itself
 * strips the types (Node >= 22.18 does, outside node_modules), else tsx (a devDependency).
 * The packed package's bin is built from the same pieces by `npm run build` (`prepack`):
 * dist/bin/fleet-rollback.js with these two shell lines, the version check and the compile
 * cache, and the command line bundled into dist/bin/cli.js (scripts/fleet-rollback-bundle.js).
 * An old Node gets a clear message and exit code 2 first (scripts/supported-node.js); Node's
 * compile cache lives under the user's cache directory (scripts/compile-cache.js).
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
import { enableUserCompileCache } from "./compile-cache.js"
import { exitUnlessSupportedNode } from "./supported-node.js"

exitUnlessSupportedNode()
enableUserCompileCache()

if (!process.features.typescript) {
  const { register } = await import("tsx/esm/api")
  register()
}
await import("./fleet-rollback.ts")
