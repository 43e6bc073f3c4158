/**
 * @module KubernetesTarget — the Target contract on a Kubernetes cluster: apps/v1 Deployments,
 * StatefulSets and DaemonSets in one or several namespaces, narrowed by a label selector
 * (Workload id `namespace/Kind/name`, containers and init containers); CronJobs and bare Pods
 * listed as not handled, with the reason. `apply` sends one guarded JSON patch per workload
 * (`fieldManager=fleet-rollback`, `kubernetes.io/change-cause` naming the point and the user) and
 * `watch` follows kubectl's rollout-status rules; `revert` patches the previous images back,
 * guarded the same way. Credentials as kubectl finds them ({@link loadClusterAccess}).
 */
import { Effect, Layer, type Scope } from "effect"
import { Target, type TargetScope, type TargetShape } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import type { Workload } from "../../target/Workload.ts"
import { call, canonicalWorkloadId, listRequest, parseWorkloadId, podRequest } from "./Api.ts"
import { applyChanges, type KubernetesHandle } from "./Apply.ts"
import { type Cluster, openCluster, readKind, readWorkload } from "./Cluster.ts"
import { type ClusterAccess, type KubeconfigLookup, loadClusterAccess } from "./Kubeconfig.ts"
import { changesInProgress, verifyChanges, watchChanges } from "./Progress.ts"
import { CronJobListJson, METADATA_LIST_ACCEPT, MetadataListJson, PodJson, WORKLOAD_KINDS } from "./Resources.ts"
import { toWorkload } from "./Workloads.ts"
import { readHistory } from "./History.ts"
import type { TransportOptions } from "./Transport.ts"

/** Settings of the Kubernetes target (flags, config `target:` section, environment). */
export interface KubernetesTargetSettings {
  /** Namespaces in scope; none = the context's namespace, else `default`. */
  readonly namespaces?: ReadonlyArray<string> | undefined
  /** A label selector narrowing the workloads (`tier=web,env in (prod)`). */
  readonly labelSelector?: string | undefined
  /** Requests in flight at most (default 10, client-go's default burst). */
  readonly concurrency?: number | undefined
  readonly transport?: TransportOptions | undefined
}

const notHandled = (namespace: string, kind: string, name: string, image: string | undefined, labels: Record<string, string> | undefined, reason: string): Workload => ({
  id: `${namespace}/${kind}/${name}`,
  kind,
  labels: labels ?? {},
  containers: image === undefined ? [] : [{ name, image }],
  image,
  health: { desired: 0, running: 0, healthy: 0, summary: "not handled" },
  revision: undefined,
  inScope: false,
  notHandled: reason
})

const CRONJOB_REASON = "a CronJob starts Jobs on a schedule and is not rolled back by fleet-rollback: change its jobTemplate's image yourself (kubectl set image cronjob/NAME …)"
const BARE_POD_REASON = "a bare Pod (no controller) cannot be rolled: its image is fixed at creation; re-create it from its manifest with the image you want"

/** Lists one namespace: the three kinds (marked in scope by the selector), CronJobs and bare Pods. */
const listNamespace = (cluster: Cluster, namespace: string, selector: string | undefined, idPrefix: string | undefined): Effect.Effect<ReadonlyArray<Workload>, TargetError> =>
  Effect.gen(function*() {
    const perKind = yield* Effect.forEach(WORKLOAD_KINDS, (kind) =>
      Effect.all([readKind(cluster, namespace, kind), selector === undefined ? Effect.succeed(undefined) : readKind(cluster, namespace, kind, selector)]).pipe(
        Effect.map(([all, selected]) => {
          const inSelector = selected === undefined ? undefined : new Set(selected.map((w) => w.metadata.name))
          return all.map((w) => {
            const workload = toWorkload(namespace, kind, w, inSelector?.has(w.metadata.name) ?? true)
            return idPrefix === undefined || workload.id.startsWith(idPrefix) ? workload : { ...workload, inScope: false }
          })
        })
      ), { concurrency: 3 })
    const others = { what: `workloads in namespace ${namespace}`, verb: "list", namespace } as const
    const [cronJobs, pods] = yield* Effect.all([
      call(cluster.transport, cluster.access, listRequest("CronJob", namespace), CronJobListJson, { ...others, kind: "CronJob" }),
      // Metadata only: a namespace's pods are many and only the bare ones (no owner) matter here.
      call(cluster.transport, cluster.access, { ...listRequest("Pod", namespace), accept: METADATA_LIST_ACCEPT }, MetadataListJson, { ...others, kind: "Pod" })
    ], { concurrency: 2 })
    const bare = yield* Effect.forEach(pods.items.filter((p) => (p.metadata.ownerReferences ?? []).length === 0), (p) =>
      call(cluster.transport, cluster.access, podRequest(namespace, p.metadata.name), PodJson, { ...others, what: `pod ${namespace}/${p.metadata.name}`, kind: "Pod" }), { concurrency: cluster.concurrency })
    return [
      ...perKind.flat(),
      ...cronJobs.items.map((c) => notHandled(namespace, "CronJob", c.metadata.name, c.spec.jobTemplate.spec.template.spec.containers[0]?.image, c.metadata.labels, CRONJOB_REASON)),
      ...bare.map((p) => notHandled(namespace, "Pod", p.metadata.name, p.spec.containers[0]?.image, p.metadata.labels, BARE_POD_REASON))
    ]
  })

/** The target's operations on a cluster. */
export const makeKubernetesTargetFor = (cluster: Cluster): TargetShape => ({
  description: {
    kind: "kubernetes",
    url: cluster.access.server,
    settings: {
      context: cluster.access.context,
      namespaces: cluster.namespaces.join(","),
      ...(cluster.labelSelector === undefined ? {} : { labelSelector: cluster.labelSelector })
    }
  },
  displayName: "Kubernetes",
  changeNoun: "rollout",
  workloadNoun: "workload",
  canonicalId: (id) => canonicalWorkloadId(id, cluster.namespaces),
  hints: {
    checkState: `the images and ready replicas (kubectl -n ${cluster.namespaces.length === 1 ? cluster.namespaces[0] : "NAMESPACE"} get deploy,sts,ds -o wide) and kubectl rollout status`,
    checkStarted: `do they run the new images? kubectl -n ${cluster.namespaces.length === 1 ? cluster.namespaces[0] : "NAMESPACE"} get deploy,sts,ds -o wide; kubectl rollout history shows fleet-rollback's change-cause`,
    narrowScope: "--namespace / --label-selector, or target.namespaces / target.labelSelector in the config"
  },
  capabilities: { force: false, revert: true, serverDryRun: true, watch: true, pinDigest: true },
  history: (asked) => readHistory(cluster, asked),
  listWorkloads: Effect.fn("Kubernetes.listWorkloads")(function*(scope: TargetScope) {
    const selector = scope.labelSelector ?? cluster.labelSelector
    const lists = yield* Effect.forEach(cluster.namespaces, (ns) => listNamespace(cluster, ns, selector, scope.idPrefix), { concurrency: 4 })
    return lists.flat()
  }),
  getWorkload: Effect.fn("Kubernetes.getWorkload")(function*(id: string) {
    const ref = yield* parseWorkloadId(id)
    return toWorkload(ref.namespace, ref.kind, yield* readWorkload(cluster, ref), cluster.namespaces.includes(ref.namespace))
  }),
  apply: Effect.fn("Kubernetes.apply")(function*(changes, options) {
    if (options.force) return yield* new TargetError({ reason: "Unsupported", message: "Kubernetes has no lock to override: --force does not apply to --target kubernetes (nothing was sent)" })
    return yield* applyChanges(cluster, changes, { dryRun: options.dryRun === true, cause: options.cause })
  }),
  watch: (applied, options) => watchChanges(cluster, applied, options),
  inProgress: (applied) => changesInProgress(cluster, applied),
  verify: (changes, before) => verifyChanges(cluster, changes, before),
  revert: Effect.fn("Kubernetes.revert")(function*(args) {
    const handle = args.applied.handle as KubernetesHandle | undefined
    const applied = new Set(args.applied.workloads.filter((w) => w.state !== "refused").map((w) => w.workload))
    const back = args.back.filter((c) => applied.has(c.workload))
    if (back.length === 0) return { applied: undefined, note: "nothing to put back: no workload was changed" }
    const result = yield* applyChanges(cluster, back, { dryRun: handle?.dryRun === true, cause: "fleet-rollback: revert of a failed rollback" })
    const refused = result.workloads.filter((w) => w.state !== "applied")
    return { applied: result, ...(refused.length === 0 ? {} : { note: `${refused.length} workload(s) not put back: ${refused.map((w) => `${w.workload}: ${w.problem}`).join("; ")}` }) }
  })
})

/** Builds the target from a cluster access (the transport is closed with the scope). */
export const makeKubernetesTarget = (access: ClusterAccess, settings: KubernetesTargetSettings = {}): Effect.Effect<TargetShape, never, Scope.Scope> =>
  Effect.map(openCluster(access, settings), makeKubernetesTargetFor)

/** The Target layer: finds the cluster as kubectl would (`lookup`), then builds the target. */
export const kubernetesTargetLayer = (lookup: KubeconfigLookup, settings: KubernetesTargetSettings = {}): Layer.Layer<Target, TargetError> =>
  Layer.effect(Target, Effect.flatMap(loadClusterAccess(lookup), (access) => makeKubernetesTarget(access, settings)))
