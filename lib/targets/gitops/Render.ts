/**
 * @module Render — `kubectl kustomize` over the kustomizations a change touches, before anything
 * is committed: a kustomization that no longer renders (a broken edit, a file it names that is
 * gone) refuses the run with kubectl's own words.
 */
import { Effect } from "effect"
import { join } from "node:path"
import { GitOpsError, scrubCredentials } from "./GitOpsError.ts"
import { dirOf, isKustomizationFile } from "./ImageFiles.ts"
import { runProcess } from "./Process.ts"

/**
 * The kustomization directories to render for the touched files: a touched kustomization's own
 * directory, and for any other touched file the nearest directory above it (or its own) that has
 * a kustomization. `files` are every file of the tree.
 */
export const kustomizationsToRender = (touched: ReadonlyArray<string>, files: ReadonlyArray<string>): ReadonlyArray<string> => {
  const withKustomization = new Set(files.filter(isKustomizationFile).map(dirOf))
  const dirs = new Set<string>()
  for (const file of touched) {
    let dir = dirOf(file)
    for (;;) {
      if (withKustomization.has(dir)) {
        dirs.add(dir)
        break
      }
      if (dir === "") break
      dir = dirOf(dir)
    }
  }
  return [...dirs].sort()
}

/** Renders each directory under `root` with `kubectl kustomize`; fails with `RenderFailed` naming the first that does not render. */
export const renderKustomizations = Effect.fn("Render.kustomize")(function*(kubectl: string, root: string, dirs: ReadonlyArray<string>) {
  for (const dir of dirs) {
    const result = yield* runProcess(kubectl, ["kustomize", join(root, dir)]).pipe(
      Effect.mapError((e) => new GitOpsError({ reason: "Missing", message: e.message }))
    )
    if (result.code !== 0) {
      const said = scrubCredentials(result.stderr.trim().split(root + "/").join("").split(root).join(".").split("\n").slice(-5).join("\n"))
      return yield* new GitOpsError({
        reason: "RenderFailed",
        message: `kubectl kustomize ${dir === "" ? "." : dir} fails after the change, so nothing was committed or pushed: ${said}`
      })
    }
  }
})
