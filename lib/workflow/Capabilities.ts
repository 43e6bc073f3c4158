/**
 * @module Capabilities — refuses, before anything is read or changed, a switch that needs
 * something the deployment target declares it cannot do ({@link TargetCapabilities}), naming the
 * target and the switch.
 */
import { Effect } from "effect"
import type { TargetCapabilities, TargetShape } from "../target/Target.ts"
import type { RollbackError } from "./RollbackError.ts"
import { badInput } from "./RollbackError.ts"

/** The switches that need a capability, as the operator set them. */
export interface RequestedSwitches {
  readonly force?: boolean | undefined
  readonly revertOnFailure?: boolean | undefined
  readonly pinDigest?: boolean | undefined
  readonly serverDryRun?: boolean | undefined
}

/** Each switch: the capability it needs, its command-line name, and what it does. */
export const SWITCH_CAPABILITIES: ReadonlyArray<{
  readonly switch: keyof RequestedSwitches
  readonly capability: keyof TargetCapabilities
  readonly flag: string
  readonly needs: string
}> = [
  { switch: "force", capability: "force", flag: "--force", needs: "override the orchestrator's lock" },
  { switch: "revertOnFailure", capability: "revert", flag: "--revert-on-failure", needs: "put the previous images back itself" },
  { switch: "pinDigest", capability: "pinDigest", flag: "--pin-digest", needs: "deploy an image by digest (repository:tag@sha256:…)" },
  { switch: "serverDryRun", capability: "serverDryRun", flag: "--server-dry-run", needs: "validate a change without applying it" }
]

/**
 * Fails with BadInput (exit 2, nothing changed) for the first switch the target cannot honour.
 * `names` overrides the flag names (the Promise API names its options).
 */
export const checkCapabilities = (
  target: Pick<TargetShape, "capabilities" | "displayName" | "description">,
  requested: RequestedSwitches,
  names: Partial<Record<keyof RequestedSwitches, string>> = {}
): Effect.Effect<void, RollbackError> => {
  for (const entry of SWITCH_CAPABILITIES) {
    if (requested[entry.switch] === true && !target.capabilities[entry.capability]) {
      const flag = names[entry.switch] ?? entry.flag
      return Effect.fail(
        badInput(
          `${flag} is not available with the ${target.description.kind} target: ${target.displayName} cannot ${entry.needs}. Leave out ${flag}; nothing was changed.`
        )
      )
    }
  }
  return Effect.void
}
