/**
 * @module Builder — what one deployment target's builder receives and returns: the command line
 * and the config in, a ready `Target` layer and its description (for the report) out. One builder
 * file per kind in this folder, registered in `index.ts`.
 */
import type { Effect, FileSystem, Layer } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import type { ReportTarget, TargetDescription, TargetKind } from "../../core/Report.ts"
import type { Target } from "../../target/Target.ts"
import type { RollbackError } from "../../workflow/RollbackError.ts"
import type { CliPlatform } from "../CliPlatform.ts"
import type { TargetFlagValues } from "../Flags.ts"

/** A `target:` setting (or a report's) as text: a non-blank string, trimmed; anything else is absent. */
export const settingText = (value: unknown): string | undefined => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined)

/** What a target builder is given. */
export interface TargetBuildInput {
  /** The kind asked for (`--target`, `target.kind`, or the Marathon/DC/OS default). */
  readonly kind: TargetKind
  /** Every target flag (lib/cli/Flags.ts `targetFlags`); a builder reads its own. */
  readonly flags: TargetFlagValues
  /** The whole config file. */
  readonly config: ConfigFile
  /** The config's `target:` settings (its keys besides `kind`) when its kind is this kind; `{}` otherwise. */
  readonly settings: Readonly<Record<string, unknown>>
  /**
   * `undo` only: the target the report names, when the operator accepted it
   * (`--target-from-report`): the builder goes there instead of where flags and config point.
   */
  readonly fromReport?: ReportTarget | undefined
}

/** What a builder gives back. */
export interface BuiltTarget {
  /** The deployment target, ready to use (its HTTP client, credentials and TLS settings inside). */
  readonly layer: Layer.Layer<Target, RollbackError>
  /** What the report records (`undo` compares it with a report's target); never a secret. */
  readonly description: TargetDescription
  /** True when requests carry credentials (a token, a password, a client certificate). */
  readonly sendsCredentials: boolean
  /**
   * The target's own preview (its server-side dry run) belongs to every plan, shown before anything
   * is asked or changed — Pulumi's `pulumi preview`, as seed 002 runs it before `pulumi up`.
   */
  readonly previewFirst?: boolean | undefined
}

/**
 * Builds one kind of target from the command line and config. Reads secrets only from the
 * environment (`readSecret`), checks its settings, and fails with BadInput (exit 2) naming the flag
 * or key; nothing is sent to the orchestrator while building.
 */
export type TargetBuilder = (input: TargetBuildInput) => Effect.Effect<BuiltTarget, RollbackError, CliPlatform | FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner>
