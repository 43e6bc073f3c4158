/**
 * @module Get — `fleet-rollback get`: read the registry, write `rollback.json` (atomically).
 */
import { Clock, Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { describeLastRank } from "../../core/LastTags.ts"
import { printable } from "../../core/Printable.ts"
import { resolveTagScheme } from "../../core/TagScheme.ts"
import { isValidTimeZone } from "../../core/TimeZone.ts"
import { DATE_SOURCES } from "../../core/Image.ts"
import type { RollbackFile } from "../../core/RollbackFile.ts"
import type { ServiceSpec } from "../../core/Timeline.ts"
import { describeRateLimit, isRateLimitLow } from "../../registry/RateLimit.ts"
import { Registry } from "../../registry/Registry.ts"
import { getRollbacks } from "../../workflow/GetRollbacks.ts"
import { readFleetHistory } from "../../workflow/ReadHistory.ts"
import { parseReport } from "../../core/Report.ts"
import type { RollbackReport } from "../../core/Report.ts"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import type { TargetFlagValues } from "../Flags.ts"
import { buildTarget } from "../targets/index.ts"
import { FileSystem } from "effect"
import type { GetProgress, IgnoredTags } from "../../workflow/GetRollbacks.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { getFromImageStreams } from "./GetImageStreams.ts"
import * as Flags from "../Flags.ts"
import { table } from "../Output.ts"
import { checkReportPath, loadConfig, parseSince, readTextFile, registryLayer, resolveScope, resolveServices, writeFileAtomic } from "../Settings.ts"

/** `get`. */
export const getCommand = Command.make(
  "get",
  {
    config: Flags.config,
    registry: Flags.registry,
    repo: Flag.String("repo").pipe(Flag.withDescription("repositories, comma separated (service name = last path segment unless the config names it)"), Flag.optional),
    env: Flags.env,
    scheme: Flag.String("scheme").pipe(Flag.withDescription("tag scheme: build-branch, env-timestamp-sha, branch-sha, git-sha, semver, or a regex with named groups"), Flag.optional),
    since: Flag.String("since").pipe(Flag.withDescription("only points since: a duration (14d, 36h) or a date"), Flag.optional),
    out: Flag.String("out").pipe(Flags.describedWithDefault("where to write rollback.json", "rollback.json")),
    last: Flags.last,
    granularity: Flag.Literals("granularity", ["instant", "day"]).pipe(Flag.withDescription("one point per instant, or per calendar day (seed 004)"), Flag.optional),
    tz: Flags.tz,
    platform: Flag.String("platform").pipe(Flag.withDescription("platform of multi-arch images, default linux/amd64"), Flag.optional),
    cacheDir: Flag.String("cache-dir").pipe(Flag.withDescription("persistent cache (default ~/.cache/fleet-rollback)"), Flag.optional),
    cache: Flag.Boolean("cache").pipe(Flag.withDescription("use the persistent cache (--no-cache to read everything again)"), Flag.withDefault(true)),
    verifyTags: Flag.Boolean("verify-tags").pipe(Flag.withDescription("re-check every cached tag with one HEAD"), Flag.withDefault(false)),
    dockerHubApi: Flag.Boolean("docker-hub-api").pipe(Flag.withDescription("Docker Hub: read tags, digests and push times from its web API (pages of 100), dates from the registry"), Flag.withDefault(false)),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDescription("requests at once per registry host (default 8)"), Flag.optional),
    ...Flags.targetFlags,
    appPrefix: Flags.appPrefix,
    label: Flags.label,
    from: Flag.Literals("from", ["registry", "history", "imagestreams"]).pipe(
      Flag.withDescription("where points come from: the images' build dates (registry, the default), what actually ran together (history: the target's memory and the --reports), or an OpenShift namespace's ImageStream import history (imagestreams: --namespace, --context, KUBECONFIG)"),
      Flag.withDefault("registry" as const)
    ),
    reports: Flag.String("reports").pipe(Flag.withDescription("with --from history: a directory of run/undo reports (rollback-report*.json); each is a moment the fleet changed"), Flag.optional),
    requestTimeout: Flags.requestTimeout,
    badTag: Flags.badTag,
    allowEmpty: Flag.Boolean("allow-empty").pipe(Flag.withDescription("write rollback.json even when a repository gives no image to roll back to (default: fail, the old file kept)"), Flag.withDefault(false)),
    json: Flags.json,
    quiet: Flags.quiet,
    verbose: Flags.verbose
  },
  (flags) =>
    Effect.gen(function*() {
      const platform = yield* CliPlatform
      const config = yield* loadConfig(flags.config)
      if (flags.from === "imagestreams") return yield* getFromImageStreams(flags, config)
      const services = resolveServices(flags.repo, config)
      if (typeof services === "string") return yield* badInput(services)
      if (services.length === 0) return yield* badInput("no services: give --repo shop/api,shop/web or a `services:` map in the config file")
      const environment = Option.getOrUndefined(flags.env) ?? config.environment
      const schemeSpec = Option.getOrUndefined(flags.scheme) ?? config.scheme ?? "build-branch"
      const scheme = resolveTagScheme(schemeSpec)
      if ("_tag" in scheme) return yield* badInput(`${Option.isSome(flags.scheme) ? "--scheme" : "scheme (config)"}: ${scheme.message}`)
      const tagFilter = environment !== undefined ? config.environments?.[environment]?.tagFilter ?? environment : undefined
      const timeZone = Option.getOrUndefined(flags.tz) ?? config.timeZone ?? "UTC"
      if (!isValidTimeZone(timeZone)) return yield* badInput(`unknown time zone "${timeZone}": expected an IANA name such as UTC or Europe/Berlin`)
      const now = yield* Clock.currentTimeMillis
      const since = Option.isSome(flags.since) ? parseSince(flags.since.value, now) : undefined
      if (typeof since === "string") return yield* badInput(since)
      const badTags = [...(config.badTags ?? []), ...Option.match(flags.badTag, { onNone: () => [], onSome: (s) => s.split(",").map((t) => t.trim()) })]
      const last = Option.getOrUndefined(flags.last) ?? config.last
      if (last !== undefined && !(last >= 1)) {
        return yield* badInput(`${Option.isSome(flags.last) ? "--last" : "last (config)"} expects a whole number of tags per repository, 1 or more; got ${last}. Leave it out to read every tag.`)
      }
      if (last !== undefined && !flags.quiet) platform.writeStderr(`note: ${describeLastRank(scheme, last)}\n`)
      // Checked before the registry or the target is read: a path that cannot be written fails now, not after minutes of reading.
      yield* checkReportPath(flags.out, "--out", "rollback.json")
      if (flags.from === "registry" && Option.isSome(flags.reports)) return yield* badInput("--reports is read only with --from history (points from what actually ran); add --from history or leave --reports out")
      const history = flags.from === "history" ? yield* readHistory(flags, config, services, environment ?? null) : undefined
      if (history !== undefined && !flags.quiet) for (const note of history.notes) platform.writeStderr(`note: ${note}\n`)
      const registry = yield* registryLayer(flags, config)
      const progress = makeProgress(platform, flags.quiet)
      const result = yield* Effect.gen(function*() {
        const got = yield* getRollbacks({
          services,
          registryUrl: registry.url,
          scheme,
          schemeName: typeof schemeSpec === "string" ? schemeSpec : schemeSpec.pattern,
          environment,
          tagFilter,
          granularity: Option.getOrUndefined(flags.granularity) ?? config.granularity ?? "instant",
          timeZone,
          since,
          badTags,
          last,
          ...(history !== undefined ? { history: history.deployments } : {}),
          allowEmpty: flags.allowEmpty,
          onProgress: progress.update
        })
        const stats = yield* (yield* Registry).stats
        return { ...got, stats }
      }).pipe(Effect.provide(registry.layer), Effect.ensuring(Effect.sync(progress.done)))
      yield* writeFileAtomic(flags.out, JSON.stringify(result.file, null, 2) + "\n")
      // A scheme without an env/branch group (semver, git-sha) cannot tell environments apart:
      // the core then filters nothing, and says so.
      if (result.environmentNote !== undefined && !flags.quiet) platform.writeStderr(`note: ${result.environmentNote}\n`)
      const images = Object.values(result.file.images).reduce((n, l) => n + l.length, 0)
      if (flags.json) {
        yield* Console.log(JSON.stringify({
          out: flags.out,
          services: services.length,
          images,
          points: result.file.points.length,
          requests: result.stats.requests,
          ignored: result.ignored,
          rateLimits: result.stats.rateLimits
        }))
        return
      }
      if (flags.quiet) return
      yield* Console.log(formatGetSummary(services, result.file, result.ignored))
      for (const line of notReadLines(services, result.ignored)) yield* Console.log(line)
      if (flags.verbose) {
        for (const s of services) {
          for (const { tag, reason } of result.skipped[s.name] ?? []) yield* Console.log(`  ${s.name}: ${printable(tag)} not read: ${printable(reason)}`)
        }
      }
      for (const [host, limit] of Object.entries(result.stats.rateLimits)) {
        yield* Console.log(`Rate limit of ${host}: ${describeRateLimit(limit)}${isRateLimitLow(limit) ? " (LOW)" : ""}`)
      }
      yield* Console.log(`Wrote ${flags.out}: ${images} images of ${services.length} services, ${result.file.points.length} points (${result.stats.requests} registry requests). Next: fleet-rollback choices --file ${flags.out}`)
    })
).pipe(
  Command.withDescription("Read every service's tags and build dates from the registry and write rollback.json"),
  Command.withExamples([
    { command: "fleet-rollback get --registry https://registry.example.com --repo shop/api,shop/web --env master", description: "read two repositories, keep the master builds" },
    { command: "fleet-rollback get --config fleet-rollback.yaml --env prod --granularity day", description: "one point per day, services and tag filter from the config" },
    { command: "fleet-rollback get --registry https://registry.example.com --repo shop/api,shop/web --env master --last 10", description: "only the 10 newest builds per repository, as seed 004 reads them (about 10 manifest reads each)" }
  ])
)

/** The summary table: images per service, where their dates came from, tags ignored and why, images without a date. */
export const formatGetSummary = (
  services: ReadonlyArray<ServiceSpec>,
  file: RollbackFile,
  ignored: Readonly<Record<string, IgnoredTags>>
): string => {
  const bySource = (name: string) => {
    const counts: Record<string, number> = {}
    for (const image of file.images[name] ?? []) counts[image.dateSource] = (counts[image.dateSource] ?? 0) + 1
    return DATE_SOURCES.filter((source) => counts[source] !== undefined).map((source) => `${source} ${counts[source]}`).join(", ") || "-"
  }
  const rows = services.map((s) => {
    const ig = ignored[s.name]
    const notRead = ig === undefined ? {} : countBy(ig.notRead.map((n) => n.reason))
    const notReadTotal = ig?.notRead.length ?? 0
    const ignoredText = ig === undefined ? "-" : [
      ig.noSchemeMatch > 0 ? `${ig.noSchemeMatch} outside scheme` : "",
      ig.otherEnvironment > 0 ? `${ig.otherEnvironment} other env` : "",
      ig.digestInTagList > 0 ? `${ig.digestInTagList} digests` : "",
      ig.markedBad > 0 ? `${ig.markedBad} marked bad` : "",
      (ig.beyondLast ?? 0) > 0 ? `${ig.beyondLast} beyond --last` : "",
      notReadTotal > 0 ? `${notReadTotal} not read (${Object.entries(notRead).map(([k, v]) => `${v} ${k}`).join(", ")})` : ""
    ].filter((x) => x !== "").join(", ") || "-"
    return [
      s.name,
      s.repository,
      String(file.images[s.name]?.length ?? 0),
      bySource(s.name),
      ignoredText,
      ig !== undefined && ig.unknownDate.length > 0 ? ig.unknownDate.join(" ") : "-"
    ]
  })
  return table(["SERVICE", "REPOSITORY", "IMAGES", "DATES FROM", "TAGS IGNORED", "UNKNOWN DATE"], rows)
}

/** One line per tag the registry listed but gave no image for: it might have been selected, so it is always shown. */
export const notReadLines = (
  services: ReadonlyArray<ServiceSpec>,
  ignored: Readonly<Record<string, IgnoredTags>>
): ReadonlyArray<string> =>
  services.flatMap((s) => (ignored[s.name]?.notRead ?? []).map((n) => `  ${s.name}: ${printable(n.tag)} not read (${n.reason}): ${printable(n.detail)}`))

const countBy = (values: ReadonlyArray<string>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

/** The progress text: repositories and images done of their totals (the image total is known once every tag list is read). */
export const progressText = (p: GetProgress): string => {
  const images = p.repositoriesListed === p.repositoriesTotal
    ? `${p.imagesDone}/${p.imagesTotal} images`
    : `${p.imagesDone}/${p.imagesTotal}+ images (${p.repositoriesListed}/${p.repositoriesTotal} tag lists read)`
  return `reading registry: ${p.repositoriesDone}/${p.repositoriesTotal} repositories, ${images}`
}

/**
 * The progress of `get` on standard error. On a terminal one line, redrawn as repositories and
 * images get done (about a hundred redraws in all, however big the fleet); in CI (no terminal)
 * plain lines: when every tag list is read, at each tenth of the images, and at the end.
 */
export const makeProgress = (platform: Pick<typeof CliPlatform.Service, "stderrIsTerminal" | "writeStderr">, quiet: boolean) => {
  let shown = false
  let lastImages = -1
  let lastRepositories = -1
  let lastListed = -1
  let lastTenth = 0
  let listedAnnounced = false
  return {
    update: (p: GetProgress) => {
      if (quiet) return
      const allListed = p.repositoriesListed === p.repositoriesTotal
      if (platform.stderrIsTerminal) {
        const repositoriesMoved = p.repositoriesDone !== lastRepositories || p.repositoriesListed !== lastListed
        const imagesMoved = p.imagesDone !== lastImages &&
          (p.imagesDone - lastImages >= Math.max(1, Math.floor(p.imagesTotal / 100)) || p.imagesDone === p.imagesTotal)
        if (!repositoriesMoved && !imagesMoved) return
        lastImages = p.imagesDone
        lastRepositories = p.repositoriesDone
        lastListed = p.repositoriesListed
        platform.writeStderr(`\r${progressText(p)}\u001b[K`)
        shown = true
        return
      }
      if (allListed && !listedAnnounced) {
        listedAnnounced = true
        platform.writeStderr(`reading registry: ${p.repositoriesTotal} tag lists read, ${p.imagesTotal} images to read\n`)
      }
      if (p.repositoriesDone === p.repositoriesTotal) {
        if (lastRepositories !== p.repositoriesDone) platform.writeStderr(`${progressText(p)}\n`)
        lastRepositories = p.repositoriesDone
        return
      }
      const tenth = allListed && p.imagesTotal > 0 ? Math.floor((p.imagesDone * 10) / p.imagesTotal) : 0
      if (tenth > lastTenth) {
        lastTenth = tenth
        platform.writeStderr(`${progressText(p)}\n`)
      }
    },
    done: () => {
      if (shown) platform.writeStderr("\r\u001b[K")
    }
  }
}

/**
 * `get --from history`: what the target remembers each service ran, and the reports in
 * `--reports DIR` (every `*.json` there that is a run or undo report; other JSON files are
 * passed over, a damaged report is bad input naming it).
 */
const readHistory = (
  flags: TargetFlagValues & {
    readonly reports: Option.Option<string>
    readonly registry: Option.Option<string>
    readonly appPrefix: Option.Option<string>
    readonly label: Option.Option<string>
  },
  config: ConfigFile,
  services: ReadonlyArray<ServiceSpec>,
  environment: string | null
) =>
  Effect.gen(function*() {
    const reports = Option.isSome(flags.reports) ? yield* readReports(flags.reports.value) : []
    const target = yield* buildTarget(flags, config)
    const registryUrl = Option.getOrUndefined(flags.registry) ?? config.registry?.url ?? ""
    return yield* readFleetHistory({ services, registryUrl, scope: resolveScope(config, environment, flags), reports }).pipe(Effect.provide(target.layer))
  })

/** The run and undo reports in a directory, oldest name first. */
const readReports = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const names = yield* fs.readDirectory(dir).pipe(Effect.mapError(() => badInput(`--reports ${dir}: not a readable directory; expected the directory where run and undo wrote their reports (--report)`)))
    const reports: Array<RollbackReport> = []
    for (const name of [...names].filter((n) => n.endsWith(".json")).sort()) {
      const path = `${dir.replace(/\/+$/, "")}/${name}`
      const text = yield* readTextFile(path, "a report")
      const json = (() => {
        try {
          return JSON.parse(text) as unknown
        } catch {
          return undefined
        }
      })()
      // rollback.json and other files may share the directory: only what claims to be a report is read
      if (typeof json !== "object" || json === null || !("kind" in json) || !("services" in json) || !("finishedAt" in json)) continue
      const parsed = parseReport(text, path)
      if (parsed._tag === "Failure") return yield* badInput(parsed.failure.message)
      reports.push(parsed.success)
    }
    return reports
  })
