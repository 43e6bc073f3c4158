/**
 * @module SwarmError — the one error of the Docker Engine (Swarm) client, with a `reason` an
 * operator can act on, and its mapping onto the Target contract's {@link TargetError}.
 */
import { Cause, Schema } from "effect"
import { TargetError } from "../../target/TargetError.ts"
import type { TargetErrorReason } from "../../target/TargetError.ts"

/** Why a Docker Engine call failed. */
export const SwarmErrorReason: Schema.Literals<readonly ["Invalid", "Unauthorized", "NotFound", "OutOfSequence", "NotManager", "Unavailable", "Unreachable", "Timeout", "BadResponse", "Unsupported"]> = Schema.Literals([
  /** 400: the engine refused the request (a bad spec, a bad filter, no previous spec to roll back to). */
  "Invalid",
  /** 401/403 from a proxy in front of the engine, or a TLS client certificate refused. */
  "Unauthorized",
  /** 404: no such service. */
  "NotFound",
  /** 500 "update out of sequence": the service's version moved (someone changed it meanwhile). */
  "OutOfSequence",
  /** 503: the engine is not a swarm manager (or not in a swarm). */
  "NotManager",
  /** Other 5xx, still failing after the retries. */
  "Unavailable",
  /** The engine could not be reached (no socket, refused, DNS, TLS). */
  "Unreachable",
  /** No complete answer within the request timeout. */
  "Timeout",
  /** An answer the client did not expect (not JSON, wrong shape). */
  "BadResponse",
  /** The engine speaks an API too old for this client, or the settings cannot work (ssh://). */
  "Unsupported"
])
/** Why a Docker Engine call failed. */
export type SwarmErrorReason = typeof SwarmErrorReason.Type

/** The base class of {@link SwarmError}, declared with its type (JSR: no slow types). */
const SwarmError_base: Schema.Class<SwarmError, Schema.TaggedStruct<"SwarmError", {
  readonly reason: typeof SwarmErrorReason
  readonly message: Schema.String
  /** HTTP status when the engine answered. */
  readonly status: Schema.optional<Schema.Number>
  /** True when no answer came at all (timeout, connection lost): a sent change may or may not have been applied. */
  readonly noAnswer: Schema.optional<Schema.Boolean>
}>, Cause.YieldableError> = Schema.TaggedError<SwarmError>()("SwarmError", {
  reason: SwarmErrorReason,
  message: Schema.String,
  /** HTTP status when the engine answered. */
  status: Schema.optional(Schema.Number),
  /** True when no answer came at all (timeout, connection lost): a sent change may or may not have been applied. */
  noAnswer: Schema.optional(Schema.Boolean)
})

/** A failed Docker Engine call; the message never contains a secret. */
export class SwarmError extends SwarmError_base {}

const REASONS: Record<SwarmErrorReason, TargetErrorReason> = {
  Invalid: "Invalid",
  Unauthorized: "Unauthorized",
  NotFound: "NotFound",
  // a stale version is someone else's change: the contract's Conflict (the engine says 500, not 409)
  OutOfSequence: "Conflict",
  NotManager: "Unavailable",
  Unavailable: "Unavailable",
  Unreachable: "Unreachable",
  Timeout: "Unreachable",
  BadResponse: "BadResponse",
  Unsupported: "Unsupported"
}

/** A Swarm error as the target's error: the reason mapped, the message kept word for word. */
export const toTargetError = (error: SwarmError, workloads?: ReadonlyArray<string>): TargetError =>
  new TargetError({
    reason: REASONS[error.reason],
    message: error.message,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(workloads !== undefined ? { workloads: [...workloads] } : {}),
    ...(error.noAnswer === true ? { noAnswer: true } : {})
  })
