/**
 * @module GetRollbacks — `get`: read every service's tags and dates from the registry (all
 * repositories at once), merge them into one timeline, and produce `rollback.json`. Either every
 * repository is read, or the run fails naming the ones that failed: never a partial file.
 */
import { Clock, Effect } from "effect"
import type { RollbackFile } from "../core/RollbackFile.ts"
import { toRollbackFile } from "../core/RollbackFile.ts"
import type { IgnoredReason, ParsedTag, TagScheme } from "../core/TagScheme.ts"
import { classifyTag, parseTag } from "../core/TagScheme.ts"
import type { Granularity, IgnoredSummary, ServiceSpec } from "../core/Timeline.ts"
import { mergeTimeline } from "../core/Timeline.ts"
import type { RegistryImage } from "../core/Image.ts"
import { effectiveTime } from "../core/Image.ts"
import { keepNewestDated, lastRankOf, newestTagsFirst } from "../core/LastTags.ts"
import { isMarkedBad } from "../core/Timeline.ts"
import type { Timeline } from "../core/Timeline.ts"
import type { Deployment } from "../core/History.ts"
import { deploymentsByService, historyPoints, runningSets } from "../core/History.ts"
import { Registry } from "../registry/Registry.ts"
import type { SkippedTag } from "../registry/Registry.ts"
import type { RegistryError } from "../registry/RegistryError.ts"
import type { RollbackError } from "./RollbackError.ts"
import { badInput, failed } from "./RollbackError.ts"

/** What `get` needs. */
export interface GetRollbacksOptions {
  /** The fleet. */
  readonly services: ReadonlyArray<ServiceSpec>
  /** Registry URL (written to the file without credentials). */
  readonly registryUrl: string
  /** The tag scheme and how to name it in the file. */
  readonly scheme: TagScheme
  /** Scheme name or pattern, for the file. */
  readonly schemeName: string
  /** Environment name (`prod`), written to the file. */
  readonly environment: string | undefined
  /** The tag scheme's env/branch group to keep (`master`); undefined keeps all. */
  readonly tagFilter: string | undefined
  /** Instant or day points. */
  readonly granularity: Granularity
  /** Zone of day points and labels. */
  readonly timeZone: string
  /** Only images at or after this instant make points. */
  readonly since?: number | undefined
  /** Tags never to select. */
  readonly badTags?: ReadonlyArray<string> | undefined
  /**
   * Write the file even when a repository gives no image to roll back to (`--allow-empty`).
   * Without it such a repository fails the run and nothing is written (see {@link emptyServices}).
   */
  readonly allowEmpty?: boolean | undefined
  /** Progress: repositories and images done so far. */
  readonly onProgress?: ((progress: GetProgress) => void) | undefined
  /**
   * `--last N`: per repository only the N newest tags of the scheme and environment (see
   * `LastTags`): ranked by the tag itself when the scheme can, so only about N manifests are read;
   * otherwise every tag is read and the N newest by date are kept. Undefined reads every tag.
   */
  readonly last?: number | undefined
  /**
   * `get --from history`: what the fleet ran when (see `readFleetHistory`). The points are then
   * the sets that ran together (rollback.json version 3); the registry's images still give build
   * dates and revisions.
   */
  readonly history?: ReadonlyArray<Deployment> | undefined
}

/** Progress of `get`. */
export interface GetProgress {
  readonly repositoriesDone: number
  readonly repositoriesTotal: number
  /** Repositories whose tag list is read (so their tags to read are counted in `imagesTotal`). */
  readonly repositoriesListed: number
  readonly imagesDone: number
  /** Tags to read in the repositories listed so far: the total once `repositoriesListed` is all. */
  readonly imagesTotal: number
}

/** A tag the registry adapter listed but got no image from (see `SkipKind`). */
export interface NotRead {
  readonly tag: string
  /** The kind: `no-platform`, `schema1`, `artifact`, `not-an-image`, `vanished`, `unreadable`, … */
  readonly reason: string
  /** What was found instead, for people. */
  readonly detail: string
}

/** What was ignored of one service: the core's counts, and the tags the registry gave no image for. */
export interface IgnoredTags extends IgnoredSummary {
  readonly notRead: ReadonlyArray<NotRead>
  /** With `--last N`: tags of the scheme and environment not read (or dropped after dating) because N newer ones were. */
  readonly beyondLast?: number
}

/** The result of `get`: the file, and what was ignored per service. */
export interface GetRollbacksResult {
  readonly file: RollbackFile
  readonly ignored: Readonly<Record<string, IgnoredTags>>
  /** Per service, every tag the registry adapter did not read, and why (for `--verbose`). */
  readonly skipped: Readonly<Record<string, ReadonlyArray<SkippedTag>>>
  /** Set when an environment was asked for but the scheme cannot filter by it (see `MergedTimeline.environmentNote`). */
  readonly environmentNote: string | undefined
}

/**
 * Which tags of a scheme may move between runs: those whose scheme part carries no build number,
 * sha or timestamp (semver `v2`, `1.25`, `node20`, a custom scheme without those groups), and
 * tags the scheme does not parse. Their cached digests are re-checked with one HEAD on warm runs;
 * the others are immutable by convention.
 */
export const isMutableUnder = (scheme: TagScheme) => (tag: string): boolean => isMutableParsed(parseTag(scheme, tag))

/** {@link isMutableUnder} of a tag already parsed (undefined: the scheme does not parse it). */
const isMutableParsed = (parsed: ParsedTag | undefined): boolean =>
  parsed === undefined || (parsed.build === undefined && parsed.sha === undefined && parsed.timestamp === undefined)

/** Reads the registry and builds `rollback.json`. */
export const getRollbacks: (options: GetRollbacksOptions) => Effect.Effect<GetRollbacksResult, RollbackError, Registry> = Effect.fn("getRollbacks")(function*(options: GetRollbacksOptions) {
  if (options.services.length === 0) {
    return yield* badInput("no services to read: give --repo a,b,c or a `services:` map in the config file")
  }
  const last = options.last
  if (last !== undefined && !(Number.isSafeInteger(last) && last >= 1)) {
    return yield* badInput(`--last expects a whole number of tags per repository, 1 or more; got ${last}. Leave it out to read every tag.`)
  }
  const badTagSet = new Set(options.badTags ?? [])
  const registry = yield* Registry
  const progress = {
    repositoriesDone: 0,
    repositoriesTotal: options.services.length,
    repositoriesListed: 0,
    imagesDone: 0,
    imagesTotal: 0
  }
  const report = () => options.onProgress?.({ ...progress })
  // Each tag is parsed once: keepTag's classification is kept per service, and answers
  // isMutableTag, the merge and the summary of what was not read.
  const parsedTags: Record<string, Map<string, ParsedTag>> = {}
  const ignoredTags: Record<string, Map<string, IgnoredReason>> = {}
  const results = yield* Effect.forEach(
    options.services,
    (service) => {
      const parsed = new Map<string, ParsedTag>()
      const ignoredHere = new Map<string, IgnoredReason>()
      parsedTags[service.name] = parsed
      ignoredTags[service.name] = ignoredHere
      return registry.readRepository(service.repository, {
        keepTag: (tag) => {
          const c = classifyTag(options.scheme, tag, options.tagFilter)
          if (c._tag === "Ignored") {
            ignoredHere.set(tag, c.reason)
            return false
          }
          parsed.set(tag, c.parsed)
          return true
        },
        isMutableTag: (tag) => isMutableParsed(parsed.get(tag) ?? parseTag(options.scheme, tag)),
        onTags: (count) => {
          progress.repositoriesListed++
          progress.imagesTotal += count
          report()
        },
        onImage: () => {
          progress.imagesDone++
          report()
        },
        onMoreTags: (count) => {
          progress.imagesTotal += count
          report()
        },
        last: last === undefined ? undefined : lastOption(options, service, parsed, last, badTagSet)
      }).pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            progress.repositoriesDone++
            report()
          })
        ),
        Effect.result
      )
    },
    { concurrency: "unbounded" }
  )
  const failures: Array<{ service: ServiceSpec; error: RegistryError }> = []
  const images: Record<string, ReadonlyArray<RegistryImage>> = {}
  const skipped: Record<string, ReadonlyArray<SkippedTag>> = {}
  const beyondLast: Record<string, number> = {}
  results.forEach((result, i) => {
    const service = options.services[i]!
    if (result._tag === "Failure") failures.push({ service, error: result.failure })
    else {
      images[service.name] = result.success.images
      skipped[service.name] = result.success.skipped
      if (result.success.beyondLast !== undefined) beyondLast[service.name] = result.success.beyondLast
      else if (last !== undefined) {
        // The scheme cannot rank tags without their dates: N applies after dating.
        const parsed = parsedTags[service.name]!
        const kept = keepNewestDated(result.success.images.filter((image) => !isMarkedBad(badTagSet, service.name, image.tag)), last, (tag) => parsed.get(tag)?.timestamp)
        const bad = result.success.images.filter((image) => isMarkedBad(badTagSet, service.name, image.tag))
        images[service.name] = [...kept.kept, ...bad]
        beyondLast[service.name] = kept.dropped
      }
    }
  })
  // A setting of the whole client (the platform, the Docker Hub API) fails every repository the
  // same way, naming none: said once, not once per repository.
  const settingErrors = [...new Set(failures.filter(({ error }) => error.reason === "InvalidInput" && error.repository === undefined).map(({ error }) => error.message))]
  if (settingErrors.length > 0) {
    return yield* badInput(`${settingErrors.join("\n")}\nNothing was read from ${options.registryUrl}; rollback.json was not written.`)
  }
  if (failures.length > 0) {
    const lines = failures.map(({ service, error }) => `  ${service.name} (${service.repository}): ${error.message}`)
    const badInputOnly = failures.every(({ error }) =>
      error.reason === "NotFound" || error.reason === "Unauthorized" || error.reason === "InvalidInput"
    )
    const message = `could not read ${failures.length} of ${options.services.length} repositories from ${options.registryUrl}; rollback.json was not written:\n${lines.join("\n")}`
    return yield* badInputOnly ? badInput(message) : failed(message)
  }
  const merged = mergeTimeline({
    services: options.services,
    images,
    scheme: options.scheme,
    environment: options.tagFilter,
    badTags: options.badTags,
    granularity: options.granularity,
    timeZone: options.timeZone,
    since: options.since,
    parsedTags
  })
  // Tags the registry adapter did not fetch (filtered by keepTag) still count in the summary,
  // and so do tags it read but got no image from (no such platform, schema1, an artifact, a
  // 404 or a bad answer for that tag): those could have been in the selection, so they are
  // listed by name with what was found.
  const ignored: Record<string, IgnoredTags> = {}
  for (const service of options.services) {
    const summary = { ...merged.ignored[service.name]! }
    const notRead: Array<NotRead> = []
    const parsed = parsedTags[service.name]!
    const ignoredHere = ignoredTags[service.name]!
    for (const skip of skipped[service.name] ?? []) {
      // keepTag classified the tags it saw; the registry skips a few before asking (digests, signatures)
      const reason = parsed.has(skip.tag) ? undefined : ignoredHere.get(skip.tag) ?? ignoredReasonOf(options, skip.tag)
      if (reason === undefined) notRead.push({ tag: skip.tag, reason: skip.kind, detail: skip.reason })
      else if (reason === "no-scheme-match") summary.noSchemeMatch++
      else if (reason === "other-environment") summary.otherEnvironment++
      else if (reason === "digest-in-tag-list") summary.digestInTagList++
    }
    const beyond = beyondLast[service.name]
    ignored[service.name] = { ...summary, notRead, ...(beyond === undefined ? {} : { beyondLast: beyond }) }
  }
  if (options.allowEmpty !== true) {
    const empty = emptyServices(options, images, ignored, merged.timeline.images)
    if (empty.length > 0) {
      const lines = empty.map((e) => `  ${e.service.name} (${e.service.repository}): ${e.why}`)
      const message =
        `${empty.length} of ${options.services.length} repositories gave no image to roll back to; rollback.json was not written:\n${lines.join("\n")}\n` +
        "If that is expected (a new service with no build yet), pass --allow-empty to write the file anyway."
      return yield* empty.every((e) => e.byFilter) ? badInput(message) : failed(message)
    }
  }
  const now = yield* Clock.currentTimeMillis
  const file = toRollbackFile(
    options.history === undefined ? merged.timeline : historyTimeline(merged.timeline, options.history, options, now),
    {
      generatedAt: new Date(now).toISOString(),
      environment: options.environment ?? null,
      registry: options.registryUrl,
      // a file whose order is not `created` (version 2) records it, with the timestamp's format when tags have one
      scheme: {
        pattern: options.schemeName,
        order: options.scheme.order,
        ...(/\(\?<timestamp>/.test(options.scheme.pattern.source) ? { timestampFormat: options.scheme.timestampFormat } : {})
      }
    },
    ignored
  )
  return { file, ignored, skipped, environmentNote: merged.environmentNote } satisfies GetRollbacksResult
})

/**
 * The registry's `last` option for one service, or undefined when the scheme cannot rank tags
 * without dates (then every tag is read, and N is applied after dating). An image counts towards
 * N when it has a date and is not marked bad: N is the number of images selection can use.
 */
const lastOption = (
  options: GetRollbacksOptions,
  service: ServiceSpec,
  parsed: ReadonlyMap<string, ParsedTag>,
  count: number,
  badTags: ReadonlySet<string>
) => {
  if (lastRankOf(options.scheme) === undefined) return undefined
  return {
    count,
    newestFirst: (tags: ReadonlyArray<string>) => newestTagsFirst(options.scheme, tags, (tag) => parsed.get(tag)) ?? tags,
    counts: (image: RegistryImage) =>
      !isMarkedBad(badTags, service.name, image.tag) && effectiveTime(image.dates, parsed.get(image.tag)?.timestamp) !== undefined
  }
}

/** A service that gave no image to roll back to, and why. */
export interface EmptyService {
  readonly service: ServiceSpec
  readonly why: string
  /** True when the operator's settings (scheme, environment, bad tags) left nothing, not the registry. */
  readonly byFilter: boolean
}

/**
 * The services without a single image in the timeline, and why: the registry listed no tags
 * (`"tags": null`), none of its tags could be read, or the scheme, the environment and the bad
 * tags left none (`byFilter`: the operator's settings, not the registry).
 */
export const emptyServices = (
  options: Pick<GetRollbacksOptions, "services" | "schemeName" | "tagFilter">,
  read: Readonly<Record<string, ReadonlyArray<RegistryImage>>>,
  ignored: Readonly<Record<string, IgnoredTags>>,
  timeline: Readonly<Record<string, ReadonlyArray<unknown>>>
): ReadonlyArray<EmptyService> =>
  options.services.flatMap((service): Array<EmptyService> => {
    if ((timeline[service.name]?.length ?? 0) > 0) return []
    const ig = ignored[service.name]
    const readImages = read[service.name]?.length ?? 0
    const filtered = (ig?.noSchemeMatch ?? 0) + (ig?.otherEnvironment ?? 0) + (ig?.digestInTagList ?? 0) + (ig?.markedBad ?? 0)
    const notRead = ig?.notRead ?? []
    const unknownDate = ig?.unknownDate.length ?? 0
    if (readImages === 0 && filtered === 0 && notRead.length === 0) {
      return [{ service, why: "the registry lists no tags for it (an empty or null tag list)", byFilter: false }]
    }
    if (notRead.length > 0 || unknownDate > 0) {
      const first = notRead[0]
      return [{
        service,
        why: `none of its tags gave a dated image: ${notRead.length} not read${first === undefined ? "" : ` (first: ${first.tag}, ${first.reason}: ${first.detail})`}, ${unknownDate} without a known date, ${filtered} left out by the scheme, environment or bad tags`,
        byFilter: false
      }]
    }
    return [{
      service,
      why: `no tag matches the scheme ${options.schemeName}${options.tagFilter === undefined ? "" : ` and the environment's tag filter ${options.tagFilter}`} (${ig?.noSchemeMatch ?? 0} outside the scheme, ${ig?.otherEnvironment ?? 0} of other environments, ${ig?.markedBad ?? 0} marked bad): check --env and --scheme`,
      byFilter: true
    }]
  })

/** Why the scheme and environment leave a tag out, or undefined when they keep it. */
const ignoredReasonOf = (options: GetRollbacksOptions, tag: string): IgnoredReason | undefined => {
  const c = classifyTag(options.scheme, tag, options.tagFilter)
  return c._tag === "Ignored" ? c.reason : undefined
}

/**
 * The registry's timeline turned into a history timeline: the deployments merged per service, and
 * one point per set that ran together (newest first; with `since`, only sets still running at or
 * after it), labelled with how long each ran until `now`.
 */
const historyTimeline = (timeline: Timeline, deployments: ReadonlyArray<Deployment>, options: GetRollbacksOptions, now: number): Timeline => {
  const history = deploymentsByService(deployments, options.services)
  const sets = runningSets(history).filter((s) => options.since === undefined || (s.until ?? now) >= options.since)
  return { ...timeline, granularity: "instant", history, points: historyPoints(sets, options.timeZone, now) }
}
