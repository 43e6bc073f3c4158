/**
 * @module Cluster — what every Kubernetes target operation needs about the cluster it talks to:
 * the access (server, context), the transport, the namespaces in scope, and the workloads as last
 * read (so `apply` builds its patches from what `plan` saw; the `test` guards keep a stale read
 * safe). Plus the reads every operation shares: one workload, the workloads of a namespace and
 * kind, and the pods' waiting reasons of a workload.
 */
import { Effect, type Scope } from "effect"
import type { TargetError } from "../../target/TargetError.ts"
import { call, getRequest, listRequest, workloadId, type WorkloadRef } from "./Api.ts"
import type { ClusterAccess } from "./Kubeconfig.ts"
import { PodListJson, selectorString, WorkloadJson, WorkloadListJson, type WorkloadKind } from "./Resources.ts"
import { makeCredentials } from "./Credentials.ts"
import { makeTransport, type Transport, type TransportOptions } from "./Transport.ts"

/** The cluster a target talks to. */
export interface Cluster {
  readonly access: ClusterAccess
  readonly transport: Transport
  /** Namespaces in scope (never empty). */
  readonly namespaces: ReadonlyArray<string>
  /** The configured label selector (the scope's wins). */
  readonly labelSelector: string | undefined
  /** Requests in flight at most (client-go's default burst is 10). */
  readonly concurrency: number
  /** Workloads as last read, by id. */
  readonly known: Map<string, WorkloadJson>
}

/** How a target opens its cluster. */
export interface ClusterSettings {
  /** Namespaces in scope; none = the context's namespace, else `default`. */
  readonly namespaces?: ReadonlyArray<string> | undefined
  readonly labelSelector?: string | undefined
  /** Requests in flight at most; default 10. */
  readonly concurrency?: number | undefined
  readonly transport?: TransportOptions | undefined
}

/** Opens the cluster of an access: its credentials and a transport (closed with the scope). */
export const openCluster = (access: ClusterAccess, settings: ClusterSettings): Effect.Effect<Cluster, never, Scope.Scope> =>
  Effect.gen(function*() {
    const credentials = yield* makeCredentials(access)
    const transport = yield* Effect.acquireRelease(makeTransport(access, credentials, settings.transport), (t) => t.close)
    return {
      access,
      transport,
      namespaces: settings.namespaces !== undefined && settings.namespaces.length > 0 ? [...new Set(settings.namespaces)] : [access.namespace ?? "default"],
      labelSelector: settings.labelSelector === "" ? undefined : settings.labelSelector,
      concurrency: Math.max(1, settings.concurrency ?? 10),
      known: new Map()
    }
  })

/** Reads one workload now (and remembers it). */
export const readWorkload = (cluster: Cluster, ref: WorkloadRef): Effect.Effect<WorkloadJson, TargetError> => {
  const id = workloadId(ref)
  return call(cluster.transport, cluster.access, getRequest(ref), WorkloadJson, { what: id, verb: "get", kind: ref.kind, namespace: ref.namespace, workloads: [id] }).pipe(
    Effect.tap((w) => Effect.sync(() => void cluster.known.set(id, w)))
  )
}

/** Reads every workload of a kind in a namespace (and remembers them). */
export const readKind = (cluster: Cluster, namespace: string, kind: WorkloadKind, labelSelector?: string): Effect.Effect<ReadonlyArray<WorkloadJson>, TargetError> =>
  Effect.map(listKind(cluster, namespace, kind, labelSelector), (list) => list.items)

/** The same list with its resourceVersion (where a watch of it starts; undefined when the server sent none). */
export const listKind = (
  cluster: Cluster,
  namespace: string,
  kind: WorkloadKind,
  labelSelector?: string
): Effect.Effect<{ readonly items: ReadonlyArray<WorkloadJson>; readonly resourceVersion: string | undefined }, TargetError> =>
  call(cluster.transport, cluster.access, listRequest(kind, namespace, labelSelector), WorkloadListJson, {
    what: `${kind}s in namespace ${namespace}${labelSelector === undefined ? "" : ` with labels ${labelSelector}`}`,
    verb: "list",
    kind,
    namespace
  }).pipe(
    Effect.map((list) => ({ items: list.items, resourceVersion: list.metadata?.resourceVersion })),
    Effect.tap(({ items }) => Effect.sync(() => {
      for (const w of items) cluster.known.set(workloadId({ namespace, kind, name: w.metadata.name }), w)
    }))
  )

/**
 * The waiting (or crashed) reasons of a workload's pods, readable: `ImagePullBackOff: Back-off
 * pulling image "r/api:99" (1 pod)`. Empty when they cannot be read (the caller's message stands).
 */
export const podProblems = (cluster: Cluster, ref: WorkloadRef, workload: WorkloadJson): Effect.Effect<ReadonlyArray<string>> => {
  const selector = selectorString(workload.spec.selector)
  if (selector === "") return Effect.succeed([])
  return call(cluster.transport, cluster.access, listRequest("Pod", ref.namespace, selector), PodListJson, { what: `pods of ${workloadId(ref)}`, verb: "list", kind: "Pod", namespace: ref.namespace }).pipe(
    Effect.map((pods) => {
      const counts = new Map<string, number>()
      for (const pod of pods.items) {
        for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
          const waiting = c.state?.waiting
          if (waiting?.reason === undefined || waiting.reason === "ContainerCreating" || waiting.reason === "PodInitializing") continue
          const line = `${c.name}: ${waiting.reason}${waiting.message === undefined ? "" : ` (${waiting.message})`}`
          counts.set(line, (counts.get(line) ?? 0) + 1)
        }
      }
      return [...counts].map(([line, count]) => `${line} on ${count} pod${count === 1 ? "" : "s"}`)
    }),
    Effect.orElseSucceed((): ReadonlyArray<string> => [])
  )
}
