#!/usr/bin/env sh
":" //; command -v node >/dev/null 2>&1 || { echo "fleet-rollback needs Node.js 22.19 or newer; there is no node on the PATH. Install Node.js 22.19 or newer (https://nodejs.org/en/download, your distribution's packages, or nvm) and put it first on the PATH." >&2; exit 2; }; exec node --max-semi-space-size=2 "$0" "$@"
/**
 * @module fleet-rollback.js — the `fleet-rollback` bin (package.json `bin`), the same file in a
 * checkout and in the installed package (`npm run demo`, `npm run fleet-rollback`, `npx
 * fleet-rollback`, the Jenkins stage script, the Ansible role). It checks the Node version first
 * (scripts/supported-node.js: an old Node gets a clear message and exit code 2), turns on Node's
 * compile cache under the user's cache directory (scripts/compile-cache.js), then runs:
 * - in a checkout, the TypeScript sources (scripts/fleet-rollback.ts): Node strips the types
 *   (Node >= 22.18 does, outside node_modules), else tsx, a devDependency;
 * - in the package, which ships no sources, the command line bundled at pack time
 *   (dist/bin/cli.js, built by `npm run build` from scripts/cli-node.ts), which needs nothing
 *   from node_modules. The bundle is loaded only after the version check, so an old Node never
 *   parses it, and it comes from the compile cache.
 *
 * Executed, the file is a shell script for its first two lines (to JavaScript the second is a
 * string and a comment): it starts the `node` on PATH (none: the same message and exit code 2
 * as for an old Node) with V8's young generation capped at
 * 2 MiB per semi-space. A command keeps ~45 MiB of live heap, but by default V8 lets the young
 * generation grow to ~100 MiB during a `get` of 10,000 images; with the cap the process peaks
 * at 190–215 MiB instead of ~280 MiB, for about 10% more client CPU (`npm run bench`). A flag on
 * `#!/usr/bin/env -S node …` would need GNU or BSD env: BusyBox's (Alpine) has no `-S`; the
 * first line is `#!/usr/bin/env sh` rather than `#!/bin/sh` because publint requires a bin to
 * start with `#!/usr/bin/env`. The flag can only be set when Node starts, so whatever runs this
 * file through `node` explicitly passes it too (package.json `demo`, the Ansible role).
 */
import { existsSync } from "node:fs"
import { enableUserCompileCache } from "./compile-cache.js"
import { exitUnlessSupportedNode } from "./supported-node.js"

exitUnlessSupportedNode()
enableUserCompileCache()

if (existsSync(new URL("./fleet-rollback.ts", import.meta.url))) {
  if (!process.features.typescript) {
    const { register } = await import("tsx/esm/api")
    register()
  }
  await import("./fleet-rollback.ts")
} else {
  await import("../dist/bin/cli.js")
}
