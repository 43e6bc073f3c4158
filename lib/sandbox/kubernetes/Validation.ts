/**
 * @module Validation — what the sandbox's API server checks and fills in before it stores a
 * workload: the defaults the apps/v1 defaulters set (replicas 1, RollingUpdate strategies,
 * `progressDeadlineSeconds` 600, `revisionHistoryLimit` 10, a StatefulSet's `partition: 0` only
 * when the strategy type was omitted — FACTS.md), and 422 Invalid for what the real validation
 * refuses that a rollback could get wrong: containers without a name or image, duplicate container
 * names, a selector that does not match the template's labels, negative replicas, a changed name.
 */
import { defaultImageStream, prepareImageStreamUpdate } from "../openshift/ImageStreams.ts"
import { matchesLabels, selectorObjectRequirements } from "./Selectors.ts"
import { invalid } from "./Status.ts"
import type { KubeObject } from "./Store.ts"

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const defaultContainer = (c: KubeObject): void => {
  if (typeof c !== "object" || c === null) return
  c.resources ??= {}
  c.terminationMessagePath ??= "/dev/termination-log"
  c.terminationMessagePolicy ??= "File"
  if (c.imagePullPolicy === undefined && typeof c.image === "string") {
    const tag = /:([^:/@]+)$/.exec(c.image.split("@")[0]!)?.[1]
    c.imagePullPolicy = c.image.includes("@") || (tag !== undefined && tag !== "latest") ? "IfNotPresent" : "Always"
  }
}

/**
 * Fills the pod template's defaults as the API server does on every write (so a client that
 * sends back a typed round-trip of a template — `creationTimestamp: null`, `resources: {}` — gets
 * the same stored template, as `kubectl rollout undo` relies on).
 */
export const defaultPodTemplate = (template: KubeObject | undefined): void => {
  if (typeof template !== "object" || template === null) return
  if (template.metadata?.creationTimestamp === null) delete template.metadata.creationTimestamp
  const spec = template.spec
  if (typeof spec !== "object" || spec === null) return
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c)
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c)
  spec.restartPolicy ??= "Always"
  spec.terminationGracePeriodSeconds ??= 30
  spec.dnsPolicy ??= "ClusterFirst"
  spec.securityContext ??= {}
  spec.schedulerName ??= "default-scheduler"
}

/** Fills the defaults of an object of `kind` (in place), on create and on every update. */
export const applyDefaults = (kind: string, object: KubeObject): void => {
  if (kind === "ImageStream") defaultImageStream(object)
  const spec = object.spec
  if (spec === undefined || spec === null) return
  if (kind === "Pod") defaultPodTemplate(object)
  if (kind === "Deployment" || kind === "StatefulSet" || kind === "DaemonSet") defaultPodTemplate(spec.template)
  if (kind === "Deployment") {
    spec.replicas ??= 1
    spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } }
    spec.progressDeadlineSeconds ??= 600
    spec.revisionHistoryLimit ??= 10
  }
  if (kind === "StatefulSet") {
    spec.replicas ??= 1
    spec.updateStrategy ??= {}
    if (spec.updateStrategy.type === undefined) spec.updateStrategy = { type: "RollingUpdate", rollingUpdate: { partition: 0 } }
    spec.revisionHistoryLimit ??= 10
  }
  if (kind === "DaemonSet") {
    spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }
    spec.revisionHistoryLimit ??= 10
  }
}

const containerProblems = (path: string, containers: unknown): Array<{ field: string; message: string; reason?: string }> => {
  if (containers === undefined) return []
  if (!Array.isArray(containers)) return [{ field: path, message: "must be a list", reason: "FieldValueTypeInvalid" }]
  const problems: Array<{ field: string; message: string; reason?: string }> = []
  const names = new Set<string>()
  containers.forEach((c: KubeObject, i) => {
    if (typeof c?.name !== "string" || c.name === "") problems.push({ field: `${path}[${i}].name`, message: "Required value", reason: "FieldValueRequired" })
    else if (names.has(c.name)) problems.push({ field: `${path}[${i}].name`, message: `Duplicate value: "${c.name}"`, reason: "FieldValueDuplicate" })
    else names.add(c.name)
    if (typeof c?.image !== "string" || c.image.trim() === "") problems.push({ field: `${path}[${i}].image`, message: "Required value", reason: "FieldValueRequired" })
  })
  return problems
}

/** Throws 422 Invalid when a workload (Deployment, StatefulSet, DaemonSet, CronJob, Pod) is not valid. */
export const validateObject = (kind: string, group: string, object: KubeObject): void => {
  const name: string = object.metadata?.name ?? ""
  const problems: Array<{ field: string; message: string; reason?: string }> = []
  if (!DNS_NAME.test(name) || name.length > 253) problems.push({ field: "metadata.name", message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` })
  if (kind === "Pod") problems.push(...containerProblems("spec.containers", object.spec?.containers))
  if (kind === "Deployment" || kind === "StatefulSet" || kind === "DaemonSet") {
    const spec = object.spec ?? {}
    if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) {
      problems.push({ field: "spec.replicas", message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0` })
    }
    const podSpec = spec.template?.spec
    if (!Array.isArray(podSpec?.containers) || podSpec.containers.length === 0) {
      problems.push({ field: "spec.template.spec.containers", message: "Required value", reason: "FieldValueRequired" })
    } else problems.push(...containerProblems("spec.template.spec.containers", podSpec.containers))
    problems.push(...containerProblems("spec.template.spec.initContainers", podSpec?.initContainers))
    const requirements = selectorObjectRequirements(spec.selector)
    if (spec.selector === undefined || requirements.length === 0) problems.push({ field: "spec.selector", message: "Required value", reason: "FieldValueRequired" })
    else if (!matchesLabels(requirements, spec.template?.metadata?.labels)) {
      problems.push({ field: "spec.template.metadata.labels", message: "Invalid value: `selector` does not match template `labels`" })
    }
  }
  if (problems.length > 0) throw invalid(kind, group, name, problems)
}

/** Throws 422 Invalid when an update changes what cannot change (name, namespace, a workload's selector). */
export const validateUpdate = (kind: string, group: string, current: KubeObject, next: KubeObject): void => {
  const name = current.metadata.name
  if (kind === "ImageStream") prepareImageStreamUpdate(current, next)
  if (next.metadata?.name !== name) throw invalid(kind, group, name, [{ field: "metadata.name", message: "field is immutable" }])
  if ((next.metadata?.namespace ?? current.metadata.namespace) !== current.metadata.namespace) {
    throw invalid(kind, group, name, [{ field: "metadata.namespace", message: "field is immutable" }])
  }
  if ((kind === "Deployment" || kind === "StatefulSet" || kind === "DaemonSet") && JSON.stringify(current.spec?.selector) !== JSON.stringify(next.spec?.selector)) {
    throw invalid(kind, group, name, [{ field: "spec.selector", message: "Invalid value: field is immutable" }])
  }
}
