/**
 * @module Rollout — the sandbox's controllers, driven by the server's own clock: when a
 * workload's pod template changes, its rollout runs for `rolloutMs` (replicas updated one step at
 * a time, old pods kept until the new ones are available), then it is done. A template running an
 * image marked broken (its pods in `ImagePullBackOff`) or crashing (`CrashLoopBackOff`) never
 * becomes available; a Deployment then gets `Progressing=False, reason ProgressDeadlineExceeded`
 * after `progressDeadlineMs`. The history kubectl's `rollout undo` reads is kept as the
 * controllers keep it: a Deployment's ReplicaSets (`deployment.kubernetes.io/revision`, the
 * Deployment's annotations copied, an old template's ReplicaSet reused with the next number) and
 * a StatefulSet's or DaemonSet's ControllerRevisions (`.revision`, `.data` a strategic merge patch
 * replacing the template). `OnDelete` workloads observe a change but replace no pod.
 */
import { jsonEqual } from "./Patch.ts"
import { copyAnnotationsToNewReplicaSet, podTemplateHash, scaleReplicaSets, syncControllerRevisions, syncReplicaSets } from "./History.ts"
import type { KubeObject, Store } from "./Store.ts"

/** How the simulated cluster behaves. */
export interface RolloutSettings {
  /** How long a healthy rollout takes. */
  readonly rolloutMs: number
  /** How long before a Deployment that makes no progress gets ProgressDeadlineExceeded. */
  readonly progressDeadlineMs: number
  /** Nodes a DaemonSet runs on. */
  readonly nodes: number
  /** Images whose pods never start: ImagePullBackOff. */
  readonly brokenImages: Set<string>
  /** Images whose pods start and crash: CrashLoopBackOff. */
  readonly crashingImages: Set<string>
}

/** A rollout in progress. */
export interface RolloutRecord {
  readonly startedAt: number
  /** The ReplicaSet (Deployment) or ControllerRevision (StatefulSet) whose pods ran before. */
  readonly from: string | undefined
}

const WORKLOADS = ["deployments", "statefulsets", "daemonsets"] as const

/** Every image a template runs (containers and init containers). */
export const templateImages = (template: KubeObject | undefined): Array<string> =>
  [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])].map((c: KubeObject) => c.image)

/** The simulated controllers of one sandbox. */
export class Controllers {
  private readonly rollouts = new Map<string, RolloutRecord>()
  /** When each rolling workload's status can next change (nothing to do before). */
  private readonly nextChange = new Map<string, number>()

  private readonly store: Store
  private readonly settings: RolloutSettings
  private readonly now: () => number

  constructor(store: Store, settings: RolloutSettings, now: () => number) {
    this.store = store
    this.settings = settings
    this.now = now
  }

  /**
   * After a workload was created or written: a new or changed pod template starts a rollout and a
   * history entry.
   */
  afterWrite(resource: string, previous: KubeObject | undefined, stored: KubeObject): void {
    if (!(WORKLOADS as ReadonlyArray<string>).includes(resource)) return
    if (previous !== undefined && jsonEqual(previous.spec?.template, stored.spec?.template)) {
      if (resource === "deployments") copyAnnotationsToNewReplicaSet(this.store, stored)
      return
    }
    const key = `${resource}/${stored.metadata.namespace}/${stored.metadata.name}`
    const from = resource === "deployments" ? syncReplicaSets(this.store, stored) : syncControllerRevisions(this.store, resource, stored)
    this.rollouts.set(key, { startedAt: this.now(), from })
    this.nextChange.delete(key)
    this.reconcileOne(key)
  }

  /** A workload the sandbox starts with: its rollout is already done (its status at once). */
  settle(resource: string, namespace: string, name: string): void {
    const key = `${resource}/${namespace}/${name}`
    const record = this.rollouts.get(key)
    if (record === undefined) return
    this.rollouts.set(key, { ...record, startedAt: Number.NEGATIVE_INFINITY })
    this.nextChange.delete(key)
    this.reconcileOne(key)
  }

  /** The workloads whose rollout is still going (`resource/namespace/name`). */
  rolling(): ReadonlyArray<string> {
    return [...this.rollouts.keys()]
  }

  /** Forgets a deleted workload. */
  afterDelete(resource: string, namespace: string, name: string): void {
    this.rollouts.delete(`${resource}/${namespace}/${name}`)
    this.nextChange.delete(`${resource}/${namespace}/${name}`)
  }

  private lastReconcile = Number.NEGATIVE_INFINITY

  /** Brings every rolling workload's status up to the server's clock (a write only when it changed); at most every 5 ms. */
  reconcile(): void {
    const now = this.now()
    if (now - this.lastReconcile < 5) return
    this.lastReconcile = now
    for (const key of [...this.rollouts.keys()]) this.reconcileOne(key)
  }

  private reconcileOne(key: string): void {
    const record = this.rollouts.get(key)
    if (record === undefined) return
    if (this.now() < (this.nextChange.get(key) ?? Number.NEGATIVE_INFINITY)) return
    const [resource, namespace, name] = key.split("/") as [string, string, string]
    const object = this.store.peek(resource, namespace, name)
    if (object === undefined) {
      this.rollouts.delete(key)
      return
    }
    this.nextChange.set(key, this.nextChangeOf(resource, object, record))
    const status = this.statusOf(resource, object, record)
    if (status === undefined) return
    const changed = !jsonEqual(status, object.status)
    if (changed) this.store.update(resource, { ...object, status })
    const current = this.store.peek(resource, namespace, name)!
    if (changed && resource === "deployments") scaleReplicaSets(this.store, current, status, record.from)
    if (this.finished(resource, current, status)) {
      this.rollouts.delete(key)
      this.nextChange.delete(key)
    }
  }

  /** Whether the template runs a broken or crashing image. */
  failing(template: KubeObject | undefined): "ImagePullBackOff" | "CrashLoopBackOff" | undefined {
    const images = templateImages(template)
    if (images.some((i) => this.settings.brokenImages.has(i))) return "ImagePullBackOff"
    if (images.some((i) => this.settings.crashingImages.has(i))) return "CrashLoopBackOff"
    return undefined
  }

  /** The rollout record of a workload (for pods), if it is rolling. */
  rolloutOf(resource: string, namespace: string, name: string): RolloutRecord | undefined {
    return this.rollouts.get(`${resource}/${namespace}/${name}`)
  }

  /** The next moment the simulated status moves: the controller observing, a replica's step, the end, the deadline. */
  private nextChangeOf(resource: string, object: KubeObject, record: RolloutRecord): number {
    const now = this.now()
    if (!Number.isFinite(record.startedAt)) return now
    const units = Math.max(1, resource === "daemonsets" ? this.settings.nodes : object.spec?.replicas ?? 1)
    const moments = [record.startedAt + Math.min(20, this.settings.rolloutMs / 10), record.startedAt + this.settings.progressDeadlineMs]
    for (let i = 1; i <= units; i++) moments.push(record.startedAt + (i * this.settings.rolloutMs) / units)
    return Math.min(...moments.filter((m) => m > now), now + 1000)
  }

  private finished(resource: string, object: KubeObject, status: KubeObject): boolean {
    if (status.observedGeneration !== object.metadata.generation) return false
    if (this.failing(object.spec.template) !== undefined) {
      return resource !== "deployments" || status.conditions?.some((c: KubeObject) => c.reason === "ProgressDeadlineExceeded") === true
    }
    if (resource === "deployments") return status.updatedReplicas === (object.spec.replicas ?? 1) && status.replicas === status.updatedReplicas
    if (resource === "daemonsets") return object.spec.updateStrategy?.type === "OnDelete" || status.updatedNumberScheduled === status.desiredNumberScheduled
    return object.spec.updateStrategy?.type === "OnDelete" || status.updatedReplicas === Math.max(0, (object.spec.replicas ?? 1) - (object.spec.updateStrategy?.rollingUpdate?.partition ?? 0))
  }

  private statusOf(resource: string, object: KubeObject, record: RolloutRecord): KubeObject | undefined {
    const elapsed = this.now() - record.startedAt
    // The controller sees a change a moment after it was written: meanwhile status.observedGeneration lags.
    if (elapsed < Math.min(20, this.settings.rolloutMs / 10)) return undefined
    const progress = Math.min(1, elapsed / Math.max(1, this.settings.rolloutMs))
    const failing = this.failing(object.spec.template)
    if (resource === "deployments") return this.deploymentStatus(object, progress, failing, elapsed)
    if (resource === "statefulsets") return this.statefulSetStatus(object, progress, failing, record)
    return this.daemonSetStatus(object, progress, failing)
  }

  private deploymentStatus(d: KubeObject, progress: number, failing: string | undefined, elapsed: number): KubeObject {
    const n: number = d.spec.replicas ?? 1
    const rsName = `${d.metadata.name}-${podTemplateHash(d.spec.template)}`
    const now = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z")
    const previous = d.status?.conditions ?? []
    const since = (type: string, status: string, reason: string) =>
      previous.find((c: KubeObject) => c.type === type && c.status === status && c.reason === reason)?.lastTransitionTime ?? now
    const condition = (type: string, status: string, reason: string, message: string) => ({
      type, status, lastUpdateTime: since(type, status, reason), lastTransitionTime: since(type, status, reason), reason, message
    })
    const available = condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    if (d.spec.paused === true) return { ...(d.status ?? {}), observedGeneration: d.metadata.generation }
    if (failing !== undefined && n > 0) {
      const exceeded = elapsed >= this.settings.progressDeadlineMs
      return {
        observedGeneration: d.metadata.generation, replicas: n + 1, updatedReplicas: 1, readyReplicas: n, availableReplicas: n, unavailableReplicas: 1,
        conditions: [available, exceeded
          ? condition("Progressing", "False", "ProgressDeadlineExceeded", `ReplicaSet "${rsName}" has timed out progressing.`)
          : condition("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rsName}" is progressing.`)]
      }
    }
    const done = progress >= 1 || n === 0
    const updated = done ? n : Math.min(n, 1 + Math.floor(progress * n))
    return {
      observedGeneration: d.metadata.generation, replicas: done ? n : n + 1, updatedReplicas: updated, readyReplicas: n, availableReplicas: n,
      ...(done ? {} : { unavailableReplicas: 1 }),
      conditions: [available, done
        ? condition("Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "${rsName}" has successfully progressed.`)
        : condition("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rsName}" is progressing.`)]
    }
  }

  private statefulSetStatus(s: KubeObject, progress: number, failing: string | undefined, record: RolloutRecord): KubeObject {
    const n: number = s.spec.replicas ?? 1
    const updateRevision = `${s.metadata.name}-${podTemplateHash(s.spec.template)}`
    const from = record.from ?? updateRevision
    const base = { observedGeneration: s.metadata.generation, replicas: n, updateRevision, collisionCount: 0 }
    if (s.spec.updateStrategy?.type === "OnDelete") {
      return { ...base, readyReplicas: n, availableReplicas: n, currentReplicas: n, updatedReplicas: from === updateRevision ? n : 0, currentRevision: from }
    }
    const toUpdate = Math.max(0, n - (s.spec.updateStrategy?.rollingUpdate?.partition ?? 0))
    const updated = failing !== undefined ? Math.min(1, toUpdate) : progress >= 1 ? toUpdate : Math.floor(progress * toUpdate)
    const allDone = failing === undefined && updated === toUpdate
    const ready = allDone || toUpdate === 0 ? n : n - 1
    const currentRevision = allDone && toUpdate === n ? updateRevision : from
    return { ...base, readyReplicas: ready, availableReplicas: ready, currentReplicas: currentRevision === updateRevision ? n : n - updated, updatedReplicas: updated, currentRevision }
  }

  private daemonSetStatus(ds: KubeObject, progress: number, failing: string | undefined): KubeObject {
    const desired = this.settings.nodes
    const base = { observedGeneration: ds.metadata.generation, currentNumberScheduled: desired, desiredNumberScheduled: desired, numberMisscheduled: 0 }
    if (ds.spec.updateStrategy?.type === "OnDelete") {
      const unchanged = ds.status?.updatedNumberScheduled === desired && ds.status?.observedGeneration === ds.metadata.generation
      return { ...base, numberReady: desired, numberAvailable: desired, updatedNumberScheduled: unchanged ? desired : 0 }
    }
    const updated = failing !== undefined ? 1 : progress >= 1 ? desired : Math.floor(progress * desired)
    const available = failing === undefined && updated === desired ? desired : desired - 1
    return { ...base, numberReady: available, numberAvailable: available, updatedNumberScheduled: updated, ...(available < desired ? { numberUnavailable: desired - available } : {}) }
  }
}
