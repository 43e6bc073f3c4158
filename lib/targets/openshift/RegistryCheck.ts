/**
 * @module RegistryCheck — whether a registry still serves a digest, through the registry client's
 * HEAD of the manifest (lib/registry/): 404 means gone; any other failure means it cannot be told,
 * and the rollback stops before anything changes (a tag pinned to a missing digest never imports).
 */
import { Effect } from "effect"
import type { RegistryError } from "../../registry/RegistryError.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { DigestCheck } from "./Change.ts"

/** A HEAD of `repository`'s manifest `reference` at registry `host` (undefined: no client for that host). */
export type ManifestHead = (host: string, repository: string, reference: string) => Effect.Effect<string, RegistryError> | undefined

/** The digest check of the OpenShift target over the registry client. */
export const registryDigestCheck = (head: ManifestHead): DigestCheck => (image) => {
  const request = head(image.host, image.repository, image.digest)
  if (request === undefined) {
    return Effect.fail(new TargetError({ reason: "Invalid", message: `${image.host}/${image.repository}@${image.digest}: no registry configured for ${image.host}, so whether the digest still exists cannot be checked; nothing was changed. Add the registry (registry.url) and its credentials` }))
  }
  return request.pipe(
    Effect.as(true),
    Effect.catchIf((e: RegistryError) => e.reason === "NotFound", () => Effect.succeed(false)),
    Effect.mapError((e) => new TargetError({ reason: "Unavailable", message: `${image.host}/${image.repository}@${image.digest}: the registry could not be asked whether the digest still exists (${e.message}); nothing was changed` }))
  )
}
