/**
 * @module Table — the `meta.k8s.io/v1` Table the API server returns when a client asks for
 * `Accept: application/json;as=Table;…` (what `kubectl get` asks for), with the columns the real
 * server prints for the kinds served (`kubectl get deploy`: NAME READY UP-TO-DATE AVAILABLE AGE).
 * (A list asked for `as=PartialObjectMetadataList` — metadata only — is answered in Server.ts.)
 */
import type { KubeObject } from "./Store.ts"

interface Column {
  readonly name: string
  readonly type: string
  readonly priority?: number
  readonly cell: (o: KubeObject) => string | number
}

/** `5s`, `3m`, `2h`, `4d` as kubectl's `HumanDuration` shortens an age. */
export const shortAge = (fromIso: string | undefined, now: number): string => {
  if (fromIso === undefined) return "<unknown>"
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000))
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86400)}d`
}

const containers = (o: KubeObject) => (o.spec?.template?.spec?.containers ?? []) as Array<KubeObject>
const wide = (name: string, cell: Column["cell"]): Column => ({ name, type: "string", priority: 1, cell })

const COLUMNS = (now: number): Record<string, ReadonlyArray<Column>> => {
  const name: Column = { name: "Name", type: "string", cell: (o) => o.metadata.name }
  const age: Column = { name: "Age", type: "string", cell: (o) => shortAge(o.metadata.creationTimestamp, now) }
  const images = [wide("Containers", (o) => containers(o).map((c) => c.name).join(",")), wide("Images", (o) => containers(o).map((c) => c.image).join(","))]
  return {
    Deployment: [
      name,
      { name: "Ready", type: "string", cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}` },
      { name: "Up-to-date", type: "integer", cell: (o) => o.status?.updatedReplicas ?? 0 },
      { name: "Available", type: "integer", cell: (o) => o.status?.availableReplicas ?? 0 },
      age,
      ...images
    ],
    StatefulSet: [name, { name: "Ready", type: "string", cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}` }, age, ...images],
    DaemonSet: [
      name,
      { name: "Desired", type: "integer", cell: (o) => o.status?.desiredNumberScheduled ?? 0 },
      { name: "Current", type: "integer", cell: (o) => o.status?.currentNumberScheduled ?? 0 },
      { name: "Ready", type: "integer", cell: (o) => o.status?.numberReady ?? 0 },
      { name: "Up-to-date", type: "integer", cell: (o) => o.status?.updatedNumberScheduled ?? 0 },
      { name: "Available", type: "integer", cell: (o) => o.status?.numberAvailable ?? 0 },
      age,
      ...images
    ],
    ReplicaSet: [
      name,
      { name: "Desired", type: "integer", cell: (o) => o.spec?.replicas ?? 0 },
      { name: "Current", type: "integer", cell: (o) => o.status?.replicas ?? 0 },
      { name: "Ready", type: "integer", cell: (o) => o.status?.readyReplicas ?? 0 },
      age,
      ...images
    ],
    Pod: [
      name,
      { name: "Ready", type: "string", cell: (o) => `${(o.status?.containerStatuses ?? []).filter((c: KubeObject) => c.ready).length}/${(o.spec?.containers ?? []).length}` },
      { name: "Status", type: "string", cell: (o) => (o.status?.containerStatuses ?? []).map((c: KubeObject) => c.state?.waiting?.reason).find((r: unknown) => r !== undefined) ?? o.status?.phase ?? "Unknown" },
      { name: "Restarts", type: "integer", cell: (o) => (o.status?.containerStatuses ?? []).reduce((n: number, c: KubeObject) => n + (c.restartCount ?? 0), 0) },
      age
    ],
    Namespace: [name, { name: "Status", type: "string", cell: (o) => o.status?.phase ?? "Active" }, age]
  }
}

/** Whether an Accept header asks for a Table. */
export const wantsTable = (accept: string | undefined): boolean => accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept)

/** The Table of objects of one kind. */
export const toTable = (kind: string, objects: ReadonlyArray<KubeObject>, resourceVersion: string, now: number): Record<string, unknown> => {
  const columns: ReadonlyArray<Column> = COLUMNS(now)[kind] ?? [
    { name: "Name", type: "string", cell: (o: KubeObject) => o.metadata.name },
    { name: "Age", type: "string", cell: (o: KubeObject) => shortAge(o.metadata.creationTimestamp, now) }
  ]
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.name === "Name" ? "name" : "", description: "", priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata }
    }))
  }
}
