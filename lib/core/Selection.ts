/**
 * @module Selection — the heart: for a point P and every service, the image with the greatest
 * effective time at or before P (ties: build number, then tag), skipping tags marked bad.
 * Services that did not change get their older image too, so the set stays compatible.
 */
import type { ServiceSpec, Timeline, TimelineImage } from "./Timeline.ts"
import { isMarkedBad } from "./Timeline.ts"

/** The choice for one service. */
export type ServiceSelection =
  | {
    readonly _tag: "Selected"
    /** The service. */
    readonly service: ServiceSpec
    /** Its image as of the point. */
    readonly image: TimelineImage
  }
  | {
    readonly _tag: "Unresolved"
    /** The service. */
    readonly service: ServiceSpec
    /** Why: no image at or before the point, or none at all. */
    readonly reason: string
  }

/** The selection for a whole fleet at one point. */
export interface FleetSelection {
  /** The instant selected at (epoch ms). */
  readonly instant: number
  /** One entry per service, in the timeline's service order. */
  readonly services: ReadonlyArray<ServiceSelection>
}

/** Options of selectAsOf. */
export interface SelectOptions {
  /** Tags never to select: `tag` or `service:tag` (a release found bad after `get`). */
  readonly badTags?: ReadonlyArray<string> | undefined
}

/** Index of the last image with time ≤ instant in an ascending list, or -1. */
const lastAtOrBefore = (images: ReadonlyArray<TimelineImage>, instant: number): number => {
  let lo = 0
  let hi = images.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (images[mid]!.time <= instant) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}

/**
 * Selects, for every service of the timeline, its newest image at or before `instant`.
 * A service with no such image is `Unresolved` with the reason (and its oldest image, if any).
 */
export const selectAsOf = (timeline: Timeline, instant: number, options: SelectOptions = {}): FleetSelection => {
  const bad = new Set(options.badTags ?? [])
  const services = timeline.services.map((service): ServiceSelection => {
    const images = timeline.images[service.name] ?? []
    let index = lastAtOrBefore(images, instant)
    while (index >= 0 && isMarkedBad(bad, service.name, images[index]!.tag)) index--
    if (index >= 0) return { _tag: "Selected", service, image: images[index]! }
    const when = new Date(instant).toISOString()
    const oldest = images.find((image) => !isMarkedBad(bad, service.name, image.tag))
    const reason = oldest === undefined
      ? `no usable image of ${service.name} in ${service.repository} (none matched the scheme and environment with a known date)`
      : `no image of ${service.name} at or before ${when}; its oldest known image is ${oldest.tag} from ${new Date(oldest.time).toISOString()}`
    return { _tag: "Unresolved", service, reason }
  })
  return { instant, services }
}
