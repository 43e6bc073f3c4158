/**
 * @module ImportHistory — an OpenShift ImageStream tag's import history (`status.tags[].items[]`,
 * newest first) as the images of a service, so a timeline has points even when the registry
 * holds only the moving tag (seed 003: `:prod`). Each digest becomes one image, named
 * `<tag>-<first 12 hex of the digest>` (a name no registry tag needs to have; the target rolls
 * back by digest), dated by the registry where it still has the digest (its annotation, config,
 * schema1 history or push time), else by when the stream first imported it (`imported`). Pure.
 */
import type { RegistryImage } from "./Image.ts"
import { parseKnownInstant } from "./Image.ts"

/** One import of a tag (an ImageStream TagEvent). */
export interface ImportEvent {
  /** When it was imported (RFC 3339). */
  readonly created: string
  /** The pull spec by digest (`quay.io/org/app@sha256:…`). */
  readonly dockerImageReference: string
  /** The image's manifest digest. */
  readonly image: string
}

/** A tag's import history and what the registry still says about its digests. */
export interface ImportHistoryInput {
  /** The repository path inside its registry (`packit/worker`). */
  readonly repository: string
  /** The ImageStream tag (`prod`). */
  readonly tag: string
  /** Imports, newest first, as `status.tags[].items[]` lists them (digests may repeat). */
  readonly items: ReadonlyArray<ImportEvent>
  /** The registry's dates of the digests it still has (by digest); absent = gone or unreadable. */
  readonly registryDates: ReadonlyMap<string, RegistryImage["dates"]>
}

/** The image name of a digest imported under `tag`: `prod-aed38c83b301`. */
export const importedImageName = (tag: string, digest: string): string => `${tag}-${digest.replace(/^sha256:/, "").slice(0, 12)}`

/**
 * Every distinct digest of the history as a registry image (oldest import first): the registry's
 * dates when it has the digest, and always the first import time as `imported` (the last-resort
 * source, so {@link effectiveTime} prefers what the registry says). Events with an unreadable
 * `created` or without a digest are left out.
 */
export const importHistoryImages = (input: ImportHistoryInput): ReadonlyArray<RegistryImage> => {
  // `age`: the position from the oldest end, which orders imports within the same second (`created` has whole seconds).
  const firstImport = new Map<string, { readonly created: string; readonly time: number; readonly age: number }>()
  input.items.forEach((event, index) => {
    const time = parseKnownInstant(event.created)
    if (time === undefined || !/^sha256:[0-9a-f]{64}$/.test(event.image)) return
    const seen = firstImport.get(event.image)
    const age = input.items.length - index
    if (seen === undefined || time < seen.time || (time === seen.time && age < seen.age)) firstImport.set(event.image, { created: event.created, time, age })
  })
  return [...firstImport]
    .sort(([, x], [, y]) => x.time - y.time || x.age - y.age)
    .map(([digest, first]) => ({
      repository: input.repository,
      tag: importedImageName(input.tag, digest),
      digest,
      dates: { ...(input.registryDates.get(digest) ?? {}), imported: first.created }
    }))
}

/**
 * The tag scheme of imported image names (`prod-aed38c83b301`): any tag name, a dash, 12 hex of
 * the digest; images are ordered by date (`created`), as the import history is.
 */
export const IMPORTED_IMAGE_PATTERN = ".+-(?<sha>[0-9a-f]{12})"
