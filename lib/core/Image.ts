/**
 * @module Image — one image of one service as the registry describes it, and its effective time.
 *
 * The registry adapter produces {@link RegistryImage} values (raw facts, dates by source);
 * the core turns them into timeline images with one effective time and the source kept.
 */
import { parseIsoInstant } from "./TimeZone.ts"

/**
 * Where an image's effective time came from, in order of preference. `schema1-history` is the
 * `created` of the first `history` entry's `v1Compatibility` JSON of a Docker schema1 manifest
 * (images pushed before 2017): the image's own build date, as a config's `created` is, so it
 * ranks right after `config` (a schema1 image has neither an annotation nor a config blob).
 * `imported` is when an OpenShift ImageStream first imported the image (`status.tags[].items[]`
 * `created`), for images the registry no longer has: the last resort, after the push time.
 */
export type DateSource = "annotation" | "config" | "schema1-history" | "tag" | "push" | "imported"

/** The date sources in order of preference (DESIGN.md "Selection semantics"). */
export const DATE_SOURCES: ReadonlyArray<DateSource> = ["annotation", "config", "schema1-history", "tag", "push", "imported"]

/**
 * What a registry adapter knows about one tag of one repository. Dates are RFC 3339 strings
 * exactly as read (they may be before 1980, the core decides); absent when the source had none.
 */
export interface RegistryImage {
  /** Repository path inside the registry, e.g. `shop/api`. */
  readonly repository: string
  /** The tag as listed by the registry. */
  readonly tag: string
  /** Digest of the manifest (or index) the tag points to, `sha256:…`. */
  readonly digest: string
  /** Dates by source; `tag` dates are derived by the core from the tag scheme, not here. */
  readonly dates: {
    /** `org.opencontainers.image.created` annotation of the manifest or index. */
    readonly annotation?: string | undefined
    /** `created` of the config blob of the chosen platform. */
    readonly config?: string | undefined
    /** A schema1 manifest's `created` of `history[0].v1Compatibility` (the newest layer's image JSON). */
    readonly schema1?: string | undefined
    /** The registry's push time (Docker Hub `tag_last_pushed`, Harbor `push_time`). */
    readonly push?: string | undefined
    /** When an ImageStream first imported it (`get --from imagestreams`), for digests the registry no longer has. */
    readonly imported?: string | undefined
  }
  /** `org.opencontainers.image.revision` from an annotation or a config label. */
  readonly revision?: string | undefined
  /** The platform whose config was read, e.g. `linux/amd64`, when the tag is an index. */
  readonly platform?: string | undefined
}

/** Instants before this (1980-01-01T00:00:00Z) are reproducible-build placeholders: unknown. */
export const EARLIEST_KNOWN_TIME: number = Date.UTC(1980, 0, 1)

/**
 * Parses an RFC 3339 / ISO-8601 instant to epoch milliseconds; undefined when invalid (date-only,
 * garbage, a day that does not exist such as `2026-02-30`) or before 1980. A time without an
 * offset is read as UTC, never in the machine's zone, so every machine reads a file alike.
 */
export const parseKnownInstant = (value: string | undefined): number | undefined => {
  if (value === undefined || value === "") return undefined
  const millis = parseIsoInstant(value)
  if (millis === undefined || !(millis >= EARLIEST_KNOWN_TIME)) return undefined
  return millis
}

/**
 * The effective time of an image and where it came from; undefined when no source is known.
 * The tag's own timestamp comes as `dates.tag` or, to spare a copy per image, as `tagTime`.
 */
export const effectiveTime = (
  dates: RegistryImage["dates"] & { readonly tag?: number | undefined },
  tagTime: number | undefined = dates.tag
): { readonly time: number; readonly source: DateSource } | undefined => {
  const annotation = parseKnownInstant(dates.annotation)
  if (annotation !== undefined) return { time: annotation, source: "annotation" }
  const config = parseKnownInstant(dates.config)
  if (config !== undefined) return { time: config, source: "config" }
  const schema1 = parseKnownInstant(dates.schema1)
  if (schema1 !== undefined) return { time: schema1, source: "schema1-history" }
  if (tagTime !== undefined && Number.isFinite(tagTime) && tagTime >= EARLIEST_KNOWN_TIME) {
    return { time: tagTime, source: "tag" }
  }
  const push = parseKnownInstant(dates.push)
  if (push !== undefined) return { time: push, source: "push" }
  const imported = parseKnownInstant(dates.imported)
  if (imported !== undefined) return { time: imported, source: "imported" }
  return undefined
}
