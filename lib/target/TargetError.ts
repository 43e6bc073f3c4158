/**
 * @module TargetError — the one error of every deployment target, with a `reason` the workflow
 * (and a script) can act on and a message that says which workload, what the orchestrator said,
 * and what to do. Targets map their own errors onto it; the message never contains a secret.
 */
import { Cause, Schema } from "effect"

/** Why a call to a deployment target failed. */
export const TargetErrorReason: Schema.Literals<readonly ["Invalid", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Busy", "Unavailable", "Unreachable", "BadResponse", "Timeout", "RolloutFailed", "Indeterminate", "Unsupported"]> = Schema.Literals([
  /** The settings or a request are wrong (a bad selector, an unknown context, an invalid spec). */
  "Invalid",
  /** Missing or wrong credentials. */
  "Unauthorized",
  /** Credentials accepted but not allowed (RBAC: the message names the verb and resource). */
  "Forbidden",
  /** The workload (or the change being followed) does not exist. */
  "NotFound",
  /** Someone else holds or changed the workload (Marathon's lock, a stale version, a failed guard). */
  "Conflict",
  /** The orchestrator takes no change right now (too many deployments, a lock); retry later. */
  "Busy",
  /** 503 / no leader / bad gateway, still failing after the transport's retries. */
  "Unavailable",
  /** The orchestrator could not be reached at all (refused, DNS, TLS). */
  "Unreachable",
  /** A status or body the client did not expect. */
  "BadResponse",
  /** Our own timeout ran out while waiting for a change (the orchestrator may go on). */
  "Timeout",
  /** The orchestrator says the change failed (paused update, ProgressDeadlineExceeded, rollback_*). */
  "RolloutFailed",
  /**
   * A change was sent, its answer was lost, and the orchestrator could not be read afterwards to
   * tell whether it was applied: it MAY have started (`workloads` names what to check).
   */
  "Indeterminate",
  /** The target cannot do this at all (see {@link TargetCapabilities}); nothing was sent. */
  "Unsupported"
])
/** Why a call to a deployment target failed (see {@link TargetErrorReason}). */
export type TargetErrorReason = typeof TargetErrorReason.Type

/** The base class of {@link TargetError}, declared with its type (JSR: no slow types). */
const TargetError_base: Schema.Class<TargetError, Schema.TaggedStruct<"TargetError", {
  readonly reason: typeof TargetErrorReason
  readonly message: Schema.String
  /** HTTP status when the orchestrator answered. */
  readonly status: Schema.optional<Schema.Number>
  /** The workloads the error is about (a change of unknown outcome: what to check). */
  readonly workloads: Schema.optional<Schema.$Array<Schema.String>>
  /**
   * True when the orchestrator gave no answer at all in the end (timed out or could not connect):
   * asking it more right now would only keep the operator waiting.
   */
  readonly noAnswer: Schema.optional<Schema.Boolean>
}>, Cause.YieldableError> = Schema.TaggedError<TargetError>()("TargetError", {
  reason: TargetErrorReason,
  message: Schema.String,
  /** HTTP status when the orchestrator answered. */
  status: Schema.optional(Schema.Number),
  /** The workloads the error is about (a change of unknown outcome: what to check). */
  workloads: Schema.optional(Schema.Array(Schema.String)),
  /**
   * True when the orchestrator gave no answer at all in the end (timed out or could not connect):
   * asking it more right now would only keep the operator waiting.
   */
  noAnswer: Schema.optional(Schema.Boolean)
})

/** A failed call to a deployment target. The message never contains a secret. */
export class TargetError extends TargetError_base {}

/** Read failures worth another try within a budget: the orchestrator busy, leaderless or unreachable. */
export const RETRYABLE_READ_REASONS: ReadonlySet<TargetErrorReason> = new Set(["Unavailable", "Unreachable", "BadResponse"])
