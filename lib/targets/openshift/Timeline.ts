/**
 * @module Timeline — the read behind `get --from imagestreams`: every followed tag's import
 * history (the target's {@link OpenShiftTargetShape.importHistory}) as a service of the fleet
 * (named after its stream; `stream-tag` when a stream has several followed tags; its `app` the
 * tag's workload id) with one image per imported digest ({@link importHistoryImages}), dated by
 * the registry where it still has the digest, else by the import.
 */
import { Effect } from "effect"
import type { RegistryImage } from "../../core/Image.ts"
import { importHistoryImages } from "../../core/ImportHistory.ts"
import type { ServiceSpec } from "../../core/Timeline.ts"
import type { TargetError } from "../../target/TargetError.ts"
import type { OpenShiftTargetShape, TagHistory } from "./OpenShiftTarget.ts"
import { parseTagId } from "./Streams.ts"
import { registryPath } from "./Triggers.ts"

/** The registry's dates of a digest, or undefined when it no longer has it (or cannot say). */
export type DigestDates = (host: string, repository: string, digest: string) => Effect.Effect<RegistryImage["dates"] | undefined>

/** What `get --from imagestreams` merges into a timeline. */
export interface ImageStreamFleet {
  readonly services: ReadonlyArray<ServiceSpec>
  readonly images: Readonly<Record<string, ReadonlyArray<RegistryImage>>>
}

const serviceName = (history: TagHistory, all: ReadonlyArray<TagHistory>): string => {
  const ref = parseTagId(history.id)!
  const sameStream = all.filter((h) => parseTagId(h.id)!.stream === ref.stream && parseTagId(h.id)!.namespace === ref.namespace)
  return sameStream.length > 1 ? `${ref.stream}-${ref.tag}` : ref.stream
}

/** Reads every followed tag's history and the registry's dates of its digests. */
export const readImageStreamFleet = (target: OpenShiftTargetShape, dates: DigestDates): Effect.Effect<ImageStreamFleet, TargetError> =>
  Effect.gen(function*() {
    const histories = (yield* target.importHistory()).filter((h) => h.items.length > 0)
    const services: Array<ServiceSpec> = []
    const images: Record<string, ReadonlyArray<RegistryImage>> = {}
    for (const history of histories) {
      const { host, repository } = registryPath(history.items[0]!.dockerImageReference)
      const digests = [...new Set(history.items.map((i) => i.image))]
      const known = yield* Effect.forEach(digests, (digest) => dates(host, repository, digest).pipe(Effect.map((d) => [digest, d] as const)), { concurrency: 4 })
      const name = serviceName(history, histories)
      services.push({ name, repository: `${host}/${repository}`, app: history.id })
      images[name] = importHistoryImages({
        repository: `${host}/${repository}`,
        tag: parseTagId(history.id)!.tag,
        items: history.items,
        registryDates: new Map(known.flatMap(([digest, d]) => d === undefined ? [] : [[digest, d] as const]))
      })
    }
    return { services, images }
  })
