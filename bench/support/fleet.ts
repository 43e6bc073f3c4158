/**
 * @module bench/support/fleet — the benchmark fleet: 40 repositories × 250 tags `<build>-master`,
 * every image an OCI manifest with its own config `created` date; four in five also carry the
 * `org.opencontainers.image.created` annotation, the rest leave the date to the config blob.
 */
import type { Fleet, FleetImage } from "../../test/support/pushImage.ts"

/** Size of the benchmark fleet (overridable for a quick try: BENCH_REPOS, BENCH_TAGS). */
export interface FleetSize {
  readonly repositories: number
  readonly tagsPerRepository: number
}

/** The size the issue asks for, unless the environment says otherwise. */
export const fleetSize = (): FleetSize => ({
  repositories: Number(process.env["BENCH_REPOS"] ?? 40),
  tagsPerRepository: Number(process.env["BENCH_TAGS"] ?? 250)
})

const START = Date.UTC(2024, 0, 1)

/** Whether image `index` of a repository carries the created annotation (all but every fifth). */
export const hasAnnotation = (index: number): boolean => index % 5 !== 4

/** Repository names `bench/svc-00` … */
export const repositoryName = (index: number): string => `bench/svc-${String(index).padStart(2, "0")}`

/** Builds the fleet: distinct config dates (one per hour per repository, offset per repository). */
export const makeFleet = (size: FleetSize): Fleet => ({
  repositories: Array.from({ length: size.repositories }, (_, r) => ({
    name: repositoryName(r),
    images: Array.from({ length: size.tagsPerRepository }, (_, i): FleetImage => {
      const created = new Date(START + (i * 3600 + r * 61) * 1000).toISOString()
      return {
        tag: `${i + 1}-master`,
        created,
        annotationCreated: hasAnnotation(i) ? created : undefined,
        revision: `${(r * 100_000 + i).toString(16).padStart(12, "0")}`,
        format: "oci"
      }
    })
  }))
})

/** What a correct `get` over the fleet yields: images, and how many dates come from each source. */
export const expectedOutcome = (size: FleetSize): { readonly images: number; readonly annotation: number; readonly config: number } => {
  let annotation = 0
  for (let i = 0; i < size.tagsPerRepository; i++) if (hasAnnotation(i)) annotation++
  const images = size.repositories * size.tagsPerRepository
  return { images, annotation: annotation * size.repositories, config: images - annotation * size.repositories }
}
