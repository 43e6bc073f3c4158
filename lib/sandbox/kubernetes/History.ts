/**
 * @module History — the revision history the workload controllers keep and `kubectl rollout
 * undo` reads (FACTS.md "Revisions and kubectl rollout undo"): a Deployment's ReplicaSets, named
 * `<deployment>-<pod-template-hash>`, numbered by `deployment.kubernetes.io/revision`, carrying the
 * Deployment's own annotations (so `kubernetes.io/change-cause` shows in `rollout history`); an
 * old template's ReplicaSet is reused with the next number and the old one in
 * `revision-history`. StatefulSets and DaemonSets keep ControllerRevisions whose `.data` is the
 * strategic merge patch `{"spec":{"template":{…,"$patch":"replace"}}}`. Old entries beyond
 * `revisionHistoryLimit` (default 10) are removed.
 */
import { createHash } from "node:crypto"
import { cloneJson, jsonEqual } from "./Patch.ts"
import type { KubeObject, Store } from "./Store.ts"

const HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
/** A stable 10-character hash of a pod template (as `pod-template-hash` looks). */
export const templateHash = (template: unknown): string => {
  const digest = createHash("sha256").update(stableJson(template)).digest()
  return [...digest.subarray(0, 10)].map((b) => HASH_ALPHABET[b % HASH_ALPHABET.length]).join("")
}

const stableJson = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(stableJson).join(",")}]`
    : value !== null && typeof value === "object"
    ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(",")}}`
    : JSON.stringify(value)

const hashes = new Map<string, string>()

/** `templateHash(withoutHash(template))`, remembered by the template's JSON (the controllers ask often). */
export const podTemplateHash = (template: KubeObject): string => {
  const key = JSON.stringify(template)
  let hash = hashes.get(key)
  if (hash === undefined) {
    if (hashes.size > 10_000) hashes.clear()
    hash = templateHash(withoutHash(template))
    hashes.set(key, hash)
  }
  return hash
}

/** The template without the `pod-template-hash` label (what kubectl compares). */
export const withoutHash = (template: KubeObject): KubeObject => {
  const copy = cloneJson(template)
  if (copy?.metadata?.labels !== undefined) {
    delete copy.metadata.labels["pod-template-hash"]
    delete copy.metadata.labels["controller-revision-hash"]
  }
  return copy
}

const REVISION = "deployment.kubernetes.io/revision"
const REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
const NOT_COPIED = new Set([
  REVISION,
  REVISION_HISTORY,
  "kubectl.kubernetes.io/last-applied-configuration",
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
  "deprecated.deployment.rollback.to"
])

const ownerReference = (owner: KubeObject, kind: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind,
  name: owner.metadata.name,
  uid: owner.metadata.uid,
  controller: true,
  blockOwnerDeletion: true
})

/** The ReplicaSets a Deployment controls, newest revision first. */
export const replicaSetsOf = (store: Store, d: KubeObject): Array<KubeObject> =>
  store.owned("replicasets", d.metadata.uid)
    .sort((a, b) => Number(b.metadata.annotations?.[REVISION] ?? 0) - Number(a.metadata.annotations?.[REVISION] ?? 0))

const copiedAnnotations = (d: KubeObject): Record<string, string> =>
  Object.fromEntries(Object.entries((d.metadata.annotations ?? {}) as Record<string, string>).filter(([k]) => !NOT_COPIED.has(k)))

/**
 * Finds or creates the ReplicaSet of the Deployment's template, gives it the next revision and
 * writes that number on the Deployment. Returns the name of the ReplicaSet that ran before.
 */
export const syncReplicaSets = (store: Store, d: KubeObject): string | undefined => {
  const sets = replicaSetsOf(store, d)
  const hash = podTemplateHash(d.spec.template)
  const name = `${d.metadata.name}-${hash}`
  const previous = sets.find((rs) => rs.metadata.name !== name)?.metadata.name
  const next = String(Math.max(0, ...sets.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1)
  const existing = sets.find((rs) => rs.metadata.name === name)
  const replicas = String(d.spec.replicas ?? 1)
  const annotations = { ...copiedAnnotations(d), [REVISION]: next, "deployment.kubernetes.io/desired-replicas": replicas, "deployment.kubernetes.io/max-replicas": String((d.spec.replicas ?? 1) + 1) }
  if (existing !== undefined) {
    const old = existing.metadata.annotations?.[REVISION]
    const history = [existing.metadata.annotations?.[REVISION_HISTORY], old].filter((x) => x !== undefined && x !== "").join(",")
    store.update("replicasets", { ...existing, metadata: { ...existing.metadata, annotations: { ...annotations, ...(history === "" ? {} : { [REVISION_HISTORY]: history }) } } })
  } else {
    const template = cloneJson(d.spec.template)
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), "pod-template-hash": hash } }
    const selector = cloneJson(d.spec.selector ?? {})
    selector.matchLabels = { ...(selector.matchLabels ?? {}), "pod-template-hash": hash }
    store.create("replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name, namespace: d.metadata.namespace, labels: template.metadata.labels, annotations, ownerReferences: [ownerReference(d, "Deployment")] },
      spec: { replicas: 0, selector, template },
      status: { replicas: 0, observedGeneration: 1 }
    }, { withGeneration: true })
  }
  if (d.metadata.annotations?.[REVISION] !== next) {
    const current = store.get("deployments", d.metadata.namespace, d.metadata.name)!
    store.update("deployments", { ...current, metadata: { ...current.metadata, annotations: { ...(current.metadata.annotations ?? {}), [REVISION]: next } } })
  }
  trimHistory(store, "replicasets", replicaSetsOf(store, d).slice(1), d.spec.revisionHistoryLimit ?? 10)
  return previous
}

/** The Deployment controller's copy of the Deployment's annotations onto its current ReplicaSet (after an `annotate`). */
export const copyAnnotationsToNewReplicaSet = (store: Store, d: KubeObject): void => {
  const name = `${d.metadata.name}-${podTemplateHash(d.spec.template)}`
  const rs = replicaSetsOf(store, d).find((r) => r.metadata.name === name)
  if (rs === undefined) return
  const own = Object.fromEntries(Object.entries((rs.metadata.annotations ?? {}) as Record<string, string>).filter(([k]) => NOT_COPIED.has(k)))
  const annotations = { ...copiedAnnotations(d), ...own }
  if (!jsonEqual(annotations, rs.metadata.annotations ?? {})) store.update("replicasets", { ...rs, metadata: { ...rs.metadata, annotations } })
}

/** Sets the ReplicaSets' replica counts from the Deployment's status (new: updated; the one before: the rest; others: 0). */
export const scaleReplicaSets = (store: Store, d: KubeObject, status: KubeObject, from: string | undefined): void => {
  const name = `${d.metadata.name}-${podTemplateHash(d.spec.template)}`
  for (const rs of replicaSetsOf(store, d)) {
    const want = rs.metadata.name === name
      ? status.updatedReplicas ?? 0
      : rs.metadata.name === from
      ? Math.max(0, (status.replicas ?? 0) - (status.updatedReplicas ?? 0))
      : 0
    if (rs.spec.replicas !== want || rs.status?.replicas !== want) {
      store.update("replicasets", {
        ...rs,
        spec: { ...rs.spec, replicas: want },
        status: { replicas: want, readyReplicas: want, availableReplicas: want, fullyLabeledReplicas: want, observedGeneration: (rs.metadata.generation ?? 1) + (rs.spec.replicas === want ? 0 : 1) }
      })
    }
  }
}

/** The ControllerRevisions a StatefulSet or DaemonSet controls, newest first. */
export const controllerRevisionsOf = (store: Store, owner: KubeObject): Array<KubeObject> =>
  store.owned("controllerrevisions", owner.metadata.uid).sort((a, b) => b.revision - a.revision)

/**
 * Finds or creates the ControllerRevision of the template and gives it the next number. Returns
 * the revision the pods ran before (the status's currentRevision).
 */
export const syncControllerRevisions = (store: Store, resource: string, owner: KubeObject): string | undefined => {
  const kind = resource === "statefulsets" ? "StatefulSet" : "DaemonSet"
  const revisions = controllerRevisionsOf(store, owner)
  const hash = podTemplateHash(owner.spec.template)
  const name = `${owner.metadata.name}-${hash}`
  const next = Math.max(0, ...revisions.map((cr) => cr.revision as number)) + 1
  const existing = revisions.find((cr) => cr.metadata.name === name)
  const data = { spec: { template: { ...cloneJson(owner.spec.template), $patch: "replace" } } }
  const changeCause = owner.metadata.annotations?.["kubernetes.io/change-cause"]
  const annotations = changeCause === undefined ? {} : { "kubernetes.io/change-cause": changeCause }
  if (existing !== undefined) {
    if (existing.revision !== next - 1 || !jsonEqual(existing.metadata.annotations ?? {}, annotations)) {
      store.update("controllerrevisions", { ...existing, metadata: { ...existing.metadata, annotations }, revision: existing.revision === next - 1 ? existing.revision : next })
    }
  } else {
    store.create("controllerrevisions", {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels: { ...(owner.spec.template?.metadata?.labels ?? {}), "controller-revision-hash": hash },
        annotations,
        ownerReferences: [ownerReference(owner, kind)]
      },
      data,
      revision: next
    }, { withGeneration: false })
  }
  trimHistory(store, "controllerrevisions", controllerRevisionsOf(store, owner).slice(1), owner.spec.revisionHistoryLimit ?? 10)
  const current = owner.status?.currentRevision ?? owner.status?.updateRevision
  return typeof current === "string" ? current : revisions[0]?.metadata.name
}

const trimHistory = (store: Store, resource: string, older: Array<KubeObject>, limit: number): void => {
  for (const old of older.slice(limit)) store.delete(resource, old.metadata.namespace, old.metadata.name)
}
