/**
 * @module GitOpsError — the errors of the GitOps and Pulumi targets, with a `reason` that maps
 * onto the Target contract's {@link TargetError}, and {@link scrubCredentials}: every message that
 * may carry a URL (git's own output, a remote) passes through it, so user info in a URL
 * (`https://user:token@host/…`) never reaches a log, a report or an error.
 */
import { Cause, Schema } from "effect"
import { TargetError } from "../../target/TargetError.ts"
import type { TargetErrorReason } from "../../target/TargetError.ts"

/** Why a GitOps operation failed. */
export const GitOpsErrorReason: Schema.Literals<readonly ["Invalid", "Missing", "Unauthorized", "Unreachable", "Conflict", "RenderFailed", "NotFound", "Failed"]> = Schema.Literals([
  /** Settings or files are not what the target expects (no such branch, a file it cannot edit). */
  "Invalid",
  /** A program the target needs is not installed (`git`, `pulumi`). */
  "Missing",
  /** The remote refused our credentials or asked for some (git never prompts here). */
  "Unauthorized",
  /** The remote could not be reached (clone, fetch, push). */
  "Unreachable",
  /** The remote moved since the plan, a push was rejected, a revert conflicts, a branch exists. */
  "Conflict",
  /** `kubectl kustomize` could not render a touched kustomization. */
  "RenderFailed",
  /** A workload the change names is not in the repository. */
  "NotFound",
  /** A program failed in a way not covered above. */
  "Failed"
])
/** Why a GitOps operation failed. */
export type GitOpsErrorReason = typeof GitOpsErrorReason.Type

/** The base class of {@link GitOpsError}, declared with its type (JSR: no slow types). */
const GitOpsError_base: Schema.Class<GitOpsError, Schema.TaggedStruct<"GitOpsError", {
  readonly reason: typeof GitOpsErrorReason
  readonly message: Schema.String
}>, Cause.YieldableError> = Schema.TaggedError<GitOpsError>()("GitOpsError", {
  reason: GitOpsErrorReason,
  message: Schema.String
})

/** A failed GitOps operation; the message never contains a credential. */
export class GitOpsError extends GitOpsError_base {}

const REASONS: Record<GitOpsErrorReason, TargetErrorReason> = {
  Invalid: "Invalid",
  Missing: "Invalid",
  Unauthorized: "Unauthorized",
  Unreachable: "Unreachable",
  Conflict: "Conflict",
  RenderFailed: "Invalid",
  NotFound: "NotFound",
  Failed: "BadResponse"
}

/** The GitOps error as the Target contract's error (message scrubbed once more); a TargetError (from a cluster waited on) as it is. */
export const toTargetError = (error: GitOpsError | TargetError): TargetError =>
  error._tag === "TargetError" ? error : new TargetError({ reason: REASONS[error.reason], message: scrubCredentials(error.message) })

/**
 * Removes user info from every URL in a text (`https://user:token@host/x` → `https://host/x`,
 * also `ssh://`, `git://` and others), and the value of `Authorization`/`password`-looking
 * `key=value` pairs git may echo. Pure.
 */
export const scrubCredentials = (text: string): string =>
  text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi, "$1")
    .replace(/\b(authorization|password|passwd|token|secret)(\s*[:=]\s*)\S+/gi, "$1$2***")
