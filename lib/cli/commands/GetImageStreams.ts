/**
 * @module GetImageStreams — `get --from imagestreams`: the points of an OpenShift namespace from
 * its ImageStreams' import history instead of the registry's tag list (seed 003: the registry
 * holds only `:prod`). Every followed tag becomes a service (`app` = the tag's workload id, its
 * repository the path inside `registry.url`); each imported digest an image dated by the registry
 * where it still has it, else by the import (`dateSource: imported`).
 */
import { Clock, Console, Effect, Option } from "effect"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import { registryHostOf } from "../../core/ImageReference.ts"
import { IMPORTED_IMAGE_PATTERN } from "../../core/ImportHistory.ts"
import { toRollbackFile } from "../../core/RollbackFile.ts"
import { resolveTagScheme, type TagScheme } from "../../core/TagScheme.ts"
import { mergeTimeline } from "../../core/Timeline.ts"
import { Registry } from "../../registry/Registry.ts"
import { makeOpenShiftTarget } from "../../targets/openshift/OpenShiftTarget.ts"
import { registryDigestCheck } from "../../targets/openshift/RegistryCheck.ts"
import { readImageStreamFleet } from "../../targets/openshift/Timeline.ts"
import { badInput, failed } from "../../workflow/RollbackError.ts"
import { resolveClusterAccess } from "../targets/ClusterAccess.ts"
import { registryLayer, type RegistryFlags, writeFileAtomic } from "../Settings.ts"

/** What `get --from imagestreams` reads of `get`'s flags. */
interface ImageStreamGetFlags extends RegistryFlags {
  readonly namespace: ReadonlyArray<string>
  readonly context: Option.Option<string>
  readonly out: string
  readonly granularity: Option.Option<"instant" | "day">
  readonly tz: Option.Option<string>
  readonly json: boolean
  readonly quiet: boolean
}

/** Reads the import histories and writes rollback.json. */
export const getFromImageStreams = (flags: ImageStreamGetFlags, config: ConfigFile) =>
  Effect.gen(function*() {
    const registryUrl = Option.getOrUndefined(flags.registry) ?? config.registry?.url
    if (registryUrl === undefined) return yield* badInput("get --from imagestreams dates the imported digests in the registry the streams import from: give --registry URL or registry.url in the config file")
    const settings = config.target?.kind === "openshift" ? config.target as Record<string, unknown> : {}
    // the cluster and projects found as run and undo find them (target.kubeconfig, target.context, namespaces)
    const { access, namespaces } = yield* resolveClusterAccess({ flags, settings }, { cluster: "OpenShift", namespace: "project", example: "packit-prod" })
    const registry = yield* registryLayer(flags, config)
    // as the streams' pull specs are read (registryPath): Docker Hub's aliases are docker.io
    const host = registryHostOf(registryUrl)
    const fleet = yield* Effect.scoped(Effect.gen(function*() {
      const client = yield* Registry
      const target = yield* makeOpenShiftTarget(access, { namespaces, digestExists: registryDigestCheck((h, r, d) => h === host ? client.headDigest(r, d) : undefined) })
      return yield* readImageStreamFleet(target, (h, repository, digest) =>
        h === host ? client.readImage(repository, digest).pipe(Effect.map((image) => image.dates), Effect.orElseSucceed(() => undefined)) : Effect.succeed(undefined))
    })).pipe(Effect.provide(registry.layer), Effect.mapError((e) => "_tag" in e && e._tag === "TargetError" ? failed(`could not read the ImageStreams; rollback.json was not written: ${e.message}`) : e))
    if (fleet.services.length === 0) return yield* badInput(`no ImageStream tag in ${namespaces.join(", ")} is followed by a Deployment or StatefulSet (image.openshift.io/triggers): nothing to roll back; rollback.json was not written`)
    // Repositories inside the configured registry are written as paths, as `get` writes them.
    const services = fleet.services.map((s) => ({ ...s, repository: s.repository.startsWith(`${host}/`) ? s.repository.slice(host.length + 1) : s.repository }))
    const images = Object.fromEntries(Object.entries(fleet.images).map(([name, list]) => [name, list.map((i) => ({ ...i, repository: services.find((s) => s.name === name)!.repository }))]))
    const scheme = resolveTagScheme({ pattern: IMPORTED_IMAGE_PATTERN }) as TagScheme
    const merged = mergeTimeline({ services, images, scheme, granularity: Option.getOrUndefined(flags.granularity) ?? "instant", timeZone: Option.getOrUndefined(flags.tz) ?? config.timeZone ?? "UTC" })
    const now = yield* Clock.currentTimeMillis
    const file = toRollbackFile(merged.timeline, { generatedAt: new Date(now).toISOString(), environment: null, registry: registry.url, scheme: IMPORTED_IMAGE_PATTERN }, merged.ignored)
    yield* writeFileAtomic(flags.out, JSON.stringify(file, null, 2) + "\n")
    const count = Object.values(file.images).reduce((n, l) => n + l.length, 0)
    if (flags.json) return yield* Console.log(JSON.stringify({ out: flags.out, services: services.length, images: count, points: file.points.length, from: "imagestreams" }))
    if (flags.quiet) return
    for (const s of services) yield* Console.log(`${s.name} (${s.app}): ${(file.images[s.name] ?? []).length} imported images`)
    yield* Console.log(`Wrote ${flags.out}: ${count} images of ${services.length} ImageStream tags, ${file.points.length} points (from the import history). Next: fleet-rollback choices --file ${flags.out}`)
  })
