/**
 * @module MarathonError — the one error of the Marathon / DC/OS client, with a `reason` an
 * operator (and a script) can act on and a message that says what happened and what to do.
 */
import { Cause, Schema } from "effect"

/** Why a Marathon call failed. */
export const MarathonErrorReason: Schema.Literals<readonly ["Locked", "Invalid", "Unauthorized", "Forbidden", "TooManyDeployments", "Unavailable", "Unreachable", "NotFound", "DeploymentTimeout", "BadResponse", "Indeterminate"]> = Schema.Literals([
  /** 409: an app is locked by a running deployment (`blockingDeployments` names them). */
  "Locked",
  /** 422 (or 400): Marathon rejected the request body (`details` holds its path/errors). */
  "Invalid",
  /** 401: missing or wrong credentials (or a DC/OS login that was refused). */
  "Unauthorized",
  /** 403: credentials accepted but not allowed to do this. */
  "Forbidden",
  /** 403 "Max number (N) of running deployments is achieved": Marathon takes no new deployment until one ends. */
  "TooManyDeployments",
  /** 503 / no leader / bad gateway, still failing after the retries. */
  "Unavailable",
  /** The host could not be reached at all (connection refused, DNS, TLS). */
  "Unreachable",
  /** 404: the app or deployment does not exist. */
  "NotFound",
  /** The client's own deployment timeout ran out (Marathon itself never gives up). */
  "DeploymentTimeout",
  /** A status or body the client did not expect. */
  "BadResponse",
  /**
   * A change was sent, its answer was lost, and Marathon could not be read afterwards to tell
   * whether it was applied: the deployment MAY have started (`appIds` names the apps to check).
   */
  "Indeterminate"
])

/** Why a Marathon call failed (see {@link MarathonErrorReason}). */
export type MarathonErrorReason = typeof MarathonErrorReason.Type

/** One entry of Marathon's validation `details`: a JSON path and its errors. */
export const MarathonErrorDetail: Schema.Struct<{
  readonly path: Schema.String
  readonly errors: Schema.$Array<Schema.String>
}> = Schema.Struct({
  path: Schema.String,
  errors: Schema.Array(Schema.String)
})

/** One entry of Marathon's validation `details`. */
export type MarathonErrorDetail = typeof MarathonErrorDetail.Type

/** The base class of {@link MarathonError}, declared with its type (JSR: no slow types). */
const MarathonError_base: Schema.Class<MarathonError, Schema.TaggedStruct<"MarathonError", {
  readonly reason: typeof MarathonErrorReason
  readonly message: Schema.String
  /** HTTP status when the server answered. */
  readonly status: Schema.optional<Schema.Number>
  /** Marathon's validation details (422), path and errors. */
  readonly details: Schema.optional<Schema.$Array<typeof MarathonErrorDetail>>
  /** Ids of the deployments that lock the apps (409). */
  readonly blockingDeployments: Schema.optional<Schema.$Array<Schema.String>>
  /** The apps a change was sent for whose outcome is unknown (`Indeterminate`). */
  readonly appIds: Schema.optional<Schema.$Array<Schema.String>>
  /**
   * True when Marathon gave no answer at all in the end (requests timed out or could not connect):
   * reading more from it right now would only keep the operator waiting.
   */
  readonly noAnswer: Schema.optional<Schema.Boolean>
}>, Cause.YieldableError> = Schema.TaggedError<MarathonError>()("MarathonError", {
  reason: MarathonErrorReason,
  message: Schema.String,
  /** HTTP status when the server answered. */
  status: Schema.optional(Schema.Number),
  /** Marathon's validation details (422), path and errors. */
  details: Schema.optional(Schema.Array(MarathonErrorDetail)),
  /** Ids of the deployments that lock the apps (409). */
  blockingDeployments: Schema.optional(Schema.Array(Schema.String)),
  /** The apps a change was sent for whose outcome is unknown (`Indeterminate`). */
  appIds: Schema.optional(Schema.Array(Schema.String)),
  /**
   * True when Marathon gave no answer at all in the end (requests timed out or could not connect):
   * reading more from it right now would only keep the operator waiting.
   */
  noAnswer: Schema.optional(Schema.Boolean)
})

/** A failed Marathon / DC/OS call. The message never contains a secret. */
export class MarathonError extends MarathonError_base {}
