/**
 * @module RollbackFile — `rollback.json` schema version 1: the fleet's images and points, as
 * written by `get` and read by `choices`, `plan` and `run` (and by Jenkins for its dropdown).
 * A contract: change it only with a new schema version.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { EARLIEST_KNOWN_TIME } from "./Image.ts"
import type { TagOrder } from "./TagScheme.ts"
import type { Granularity, ServiceSpec, Timeline, TimelineImage } from "./Timeline.ts"
import { compareImages } from "./Timeline.ts"
import { formatIsoInstant, isValidTimeZone, parseIsoInstant } from "./TimeZone.ts"

/** An ISO-8601 instant in UTC as written by toISOString (`2026-11-21T14:03:27.000Z`). */
export const IsoInstant = Schema.String.pipe(
  Schema.check(
    // the `u` flag lets the JSON Schema carry the pattern too (Effect emits only unicode patterns)
    Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/u, {
      message: "expected an ISO-8601 instant such as 2026-11-21T14:03:27.000Z"
    }),
    // Date.parse would roll 2026-02-30 over to March 2nd: the day must exist
    Schema.makeFilter((text: string) => parseIsoInstant(text) !== undefined, {
      message: "expected a real calendar date and time (this day or hour does not exist)"
    })
  )
)

/** An image's effective time: `get` never writes one before 1980 (those dates count as unknown). */
const KnownInstant = IsoInstant.pipe(
  Schema.check(
    Schema.makeFilter((text: string) => (parseIsoInstant(text) ?? 0) >= EARLIEST_KNOWN_TIME, {
      message: "expected an instant from 1980-01-01T00:00:00Z on: earlier dates count as unknown, and `get` never writes one"
    })
  )
)

/** One image of a service in `rollback.json`. */
export const RollbackImage = Schema.Struct({
  tag: Schema.String,
  digest: Schema.String,
  created: KnownInstant,
  dateSource: Schema.Literals(["annotation", "config", "tag", "push"]),
  build: Schema.optionalKey(Schema.Int),
  version: Schema.optionalKey(Schema.String),
  /** The tag's own timestamp, when the scheme has one (what order `timestamp` compares). */
  timestamp: Schema.optionalKey(IsoInstant),
  revision: Schema.optionalKey(Schema.String)
})
/** One image of a service in `rollback.json`. */
export type RollbackImage = typeof RollbackImage.Type

/** A service in `rollback.json`. */
export const RollbackService = Schema.Struct({
  name: Schema.String,
  repository: Schema.String,
  app: Schema.optionalKey(Schema.String)
})

/** A point in `rollback.json`. */
export const RollbackPoint = Schema.Struct({
  id: IsoInstant,
  label: Schema.String,
  changes: Schema.Array(Schema.Struct({ service: Schema.String, tag: Schema.String }))
})

/** Ignored tags of one service, for the summary. */
export const RollbackIgnored = Schema.Struct({
  noSchemeMatch: Schema.Int,
  otherEnvironment: Schema.Int,
  digestInTagList: Schema.Int,
  markedBad: Schema.Int,
  unknownDate: Schema.Array(Schema.String),
  /**
   * Tags the registry adapter listed but got no image from, each with the kind (`no-platform`,
   * `schema1`, `artifact`, `not-an-image`, `vanished`, `unreadable`, …) and what was found.
   */
  notRead: Schema.optionalKey(Schema.Array(Schema.Struct({ tag: Schema.String, reason: Schema.String, detail: Schema.String })))
})

/**
 * The tag scheme in `rollback.json`: a preset name or pattern (targets are the newest images,
 * order `created`), or `{pattern, order, timestampFormat}` when the order is another, so that
 * `plan` and `run` select from the file exactly as `get` derived its points.
 */
export const RollbackScheme = Schema.Union([
  Schema.String,
  Schema.Struct({
    pattern: Schema.String,
    order: Schema.Literals(["build", "timestamp", "semver", "created"]),
    timestampFormat: Schema.optionalKey(Schema.String)
  })
])
/** The tag scheme in `rollback.json`. */
export type RollbackScheme = typeof RollbackScheme.Type

/** `rollback.json`, schema version 1. */
export const RollbackFile = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  generatedAt: IsoInstant,
  environment: Schema.NullOr(Schema.String),
  registry: Schema.String,
  scheme: Schema.optionalKey(RollbackScheme),
  granularity: Schema.optionalKey(Schema.Literals(["instant", "day"])),
  timeZone: Schema.optionalKey(Schema.String),
  services: Schema.Array(RollbackService),
  images: Schema.Record(Schema.String, Schema.Array(RollbackImage)),
  points: Schema.Array(RollbackPoint),
  ignored: Schema.optionalKey(Schema.Record(Schema.String, RollbackIgnored))
}).annotate({
  title: "fleet-rollback rollback.json",
  description: "Every service's images with effective build times, and the points a fleet can be rolled back to (schema version 1)."
})
/** `rollback.json`, schema version 1. */
export type RollbackFile = typeof RollbackFile.Type

/** `rollback.json` could not be read; `message` names the field and the problem. */
export class RollbackFileError extends Schema.TaggedError<RollbackFileError>()("RollbackFileError", {
  message: Schema.String
}) {}

const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * Decodes `rollback.json` content (already parsed JSON). Checks the schema, then that every
 * image belongs to a listed service and the time zone is known.
 */
export const decodeRollbackFile = (json: unknown, source = "rollback.json"): Result.Result<RollbackFile, RollbackFileError> => {
  if (typeof json === "object" && json !== null && "schemaVersion" in json && json.schemaVersion !== 1) {
    return Result.fail(
      new RollbackFileError({
        message: `${source} has schemaVersion ${JSON.stringify(json.schemaVersion)}; this fleet-rollback reads version 1. Run \`fleet-rollback get\` with this version to write a new file.`
      })
    )
  }
  const decoded = Schema.decodeUnknownResult(RollbackFile)(json, { errors: "all" })
  if (Result.isFailure(decoded)) {
    return Result.fail(
      new RollbackFileError({
        message: `${source} is not a valid rollback.json (schema version 1):\n${formatIssue(decoded.failure.issue)}\nWrite it again with \`fleet-rollback get\`.`
      })
    )
  }
  const file = decoded.success
  const names = new Set(file.services.map((s) => s.name))
  const stray = Object.keys(file.images).filter((name) => !names.has(name))
  if (stray.length > 0) {
    return Result.fail(new RollbackFileError({ message: `${source}: images of ${stray.join(", ")} but no such service in "services"` }))
  }
  if (file.timeZone !== undefined && !isValidTimeZone(file.timeZone)) {
    return Result.fail(new RollbackFileError({ message: `${source}: unknown timeZone ${JSON.stringify(file.timeZone)}` }))
  }
  return Result.succeed(file)
}

/** Parses and decodes the text of `rollback.json`. */
export const parseRollbackFile = (text: string, source = "rollback.json"): Result.Result<RollbackFile, RollbackFileError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Result.fail(new RollbackFileError({ message: `${source} is not JSON (${String(error)}). Write it again with \`fleet-rollback get\`.` }))
  }
  return decodeRollbackFile(json, source)
}

/** What toRollbackFile needs besides the timeline. */
export interface RollbackFileHeader {
  /** When `get` ran (ISO-8601). */
  readonly generatedAt: string
  /** Environment name, or null. */
  readonly environment: string | null
  /** Registry URL (no credentials). */
  readonly registry: string
  /**
   * The scheme: its name or pattern, or the `{pattern, order}` form. When the timeline's order
   * is not `created`, a name or pattern is written as `{pattern, order}` so the file carries it.
   */
  readonly scheme?: RollbackScheme | undefined
}

/** The scheme entry of a file for a timeline: carries the timeline's order when it is not `created`. */
const schemeEntry = (scheme: RollbackScheme | undefined, order: TagOrder): RollbackScheme | undefined => {
  if (typeof scheme === "object") return scheme.order === order ? scheme : { ...scheme, order }
  if (order === "created") return scheme
  return { pattern: scheme ?? "", order }
}

/** The order a file's targets are chosen by: its scheme's, else `created`. */
export const orderOfRollbackScheme = (scheme: RollbackScheme | undefined): TagOrder => (typeof scheme === "object" ? scheme.order : "created")

/** Writes a timeline as `rollback.json` v1: images newest first per service, points newest first. */
export const toRollbackFile = (
  timeline: Timeline,
  header: RollbackFileHeader,
  ignored?: RollbackFile["ignored"]
): RollbackFile => {
  const images: Record<string, Array<RollbackImage>> = {}
  for (const service of timeline.services) {
    const list = timeline.images[service.name] ?? []
    const out: Array<RollbackImage> = new Array(list.length)
    for (let i = 0; i < list.length; i++) {
      const image = list[list.length - 1 - i]!
      out[i] = {
        tag: image.tag,
        digest: image.digest,
        created: formatIsoInstant(image.time),
        dateSource: image.dateSource,
        ...(image.build !== undefined ? { build: image.build } : {}),
        ...(image.version !== undefined ? { version: image.version } : {}),
        ...(image.timestamp !== undefined ? { timestamp: formatIsoInstant(image.timestamp) } : {}),
        ...(image.revision !== undefined ? { revision: image.revision } : {})
      }
    }
    images[service.name] = out
  }
  const scheme = schemeEntry(header.scheme, timeline.order ?? "created")
  return {
    schemaVersion: 1,
    generatedAt: header.generatedAt,
    environment: header.environment,
    registry: stripCredentials(header.registry),
    ...(scheme !== undefined ? { scheme } : {}),
    granularity: timeline.granularity,
    timeZone: timeline.timeZone,
    services: timeline.services.map((s) => ({ name: s.name, repository: s.repository, ...(s.app !== undefined ? { app: s.app } : {}) })),
    images,
    points: timeline.points.map((p) => ({ id: p.id, label: p.label, changes: p.changes.map((c) => ({ service: c.service, tag: c.tag })) })),
    ...(ignored !== undefined ? { ignored } : {})
  }
}

/**
 * Reads a decoded `rollback.json` back into a timeline (images oldest first, as selection needs),
 * with the order of its scheme, so selection from the file chooses as `get` did.
 */
export const timelineOfRollbackFile = (file: RollbackFile): Timeline => {
  const images: Record<string, Array<TimelineImage>> = {}
  const services: Array<ServiceSpec> = file.services.map((s) => ({ name: s.name, repository: s.repository, ...(s.app !== undefined ? { app: s.app } : {}) }))
  for (const service of services) {
    const list = (file.images[service.name] ?? []).map((image): TimelineImage => ({
      service: service.name,
      tag: image.tag,
      digest: image.digest,
      time: parseIsoInstant(image.created)!,
      dateSource: image.dateSource,
      // the same object shape mergeTimeline makes (absent fields undefined)
      build: image.build,
      version: image.version,
      timestamp: image.timestamp === undefined ? undefined : parseIsoInstant(image.timestamp),
      revision: image.revision
    }))
    list.sort(compareImages)
    images[service.name] = list
  }
  return {
    services,
    images,
    points: file.points,
    granularity: (file.granularity ?? "instant") as Granularity,
    timeZone: file.timeZone ?? "UTC",
    order: orderOfRollbackScheme(file.scheme)
  }
}

/** Removes `user:password@` from a URL so credentials never reach the file. */
export const stripCredentials = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1")
