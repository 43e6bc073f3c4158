/**
 * @module supported-node — types of scripts/supported-node.js (plain JavaScript so that it runs on
 * any Node, also one too old for the rest of fleet-rollback).
 */

/** The oldest Node.js fleet-rollback supports (package.json `engines`). */
export declare const MINIMUM_NODE: string

/** The message for an unsupported Node, or `undefined` when this runtime is fine. */
export declare const unsupportedNodeMessage: (
  versions: { readonly node?: string | undefined; readonly deno?: string | undefined },
  executable: string,
  inCheckout: boolean
) => string | undefined

/** Exits with code 2 and the message when this Node is too old. */
export declare const exitUnlessSupportedNode: () => void
