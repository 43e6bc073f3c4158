/**
 * @module Report — `rollback-report.json`: who rolled back what, when, to which point, and how
 * each service ended. Written by `run` and `undo` even when they fail; read by `undo`.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { IsoInstant } from "./RollbackFile.ts"

/** How one service ended. */
export const ServiceOutcome = Schema.Literals([
  "rolled-back", // deployed and verified healthy on the target image
  "unchanged", // already ran the target; not touched
  "left-as-is", // unresolved and --allow-partial: not touched
  "failed", // deployed but not verified (timeout, unhealthy, task failures)
  "reverted", // deployed, failed, and put back by --revert-on-failure
  "not-started" // the run stopped before deploying
])
/** How one service ended. */
export type ServiceOutcome = typeof ServiceOutcome.Type

/** How the whole run ended. */
export const RunOutcome = Schema.Literals(["succeeded", "failed", "reverted", "refused", "nothing-to-do"])
/** How the whole run ended. */
export type RunOutcome = typeof RunOutcome.Type

/** One service in the report. */
export const ReportService = Schema.Struct({
  service: Schema.String,
  app: Schema.NullOr(Schema.String),
  action: Schema.Literals(["rollback", "unchanged", "forward", "unresolved"]),
  before: Schema.NullOr(Schema.String),
  after: Schema.NullOr(Schema.String),
  outcome: ServiceOutcome,
  problem: Schema.optionalKey(Schema.String)
})
/** One service in the report. */
export type ReportService = typeof ReportService.Type

/** `rollback-report.json`, version 1. */
export const RollbackReport = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  kind: Schema.Literals(["run", "undo"]),
  user: Schema.String,
  startedAt: IsoInstant,
  finishedAt: IsoInstant,
  durationMs: Schema.Number,
  point: Schema.NullOr(Schema.String),
  label: Schema.NullOr(Schema.String),
  environment: Schema.NullOr(Schema.String),
  marathon: Schema.String,
  outcome: RunOutcome,
  message: Schema.String,
  deploymentId: Schema.NullOr(Schema.String),
  revertDeploymentId: Schema.NullOr(Schema.String),
  durations: Schema.Struct({ deployMs: Schema.Number, waitMs: Schema.Number }),
  services: Schema.Array(ReportService),
  finalState: Schema.Array(
    Schema.Struct({
      app: Schema.String,
      image: Schema.NullOr(Schema.String),
      instances: Schema.Number,
      tasksRunning: Schema.Number,
      tasksHealthy: Schema.Number
    })
  )
})
/** `rollback-report.json`, version 1. */
export type RollbackReport = typeof RollbackReport.Type

/** A report file could not be read; the message names the field. */
export class ReportFileError extends Schema.TaggedError<ReportFileError>()("ReportFileError", { message: Schema.String }) {}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** Parses and decodes the text of a report file. */
export const parseReport = (text: string, source: string): Result.Result<RollbackReport, ReportFileError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Result.fail(new ReportFileError({ message: `${source} is not JSON (${String(error)})` }))
  }
  const decoded = Schema.decodeUnknownResult(RollbackReport)(json, { errors: "all" })
  if (Result.isFailure(decoded)) {
    return Result.fail(new ReportFileError({ message: `${source} is not a fleet-rollback report:\n${formatIssue(decoded.failure.issue)}` }))
  }
  return Result.succeed(decoded.success)
}
