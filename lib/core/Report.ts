/**
 * @module Report — `rollback-report.json`: who rolled back what, when, to which point, and how
 * each service ended. Written by `run` and `undo` even when they fail; read by `undo`.
 */
import { Cause, Result, Schema, SchemaIssue } from "effect"
import { IsoInstant } from "./RollbackFile.ts"

/** How one service ended. */
export const ServiceOutcome: Schema.Literals<readonly ["rolled-back", "unchanged", "left-as-is", "failed", "reverted", "not-started", "unknown"]> = Schema.Literals([
  "rolled-back", // deployed and verified healthy on the target image
  "unchanged", // already ran the target; not touched
  "left-as-is", // unresolved and --allow-partial: not touched
  "failed", // deployed but not verified (timeout, unhealthy, task failures)
  "reverted", // deployed, failed, put back by --revert-on-failure, and verified back on its previous image
  "not-started", // the run stopped before deploying; the service was not changed
  "unknown" // the deployment request was sent but whether Marathon applied it could not be told: check the app
])
/** How one service ended. */
export type ServiceOutcome = typeof ServiceOutcome.Type

/** How the whole run ended. */
export const RunOutcome: Schema.Literals<readonly ["succeeded", "failed", "reverted", "refused", "nothing-to-do"]> = Schema.Literals(["succeeded", "failed", "reverted", "refused", "nothing-to-do"])
/** How the whole run ended. */
export type RunOutcome = typeof RunOutcome.Type

/** One service in the report. */
export const ReportService: Schema.Struct<{
  readonly service: Schema.String
  /** The workload id on the target (Marathon: the app id). */
  readonly app: Schema.NullOr<Schema.String>
  /** The container of that workload, when it has several (absent: its main container). */
  readonly container: Schema.optionalKey<Schema.String>
  readonly action: Schema.Literals<readonly ["rollback", "unchanged", "forward", "unresolved"]>
  readonly before: Schema.NullOr<Schema.String>
  /** What it runs afterwards, as far as known (null when it could not be read). */
  readonly after: Schema.NullOr<Schema.String>
  /**
   * The image this run deployed (or meant to deploy) to it; only on services the run set out to
   * change, absent in reports of older versions. `undo` recognises the run's change by it even
   * when `after` is unknown.
   */
  readonly target: Schema.optionalKey<Schema.String>
  readonly outcome: typeof ServiceOutcome
  readonly problem: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  service: Schema.String,
  /** The workload id on the target (Marathon: the app id). */
  app: Schema.NullOr(Schema.String),
  /** The container of that workload, when it has several (absent: its main container). */
  container: Schema.optionalKey(Schema.String),
  action: Schema.Literals(["rollback", "unchanged", "forward", "unresolved"]),
  before: Schema.NullOr(Schema.String),
  /** What it runs afterwards, as far as known (null when it could not be read). */
  after: Schema.NullOr(Schema.String),
  /**
   * The image this run deployed (or meant to deploy) to it; only on services the run set out to
   * change, absent in reports of older versions. `undo` recognises the run's change by it even
   * when `after` is unknown.
   */
  target: Schema.optionalKey(Schema.String),
  outcome: ServiceOutcome,
  problem: Schema.optionalKey(Schema.String)
})
/** One service in the report. */
export type ReportService = typeof ReportService.Type

/** The kinds of deployment target (`--target`, the config's `target.kind`, a report's `target.kind`). */
export const TargetKind: Schema.Literals<readonly ["marathon", "dcos", "swarm", "kubernetes", "gitops", "pulumi", "openshift"]> = Schema.Literals(["marathon", "dcos", "swarm", "kubernetes", "gitops", "pulumi", "openshift"])
/** The kinds of deployment target. */
export type TargetKind = typeof TargetKind.Type

/**
 * How to reach the target a report's run changed (`undo` goes back there); never a secret.
 * Version 1 reports only knew `marathon` and `dcos`; readers older than the other kinds refuse
 * such a report rather than send its changes to Marathon.
 */
export const ReportTarget: Schema.Struct<{
  /** Which target: plain Marathon, Marathon behind a DC/OS cluster's login, Swarm, Kubernetes, … */
  readonly kind: typeof TargetKind
  /** The orchestrator's URL (DC/OS: the cluster URL, Marathon at `<url>/service/marathon`; Swarm: DOCKER_HOST; GitOps: the remote). */
  readonly url: Schema.String
  /** DC/OS: the uid that logged in (its secret comes from DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE). */
  readonly dcosUid: Schema.optionalKey<Schema.String>
  /** What else the target needs to find the same workloads again (stack, namespaces, context, branch); never a secret. */
  readonly settings: Schema.optionalKey<Schema.$Record<Schema.String, Schema.String>>
}> = Schema.Struct({
  /** Which target: plain Marathon, Marathon behind a DC/OS cluster's login, Swarm, Kubernetes, … */
  kind: TargetKind,
  /** The orchestrator's URL (DC/OS: the cluster URL, Marathon at `<url>/service/marathon`; Swarm: DOCKER_HOST; GitOps: the remote). */
  url: Schema.String,
  /** DC/OS: the uid that logged in (its secret comes from DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE). */
  dcosUid: Schema.optionalKey(Schema.String),
  /** What else the target needs to find the same workloads again (stack, namespaces, context, branch); never a secret. */
  settings: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
})
/** How to reach the target a report's run changed. */
export type ReportTarget = typeof ReportTarget.Type
/** A target's description of itself for the report (the same shape as {@link ReportTarget}). */
export type TargetDescription = ReportTarget

/** `rollback-report.json`, version 1. */
export const RollbackReport: Schema.Struct<{
  readonly schemaVersion: Schema.Literal<1>
  readonly kind: Schema.Literals<readonly ["run", "undo"]>
  readonly user: Schema.String
  readonly startedAt: Schema.String
  readonly finishedAt: Schema.String
  readonly durationMs: Schema.Number
  readonly point: Schema.NullOr<Schema.String>
  readonly label: Schema.NullOr<Schema.String>
  readonly environment: Schema.NullOr<Schema.String>
  /** The Marathon URL (for DC/OS: the cluster URL); `target` says how to reach it. */
  readonly marathon: Schema.String
  /** How to reach that Marathon again (absent in reports of older versions: plain Marathon at `marathon`). */
  readonly target: Schema.optionalKey<typeof ReportTarget>
  readonly outcome: typeof RunOutcome
  readonly message: Schema.String
  readonly deploymentId: Schema.NullOr<Schema.String>
  readonly revertDeploymentId: Schema.NullOr<Schema.String>
  readonly durations: Schema.Struct<{
    readonly deployMs: Schema.Number
    readonly waitMs: Schema.Number
  }>
  readonly services: Schema.$Array<typeof ReportService>
  readonly finalState: Schema.$Array<Schema.Struct<{
    readonly app: Schema.String
    readonly image: Schema.NullOr<Schema.String>
    readonly instances: Schema.Number
    readonly tasksRunning: Schema.Number
    readonly tasksHealthy: Schema.Number
  }>>
}> = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  kind: Schema.Literals(["run", "undo"]),
  user: Schema.String,
  startedAt: IsoInstant,
  finishedAt: IsoInstant,
  durationMs: Schema.Number,
  point: Schema.NullOr(Schema.String),
  label: Schema.NullOr(Schema.String),
  environment: Schema.NullOr(Schema.String),
  /** The Marathon URL (for DC/OS: the cluster URL); `target` says how to reach it. */
  marathon: Schema.String,
  /** How to reach that Marathon again (absent in reports of older versions: plain Marathon at `marathon`). */
  target: Schema.optionalKey(ReportTarget),
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

/**
 * True when the run changed the fleet or may have: some service was deployed (whatever came of
 * it) or its outcome is unknown. A report of a run that changed nothing is not worth keeping over
 * the report of one that did (`undo` needs that one).
 */
export const fleetMayHaveChanged = (report: Pick<RollbackReport, "services">): boolean =>
  report.services.some((s) => s.outcome === "rolled-back" || s.outcome === "failed" || s.outcome === "reverted" || s.outcome === "unknown")

/** The base class of {@link ReportFileError}, declared with its type (JSR: no slow types). */
const ReportFileError_base: Schema.Class<ReportFileError, Schema.TaggedStruct<"ReportFileError", {
  readonly message: Schema.String
}>, Cause.YieldableError> = Schema.TaggedError<ReportFileError>()("ReportFileError", { message: Schema.String })

/** A report file could not be read; the message names the field. */
export class ReportFileError extends ReportFileError_base {}

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
