/**
 * @module Streams — an OpenShift namespace as fleet-rollback sees it: its ImageStreams, the
 * Deployments and StatefulSets whose image-change triggers follow their tags, and each followed
 * tag as one Workload (`namespace/ImageStreamTag/stream:tag`) showing the tag's current image,
 * what it tracks and the workloads it drives, with their summed health.
 */
import { Effect } from "effect"
import type { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import { type Cluster, readKind } from "../kubernetes/Cluster.ts"
import type { WorkloadJson, WorkloadKind } from "../kubernetes/Resources.ts"
import { workloadHealth } from "../kubernetes/Rollout.ts"
import { callOpenShift, type DeploymentConfigJson, DeploymentConfigListJson, getImageStream, listDeploymentConfigs, type ImageStreamJson, ImageStreamListJson, ImageStreamJson as StreamSchema, listImageStreams, type TagEventJson } from "./Api.ts"
import { deploymentConfigTags, type Follower, followedTags } from "./Triggers.ts"

/** The kinds whose triggers are followed. */
export const TRIGGERED_KINDS: ReadonlyArray<WorkloadKind> = ["Deployment", "StatefulSet"]

/** A tag's address: `namespace/ImageStreamTag/stream:tag`. */
export interface TagRef {
  readonly namespace: string
  readonly stream: string
  readonly tag: string
}

/** The Workload id of a tag. */
export const tagId = (ref: TagRef): string => `${ref.namespace}/ImageStreamTag/${ref.stream}:${ref.tag}`

/** Parses a tag's Workload id; undefined when it is not one. */
export const parseTagId = (id: string): TagRef | undefined => {
  const m = /^([^/]+)\/ImageStreamTag\/([^/:]+):([^/:]+)$/.exec(id)
  return m === null ? undefined : { namespace: m[1]!, stream: m[2]!, tag: m[3]! }
}

/** One namespace read: streams and the triggered workloads by id. */
export interface NamespaceRead {
  readonly namespace: string
  readonly streams: ReadonlyArray<ImageStreamJson>
  readonly workloads: ReadonlyMap<string, { readonly kind: WorkloadKind; readonly json: WorkloadJson }>
  /** The DeploymentConfigs by id (`namespace/DeploymentConfig/name`). */
  readonly deploymentConfigs: ReadonlyMap<string, DeploymentConfigJson>
  /** `namespace/stream:tag` → who follows it. */
  readonly followers: ReadonlyMap<string, ReadonlyArray<Follower>>
}

/** Reads one stream. */
export const readStream = (cluster: Cluster, namespace: string, name: string): Effect.Effect<ImageStreamJson, TargetError> =>
  callOpenShift(cluster.transport, cluster.access, getImageStream(namespace, name), StreamSchema, `ImageStream ${namespace}/${name}`, namespace)

/** Lists a namespace's streams (one request, whatever their number). */
export const listStreams = (cluster: Cluster, namespace: string): Effect.Effect<ReadonlyArray<ImageStreamJson>, TargetError> =>
  callOpenShift(cluster.transport, cluster.access, listImageStreams(namespace), ImageStreamListJson, `ImageStreams in namespace ${namespace}`, namespace).pipe(
    Effect.map((list) => list.items)
  )

/** Reads each namespace once ({@link readNamespace}), by namespace. */
export const readNamespaces = (cluster: Cluster, namespaces: Iterable<string>): Effect.Effect<ReadonlyMap<string, NamespaceRead>, TargetError> =>
  Effect.forEach(new Set(namespaces), (ns) => readNamespace(cluster, ns), { concurrency: 4 }).pipe(
    Effect.map((reads) => new Map(reads.map((read) => [read.namespace, read])))
  )

/** Reads a namespace's streams and triggered workloads. */
export const readNamespace = (cluster: Cluster, namespace: string): Effect.Effect<NamespaceRead, TargetError> =>
  Effect.gen(function*() {
    const [streams, dcs, ...perKind] = yield* Effect.all([
      listStreams(cluster, namespace),
      // A cluster without apps.openshift.io (DeploymentConfigs are deprecated and may be off) has none.
      callOpenShift(cluster.transport, cluster.access, listDeploymentConfigs(namespace), DeploymentConfigListJson, `DeploymentConfigs in namespace ${namespace}`, namespace, "deploymentconfigs").pipe(
        Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed({ items: [] }))
      ),
      ...TRIGGERED_KINDS.map((kind) => readKind(cluster, namespace, kind).pipe(Effect.map((items) => ({ kind, items }))))
    ], { concurrency: 3 })
    const workloads = new Map<string, { kind: WorkloadKind; json: WorkloadJson }>()
    const followers = new Map<string, Array<Follower>>()
    for (const { kind, items } of perKind as ReadonlyArray<{ kind: WorkloadKind; items: ReadonlyArray<WorkloadJson> }>) {
      for (const w of items) {
        workloads.set(`${namespace}/${kind}/${w.metadata.name}`, { kind, json: w })
        for (const { tag, follower } of followedTags(namespace, kind, w.metadata.name, w.metadata.annotations)) {
          followers.set(tag, [...(followers.get(tag) ?? []), follower])
        }
      }
    }
    const deploymentConfigs = new Map<string, DeploymentConfigJson>()
    for (const dc of (dcs as typeof DeploymentConfigListJson.Type).items) {
      deploymentConfigs.set(`${namespace}/DeploymentConfig/${dc.metadata.name}`, dc)
      for (const { tag, follower } of deploymentConfigTags(namespace, dc.metadata.name, dc.spec.triggers)) followers.set(tag, [...(followers.get(tag) ?? []), follower])
    }
    return { namespace, streams: streams as ReadonlyArray<ImageStreamJson>, workloads, deploymentConfigs, followers }
  })

/** A tag's import history, newest first (`items[0]` is its current image). */
export const historyOf = (stream: ImageStreamJson, tag: string): ReadonlyArray<TagEventJson> =>
  (stream.status?.tags ?? []).find((t) => t.tag === tag)?.items ?? []

/** Every followed tag of a namespace as a Workload. */
export const tagWorkloads = (read: NamespaceRead, inScope: (id: string) => boolean): ReadonlyArray<Workload> => {
  const found: Array<Workload> = []
  for (const stream of read.streams) {
    for (const spec of stream.spec?.tags ?? []) {
      const ref = { namespace: read.namespace, stream: stream.metadata.name, tag: spec.name }
      const drives = read.followers.get(`${read.namespace}/${stream.metadata.name}:${spec.name}`) ?? []
      if (drives.length === 0) continue
      const current = historyOf(stream, spec.name)[0]?.dockerImageReference
      const health = [...new Set(drives.map((f) => f.workload))].map((id) => {
        const dc = read.deploymentConfigs.get(id)
        if (dc !== undefined) return { desired: dc.spec.replicas ?? 1, running: dc.status?.replicas ?? 0, healthy: dc.status?.availableReplicas ?? 0 }
        const w = read.workloads.get(id)
        return w === undefined ? { desired: 0, running: 0, healthy: 0 } : workloadHealth(w.kind, w.json)
      })
      const sum = (k: "desired" | "running" | "healthy") => health.reduce((n, h) => n + h[k], 0)
      const id = tagId(ref)
      found.push({
        id,
        kind: "ImageStreamTag",
        labels: stream.metadata.labels ?? {},
        containers: [{ name: spec.name, image: current }],
        image: current,
        health: {
          desired: sum("desired"),
          running: sum("running"),
          healthy: sum("healthy"),
          summary: `${sum("healthy")}/${sum("desired")} healthy; tracks ${spec.from?.name ?? "nothing"}; drives ${[...new Set(drives.map((f) => f.workload))].join(", ")}`
        },
        revision: stream.metadata.resourceVersion,
        inScope: inScope(id)
      })
    }
  }
  return found
}
