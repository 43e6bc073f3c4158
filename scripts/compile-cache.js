/**
 * @module compile-cache — Node's compile cache for the command line, under the user's cache
 * directory, so that from the second start on V8 does not compile the bundle (or, in a checkout,
 * the ~500 modules) again. Used by the bin (scripts/fleet-rollback.js) before the command line
 * loads. Plain JavaScript, like supported-node.js: it runs before the Node version is known good.
 */
import module from "node:module"
import { homedir } from "node:os"

/**
 * Turns Node's compile cache on for what is imported from now on. The cache holds V8 code for
 * this user only: under $XDG_CACHE_HOME (default ~/.cache), never in a shared temporary
 * directory where another user could plant code. NODE_COMPILE_CACHE and
 * NODE_DISABLE_COMPILE_CACHE keep their meaning.
 */
export const enableUserCompileCache = () => {
  if (process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) return
  const cacheHome = process.env.XDG_CACHE_HOME || `${homedir()}/.cache`
  module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || `${cacheHome}/fleet-rollback/node-compile-cache`)
}
