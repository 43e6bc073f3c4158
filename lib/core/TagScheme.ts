/**
 * @module TagScheme — how a service's tags encode build number, branch/environment, time and revision.
 *
 * Presets cover the tag conventions of the seeds; a custom scheme is a regular expression with
 * named groups plus an ordering, as Flux's ImagePolicy and Kargo do. Tags that match no scheme
 * (`latest`, `main`, `production`, digests) are ignored and counted, never an error.
 */
import { parseIsoInstant } from "./TimeZone.ts"

/**
 * Which of a service's images available at a point (effective time ≤ the point) is its target,
 * as Flux's ImagePolicy and Kargo choose: `created` (the default) the newest (ties by build,
 * version, tag); `build` the greatest build number; `semver` the greatest version (SemVer
 * precedence: 1.2.4 built after 2.0.0 does not replace it); `timestamp` the greatest tag
 * timestamp. Ties by effective time, then tag.
 */
export type TagOrder = "build" | "timestamp" | "semver" | "created"

/** What a tag says about its image, as far as the scheme can tell. */
export interface ParsedTag {
  /** Build number (numeric, compared as a number: 99 < 100). */
  readonly build?: number | undefined
  /** Environment or branch the tag belongs to (`master`, `production`, `develop`). */
  readonly env?: string | undefined
  /** Instant embedded in the tag, epoch milliseconds UTC. */
  readonly timestamp?: number | undefined
  /** Source revision embedded in the tag. */
  readonly sha?: string | undefined
  /** Semantic version embedded in the tag (without a leading `v`). */
  readonly version?: string | undefined
}

/** A tag scheme: a name, a matcher and the tie-break ordering. */
export interface TagScheme {
  /** Preset name or `custom`. */
  readonly name: string
  /** Human description for help texts and errors. */
  readonly description: string
  /** The regular expression with named groups (`build`, `env`/`branch`, `timestamp`, `sha`, `version`). */
  readonly pattern: RegExp
  /** Format of the `timestamp` group, e.g. `YYYYMMDDHHmmss` (UTC), `unix`, `unixms`, `iso`. */
  readonly timestampFormat: string
  /** How the target is chosen among the available images (see {@link TagOrder}). */
  readonly order: TagOrder
  /** A custom scheme's pattern as given (before it is anchored), for `rollback.json`. */
  readonly source?: string | undefined
}

/** The preset schemes, by name. */
export const TAG_SCHEME_PRESETS: Readonly<Record<string, TagScheme>> = {
  "build-branch": {
    name: "build-branch",
    description: "build number then branch, e.g. 1234-master (seed 004)",
    pattern: /^(?<build>\d+)-(?<env>[A-Za-z0-9][A-Za-z0-9._/-]*)$/,
    timestampFormat: "YYYYMMDDHHmmss",
    order: "created"
  },
  "env-timestamp-sha": {
    name: "env-timestamp-sha",
    description: "environment, UTC timestamp and git sha, e.g. production-20210929025643-7995c5bb… (seed 000)",
    pattern: /^(?<env>[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*)-(?<timestamp>\d{14})-(?<sha>[0-9a-f]{7,40})$/,
    timestampFormat: "YYYYMMDDHHmmss",
    order: "created"
  },
  "branch-sha": {
    name: "branch-sha",
    description: "branch then short git sha, e.g. master-26a4b87 (seed 001)",
    pattern: /^(?<env>[A-Za-z][A-Za-z0-9._/-]*?)-(?<sha>[0-9a-f]{7,40})$/,
    timestampFormat: "YYYYMMDDHHmmss",
    order: "created"
  },
  "git-sha": {
    name: "git-sha",
    description: "git- then the git sha, e.g. git-abc1234 (seed 002)",
    pattern: /^git-(?<sha>[0-9a-f]{7,40})$/,
    timestampFormat: "YYYYMMDDHHmmss",
    order: "created"
  },
  semver: {
    name: "semver",
    description: "semantic version, e.g. v1.2.3 or 1.2.3-rc.1",
    pattern:
      /^v?(?<version>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-(?:[0-9A-Za-z-]+)(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)$/,
    timestampFormat: "YYYYMMDDHHmmss",
    order: "created"
  }
}

/** The names of the preset schemes. */
export const TAG_SCHEME_NAMES: string[] = Object.keys(TAG_SCHEME_PRESETS)

const GROUP_NAMES = new Set(["build", "env", "branch", "timestamp", "sha", "version"])
const ORDERS: ReadonlyArray<TagOrder> = ["build", "timestamp", "semver", "created"]

/** Why a scheme definition was refused; `message` says what was expected and what came. */
export interface TagSchemeProblem {
  readonly _tag: "TagSchemeProblem"
  readonly message: string
}

/**
 * Resolves a scheme from a preset name, or a custom `{pattern, order, timestampFormat}`;
 * a string that is not a preset name is taken as a custom pattern when it has named groups.
 */
export const resolveTagScheme = (
  spec: string | { readonly pattern: string; readonly order?: string | undefined; readonly timestampFormat?: string | undefined }
): TagScheme | TagSchemeProblem => {
  if (typeof spec === "string") {
    const preset = TAG_SCHEME_PRESETS[spec]
    if (preset !== undefined) return preset
    if (!spec.includes("(?<")) {
      return problem(
        `unknown tag scheme "${spec}": expected one of ${TAG_SCHEME_NAMES.join(", ")}, or a regular expression with named groups such as (?<build>\\d+)-(?<env>\\w+)`
      )
    }
    return customScheme(spec, undefined, undefined)
  }
  return customScheme(spec.pattern, spec.order, spec.timestampFormat)
}

const problem = (message: string): TagSchemeProblem => ({ _tag: "TagSchemeProblem", message })

const customScheme = (
  source: string,
  order: string | undefined,
  timestampFormat: string | undefined
): TagScheme | TagSchemeProblem => {
  let pattern: RegExp
  try {
    // every pattern matches the whole tag, whatever anchors it has: `^(?<build>\d+)` must not
    // read `12-anything-else` as build 12 (Flux and Kargo match whole tags too)
    pattern = new RegExp(`^(?:${source})$`)
  } catch (error) {
    return problem(`the tag scheme pattern ${JSON.stringify(source)} is not a valid regular expression: ${String(error)}`)
  }
  const groups = [...source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1] ?? "")
  if (groups.length === 0) {
    return problem(`the tag scheme pattern ${JSON.stringify(source)} has no named group: use (?<build>…), (?<env>…), (?<timestamp>…), (?<sha>…) or (?<version>…)`)
  }
  const unknown = groups.filter((g) => !GROUP_NAMES.has(g))
  if (unknown.length > 0) {
    return problem(`the tag scheme pattern uses unknown group(s) ${unknown.join(", ")}: expected build, env, branch, timestamp, sha, version`)
  }
  // the default is today's rule, the newest image; other orders are asked for by name
  const resolvedOrder = order ?? "created"
  if (!ORDERS.includes(resolvedOrder as TagOrder)) {
    return problem(`unknown tag order "${resolvedOrder}": expected one of ${ORDERS.join(", ")}`)
  }
  const needed = ORDER_GROUPS[resolvedOrder as TagOrder]
  if (needed !== undefined && !groups.includes(needed)) {
    return problem(
      `the tag order "${resolvedOrder}" compares the (?<${needed}>…) group, but the pattern ${JSON.stringify(source)} has none: add it, or use order "created" (the newest image)`
    )
  }
  const format = timestampFormat ?? "YYYYMMDDHHmmss"
  if (!TIMESTAMP_FORMATS.has(format)) {
    return problem(`unknown timestamp format "${format}": expected one of ${[...TIMESTAMP_FORMATS].join(", ")}`)
  }
  return { name: "custom", description: `custom pattern ${source}`, pattern, timestampFormat: format, order: resolvedOrder as TagOrder, source }
}

/** The group an order compares (`created` compares effective times). */
const ORDER_GROUPS: Readonly<Record<TagOrder, string | undefined>> = { build: "build", semver: "version", timestamp: "timestamp", created: undefined }

const TIMESTAMP_FORMATS = new Set(["YYYYMMDDHHmmss", "YYYYMMDDHHmm", "YYYYMMDD", "YYYY-MM-DDTHH-mm-ss", "unix", "unixms", "iso"])

/** Parses a timestamp of a tag in the given format as UTC; undefined when it is not a real instant. */
export const parseTagTimestamp = (text: string, format: string): number | undefined => {
  switch (format) {
    case "unix":
      return /^\d{9,11}$/.test(text) ? Number(text) * 1000 : undefined
    case "unixms":
      return /^\d{12,14}$/.test(text) ? Number(text) : undefined
    case "iso":
      return parseIsoInstant(text)
    default: {
      const digits = text.replace(/[^0-9]/g, "")
      const lengths: Record<string, number> = { YYYYMMDDHHmmss: 14, YYYYMMDDHHmm: 12, YYYYMMDD: 8, "YYYY-MM-DDTHH-mm-ss": 14 }
      if (digits.length !== lengths[format]) return undefined
      const part = (from: number, to: number) => Number(digits.slice(from, to) || "0")
      const [y, mo, d, h, mi, s] = [part(0, 4), part(4, 6), part(6, 8), part(8, 10), part(10, 12), part(12, 14)]
      if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined
      const millis = Date.UTC(y, mo - 1, d, h, mi, s)
      // reject 20210231 and the like: the date must round-trip
      const check = new Date(millis)
      if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return undefined
      return millis
    }
  }
}

/** A scheme's pattern with its named groups turned into numbered ones, and where each name went. */
interface CompiledPattern {
  readonly regex: RegExp
  readonly groups: ReadonlyArray<readonly [name: string, indices: ReadonlyArray<number>]>
}

const compiledPatterns = new WeakMap<RegExp, CompiledPattern | null>()

/**
 * Named groups make V8 build a `groups` object per match, which is most of the cost of parsing a
 * million tags; the same pattern with numbered groups is several times faster. Null when the
 * pattern cannot be rewritten safely (back-references by name, `v`-flag nested classes).
 */
const compilePattern = (pattern: RegExp): CompiledPattern | null => {
  const cached = compiledPatterns.get(pattern)
  if (cached !== undefined) return cached
  const source = pattern.source
  let compiled: CompiledPattern | null = null
  if (!source.includes("\\k<") && !pattern.flags.includes("v")) {
    const indices = new Map<string, Array<number>>()
    let rewritten = ""
    let group = 0
    let inClass = false
    for (let i = 0; i < source.length; i++) {
      const c = source[i]!
      if (c === "\\") {
        rewritten += source.slice(i, i + 2)
        i++
        continue
      }
      if (inClass) {
        if (c === "]") inClass = false
      } else if (c === "[") {
        inClass = true
      } else if (c === "(") {
        const named = /^\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>/.exec(source.slice(i, i + 40))
        if (named !== null) {
          group++
          const list = indices.get(named[1]!) ?? []
          list.push(group)
          indices.set(named[1]!, list)
          rewritten += "("
          i += named[0].length - 1
          continue
        }
        if (source[i + 1] !== "?") group++
      }
      rewritten += c
    }
    try {
      compiled = { regex: new RegExp(rewritten, pattern.flags.replace(/[gy]/g, "")), groups: [...indices] }
    } catch {
      compiled = null
    }
  }
  compiledPatterns.set(pattern, compiled)
  return compiled
}

/** The first non-empty capture among a group's numbered indices (a name may occur twice). */
const capture = (match: RegExpExecArray, indices: ReadonlyArray<number> | undefined): string | undefined => {
  if (indices === undefined) return undefined
  for (let i = 0; i < indices.length; i++) {
    const value = match[indices[i]!]
    if (value !== undefined) return value
  }
  return undefined
}

/** Where each known group of a compiled pattern went (the env group also takes `branch`). */
const groupIndices = new WeakMap<CompiledPattern, Readonly<Record<"build" | "env" | "timestamp" | "sha" | "version", ReadonlyArray<number> | undefined>>>()

const indicesOf = (compiled: CompiledPattern) => {
  let found = groupIndices.get(compiled)
  if (found === undefined) {
    const of = (name: string) => compiled.groups.find(([n]) => n === name)?.[1]
    const env = [...(of("env") ?? []), ...(of("branch") ?? [])]
    found = { build: of("build"), env: env.length > 0 ? env : undefined, timestamp: of("timestamp"), sha: of("sha"), version: of("version") }
    groupIndices.set(compiled, found)
  }
  return found
}

/** Parses a tag with a scheme; `undefined` when the tag does not match (it is then ignored and counted). */
export const parseTag = (scheme: TagScheme, tag: string): ParsedTag | undefined => {
  let build: string | undefined
  let env: string | undefined
  let timestampText: string | undefined
  let sha: string | undefined
  let version: string | undefined
  const compiled = compilePattern(scheme.pattern)
  if (compiled === null) {
    const match = scheme.pattern.exec(tag)
    if (match === null) return undefined
    const g = match.groups ?? {}
    build = g.build
    env = g.env ?? g.branch
    timestampText = g.timestamp
    sha = g.sha
    version = g.version
  } else {
    // numbered groups, read straight from the match: no `groups` object per tag
    const match = compiled.regex.exec(tag)
    if (match === null) return undefined
    const at = indicesOf(compiled)
    build = capture(match, at.build)
    env = capture(match, at.env)
    timestampText = capture(match, at.timestamp)
    sha = capture(match, at.sha)
    version = capture(match, at.version)
  }
  const result: { -readonly [K in keyof ParsedTag]: ParsedTag[K] } = {}
  if (build !== undefined) {
    const number = Number(build)
    if (!Number.isSafeInteger(number)) return undefined
    result.build = number
  }
  if (env !== undefined) result.env = env
  if (timestampText !== undefined) {
    const timestamp = parseTagTimestamp(timestampText, scheme.timestampFormat)
    if (timestamp === undefined) return undefined
    result.timestamp = timestamp
  }
  if (sha !== undefined) result.sha = sha
  if (version !== undefined) result.version = version
  return result
}

/** True for a digest (or a cosign-style `sha256-…` artifact tag) found in a tag list. */
export const isDigestTag = (tag: string): boolean =>
  tag.startsWith("sha") && (/^(sha256|sha512):[0-9a-f]{32,}$/.test(tag) || /^sha256-[0-9a-f]{64}/.test(tag))

const environmentParts = new WeakMap<RegExp, boolean>()

/**
 * True when the scheme's tags name an environment or branch (an `env` or `branch` group). A
 * scheme without one (semver, git-sha, most custom patterns) cannot tell environments apart, so
 * an environment filter does not apply to it: filtering would drop every tag.
 */
export const hasEnvironmentPart = (scheme: TagScheme): boolean => {
  let has = environmentParts.get(scheme.pattern)
  if (has === undefined) {
    has = /\(\?<(?:env|branch)>/.test(scheme.pattern.source)
    environmentParts.set(scheme.pattern, has)
  }
  return has
}

/**
 * The environment/branch a scheme's tags are filtered by: `environment` when the scheme has an
 * environment part, else undefined (no filter; {@link environmentNote} says so).
 */
export const effectiveEnvironmentFilter = (scheme: TagScheme, environment: string | undefined): string | undefined =>
  environment !== undefined && hasEnvironmentPart(scheme) ? environment : undefined

/**
 * For operators, when an environment was asked for but the scheme cannot apply it: `the semver
 * tag scheme has no environment part, so tags are not filtered by "master"; …`. Else undefined.
 */
export const environmentNote = (scheme: TagScheme, environment: string | undefined): string | undefined =>
  environment === undefined || hasEnvironmentPart(scheme)
    ? undefined
    : `the ${scheme.name} tag scheme has no environment part, so tags are not filtered by "${environment}"; every tag of the scheme is read`

/** Why a tag was left out of the timeline. */
export type IgnoredReason = "no-scheme-match" | "other-environment" | "digest-in-tag-list" | "marked-bad"

/**
 * Classifies a tag: parsed, or ignored with a reason. `environment` keeps only that env/branch
 * when the scheme has an environment part ({@link hasEnvironmentPart}); otherwise it filters nothing.
 */
export const classifyTag = (
  scheme: TagScheme,
  tag: string,
  environment: string | undefined
): { readonly _tag: "Parsed"; readonly parsed: ParsedTag } | { readonly _tag: "Ignored"; readonly reason: IgnoredReason } => {
  if (isDigestTag(tag)) return { _tag: "Ignored", reason: "digest-in-tag-list" }
  const parsed = parseTag(scheme, tag)
  if (parsed === undefined) return { _tag: "Ignored", reason: "no-scheme-match" }
  const filter = effectiveEnvironmentFilter(scheme, environment)
  if (filter !== undefined && parsed.env !== filter) return { _tag: "Ignored", reason: "other-environment" }
  return { _tag: "Parsed", parsed }
}

/** Compares two semantic versions (SemVer 2.0.0 precedence, build metadata ignored); negative when a < b. */
export const compareSemver = (a: string, b: string): number => {
  const split = (v: string) => {
    const [main = "", ...rest] = v.replace(/^v/, "").split("+")[0]!.split("-")
    return { main: main.split("."), pre: rest.length > 0 ? rest.join("-").split(".") : [] }
  }
  const x = split(a)
  const y = split(b)
  for (let i = 0; i < 3; i++) {
    // a custom scheme's `version` group may hold anything: non-numbers compare as text, never NaN
    const p = x.main[i] ?? "0"
    const q = y.main[i] ?? "0"
    const d = /^\d+$/.test(p) && /^\d+$/.test(q) ? Number(p) - Number(q) : p < q ? -1 : p > q ? 1 : 0
    if (d !== 0) return d
  }
  if (x.pre.length === 0 || y.pre.length === 0) return (x.pre.length === 0 ? 1 : 0) - (y.pre.length === 0 ? 1 : 0)
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i]
    const q = y.pre[i]
    if (p === undefined) return -1
    if (q === undefined) return 1
    const pn = /^\d+$/.test(p)
    const qn = /^\d+$/.test(q)
    if (pn && qn) {
      const d = Number(p) - Number(q)
      if (d !== 0) return d
    } else if (pn !== qn) {
      return pn ? -1 : 1
    } else if (p !== q) {
      return p < q ? -1 : 1
    }
  }
  return 0
}
