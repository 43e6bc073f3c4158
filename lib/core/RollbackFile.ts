/**
 * @module RollbackFile — `rollback.json`: the fleet's images and points, as written by `get` and
 * read by `choices`, `plan` and `run` (and by Jenkins for its dropdown). A contract: change it
 * only with a new schema version. Version 1 is every file whose targets are the newest images
 * (order `created`: every preset, the default); version 2 is the same file with a scheme whose
 * order is another (`build`, `semver`, `timestamp`), which changes what a point selects, so a
 * reader that knows only version 1 refuses it instead of choosing other images.
 */
import { Cause, Result, Schema, SchemaIssue } from "effect"
import type { Deployment, HistorySource } from "./History.ts"
import { HISTORY_SOURCES } from "./History.ts"
import { EARLIEST_KNOWN_TIME } from "./Image.ts"
import type { TagOrder } from "./TagScheme.ts"
import type { Granularity, ServiceSpec, Timeline, TimelineImage } from "./Timeline.ts"
import { compareImages } from "./Timeline.ts"
import { formatIsoInstant, isValidTimeZone, parseIsoInstant } from "./TimeZone.ts"

/** The shape of an instant in the file (the `u` flag lets the JSON Schema carry the pattern too: Effect emits only unicode patterns). */
const ISO_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/u

/** An ISO-8601 instant in UTC as written by toISOString (`2026-11-21T14:03:27.000Z`). */
export const IsoInstant: Schema.String = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(ISO_INSTANT_PATTERN, {
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

/** Not empty, no control characters (newlines, tabs, escape sequences). */
const PLAIN_TEXT_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]+$/u
/** A tag as the distribution spec allows it. */
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/u
/** A sha256 or sha512 content digest. */
const DIGEST_PATTERN = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/u

/** Text printed to terminals and Jenkins: no control characters (newlines, escape sequences), not empty. */
const PlainText = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(PLAIN_TEXT_PATTERN, {
      message: "expected plain text: not empty, no control characters (newline, tab, escape sequences)"
    })
  )
)

/** A tag as the distribution spec allows it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export const ImageTag: Schema.String = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(TAG_PATTERN, {
      message: "expected a tag of 1 to 128 letters, digits, _, . and - (not starting with . or -)"
    })
  )
)

/** A content digest: `sha256:` and 64 hex digits, or `sha512:` and 128. */
export const ImageDigest: Schema.String = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(DIGEST_PATTERN, {
      message: "expected a digest sha256:<64 hex digits> (or sha512:<128 hex digits>)"
    })
  )
)

/** A repository name as the distribution spec allows it (`shop/api`, lower case, `/`-separated). */
export const RepositoryName: Schema.String = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/u, {
      message: "expected a repository name such as shop/api (lower-case letters, digits, separators . _ - and /)"
    })
  )
)

/** The registry's URL: http(s), a host, an optional path; no credentials, query, fragment or white space. */
export const RegistryUrl: Schema.String = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^https?:\/\/[A-Za-z0-9.\-\[\]:]+(?:\/[^\s?#@\u0000-\u001f\u007f-\u009f]*)?$/u, {
      message: "expected the registry's URL, http(s)://host[:port][/path], without credentials, query or white space"
    })
  )
)

/** One image of a service in `rollback.json`. */
export const RollbackImage: Schema.Struct<{
  readonly tag: Schema.String
  readonly digest: Schema.String
  readonly created: Schema.String
  /**
   * Where `created` came from. `schema1-history` (a Docker schema1 manifest's first history
   * entry) is newer than the other four: fleet-rollback versions before it refuse a file that
   * holds such an image, naming this field (they skip schema1 images when they write a file).
   * `imported` (an ImageStream's import time, `get --from imagestreams`) is newer still: older
   * versions refuse such a file the same way.
   */
  readonly dateSource: Schema.Literals<readonly ["annotation", "config", "schema1-history", "tag", "push", "imported"]>
  readonly build: Schema.optionalKey<Schema.Int>
  readonly version: Schema.optionalKey<Schema.String>
  /** The tag's own timestamp, when the scheme has one (what order `timestamp` compares). */
  readonly timestamp: Schema.optionalKey<Schema.String>
  readonly revision: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  tag: ImageTag,
  digest: ImageDigest,
  created: KnownInstant,
  /**
   * Where `created` came from. `schema1-history` (a Docker schema1 manifest's first history
   * entry) is newer than the other four: fleet-rollback versions before it refuse a file that
   * holds such an image, naming this field (they skip schema1 images when they write a file).
   * `imported` (an ImageStream's import time, `get --from imagestreams`) is newer still: older
   * versions refuse such a file the same way.
   */
  dateSource: Schema.Literals(["annotation", "config", "schema1-history", "tag", "push", "imported"]),
  build: Schema.optionalKey(Schema.Int),
  version: Schema.optionalKey(PlainText),
  /** The tag's own timestamp, when the scheme has one (what order `timestamp` compares). */
  timestamp: Schema.optionalKey(IsoInstant),
  revision: Schema.optionalKey(PlainText)
}).annotate({ identifier: "RollbackImage" })
/** One image of a service in `rollback.json`. */
export type RollbackImage = typeof RollbackImage.Type

/** A service in `rollback.json`. */
export const RollbackService: Schema.Struct<{
  readonly name: Schema.String
  readonly repository: Schema.String
  readonly app: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  name: PlainText,
  repository: RepositoryName,
  app: Schema.optionalKey(PlainText)
}).annotate({ identifier: "RollbackService" })

/** A point in `rollback.json`. */
export const RollbackPoint: Schema.Struct<{
  readonly id: Schema.String
  readonly label: Schema.String
  readonly changes: Schema.$Array<Schema.Struct<{
    readonly service: Schema.String
    readonly tag: Schema.String
  }>>
}> = Schema.Struct({
  id: IsoInstant,
  label: PlainText,
  changes: Schema.Array(Schema.Struct({ service: PlainText, tag: ImageTag }))
}).annotate({ identifier: "RollbackPoint" })

/** Ignored tags of one service, for the summary. */
export const RollbackIgnored: Schema.Struct<{
  readonly noSchemeMatch: Schema.Int
  readonly otherEnvironment: Schema.Int
  readonly digestInTagList: Schema.Int
  readonly markedBad: Schema.Int
  readonly unknownDate: Schema.$Array<Schema.String>
  /**
   * Tags the registry adapter listed but got no image from, each with the kind (`no-platform`,
   * `schema1`, `artifact`, `not-an-image`, `vanished`, `unreadable`, …) and what was found.
   */
  readonly notRead: Schema.optionalKey<Schema.$Array<Schema.Struct<{
    readonly tag: Schema.String
    readonly reason: Schema.String
    readonly detail: Schema.String
  }>>>
  /** Tags of the scheme and environment left unread (or dropped after dating) by `get --last N`. */
  readonly beyondLast: Schema.optionalKey<Schema.Int>
}> = Schema.Struct({
  noSchemeMatch: Schema.Int,
  otherEnvironment: Schema.Int,
  digestInTagList: Schema.Int,
  markedBad: Schema.Int,
  unknownDate: Schema.Array(Schema.String),
  /**
   * Tags the registry adapter listed but got no image from, each with the kind (`no-platform`,
   * `schema1`, `artifact`, `not-an-image`, `vanished`, `unreadable`, …) and what was found.
   */
  notRead: Schema.optionalKey(Schema.Array(Schema.Struct({ tag: Schema.String, reason: Schema.String, detail: Schema.String }))),
  /** Tags of the scheme and environment left unread (or dropped after dating) by `get --last N`. */
  beyondLast: Schema.optionalKey(Schema.Int)
}).annotate({ identifier: "RollbackIgnored" })

/**
 * The scheme of a version 2 file: a pattern with an order other than `created`, which chooses a
 * service's target among its images at or before the point (see `TagOrder`).
 */
export const RollbackOrderedScheme: Schema.Struct<{
  readonly pattern: Schema.String
  readonly order: Schema.Literals<readonly ["build", "timestamp", "semver"]>
  readonly timestampFormat: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  pattern: Schema.String,
  order: Schema.Literals(["build", "timestamp", "semver"]),
  timestampFormat: Schema.optionalKey(Schema.String)
})
/** The scheme of a version 2 file. */
export type RollbackOrderedScheme = typeof RollbackOrderedScheme.Type

/** The Schemas of the keys every version has before `scheme` (spelled once for the explicit types JSR asks for). */
export type RollbackHeadFields = {
  readonly generatedAt: Schema.String
  readonly environment: Schema.NullOr<Schema.String>
  readonly registry: Schema.String
}

/** The Schemas of the keys every version has after `scheme` (version 3 replaces `points`). */
export type RollbackBodyFields = {
  readonly granularity: Schema.optionalKey<Schema.Literals<readonly ["instant", "day"]>>
  readonly timeZone: Schema.optionalKey<Schema.String>
  readonly services: Schema.$Array<typeof RollbackService>
  readonly images: Schema.$Record<Schema.String, Schema.$Array<typeof RollbackImage>>
  readonly points: Schema.$Array<typeof RollbackPoint>
  readonly ignored: Schema.optionalKey<Schema.$Record<Schema.String, typeof RollbackIgnored>>
}

/** The keys every version has before `scheme`, with the same meaning (in the order files have them). */
const headFields: RollbackHeadFields = {
  generatedAt: IsoInstant,
  environment: Schema.NullOr(PlainText),
  registry: RegistryUrl
}

/** The keys every version has after `scheme`, with the same meaning. */
const bodyFields: RollbackBodyFields = {
  granularity: Schema.optionalKey(Schema.Literals(["instant", "day"])),
  timeZone: Schema.optionalKey(Schema.String),
  services: Schema.Array(RollbackService),
  images: Schema.Record(Schema.String, Schema.Array(RollbackImage)),
  points: Schema.Array(RollbackPoint),
  ignored: Schema.optionalKey(Schema.Record(Schema.String, RollbackIgnored))
}

/**
 * `rollback.json` schema version 1: a service's target at a point is its image with the greatest
 * effective time at or before it. `scheme` is the preset name or pattern, for people.
 */
export const RollbackFileV1: Schema.Struct<
  RollbackHeadFields & RollbackBodyFields & {
    readonly schemaVersion: Schema.Literal<1>
    readonly scheme: Schema.optionalKey<Schema.String>
  }
> = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  ...headFields,
  scheme: Schema.optionalKey(Schema.String),
  ...bodyFields
}).annotate({
  title: "rollback.json version 1",
  description: "Targets are the newest images at or before the point (order created: every preset, the default)."
})
/** `rollback.json` schema version 1. */
export type RollbackFileV1 = typeof RollbackFileV1.Type

/**
 * `rollback.json` schema version 2: version 1 with a scheme whose order is not `created`; a
 * service's target at a point is its greatest image by that order among those at or before it.
 */
export const RollbackFileV2: Schema.Struct<
  RollbackHeadFields & RollbackBodyFields & {
    readonly schemaVersion: Schema.Literal<2>
    readonly scheme: typeof RollbackOrderedScheme
  }
> = Schema.Struct({
  schemaVersion: Schema.Literal(2),
  ...headFields,
  scheme: RollbackOrderedScheme,
  ...bodyFields
}).annotate({
  title: "rollback.json version 2",
  description: "Targets are the greatest images by the scheme's order (build, semver or timestamp) among those at or before the point."
})
/** `rollback.json` schema version 2. */
export type RollbackFileV2 = typeof RollbackFileV2.Type

/** One remembered deployment of a service in a version 3 file: when it started running which image. */
export const RollbackDeployment: Schema.Struct<{
  readonly at: Schema.String
  readonly tag: Schema.optionalKey<Schema.String>
  readonly digest: Schema.optionalKey<Schema.String>
  readonly source: Schema.Literals<readonly HistorySource[]>
  readonly revision: Schema.optionalKey<Schema.String>
  readonly cause: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  at: IsoInstant,
  tag: Schema.optionalKey(Schema.String),
  digest: Schema.optionalKey(Schema.String),
  source: Schema.Literals(HISTORY_SOURCES),
  revision: Schema.optionalKey(Schema.String),
  cause: Schema.optionalKey(Schema.String)
}).annotate({ identifier: "RollbackDeployment" })
/** One remembered deployment of a service in a version 3 file. */
export type RollbackDeployment = typeof RollbackDeployment.Type

/** A point of a version 3 file: a set that ran together, from `id` until `ranUntil` (absent: still running). */
export const RollbackHistoryPoint: Schema.Struct<{
  readonly id: Schema.String
  readonly label: Schema.String
  readonly changes: Schema.$Array<Schema.Struct<{
    readonly service: Schema.String
    readonly tag: Schema.String
  }>>
  readonly source: Schema.Literal<"history">
  readonly ranUntil: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  id: IsoInstant,
  label: PlainText,
  changes: Schema.Array(Schema.Struct({ service: PlainText, tag: PlainText })),
  source: Schema.Literal("history"),
  ranUntil: Schema.optionalKey(IsoInstant)
}).annotate({ identifier: "RollbackHistoryPoint" })

/**
 * `rollback.json` schema version 3 (`get --from history`): the points are sets that really ran
 * together, from the targets' and the reports' memory of what ran when (`history`); a service's
 * target at a point is what it ran at that instant. `images` still holds the registry's images
 * (build dates, revisions). A reader of versions 1 and 2 refuses it rather than choose by build
 * date, which would pick sets that may never have run.
 */
export const RollbackFileV3: Schema.Struct<
  RollbackHeadFields & Omit<RollbackBodyFields, "points"> & {
    readonly schemaVersion: Schema.Literal<3>
    readonly scheme: Schema.optionalKey<Schema.Union<readonly [Schema.String, typeof RollbackOrderedScheme]>>
    readonly points: Schema.$Array<typeof RollbackHistoryPoint>
    readonly history: Schema.$Record<Schema.String, Schema.$Array<typeof RollbackDeployment>>
  }
> = Schema.Struct({
  schemaVersion: Schema.Literal(3),
  ...headFields,
  scheme: Schema.optionalKey(Schema.Union([Schema.String, RollbackOrderedScheme])),
  ...bodyFields,
  points: Schema.Array(RollbackHistoryPoint),
  history: Schema.Record(Schema.String, Schema.Array(RollbackDeployment))
}).annotate({
  title: "rollback.json version 3",
  description: "Points are sets that ran together (get --from history); the target at a point is what each service ran at that instant."
})
/** `rollback.json` schema version 3. */
export type RollbackFileV3 = typeof RollbackFileV3.Type

/** The schema versions this fleet-rollback reads. */
export const ROLLBACK_FILE_VERSIONS = [1, 2, 3] as const

/** `rollback.json`, schema version 1, 2 or 3 (see {@link RollbackFileV1}, {@link RollbackFileV2}, {@link RollbackFileV3}). */
export const RollbackFile: Schema.Union<readonly [typeof RollbackFileV1, typeof RollbackFileV2, typeof RollbackFileV3]> = Schema.Union([RollbackFileV1, RollbackFileV2, RollbackFileV3]).annotate({
  title: "fleet-rollback rollback.json",
  description: "Every service's images with effective build times, and the points a fleet can be rolled back to (schema version 1, 2 when the scheme orders targets by build, semver or timestamp, 3 when the points are sets that ran together)."
})
/** `rollback.json`, schema version 1, 2 or 3. */
export type RollbackFile = typeof RollbackFile.Type

/** The base class of {@link RollbackFileError}, declared with its type (JSR: no slow types). */
const RollbackFileError_base: Schema.Class<RollbackFileError, Schema.TaggedStruct<"RollbackFileError", {
  readonly message: Schema.String
}>, Cause.YieldableError> = Schema.TaggedError<RollbackFileError>()("RollbackFileError", {
  message: Schema.String
})

/** `rollback.json` could not be read; `message` names the field and the problem. */
export class RollbackFileError extends RollbackFileError_base {}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** The date sources an image may have (RollbackImage's `dateSource`). */
const DATE_SOURCES: ReadonlySet<unknown> = new Set(RollbackImage.fields.dateSource.literals)

const isPlainText = (value: unknown): value is string => typeof value === "string" && PLAIN_TEXT_PATTERN.test(value)
const isTag = (value: unknown): value is string => typeof value === "string" && TAG_PATTERN.test(value)
const isDigest = (value: unknown): value is string => typeof value === "string" && DIGEST_PATTERN.test(value)

const isIsoInstant = (value: unknown): value is string =>
  typeof value === "string" && ISO_INSTANT_PATTERN.test(value) && parseIsoInstant(value) !== undefined

/**
 * One image checked by hand exactly as {@link RollbackImage} checks it, and built as it decodes
 * it (unknown keys dropped); `undefined` when it does not pass, or might not: the Schema then
 * decides and says why. A file of 10,000 images is read in a fresh process by every `choices`
 * (a Jenkins dropdown) and `plan`; there the Schema's generic checks, not yet compiled by V8,
 * took most of the time.
 */
const checkedImage = (value: unknown): RollbackImage | undefined => {
  const image = asObject(value)
  if (image === undefined) return undefined
  const { tag, digest, created, dateSource, build, version, timestamp, revision } = image
  if (!isTag(tag) || !isDigest(digest) || !isIsoInstant(created) || !DATE_SOURCES.has(dateSource)) return undefined
  if (parseIsoInstant(created)! < EARLIEST_KNOWN_TIME) return undefined
  const has = (key: string) => Object.hasOwn(image, key)
  if ((has("build") && !Number.isSafeInteger(build)) || (has("version") && !isPlainText(version))) return undefined
  if ((has("timestamp") && !isIsoInstant(timestamp)) || (has("revision") && !isPlainText(revision))) return undefined
  return {
    tag,
    digest,
    created,
    dateSource: dateSource as RollbackImage["dateSource"],
    ...(has("build") ? { build: build as number } : {}),
    ...(has("version") ? { version: version as string } : {}),
    ...(has("timestamp") ? { timestamp: timestamp as string } : {}),
    ...(has("revision") ? { revision: revision as string } : {})
  }
}

/** A plain object (what a Schema.Struct accepts), as a record of its keys. */
const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** One point checked by hand exactly as {@link RollbackPoint} checks it (see {@link checkedImage}). */
const checkedPoint = (value: unknown): typeof RollbackPoint.Type | undefined => {
  const point = asObject(value)
  if (point === undefined || !isIsoInstant(point["id"]) || !isPlainText(point["label"]) || !Array.isArray(point["changes"])) return undefined
  const changes: Array<{ readonly service: string; readonly tag: string }> = []
  for (const item of point["changes"] as ReadonlyArray<unknown>) {
    const change = asObject(item)
    if (change === undefined || !isPlainText(change["service"]) || !isTag(change["tag"])) return undefined
    changes.push({ service: change["service"], tag: change["tag"] })
  }
  return { id: point["id"], label: point["label"], changes }
}

/** The points checked by {@link checkedPoint}; `undefined` when one does not pass. */
const checkedPoints = (value: unknown): Array<typeof RollbackPoint.Type> | undefined => {
  if (!Array.isArray(value)) return undefined
  const out: Array<typeof RollbackPoint.Type> = new Array(value.length)
  for (let i = 0; i < value.length; i++) {
    const point = checkedPoint(value[i])
    if (point === undefined) return undefined
    out[i] = point
  }
  return out
}

/**
 * The file decoded with its images and points checked by {@link checkedImage} and
 * {@link checkedPoint} and the rest by its Schema; `undefined` when one does not pass (the whole
 * file then goes through the Schema, for its messages). The result is what the Schema alone
 * gives (a property test compares them).
 */
const decodeQuickly = (json: unknown, version: 1 | 2): Result.Result<RollbackFile, Schema.SchemaError> | undefined => {
  if (typeof json !== "object" || json === null || !("images" in json) || !("points" in json)) return undefined
  const points = checkedPoints(json.points)
  if (points === undefined) return undefined
  const images = json.images
  if (typeof images !== "object" || images === null || Array.isArray(images)) return undefined
  const checked: Record<string, Array<RollbackImage>> = {}
  for (const [service, list] of Object.entries(images)) {
    if (service === "__proto__" || !Array.isArray(list)) return undefined
    const out: Array<RollbackImage> = new Array(list.length)
    for (let i = 0; i < list.length; i++) {
      const image = checkedImage(list[i])
      if (image === undefined) return undefined
      out[i] = image
    }
    checked[service] = out
  }
  const rest = { ...json, images: {}, points: [] }
  const decoded: Result.Result<RollbackFileV1 | RollbackFileV2, Schema.SchemaError> = version === 1
    ? Schema.decodeUnknownResult(RollbackFileV1)(rest, { errors: "all" })
    : Schema.decodeUnknownResult(RollbackFileV2)(rest, { errors: "all" })
  if (Result.isFailure(decoded)) return undefined
  const file: RollbackFileV1 | RollbackFileV2 = { ...decoded.success, images: checked, points }
  return Result.succeed(file)
}

/**
 * Decodes `rollback.json` content (already parsed JSON). Checks the schema, then that every
 * image belongs to a listed service and the time zone is known.
 */
export const decodeRollbackFile = (json: unknown, source = "rollback.json"): Result.Result<RollbackFile, RollbackFileError> => {
  const version = typeof json === "object" && json !== null && "schemaVersion" in json ? json.schemaVersion : 1
  if (version !== 1 && version !== 2 && version !== 3) {
    return Result.fail(
      new RollbackFileError({
        message: `${source} has schemaVersion ${JSON.stringify(version)}; this fleet-rollback reads versions ${ROLLBACK_FILE_VERSIONS.join(", ")}. Run \`fleet-rollback get\` with this version to write a new file.`
      })
    )
  }
  // each version is decoded by its own schema, so a problem is reported against that version
  // (a union would list both versions' complaints about every field)
  // version 3 (deployment history, its own points) goes through its Schema only
  const decoded: Result.Result<RollbackFile, Schema.SchemaError> = (version === 3 ? undefined : decodeQuickly(json, version)) ?? (version === 1
    ? Schema.decodeUnknownResult(RollbackFileV1)(json, { errors: "all" })
    : version === 2
    ? Schema.decodeUnknownResult(RollbackFileV2)(json, { errors: "all" })
    : Schema.decodeUnknownResult(RollbackFileV3)(json, { errors: "all" }))
  if (Result.isFailure(decoded)) {
    return Result.fail(
      new RollbackFileError({
        message: `${source} is not a valid rollback.json (schema version ${version}):\n${formatIssue(decoded.failure.issue)}\nWrite it again with \`fleet-rollback get\`.`
      })
    )
  }
  const file = decoded.success
  const problem = crossCheck(file)
  if (problem !== undefined) {
    return Result.fail(new RollbackFileError({ message: `${source}: ${problem}. Write it again with \`fleet-rollback get\`.` }))
  }
  return Result.succeed(file)
}

/** The first value that occurs twice, with the indexes of both. */
const firstDuplicate = <A>(values: ReadonlyArray<A>): { readonly value: A; readonly first: number; readonly second: number } | undefined => {
  const seen = new Map<A, number>()
  for (let i = 0; i < values.length; i++) {
    const before = seen.get(values[i]!)
    if (before !== undefined) return { value: values[i]!, first: before, second: i }
    seen.set(values[i]!, i)
  }
  return undefined
}

/**
 * What the schema cannot say field by field: services, apps, image tags, point ids and labels
 * are unique; images and changes name listed services; every change names an image of its
 * service; the time zone is known. Undefined when all holds, else the problem naming the field.
 */
export const crossCheck = (file: RollbackFile): string | undefined => {
  const serviceDup = firstDuplicate(file.services.map((s) => s.name))
  if (serviceDup !== undefined) {
    return `services[${serviceDup.first}] and services[${serviceDup.second}] are both named ${JSON.stringify(serviceDup.value)}: each service once`
  }
  const apps = file.services.flatMap((s) => (s.app === undefined ? [] : [s.app]))
  const appDup = firstDuplicate(apps)
  if (appDup !== undefined) return `two services name the app ${JSON.stringify(appDup.value)}: each app once`
  const names = new Set(file.services.map((s) => s.name))
  const stray = [...Object.keys(file.images), ...(file.schemaVersion === 3 ? Object.keys(file.history) : [])].filter((name) => !names.has(name))
  if (stray.length > 0) return `images of ${stray.join(", ")} but no such service in "services"`
  const tagsOf = new Map<string, Set<string>>()
  for (const [name, images] of Object.entries(file.images)) {
    const tagDup = firstDuplicate(images.map((i) => i.tag))
    if (tagDup !== undefined) return `images.${name}[${tagDup.first}] and images.${name}[${tagDup.second}] are both tag ${JSON.stringify(tagDup.value)}`
    tagsOf.set(name, new Set(images.map((i) => i.tag)))
  }
  // Version 3: a point may name what ran (its history), not only what the registry lists.
  if (file.schemaVersion === 3) {
    for (const [name, deployments] of Object.entries(file.history)) {
      const tags = tagsOf.get(name) ?? new Set<string>()
      for (const d of deployments) for (const value of [d.tag, d.digest]) if (value !== undefined) tags.add(value)
      tagsOf.set(name, tags)
    }
  }
  const idDup = firstDuplicate(file.points.map((p) => p.id))
  if (idDup !== undefined) return `points[${idDup.first}] and points[${idDup.second}] have the same id ${idDup.value}`
  const labelDup = firstDuplicate(file.points.map((p) => p.label))
  if (labelDup !== undefined) {
    return `points[${labelDup.first}] and points[${labelDup.second}] have the same label ${JSON.stringify(labelDup.value)}: a label must name one point`
  }
  for (const [p, point] of file.points.entries()) {
    for (const [c, change] of point.changes.entries()) {
      const tags = tagsOf.get(change.service)
      if (!names.has(change.service)) return `points[${p}].changes[${c}].service ${JSON.stringify(change.service)} is no service in "services"`
      if (tags === undefined || !tags.has(change.tag)) {
        return `points[${p}].changes[${c}].tag ${JSON.stringify(change.tag)} is no image of ${change.service} in "images"${file.schemaVersion === 3 ? " or \"history\"" : ""}`
      }
    }
  }
  if (file.timeZone !== undefined && !isValidTimeZone(file.timeZone)) return `unknown timeZone ${JSON.stringify(file.timeZone)}`
  return undefined
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
   * The scheme: its name or pattern, or `{pattern, order, timestampFormat}`. The timeline's order
   * decides the version: `created` writes version 1 with the name or pattern; another order writes
   * version 2 with `{pattern, order, timestampFormat}`.
   */
  readonly scheme?: string | { readonly pattern: string; readonly order?: string | undefined; readonly timestampFormat?: string | undefined } | undefined
}

/** The order a file's targets are chosen by: a version 2 file's scheme's, else `created`. */
export const orderOfRollbackFile = (file: RollbackFile): TagOrder =>
  file.schemaVersion === 2 ? file.scheme.order : file.schemaVersion === 3 && typeof file.scheme === "object" ? file.scheme.order : "created"

/**
 * Writes a timeline as `rollback.json`: images newest first per service, points newest first;
 * version 1 when the timeline's order is `created`, else version 2 (see {@link RollbackFileV2}).
 */
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
  const order = timeline.order ?? "created"
  const scheme = header.scheme
  const pattern = typeof scheme === "object" ? scheme.pattern : scheme
  const timestampFormat = typeof scheme === "object" ? scheme.timestampFormat : undefined
  // the keys in the order files have always had them
  const head = { generatedAt: header.generatedAt, environment: header.environment, registry: stripCredentials(header.registry) }
  const rest = {
    granularity: timeline.granularity,
    timeZone: timeline.timeZone,
    services: timeline.services.map((s) => ({ name: s.name, repository: s.repository, ...(s.app !== undefined ? { app: s.app } : {}) })),
    images,
    points: timeline.points.map((p) => ({ id: p.id, label: p.label, changes: p.changes.map((c) => ({ service: c.service, tag: c.tag })) })),
    ...(ignored !== undefined ? { ignored } : {})
  }
  // a scheme with an order of its own is an object (version 2 and up); `created` stays the pattern
  const orderedScheme = order === "created" ? undefined : { pattern: pattern ?? "", order, ...(timestampFormat !== undefined ? { timestampFormat } : {}) }
  if (timeline.history !== undefined) {
    return {
      schemaVersion: 3,
      ...head,
      ...(orderedScheme !== undefined ? { scheme: orderedScheme } : pattern !== undefined ? { scheme: pattern } : {}),
      ...rest,
      points: timeline.points.map((p) => ({
        id: p.id,
        label: p.label,
        changes: p.changes.map((c) => ({ service: c.service, tag: c.tag })),
        source: "history" as const,
        ...(p.ranUntil !== undefined ? { ranUntil: p.ranUntil } : {})
      })),
      history: historyToFile(timeline.history)
    }
  }
  if (orderedScheme === undefined) return { schemaVersion: 1, ...head, ...(pattern !== undefined ? { scheme: pattern } : {}), ...rest }
  return { schemaVersion: 2, ...head, scheme: orderedScheme, ...rest }
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
    ...(file.schemaVersion === 3 ? { history: historyOfFile(file.history) } : {}),
    granularity: (file.granularity ?? "instant") as Granularity,
    timeZone: file.timeZone ?? "UTC",
    order: orderOfRollbackFile(file)
  }
}

/** A timeline's history as `rollback.json` writes it: per service, oldest first. */
const historyToFile = (history: Readonly<Record<string, ReadonlyArray<Deployment>>>): Record<string, Array<RollbackDeployment>> => {
  const out: Record<string, Array<RollbackDeployment>> = {}
  for (const [service, list] of Object.entries(history)) {
    out[service] = list.map((d) => ({
      at: formatIsoInstant(d.at),
      ...(d.tag !== undefined ? { tag: d.tag } : {}),
      ...(d.digest !== undefined ? { digest: d.digest } : {}),
      source: d.source,
      ...(d.revision !== undefined ? { revision: d.revision } : {}),
      ...(d.cause !== undefined ? { cause: d.cause } : {})
    }))
  }
  return out
}

/** A file's history back as deployments, oldest first per service. */
const historyOfFile = (history: RollbackFileV3["history"]): Record<string, ReadonlyArray<Deployment>> => {
  const out: Record<string, ReadonlyArray<Deployment>> = {}
  for (const [service, list] of Object.entries(history)) {
    out[service] = list
      .map((d): Deployment => ({ service, at: parseIsoInstant(d.at)!, tag: d.tag, digest: d.digest, source: d.source, revision: d.revision, cause: d.cause }))
      .sort((a, b) => a.at - b.at)
  }
  return out
}

/** Removes `user:password@` from a URL so credentials never reach the file. */
export const stripCredentials = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1")
