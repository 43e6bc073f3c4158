/**
 * @module Selection — the heart: for a point P and every service, its target among the images
 * available at P (effective time ≤ P): by default the newest (ties: build number, then tag), or
 * the greatest by the scheme's order; tags marked bad are skipped. Services that did not change
 * get their older image too, so the set stays compatible.
 */
import type { Deployment } from "./History.ts"
import { imageOfDeployment } from "./History.ts"
import { lastIndexAtOrBefore } from "./Search.ts"
import type { TagOrder } from "./TagScheme.ts"
import type { SelectedImage, ServiceSpec, Timeline, TimelineImage } from "./Timeline.ts"
import { compareImagesBy, isMarkedBad, targetIndices } from "./Timeline.ts"
import { describeInstant, formatIsoInstant } from "./TimeZone.ts"

/** The choice for one service. */
export type ServiceSelection =
  | {
    readonly _tag: "Selected"
    /** The service. */
    readonly service: ServiceSpec
    /** Its image as of the point. */
    readonly image: SelectedImage
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

/**
 * Selects, for every service of the timeline, its target at `instant`: among its images with
 * an effective time at or before it (and not marked bad), the greatest by the timeline's order
 * (default `created`: the newest). A service with no such image is `Unresolved` with the reason
 * (and its oldest image, if any). An instant that is not a number (`NaN`) selects nothing: every
 * service is `Unresolved`, saying so.
 */
export const selectAsOf = (timeline: Timeline, instant: number, options: SelectOptions = {}): FleetSelection => {
  const bad = new Set(options.badTags ?? [])
  const order = timeline.order ?? "created"
  if (Number.isNaN(instant)) {
    return {
      instant,
      services: timeline.services.map((service): ServiceSelection => ({
        _tag: "Unresolved",
        service,
        reason: `the point is not an instant (got NaN): expected epoch milliseconds, such as parsePoint's instant`
      }))
    }
  }
  if (timeline.history !== undefined) return selectFromHistory(timeline, timeline.history, instant, bad)
  const services = timeline.services.map((service): ServiceSelection => {
    const images = timeline.images[service.name] ?? []
    const last = lastIndexAtOrBefore(images, instant, (image) => image.time)
    const index = last < 0 ? -1 : bad.size === 0 ? targetOf(images, last, order) : targetSkippingBad(images, last, order, bad, service.name)
    if (index >= 0) return { _tag: "Selected", service, image: images[index]! }
    const oldest = images.find((image) => !isMarkedBad(bad, service.name, image.tag))
    const reason = oldest === undefined
      ? `no usable image of ${service.name} in ${service.repository} (none matched the scheme and environment with a known date)`
      : `no image of ${service.name} at or before ${describeInstant(instant)}; its oldest known image is ${oldest.tag} from ${formatIsoInstant(oldest.time)}`
    return { _tag: "Unresolved", service, reason }
  })
  return { instant, services }
}

/** The target once images 0..last are available: a prefix maximum, one array read. */
const targetOf = (images: ReadonlyArray<TimelineImage>, last: number, order: TagOrder): number => {
  const best = targetIndices(images, order)
  return best === undefined ? last : best[last]!
}

/** The target among images 0..last that are not marked bad (bad tags given at selection: a scan). */
const targetSkippingBad = (
  images: ReadonlyArray<TimelineImage>,
  last: number,
  order: TagOrder,
  bad: ReadonlySet<string>,
  service: string
): number => {
  if (order === "created") {
    // the list is in this order: the last good one is the greatest
    let index = last
    while (index >= 0 && isMarkedBad(bad, service, images[index]!.tag)) index--
    return index
  }
  const compare = compareImagesBy(order)
  let top = -1
  for (let i = 0; i <= last; i++) {
    if (isMarkedBad(bad, service, images[i]!.tag)) continue
    if (top < 0 || compare(images[i]!, images[top]!) > 0) top = i
  }
  return top
}

/**
 * Selection on a history timeline: every service's target is what it ran at `instant` (its last
 * deployment at or before it), so the set is one that really ran together. A deployment of a tag
 * marked bad is passed over for the one before it. A service with nothing remembered at or before
 * the instant is `Unresolved`, saying when its history begins.
 */
const selectFromHistory = (
  timeline: Timeline,
  history: Readonly<Record<string, ReadonlyArray<Deployment>>>,
  instant: number,
  bad: ReadonlySet<string>
): FleetSelection => {
  const services = timeline.services.map((service): ServiceSelection => {
    const deployments = history[service.name] ?? []
    let index = lastIndexAtOrBefore(deployments, instant, (d) => d.at)
    while (index >= 0 && isMarkedBad(bad, service.name, deployments[index]!.tag ?? "")) index--
    if (index >= 0) return { _tag: "Selected", service, image: imageOfDeployment(timeline.images[service.name] ?? [], deployments[index]!) }
    const first = deployments[0]
    const reason = first === undefined
      ? `nothing is known to have run for ${service.name}: no target and no report remembers a deployment of it`
      : `nothing of ${service.name} is known to have run at or before ${describeInstant(instant)}; its history begins with ${first.tag ?? first.digest ?? "?"} at ${formatIsoInstant(first.at)}`
    return { _tag: "Unresolved", service, reason }
  })
  return { instant, services }
}
