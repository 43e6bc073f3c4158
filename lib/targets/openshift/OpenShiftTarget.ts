/**
 * @module OpenShiftTarget — the Target contract on OpenShift ImageStreams (seed 003): the
 * workloads are the ImageStream tags that Deployments and StatefulSets in the namespace follow
 * through image-change triggers (`namespace/ImageStreamTag/stream:tag`, each showing the
 * workloads it drives); `apply` pins each tag to `repo@sha256:<digest>` as `oc tag
 * --source=docker` does (all tags first) and `watch` waits for the imports, the triggers and the
 * rollouts by the Kubernetes target's rules; `revert` and `reTrack` put the tracking reference
 * back. Credentials and transport are the Kubernetes target's: an `oc login` kubeconfig holds a
 * bearer token, a service account's token file works as in-cluster. Also the import history read
 * for `get --from imagestreams` ({@link OpenShiftTargetShape.importHistory}).
 */
import { Effect, Layer, type Scope } from "effect"
import { Target, type TargetShape } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import { type Cluster, openCluster } from "../kubernetes/Cluster.ts"
import { type ClusterAccess, type KubeconfigLookup, loadClusterAccess } from "../kubernetes/Kubeconfig.ts"
import type { TransportOptions } from "../kubernetes/Transport.ts"
import type { TagEventJson } from "./Api.ts"
import { applyTagChanges, type DigestCheck, type OpenShiftHandle, restoreTracking, tagChangesInProgress, verifyTagChanges, watchTagChanges } from "./Change.ts"
import { historyOf, type NamespaceRead, parseTagId, readNamespace, readNamespaces, tagId, tagWorkloads } from "./Streams.ts"

/** Settings of the OpenShift target. */
export interface OpenShiftTargetSettings {
  /** Namespaces (projects) in scope; none = the context's namespace, else `default`. */
  readonly namespaces?: ReadonlyArray<string> | undefined
  /** Whether the registry still has a digest (the registry client's HEAD); required: a missing digest is refused before anything changes. */
  readonly digestExists: DigestCheck
  readonly concurrency?: number | undefined
  readonly transport?: TransportOptions | undefined
}

/** One tag's import history, for `get --from imagestreams`. */
export interface TagHistory {
  /** The tag's workload id. */
  readonly id: string
  /** What the tag tracks now (`quay.io/org/app:prod`, or a pinned digest). */
  readonly tracks: string | undefined
  /** Imports, newest first (`items[0]` is current). */
  readonly items: ReadonlyArray<TagEventJson>
  /** The workloads the tag drives. */
  readonly drives: ReadonlyArray<string>
}

/** The contract plus what only OpenShift does. */
export interface OpenShiftTargetShape extends TargetShape {
  /** Puts tags back to tracking their registry tag (`re-track`), to be watched like `apply`'s change. */
  readonly reTrack: (ids: ReadonlyArray<string>, options?: { readonly dryRun?: boolean }) => ReturnType<typeof restoreTracking>
  /** Every followed tag's import history in the namespaces in scope. */
  readonly importHistory: () => Effect.Effect<ReadonlyArray<TagHistory>, TargetError>
}

/** Every spec tag of the streams read, with its import history and the workloads that follow it. */
const tagsOf = (reads: Iterable<NamespaceRead>): ReadonlyArray<TagHistory> =>
  [...reads].flatMap((read) =>
    read.streams.flatMap((s) =>
      (s.spec?.tags ?? []).map((t) => ({
        id: tagId({ namespace: read.namespace, stream: s.metadata.name, tag: t.name }),
        tracks: t.from?.name,
        items: historyOf(s, t.name),
        drives: (read.followers.get(`${read.namespace}/${s.metadata.name}:${t.name}`) ?? []).map((d) => d.workload)
      }))
    )
  )

/** The target's operations on a cluster. */
export const makeOpenShiftTargetFor = (cluster: Cluster, digestExists: DigestCheck): OpenShiftTargetShape => {
  const inScope = (id: string) => cluster.namespaces.includes(id.split("/")[0]!)
  return {
    description: { kind: "openshift", url: cluster.access.server, settings: { context: cluster.access.context, namespaces: cluster.namespaces.join(",") } },
    displayName: "OpenShift",
    changeNoun: "tag change",
    workloadNoun: "ImageStream tag",
    history: Effect.fn("OpenShift.history")(function*(workloads) {
      // The import history is what each tag's followers ran, newest first (`items[0]` is current).
      const histories = [...(yield* readNamespaces(cluster, workloads.map((w) => w.workload.split("/")[0]!))).values()]
      const wanted = new Set(workloads.map((w) => w.workload))
      const entries = tagsOf(histories).filter((t) => wanted.has(t.id)).flatMap((t) =>
        t.items.flatMap((item) => {
          const at = Date.parse(item.created)
          return Number.isFinite(at) ? [{ workload: t.id, image: item.dockerImageReference, at, revision: String(item.generation) }] : []
        })
      )
      return { entries, note: "OpenShift remembers every import of each tag until an admin prunes the ImageStream (oc describe is)" }
    }),
    capabilities: { force: false, revert: true, serverDryRun: true, watch: true, pinDigest: true },
    listWorkloads: Effect.fn("OpenShift.listWorkloads")(function*(scope) {
      const reads = [...(yield* readNamespaces(cluster, cluster.namespaces)).values()]
      return reads.flatMap((r) => tagWorkloads(r, (id) => inScope(id) && (scope.idPrefix === undefined || id.startsWith(scope.idPrefix))))
    }),
    getWorkload: Effect.fn("OpenShift.getWorkload")(function*(id: string) {
      const ref = parseTagId(id)
      if (ref === undefined) return yield* new TargetError({ reason: "Invalid", workloads: [id], message: `"${id}" is not an ImageStream tag: expected namespace/ImageStreamTag/stream:tag` })
      const found = tagWorkloads(yield* readNamespace(cluster, ref.namespace), inScope).find((w) => w.id === id)
      if (found === undefined) return yield* new TargetError({ reason: "NotFound", workloads: [id], message: `${id}: no such tag, or no Deployment or StatefulSet follows it (image.openshift.io/triggers)` })
      return found
    }),
    apply: Effect.fn("OpenShift.apply")(function*(changes, options) {
      if (options.force) return yield* new TargetError({ reason: "Unsupported", message: "OpenShift has no lock to override: --force does not apply to --target openshift (nothing was sent)" })
      return yield* applyTagChanges(cluster, changes, digestExists, options.dryRun === true)
    }),
    watch: (applied, options) => watchTagChanges(cluster, applied, options),
    inProgress: (applied) => tagChangesInProgress(cluster, applied),
    verify: (changes) => verifyTagChanges(cluster, changes),
    revert: Effect.fn("OpenShift.revert")(function*(args) {
      const handle = args.applied.handle as OpenShiftHandle | undefined
      const ids = (handle?.tags ?? []).map((t) => t.id)
      if (ids.length === 0) return { applied: undefined, note: "nothing to put back: no tag was changed" }
      return { applied: yield* restoreTracking(cluster, ids, handle?.dryRun === true), note: "the tags track their registry tags again (as before the rollback)" }
    }),
    reTrack: (ids, options) => restoreTracking(cluster, ids, options?.dryRun === true),
    importHistory: Effect.fn("OpenShift.importHistory")(function*() {
      const reads = [...(yield* readNamespaces(cluster, cluster.namespaces)).values()]
      return tagsOf(reads).filter((t) => t.drives.length > 0)
    })
  }
}

/** Builds the target from a cluster access (the transport is closed with the scope). */
export const makeOpenShiftTarget = (access: ClusterAccess, settings: OpenShiftTargetSettings): Effect.Effect<OpenShiftTargetShape, never, Scope.Scope> =>
  Effect.map(openCluster(access, { ...settings, labelSelector: undefined }), (cluster) => makeOpenShiftTargetFor(cluster, settings.digestExists))

/** The Target layer: finds the cluster as `oc`/kubectl would (`lookup`), then builds the target. */
export const openShiftTargetLayer = (lookup: KubeconfigLookup, settings: OpenShiftTargetSettings): Layer.Layer<Target, TargetError> =>
  Layer.effect(Target, Effect.flatMap(loadClusterAccess(lookup), (access) => makeOpenShiftTarget(access, settings)))
