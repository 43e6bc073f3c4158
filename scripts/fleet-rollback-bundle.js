/**
 * @module fleet-rollback-bundle — the entry that `npm run build` (scripts/build.ts, run by
 * `prepack`) bundles with esbuild into the packed bin, dist/bin/fleet-rollback.js. The Node
 * version check and the compile cache are in this small first file; the command line itself
 * (scripts/cli-node.ts with effect, undici and yaml) is one bundled chunk beside it,
 * dist/bin/cli.js, loaded only once the version is known good — so an old Node gets the
 * message, never a syntax error from the bundle, and the bundle is read from the compile cache
 * (the HTTP stack, undici included, is a chunk of its own that only commands talking to a server load).
 * The two shell lines at the top of dist/bin/fleet-rollback.js are scripts/fleet-rollback.js's.
 */
import { enableUserCompileCache } from "./compile-cache.js"
import { exitUnlessSupportedNode } from "./supported-node.js"

exitUnlessSupportedNode()
enableUserCompileCache()
await import("./cli-node.ts")
