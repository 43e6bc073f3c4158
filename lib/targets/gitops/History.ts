/**
 * @module History — pure: for `--strategy revert`, which commits to `git revert` so that an image
 * line declares its target again. Walking the branch's history of the file back from its head,
 * the newest commit at which the line declared the target is the baseline; every later commit
 * that changed the line (Flux's "Auto-release …" commits, or any) is reverted. No baseline (the
 * target was never declared on the branch) means revert cannot reach the target.
 */
import { parseImageReference, sameImage } from "../../core/ImageReference.ts"

/** One commit of a file's history and what the line declared there (undefined: absent or no image). */
export interface LineAtCommit {
  readonly commit: string
  readonly subject: string
  readonly image: string | undefined
}

/** True when two references name the same image (unparsable ones only when equal). */
export const sameDeclaredImage = (a: string | undefined, b: string | undefined): boolean => {
  if (a === undefined || b === undefined) return a === b
  const x = parseImageReference(a)
  const y = parseImageReference(b)
  return x !== undefined && y !== undefined ? sameImage(x, y) && (x.digest === undefined) === (y.digest === undefined) : a === b
}

/**
 * The commits (newest first) to revert so that the line declares `target` again, given its history
 * newest first; `undefined` when no commit of the history declares `target`.
 */
export const commitsToRevert = (history: ReadonlyArray<LineAtCommit>, target: string): ReadonlyArray<LineAtCommit> | undefined => {
  const baseline = history.findIndex((c) => sameDeclaredImage(c.image, target))
  if (baseline < 0) return undefined
  const out: Array<LineAtCommit> = []
  for (let i = 0; i < baseline; i++) {
    const older = history[i + 1]
    if (!sameDeclaredImage(history[i]!.image, older?.image)) out.push(history[i]!)
  }
  return out
}
