/**
 * @module RollbackError — the one error of the workflows, with the exit code it means:
 * `BadInput` and `Refused` (nothing changed) exit 2, `Failed` exits 1.
 */
import { Cause, Schema } from "effect"

/** Why a workflow stopped. */
export const RollbackErrorKind: Schema.Literals<readonly ["BadInput", "Refused", "Failed"]> = Schema.Literals([
  "BadInput", // the operator's input is wrong (file, point, flag, config, credentials); nothing changed
  "Refused", // a safety check refused the run (unresolved, forward, moved tag); nothing changed
  "Failed" // a remote system failed; the message says what was and was not changed
])

/** The base class of {@link RollbackError}, declared with its type (JSR: no slow types). */
const RollbackError_base: Schema.Class<RollbackError, Schema.TaggedStruct<"RollbackError", {
  readonly kind: typeof RollbackErrorKind
  readonly message: Schema.String
}>, Cause.YieldableError> = Schema.TaggedError<RollbackError>()("RollbackError", {
  kind: RollbackErrorKind,
  message: Schema.String
})

/** A workflow stopped; `message` says what was expected, what came, and what to do. */
export class RollbackError extends RollbackError_base {
  /** The process exit code for this error (DESIGN.md: 1 failed, 2 bad input). */
  get exitCode(): 1 | 2 {
    return this.kind === "Failed" ? 1 : 2
  }
}

/** Shorthand for a bad-input error. */
export const badInput = (message: string): RollbackError => new RollbackError({ kind: "BadInput", message })
/** Shorthand for a refusal. */
export const refused = (message: string): RollbackError => new RollbackError({ kind: "Refused", message })
/** Shorthand for a failure. */
export const failed = (message: string): RollbackError => new RollbackError({ kind: "Failed", message })
