/**
 * @module RegistryError — the one error of the registry client, with a `reason` an operator can act on.
 */
import { Cause, Schema } from "effect"

/**
 * Why a registry operation failed:
 * - `Unauthorized`: 401/403 after authenticating (wrong or missing credentials, or no pull access).
 * - `NotFound`: the repository, tag or blob does not exist (404).
 * - `RateLimited`: 429 after all retries, or a `Retry-After` too long to wait for.
 * - `ServerError`: 5xx after all retries.
 * - `Unreachable`: connection refused/reset/DNS failure after all retries.
 * - `Timeout`: no complete answer within the per-request timeout, after all retries.
 * - `BadResponse`: an answer that is not what the distribution spec says (bad JSON, a body that is no manifest…).
 * - `DigestMismatch`: a manifest or blob body whose sha256 differs from its digest.
 * - `InsecureLink`: a `Link` or redirect to another scheme/host, or from https down to http.
 * - `Tls`: the TLS handshake failed (unknown CA, expired or mismatching certificate) or a CA file is unreadable.
 * - `InvalidInput`: the caller asked for something that cannot be right, before any request: a
 *   registry URL that is not http(s), a platform that is not os/architecture[/variant], a
 *   repository name the distribution spec does not allow.
 */
export const RegistryErrorReason: Schema.Literals<readonly ["Unauthorized", "NotFound", "RateLimited", "ServerError", "Unreachable", "Timeout", "BadResponse", "DigestMismatch", "InsecureLink", "Tls", "InvalidInput"]> = Schema.Literals([
  "Unauthorized",
  "NotFound",
  "RateLimited",
  "ServerError",
  "Unreachable",
  "Timeout",
  "BadResponse",
  "DigestMismatch",
  "InsecureLink",
  "Tls",
  "InvalidInput"
])

/** The reason union of {@link RegistryError}. */
export type RegistryErrorReason = typeof RegistryErrorReason.Type

/** The base class of {@link RegistryError}, declared with its type (JSR: no slow types). */
const RegistryError_base: Schema.Class<RegistryError, Schema.TaggedStruct<"RegistryError", {
  readonly reason: typeof RegistryErrorReason
  readonly repository: Schema.optional<Schema.String>
  readonly message: Schema.String
  /** HTTP status of the last answer, when there was one. */
  readonly status: Schema.optional<Schema.Number>
  /** The lower-level error (transport, schema), when there was one. */
  readonly cause: Schema.optional<Schema.Defect>
}>, Cause.YieldableError> = Schema.TaggedError<RegistryError>()("RegistryError", {
  reason: RegistryErrorReason,
  repository: Schema.optional(Schema.String),
  message: Schema.String,
  /** HTTP status of the last answer, when there was one. */
  status: Schema.optional(Schema.Number),
  /** The lower-level error (transport, schema), when there was one. */
  cause: Schema.optional(Schema.Defect())
})

/**
 * A failed registry operation. `message` says what was expected, what came and what to do;
 * it never contains a password or a token.
 */
export class RegistryError extends RegistryError_base {}
