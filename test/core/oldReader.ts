/**
 * @module test/core/oldReader — the `rollback.json` reader of fleet-rollback at 9f1ba64 (before
 * tag orders), kept as `git show 9f1ba64:lib/core/RollbackFile.ts` has it: its Schemas and
 * `decodeRollbackFile`, word for word except that only the decoder is exported (the time-zone
 * helpers are the current ones, unchanged since). Tests use it to show what an installed older
 * fleet-rollback makes of the files this one writes. Never update it with the real schema: it
 * stands for the readers already out there.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { isValidTimeZone, parseIsoInstant } from "../../lib/core/TimeZone.ts"

/** An ISO-8601 instant in UTC as written by toISOString (`2026-11-21T14:03:27.000Z`). */
const IsoInstant = Schema.String.pipe(
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

/** One image of a service in `rollback.json`. */
const RollbackImage = Schema.Struct({
  tag: Schema.String,
  digest: Schema.String,
  created: IsoInstant,
  dateSource: Schema.Literals(["annotation", "config", "tag", "push"]),
  build: Schema.optionalKey(Schema.Int),
  version: Schema.optionalKey(Schema.String),
  revision: Schema.optionalKey(Schema.String)
})
/** One image of a service in `rollback.json`. */

/** A service in `rollback.json`. */
const RollbackService = Schema.Struct({
  name: Schema.String,
  repository: Schema.String,
  app: Schema.optionalKey(Schema.String)
})

/** A point in `rollback.json`. */
const RollbackPoint = Schema.Struct({
  id: IsoInstant,
  label: Schema.String,
  changes: Schema.Array(Schema.Struct({ service: Schema.String, tag: Schema.String }))
})

/** Ignored tags of one service, for the summary. */
const RollbackIgnored = Schema.Struct({
  noSchemeMatch: Schema.Int,
  otherEnvironment: Schema.Int,
  digestInTagList: Schema.Int,
  markedBad: Schema.Int,
  unknownDate: Schema.Array(Schema.String)
})

/** `rollback.json`, schema version 1. */
const RollbackFile = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  generatedAt: IsoInstant,
  environment: Schema.NullOr(Schema.String),
  registry: Schema.String,
  scheme: Schema.optionalKey(Schema.String),
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

