/**
 * @module packedTarball — the npm package exactly as `npm pack` makes it, built in a temporary
 * copy of the project so that a test never writes `dist/` into the checkout (other tests may be
 * reading it): the copy (without node_modules, .git and dist) links the project's node_modules,
 * and `npm pack` there runs `prepack`, i.e. `npm run build` (scripts/build.ts).
 */
import { execFile } from "node:child_process"
import { cpSync, mkdirSync, readdirSync, symlinkSync } from "node:fs"
import { basename, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"

const projectRoot = fileURLToPath(new URL("../../", import.meta.url))

/** Top-level entries of the checkout that are not part of the project's sources. */
const NOT_COPIED = new Set(["node_modules", ".git", "dist", ".cache", ".prof"])

/** Packs the project into `dir` (a temporary directory of the caller) and returns the tarball's path. */
export const packProject = (dir: string): Promise<string> => {
  const copy = join(dir, "project-copy")
  mkdirSync(copy, { recursive: true })
  cpSync(projectRoot, copy, {
    recursive: true,
    filter: (source) => {
      const path = relative(projectRoot, source)
      const top = path.split(sep)[0] ?? ""
      return !NOT_COPIED.has(top) && !path.endsWith(".tgz") && !top.startsWith("dist.partial-")
    }
  })
  symlinkSync(join(projectRoot, "node_modules"), join(copy, "node_modules"), "dir")
  return new Promise((done, fail) =>
    execFile("npm", ["pack", "--pack-destination", dir], { cwd: copy, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))
      if (error !== null || tarball === undefined) fail(new Error(`npm pack (in a copy of the project) failed:\n${stdout}${stderr}`))
      else done(join(dir, basename(tarball)))
    })
  )
}
