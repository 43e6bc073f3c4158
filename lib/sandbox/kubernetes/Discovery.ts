/**
 * @module Discovery — the resources the sandbox serves and the discovery documents kubectl reads
 * before anything else (FACTS.md "Discovery kubectl needs"): `/version`, `/api`, `/apis`,
 * `/api/v1`, `/apis/apps/v1`, `/apis/batch/v1`, in the legacy (plain JSON) shapes, which
 * client-go accepts when the aggregated form is not offered.
 */

import { OPENSHIFT_RESOURCE_TYPES } from "../openshift/ImageStreams.ts"

/** One resource type the sandbox serves. */
export interface ResourceType {
  /** Plural, as in the URL: `deployments`. */
  readonly resource: string
  /** `""` for the core group. */
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly namespaced: boolean
  readonly verbs: ReadonlyArray<string>
  readonly shortNames?: ReadonlyArray<string>
  readonly singularName: string
  /** Has `spec` and `generation` (workloads). */
  readonly generation: boolean
  /** Subresources served: `status`. */
  readonly status: boolean
}

/** A resource type's `apiVersion` (`v1`, `apps/v1`). */
export const apiVersionOf = (type: ResourceType): string => type.group === "" ? type.version : `${type.group}/${type.version}`

/** An object as the API server sends it: with its `apiVersion` and `kind`. */
export const withKind = (type: ResourceType, object: Record<string, any>): Record<string, any> => ({ apiVersion: apiVersionOf(type), kind: type.kind, ...object })

const ALL_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

/** Every resource type the sandbox serves. */
export const RESOURCE_TYPES: ReadonlyArray<ResourceType> = [
  { resource: "namespaces", group: "", version: "v1", kind: "Namespace", namespaced: false, verbs: ["create", "delete", "get", "list", "watch"], shortNames: ["ns"], singularName: "namespace", generation: false, status: false },
  { resource: "pods", group: "", version: "v1", kind: "Pod", namespaced: true, verbs: ["create", "delete", "get", "list", "watch"], shortNames: ["po"], singularName: "pod", generation: false, status: false },
  { resource: "deployments", group: "apps", version: "v1", kind: "Deployment", namespaced: true, verbs: ALL_VERBS, shortNames: ["deploy"], singularName: "deployment", generation: true, status: true },
  { resource: "statefulsets", group: "apps", version: "v1", kind: "StatefulSet", namespaced: true, verbs: ALL_VERBS, shortNames: ["sts"], singularName: "statefulset", generation: true, status: true },
  { resource: "daemonsets", group: "apps", version: "v1", kind: "DaemonSet", namespaced: true, verbs: ALL_VERBS, shortNames: ["ds"], singularName: "daemonset", generation: true, status: true },
  { resource: "replicasets", group: "apps", version: "v1", kind: "ReplicaSet", namespaced: true, verbs: ["get", "list", "watch"], shortNames: ["rs"], singularName: "replicaset", generation: true, status: false },
  { resource: "controllerrevisions", group: "apps", version: "v1", kind: "ControllerRevision", namespaced: true, verbs: ["get", "list", "watch"], singularName: "controllerrevision", generation: false, status: false },
  { resource: "cronjobs", group: "batch", version: "v1", kind: "CronJob", namespaced: true, verbs: ALL_VERBS, shortNames: ["cj"], singularName: "cronjob", generation: true, status: false },
  ...OPENSHIFT_RESOURCE_TYPES
]

/** The resource type served at group/version/resource, if any. */
export const resourceType = (group: string, version: string, resource: string): ResourceType | undefined =>
  RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource)

/** The resource type of a kind, if served. */
export const resourceTypeOfKind = (kind: string): ResourceType | undefined => RESOURCE_TYPES.find((t) => t.kind === kind)

/** `GET /version`: every field a string (apimachinery `pkg/version/types.go`). */
export const versionInfo = (): Record<string, string> => ({
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-fleet-rollback-sandbox",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64"
})

/** `GET /api`. */
export const apiVersions = (): Record<string, unknown> => ({
  kind: "APIVersions",
  versions: ["v1"],
  serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }]
})

const groups = (): Array<string> => [...new Set(RESOURCE_TYPES.filter((t) => t.group !== "").map((t) => t.group))]

/** `GET /apis`. */
export const apiGroupList = (): Record<string, unknown> => ({
  kind: "APIGroupList",
  apiVersion: "v1",
  groups: groups().map((name) => ({
    name,
    versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
    preferredVersion: { groupVersion: `${name}/v1`, version: "v1" }
  }))
})

/** `GET /apis/<group>`, or undefined when the group is not served. */
export const apiGroup = (group: string): Record<string, unknown> | undefined =>
  groups().includes(group)
    ? {
      kind: "APIGroup",
      apiVersion: "v1",
      name: group,
      versions: [{ groupVersion: `${group}/v1`, version: "v1" }],
      preferredVersion: { groupVersion: `${group}/v1`, version: "v1" }
    }
    : undefined

/** `GET /api/v1` or `/apis/<group>/v1`, or undefined when not served. */
export const apiResourceList = (group: string, version: string): Record<string, unknown> | undefined => {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version)
  if (types.length === 0) return undefined
  const resources: Array<Record<string, unknown>> = []
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singularName,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames === undefined ? {} : { shortNames: t.shortNames }),
      ...(t.group === "apps" && t.generation && t.resource !== "replicasets" ? { categories: ["all"] } : {})
    })
    if (t.status) resources.push({ name: `${t.resource}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] })
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group === "" ? version : `${group}/${version}`, resources }
}
