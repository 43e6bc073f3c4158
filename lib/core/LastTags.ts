/**
 * @module LastTags — which tags `get --last N` reads: per repository the N newest by what the tag
 * itself says (its build number, timestamp or version), decided before any manifest is read.
 *
 * Order `build`, `timestamp` and `semver` rank tags by that part. Order `created` (every preset,
 * seed 004's `1234-master` included) needs the build date, which only the manifest has; the tag's
 * build number (else its timestamp) stands in for it when the scheme has one, because both only
 * grow with time. A scheme with neither (`branch-sha`, `git-sha`, `semver` under `created`: a
 * hotfix 1.2.4 can be built after 2.0.0) cannot rank tags without their dates: then N applies
 * after dating ({@link keepNewestDated}), and every tag is read (the cache keeps dated ones free).
 */
import type { RegistryImage } from "./Image.ts"
import { effectiveTime } from "./Image.ts"
import type { ParsedTag, TagScheme } from "./TagScheme.ts"
import { compareSemver } from "./TagScheme.ts"

/** What tags are ranked by for `--last`: a part of the tag, or nothing (dates needed). */
export type LastRank = "build" | "timestamp" | "semver" | undefined

/** The tag part `--last` ranks a scheme's tags by; undefined when only dates can (read all, keep N after dating). */
export const lastRankOf = (scheme: TagScheme): LastRank => {
  if (scheme.order !== "created") return scheme.order
  const source = scheme.pattern.source
  if (/\(\?<build>/.test(source)) return "build"
  if (/\(\?<timestamp>/.test(source)) return "timestamp"
  return undefined
}

/** A sentence for people: how `--last N` chooses what to read under this scheme. */
export const describeLastRank = (scheme: TagScheme, n: number): string => {
  const rank = lastRankOf(scheme)
  if (rank === undefined) {
    return `the ${scheme.name} tag scheme's tags carry no build number or timestamp, so --last ${n} applies after dating: every tag is read (the cache keeps dated ones free) and the ${n} newest by date are kept`
  }
  const part = rank === "build" ? "build number" : rank === "timestamp" ? "timestamp" : "version"
  return `--last ${n} reads the ${n} tags with the greatest ${part} per repository (more only when some give no dated image)`
}

/** Compares two parsed tags newest first by `rank`; ties by tag name, greatest first (a total order). */
const compareNewestFirst = (rank: Exclude<LastRank, undefined>) =>
(
  a: { readonly tag: string; readonly parsed: ParsedTag },
  b: { readonly tag: string; readonly parsed: ParsedTag }
): number => {
  let d = 0
  if (rank === "build") d = (b.parsed.build ?? -1) - (a.parsed.build ?? -1)
  else if (rank === "timestamp") d = (b.parsed.timestamp ?? -1) - (a.parsed.timestamp ?? -1)
  else {
    const x = a.parsed.version
    const y = b.parsed.version
    d = x === undefined || y === undefined ? (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) : compareSemver(y, x)
  }
  return d !== 0 ? d : a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0
}

/**
 * The tags newest first by the scheme's {@link lastRankOf}, or undefined when the scheme cannot
 * rank them without dates. Tags the scheme does not parse go last.
 */
export const newestTagsFirst = (
  scheme: TagScheme,
  tags: ReadonlyArray<string>,
  parsed: (tag: string) => ParsedTag | undefined
): Array<string> | undefined => {
  const rank = lastRankOf(scheme)
  if (rank === undefined) return undefined
  const known: Array<{ tag: string; parsed: ParsedTag }> = []
  const unparsed: Array<string> = []
  for (const tag of tags) {
    const p = parsed(tag)
    if (p === undefined) unparsed.push(tag)
    else known.push({ tag, parsed: p })
  }
  known.sort(compareNewestFirst(rank))
  return [...known.map((k) => k.tag), ...unparsed]
}

/**
 * N applied after dating: of one repository's images, the `n` with the newest effective time
 * (ties by tag name, greatest first), and the images without a known date (so they are still
 * reported as such). `tagTime` gives a tag's own timestamp, when the scheme has one.
 */
export const keepNewestDated = (
  images: ReadonlyArray<RegistryImage>,
  n: number,
  tagTime: (tag: string) => number | undefined
): { readonly kept: ReadonlyArray<RegistryImage>; readonly dropped: number } => {
  const dated: Array<{ image: RegistryImage; time: number }> = []
  const undated: Array<RegistryImage> = []
  for (const image of images) {
    const time = effectiveTime(image.dates, tagTime(image.tag))
    if (time === undefined) undated.push(image)
    else dated.push({ image, time: time.time })
  }
  dated.sort((a, b) => b.time - a.time || (a.image.tag < b.image.tag ? 1 : a.image.tag > b.image.tag ? -1 : 0))
  const kept = dated.slice(0, Math.max(0, n)).map((d) => d.image)
  return { kept: [...kept, ...undated], dropped: dated.length - kept.length }
}
