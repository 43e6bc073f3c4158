/**
 * @module Pods — the pods the sandbox's workloads run, made up from their state when listed:
 * a Deployment's pods belong to its ReplicaSets (old ones kept during a rollout), a
 * StatefulSet's are `<name>-<ordinal>`, a DaemonSet's one per node. A pod of a template that runs
 * a broken image waits in `ImagePullBackOff` (`ErrImagePull`'s back-off), one of a crashing image
 * in `CrashLoopBackOff`, as `examples/gitops-engine-health-testdata/pod-*.yaml` show. Bare pods
 * stored in the sandbox are listed as they are.
 */
import { createHash } from "node:crypto"
import { podTemplateHash } from "./History.ts"
import type { Controllers } from "./Rollout.ts"
import type { KubeObject, Store } from "./Store.ts"

const suffix = (seed: string): string => createHash("sha256").update(seed).digest("hex").slice(0, 5)

const containerStatus = (container: KubeObject, waiting: string | undefined, podName: string, started: string): KubeObject =>
  waiting === "ImagePullBackOff"
    ? { name: container.name, image: container.image, imageID: "", ready: false, restartCount: 0, started: false, state: { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${container.image}"` } }, lastState: {} }
    : waiting === "CrashLoopBackOff"
    ? {
      name: container.name, image: container.image, imageID: "", ready: false, restartCount: 3, started: false,
      state: { waiting: { reason: "CrashLoopBackOff", message: `back-off 40s restarting failed container=${container.name} pod=${podName}` } },
      lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: started, finishedAt: started } }
    }
    : { name: container.name, image: container.image, imageID: "", ready: true, restartCount: 0, started: true, state: { running: { startedAt: started } }, lastState: {} }

/** One pod of a template; `failing` is the waiting reason of its failing containers. */
const pod = (
  namespace: string,
  name: string,
  template: KubeObject,
  owner: { readonly kind: string; readonly name: string; readonly uid: string },
  extraLabels: Record<string, string>,
  failing: string | undefined,
  isFailingImage: (image: string) => boolean,
  started: string,
  resourceVersion: string
): KubeObject => {
  const statuses = (containers: Array<KubeObject> | undefined) =>
    (containers ?? []).map((c) => containerStatus(c, isFailingImage(c.image) ? failing : undefined, name, started))
  const ready = failing === undefined
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name, namespace, uid: suffix(`${namespace}/${name}/uid`), resourceVersion, creationTimestamp: started,
      labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
      ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }]
    },
    spec: template.spec,
    status: {
      phase: ready ? "Running" : "Pending",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      ...(template.spec?.initContainers === undefined ? {} : { initContainerStatuses: statuses(template.spec.initContainers) }),
      containerStatuses: statuses(template.spec?.containers),
      startTime: started
    }
  }
}

/** Every pod in a namespace: the stored bare pods and those the workloads run now. */
export const podsIn = (store: Store, controllers: Controllers, namespace: string): Array<KubeObject> => {
  const rv = String(store.resourceVersion)
  const failingImage = (image: string) => controllers.failing({ spec: { containers: [{ image }] } }) !== undefined
  const pods: Array<KubeObject> = store.list("pods", namespace)
  const setsByOwner = new Map<string, Array<KubeObject>>()
  for (const rs of store.list("replicasets", namespace, (rs) => (rs.spec?.replicas ?? 0) > 0)) {
    const owner = (rs.metadata.ownerReferences ?? []).find((r: KubeObject) => r.controller === true)?.uid
    if (owner !== undefined) setsByOwner.set(owner, [...(setsByOwner.get(owner) ?? []), rs])
  }
  for (const d of store.list("deployments", namespace)) {
    const started = d.metadata.creationTimestamp
    for (const rs of setsByOwner.get(d.metadata.uid) ?? []) {
      const isNew = rs.metadata.name === `${d.metadata.name}-${podTemplateHash(d.spec.template)}`
      const count: number = rs.spec.replicas ?? 0
      const failing = isNew ? controllers.failing(rs.spec.template) : undefined
      for (let i = 0; i < count; i++) {
        const name = `${rs.metadata.name}-${suffix(`${rs.metadata.name}/${i}`)}`
        pods.push(pod(namespace, name, rs.spec.template, { kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid }, {}, failing, failingImage, started, rv))
      }
    }
  }
  for (const s of store.list("statefulsets", namespace)) {
    const n: number = s.spec.replicas ?? 1
    const updated: number = s.status?.updatedReplicas ?? n
    const failing = controllers.failing(s.spec.template)
    const old = store.get("controllerrevisions", namespace, s.status?.currentRevision ?? "")?.data?.spec?.template
    const oldTemplate = old === undefined ? s.spec.template : { metadata: old.metadata, spec: old.spec }
    for (let i = 0; i < n; i++) {
      const isUpdated = i >= n - updated
      pods.push(pod(namespace, `${s.metadata.name}-${i}`, isUpdated ? s.spec.template : oldTemplate, { kind: "StatefulSet", name: s.metadata.name, uid: s.metadata.uid },
        { "statefulset.kubernetes.io/pod-name": `${s.metadata.name}-${i}` }, isUpdated ? failing : undefined, failingImage, s.metadata.creationTimestamp, rv))
    }
  }
  for (const ds of store.list("daemonsets", namespace)) {
    const desired: number = ds.status?.desiredNumberScheduled ?? 0
    const updated: number = ds.status?.updatedNumberScheduled ?? desired
    const failing = controllers.failing(ds.spec.template)
    for (let i = 0; i < desired; i++) {
      pods.push(pod(namespace, `${ds.metadata.name}-${suffix(`${ds.metadata.name}/${i}`)}`, ds.spec.template, { kind: "DaemonSet", name: ds.metadata.name, uid: ds.metadata.uid },
        {}, i < updated ? failing : undefined, failingImage, ds.metadata.creationTimestamp, rv))
    }
  }
  return pods
}
