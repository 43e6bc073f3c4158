/**
 * @module Matching — pure, for every target: which workload (and container) runs a service? The
 * config's `services.<name>.app` names the workload when given; otherwise the one workload in
 * scope ({@link Workload.inScope}) with a container whose image comes from the service's
 * repository (registry host and path compared after proper reference parsing). Several candidates
 * stop the run, listed.
 */
import { parseImageReference, serviceRepository } from "../core/ImageReference.ts"
import type { Workload } from "./Workload.ts"

/** The result of matching one service to the workloads. */
export type WorkloadMatch =
  | {
    readonly _tag: "Found"
    readonly workload: string
    /** The container running the service; undefined when the workload has one container (or it is the main one). */
    readonly container: string | undefined
  }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Ambiguous"; readonly candidates: ReadonlyArray<string> }

/** The service to match: its name, repository, the registry host, and the workload the config names. */
export interface ServiceToMatch {
  readonly name: string
  readonly repository: string
  readonly registryHost: string
  /** The workload the config names (`services.<name>.app`). */
  readonly app?: string | undefined
}

/** The containers of a workload that can be rolled back (no init containers). */
const mainContainers = (workload: Workload) => workload.containers.filter((c) => c.init !== true)

/**
 * The container to name in a change: undefined when the workload has a single container (the
 * target changes its main container), else the container's name.
 */
const containerName = (workload: Workload, name: string): string | undefined => (mainContainers(workload).length <= 1 ? undefined : name)

const parsed = new Map<string, ReturnType<typeof parseImageReference>>()

/**
 * `parseImageReference`, remembered: every service is matched against every workload's images,
 * so 200 services on 200 workloads would parse 40,000 references (a third of a second) for 200 images.
 */
const parsedImage = (image: string): ReturnType<typeof parseImageReference> => {
  if (parsed.has(image)) return parsed.get(image)
  if (parsed.size >= 10_000) parsed.clear()
  const ref = parseImageReference(image)
  parsed.set(image, ref)
  return ref
}

/**
 * Finds the workload of a service. With `service.app` the named workload is `Found` when it is
 * among `workloads` (scope is not applied: the config named it; `canonicalId` normalises the
 * typed id), with the container whose image has the service's repository (else the main one).
 * Otherwise the in-scope containers whose image has the service's repository are the candidates:
 * one → `Found`, none → `NotFound`, several → `Ambiguous` (sorted, `workload` or
 * `workload/container`).
 */
export const matchServiceToWorkload = (
  service: ServiceToMatch,
  workloads: ReadonlyArray<Workload>,
  canonicalId: (id: string) => string = (id) => id
): WorkloadMatch => {
  const repository = serviceRepository(service.repository, service.registryHost)
  const fromRepository = (image: string | undefined): boolean => {
    if (image === undefined || repository === undefined) return false
    const ref = parsedImage(image)
    return ref !== undefined && ref.host === repository.host && ref.repository === repository.repository
  }
  if (service.app !== undefined && service.app !== "") {
    const wanted = canonicalId(service.app)
    const named = workloads.find((w) => canonicalId(w.id) === wanted)
    if (named === undefined) return { _tag: "NotFound" }
    const running = mainContainers(named).filter((c) => fromRepository(c.image))
    return { _tag: "Found", workload: wanted, container: running.length === 1 ? containerName(named, running[0]!.name) : undefined }
  }
  if (repository === undefined) return { _tag: "NotFound" }
  const candidates = new Map<string, { workload: string; container: string | undefined }>()
  for (const w of workloads) {
    if (!w.inScope || w.notHandled !== undefined) continue
    for (const c of mainContainers(w)) {
      if (!fromRepository(c.image)) continue
      const container = containerName(w, c.name)
      const id = canonicalId(w.id)
      candidates.set(container === undefined ? id : `${id}/${container}`, { workload: id, container })
    }
  }
  const keys = [...candidates.keys()].sort()
  if (keys.length === 1) return { _tag: "Found", ...candidates.get(keys[0]!)! }
  if (keys.length === 0) return { _tag: "NotFound" }
  return { _tag: "Ambiguous", candidates: keys }
}
