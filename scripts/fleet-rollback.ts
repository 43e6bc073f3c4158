#!/usr/bin/env node
/**
 * @module fleet-rollback — the command line's entry point (`tsx scripts/fleet-rollback.ts`, or
 * `node scripts/fleet-rollback.ts` on Node >= 22.19 in a checkout; the installed bin is
 * scripts/fleet-rollback.js). It checks the Node version before anything else is loaded, so an
 * old Node gets a clear message and exit code 2 instead of a crash inside a dependency, then
 * runs the runtime edge (scripts/cli-node.ts).
 */
import { exitUnlessSupportedNode } from "./supported-node.js"

exitUnlessSupportedNode()
await import("./cli-node.ts")
