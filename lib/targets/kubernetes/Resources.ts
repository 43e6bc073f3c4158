/**
 * @module Resources — the shapes fleet-rollback reads from the Kubernetes API, as Schemas (only
 * the fields it uses; everything else is ignored): Deployments, StatefulSets and DaemonSets
 * (apps/v1), CronJobs (batch/v1), Pods and the `Status` object of a failed request. Field names
 * and meanings follow the OpenAPI document in `../shared/kubernetes-api/`.
 */
import { Schema } from "effect"

/** The kinds fleet-rollback rolls back. */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const
/** A kind fleet-rollback rolls back. */
export type WorkloadKind = typeof WORKLOAD_KINDS[number]

/** URL segments of each kind. */
export const KIND_PATHS: Readonly<Record<WorkloadKind | "CronJob" | "Pod" | "ReplicaSet" | "ControllerRevision", { readonly base: string; readonly resource: string; readonly group: string }>> = {
  ReplicaSet: { base: "/apis/apps/v1", resource: "replicasets", group: "apps" },
  ControllerRevision: { base: "/apis/apps/v1", resource: "controllerrevisions", group: "apps" },
  Deployment: { base: "/apis/apps/v1", resource: "deployments", group: "apps" },
  StatefulSet: { base: "/apis/apps/v1", resource: "statefulsets", group: "apps" },
  DaemonSet: { base: "/apis/apps/v1", resource: "daemonsets", group: "apps" },
  CronJob: { base: "/apis/batch/v1", resource: "cronjobs", group: "batch" },
  Pod: { base: "/api/v1", resource: "pods", group: "" }
}

const Labels = Schema.Record(Schema.String, Schema.String)

/** A container of a pod template. */
export const ContainerJson: Schema.Struct<{
  readonly name: Schema.String
  readonly image: Schema.optionalKey<Schema.String>
}> = Schema.Struct({ name: Schema.String, image: Schema.optionalKey(Schema.String) })

/** ObjectMeta (the fields used). */
export const ObjectMetaJson: Schema.Struct<{
  readonly name: Schema.String
  readonly namespace: Schema.optionalKey<Schema.String>
  readonly labels: Schema.optionalKey<Schema.$Record<Schema.String, Schema.String>>
  readonly annotations: Schema.optionalKey<Schema.$Record<Schema.String, Schema.String>>
  readonly resourceVersion: Schema.optionalKey<Schema.String>
  readonly generation: Schema.optionalKey<Schema.Number>
  readonly creationTimestamp: Schema.optionalKey<Schema.String>
  readonly ownerReferences: Schema.optionalKey<Schema.$Array<Schema.Struct<{
    readonly kind: Schema.String
    readonly name: Schema.String
    readonly controller: Schema.optionalKey<Schema.Boolean>
  }>>>
  /** Who wrote what when (the last writer names who changed a workload meanwhile). */
  readonly managedFields: Schema.optionalKey<Schema.$Array<Schema.Struct<{
    readonly manager: Schema.optionalKey<Schema.String>
    readonly operation: Schema.optionalKey<Schema.String>
    readonly time: Schema.optionalKey<Schema.String>
  }>>>
}> = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optionalKey(Schema.String),
  labels: Schema.optionalKey(Labels),
  annotations: Schema.optionalKey(Labels),
  resourceVersion: Schema.optionalKey(Schema.String),
  generation: Schema.optionalKey(Schema.Number),
  creationTimestamp: Schema.optionalKey(Schema.String),
  ownerReferences: Schema.optionalKey(Schema.Array(Schema.Struct({ kind: Schema.String, name: Schema.String, controller: Schema.optionalKey(Schema.Boolean) }))),
  /** Who wrote what when (the last writer names who changed a workload meanwhile). */
  managedFields: Schema.optionalKey(Schema.Array(Schema.Struct({ manager: Schema.optionalKey(Schema.String), operation: Schema.optionalKey(Schema.String), time: Schema.optionalKey(Schema.String) })))
})

/** A pod spec (containers and init containers). */
export const PodSpecJson: Schema.Struct<{
  readonly containers: Schema.$Array<typeof ContainerJson>
  readonly initContainers: Schema.optionalKey<Schema.$Array<typeof ContainerJson>>
}> = Schema.Struct({
  containers: Schema.Array(ContainerJson),
  initContainers: Schema.optionalKey(Schema.Array(ContainerJson))
})

/** A label selector object. */
export const LabelSelectorJson: Schema.Struct<{
  readonly matchLabels: Schema.optionalKey<Schema.$Record<Schema.String, Schema.String>>
  readonly matchExpressions: Schema.optionalKey<Schema.$Array<Schema.Struct<{
    readonly key: Schema.String
    readonly operator: Schema.String
    readonly values: Schema.optionalKey<Schema.$Array<Schema.String>>
  }>>>
}> = Schema.Struct({
  matchLabels: Schema.optionalKey(Labels),
  matchExpressions: Schema.optionalKey(Schema.Array(Schema.Struct({ key: Schema.String, operator: Schema.String, values: Schema.optionalKey(Schema.Array(Schema.String)) })))
})

const Count = Schema.optionalKey(Schema.Number)

/** A Deployment, StatefulSet or DaemonSet. */
export const WorkloadJson: Schema.Struct<{
  readonly metadata: typeof ObjectMetaJson
  readonly spec: Schema.Struct<{
    readonly replicas: Schema.optionalKey<Schema.Number>
    readonly paused: Schema.optionalKey<Schema.Boolean>
    readonly selector: Schema.optionalKey<typeof LabelSelectorJson>
    readonly template: Schema.Struct<{
      readonly metadata: Schema.optionalKey<Schema.Struct<{
        readonly labels: Schema.optionalKey<Schema.$Record<Schema.String, Schema.String>>
      }>>
      readonly spec: typeof PodSpecJson
    }>
    readonly updateStrategy: Schema.optionalKey<Schema.Struct<{
      readonly type: Schema.optionalKey<Schema.String>
      readonly rollingUpdate: Schema.optionalKey<Schema.Struct<{
        readonly partition: Schema.optionalKey<Schema.Number>
      }>>
    }>>
  }>
  readonly status: Schema.optionalKey<Schema.Struct<{
    readonly observedGeneration: Schema.optionalKey<Schema.Number>
    readonly replicas: Schema.optionalKey<Schema.Number>
    readonly updatedReplicas: Schema.optionalKey<Schema.Number>
    readonly readyReplicas: Schema.optionalKey<Schema.Number>
    readonly availableReplicas: Schema.optionalKey<Schema.Number>
    readonly unavailableReplicas: Schema.optionalKey<Schema.Number>
    readonly currentReplicas: Schema.optionalKey<Schema.Number>
    readonly currentRevision: Schema.optionalKey<Schema.String>
    readonly updateRevision: Schema.optionalKey<Schema.String>
    readonly desiredNumberScheduled: Schema.optionalKey<Schema.Number>
    readonly currentNumberScheduled: Schema.optionalKey<Schema.Number>
    readonly updatedNumberScheduled: Schema.optionalKey<Schema.Number>
    readonly numberAvailable: Schema.optionalKey<Schema.Number>
    readonly numberReady: Schema.optionalKey<Schema.Number>
    readonly conditions: Schema.optionalKey<Schema.$Array<Schema.Struct<{
      readonly type: Schema.String
      readonly status: Schema.String
      readonly reason: Schema.optionalKey<Schema.String>
      readonly message: Schema.optionalKey<Schema.String>
    }>>>
  }>>
}> = Schema.Struct({
  metadata: ObjectMetaJson,
  spec: Schema.Struct({
    replicas: Count,
    paused: Schema.optionalKey(Schema.Boolean),
    selector: Schema.optionalKey(LabelSelectorJson),
    template: Schema.Struct({ metadata: Schema.optionalKey(Schema.Struct({ labels: Schema.optionalKey(Labels) })), spec: PodSpecJson }),
    updateStrategy: Schema.optionalKey(Schema.Struct({
      type: Schema.optionalKey(Schema.String),
      rollingUpdate: Schema.optionalKey(Schema.Struct({ partition: Count }))
    }))
  }),
  status: Schema.optionalKey(Schema.Struct({
    observedGeneration: Count,
    replicas: Count,
    updatedReplicas: Count,
    readyReplicas: Count,
    availableReplicas: Count,
    unavailableReplicas: Count,
    currentReplicas: Count,
    currentRevision: Schema.optionalKey(Schema.String),
    updateRevision: Schema.optionalKey(Schema.String),
    desiredNumberScheduled: Count,
    currentNumberScheduled: Count,
    updatedNumberScheduled: Count,
    numberAvailable: Count,
    numberReady: Count,
    conditions: Schema.optionalKey(Schema.Array(Schema.Struct({
      type: Schema.String,
      status: Schema.String,
      reason: Schema.optionalKey(Schema.String),
      message: Schema.optionalKey(Schema.String)
    })))
  }))
})
/** A Deployment, StatefulSet or DaemonSet as read. */
export type WorkloadJson = typeof WorkloadJson.Type

/** A list of workloads, with the list's resourceVersion (where a watch of it starts). */
export const WorkloadListJson: Schema.Struct<{
  readonly metadata: Schema.optionalKey<Schema.Struct<{ readonly resourceVersion: Schema.optionalKey<Schema.String> }>>
  readonly items: Schema.$Array<typeof WorkloadJson>
}> = Schema.Struct({
  metadata: Schema.optionalKey(Schema.Struct({ resourceVersion: Schema.optionalKey(Schema.String) })),
  items: Schema.Array(WorkloadJson)
})

/** A CronJob. */
export const CronJobJson = Schema.Struct({
  metadata: ObjectMetaJson,
  spec: Schema.Struct({ jobTemplate: Schema.Struct({ spec: Schema.Struct({ template: Schema.Struct({ spec: PodSpecJson }) }) }) })
})
/** A list of CronJobs. */
export const CronJobListJson = Schema.Struct({ items: Schema.Array(CronJobJson) })

/** `GET …/replicasets`: a Deployment's revisions (`deployment.kubernetes.io/revision`) with their pod templates. */
export const ReplicaSetListJson = Schema.Struct({
  items: Schema.Array(Schema.Struct({ metadata: ObjectMetaJson, spec: Schema.Struct({ template: Schema.Struct({ spec: PodSpecJson }) }) }))
})

/** `GET …/controllerrevisions`: a StatefulSet's or DaemonSet's revisions; `data` holds the template patch. */
export const ControllerRevisionListJson = Schema.Struct({
  items: Schema.Array(Schema.Struct({
    metadata: ObjectMetaJson,
    revision: Schema.Number,
    data: Schema.optionalKey(Schema.Struct({ spec: Schema.optionalKey(Schema.Struct({ template: Schema.optionalKey(Schema.Struct({ spec: Schema.optionalKey(PodSpecJson) })) })) }))
  }))
})

const ContainerStatusJson = Schema.Struct({
  name: Schema.String,
  image: Schema.optionalKey(Schema.String),
  ready: Schema.optionalKey(Schema.Boolean),
  restartCount: Count,
  state: Schema.optionalKey(Schema.Struct({
    waiting: Schema.optionalKey(Schema.Struct({ reason: Schema.optionalKey(Schema.String), message: Schema.optionalKey(Schema.String) })),
    terminated: Schema.optionalKey(Schema.Struct({ reason: Schema.optionalKey(Schema.String), exitCode: Count }))
  }))
})

/** A Pod. */
export const PodJson = Schema.Struct({
  metadata: ObjectMetaJson,
  spec: PodSpecJson,
  status: Schema.optionalKey(Schema.Struct({
    phase: Schema.optionalKey(Schema.String),
    containerStatuses: Schema.optionalKey(Schema.Array(ContainerStatusJson)),
    initContainerStatuses: Schema.optionalKey(Schema.Array(ContainerStatusJson))
  }))
})
/** A Pod as read. */
export type PodJson = typeof PodJson.Type
/** A list of Pods. */
export const PodListJson = Schema.Struct({ items: Schema.Array(PodJson) })

/** A metadata-only list (`Accept: …;as=PartialObjectMetadataList`): pods without their specs. */
export const MetadataListJson = Schema.Struct({ items: Schema.Array(Schema.Struct({ metadata: ObjectMetaJson })) })

/** The Accept header of a metadata-only list, with plain JSON as the fallback (as kubectl asks). */
export const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

/** The `Status` of a failed request (FACTS.md "Errors: the Status object"). */
export const StatusJson = Schema.Struct({
  kind: Schema.Literal("Status"),
  status: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  reason: Schema.optionalKey(Schema.String),
  code: Count,
  details: Schema.optionalKey(Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    group: Schema.optionalKey(Schema.String),
    kind: Schema.optionalKey(Schema.String),
    causes: Schema.optionalKey(Schema.Array(Schema.Struct({ reason: Schema.optionalKey(Schema.String), message: Schema.optionalKey(Schema.String), field: Schema.optionalKey(Schema.String) })))
  }))
})
/** A decoded Status. */
export type StatusJson = typeof StatusJson.Type

/** A label selector object as the `labelSelector` query string (`a=b,c in (d,e)`). */
export const selectorString = (selector: typeof LabelSelectorJson.Type | undefined): string => {
  const parts: Array<string> = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`)
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`)
    else if (e.operator === "Exists") parts.push(e.key)
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`)
  }
  return parts.join(",")
}
