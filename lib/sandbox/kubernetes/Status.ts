/**
 * @module Status — the Kubernetes `Status` object every failed request answers with, and the
 * error the sandbox's handlers throw to produce one (reason ↔ code as apimachinery's
 * `pkg/api/errors/errors.go` pairs them; FACTS.md "Errors: the Status object").
 */

/** The reasons the sandbox answers with. */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "UnsupportedMediaType"
  | "Invalid"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503
}

/** `details` of a Status. */
export interface StatusDetails {
  readonly name?: string
  readonly group?: string
  readonly kind?: string
  readonly causes?: ReadonlyArray<{ readonly reason: string; readonly message: string; readonly field?: string }>
  readonly retryAfterSeconds?: number
}

/** Thrown by a handler; the server answers with {@link statusBody} of it. */
export class StatusError extends Error {
  readonly code: number
  readonly reason: StatusReason
  readonly details: StatusDetails | undefined
  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message)
    this.reason = reason
    this.details = details
    this.code = CODES[reason]
  }
}

/** The `Status` JSON of a failure. */
export const statusBody = (error: StatusError): Record<string, unknown> => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: error.message,
  reason: error.reason,
  ...(error.details === undefined ? {} : { details: error.details }),
  code: error.code
})

/** `deployments.apps` / `pods`: how a Status names a resource of a group. */
export const qualifiedResource = (resource: string, group: string): string => group === "" ? resource : `${resource}.${group}`

/** 404 for one object. */
export const notFound = (resource: string, group: string, name: string): StatusError =>
  new StatusError("NotFound", `${qualifiedResource(resource, group)} "${name}" not found`, {
    name,
    ...(group === "" ? {} : { group }),
    kind: resource
  })

/** 409 Conflict for a stale resourceVersion (apimachinery `NewConflict` with `OptimisticLockErrorMsg`). */
export const conflict = (resource: string, group: string, name: string): StatusError =>
  new StatusError(
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(group === "" ? {} : { group }), kind: resource }
  )

/** 422 Invalid with field causes (apimachinery `NewInvalid`). */
export const invalid = (
  kind: string,
  group: string,
  name: string,
  causes: ReadonlyArray<{ readonly field: string; readonly message: string; readonly reason?: string }>
): StatusError =>
  new StatusError(
    "Invalid",
    `${kind}${group === "" ? "" : `.${group}`} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`,
    {
      name,
      ...(group === "" ? {} : { group }),
      kind,
      causes: causes.map((c) => ({ reason: c.reason ?? "FieldValueInvalid", message: c.message, field: c.field }))
    }
  )
