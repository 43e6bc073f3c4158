/**
 * @module Api — the OpenShift API calls fleet-rollback makes (`image.openshift.io/v1`
 * ImageStreams: list, get, JSON patch), as typed requests with Schemas of the fields it reads, one
 * `callOpenShift` that sends them through the Kubernetes {@link Transport} and turns a failed
 * answer into a {@link TargetError} naming the stream, what the server said and what to do; and
 * the tag change `oc tag --source=docker repo@sha256:… ns/is:tag` makes, as a spec tag.
 */
import { Effect, Schema } from "effect"
import { TargetError } from "../../target/TargetError.ts"
import { FIELD_MANAGER, type JsonPatchOp, sendDecoded, serverMessage } from "../kubernetes/Api.ts"
import type { ClusterAccess } from "../kubernetes/Kubeconfig.ts"
import { ObjectMetaJson } from "../kubernetes/Resources.ts"
import type { KubeRequest, KubeResponse, Transport } from "../kubernetes/Transport.ts"

/** `spec.tags[].from`. */
export const TagFromJson = Schema.Struct({ kind: Schema.String, name: Schema.String, namespace: Schema.optionalKey(Schema.String) })

/** A spec tag (TagReference); fields fleet-rollback does not read are kept by the server (the patch replaces only what it names). */
export const SpecTagJson = Schema.Struct({
  name: Schema.String,
  from: Schema.optionalKey(TagFromJson),
  reference: Schema.optionalKey(Schema.Boolean),
  generation: Schema.optionalKey(Schema.NullOr(Schema.Number)),
  importPolicy: Schema.optionalKey(Schema.Struct({ insecure: Schema.optionalKey(Schema.Boolean), scheduled: Schema.optionalKey(Schema.Boolean), importMode: Schema.optionalKey(Schema.String) })),
  referencePolicy: Schema.optionalKey(Schema.Struct({ type: Schema.optionalKey(Schema.String) })),
  annotations: Schema.optionalKey(Schema.NullOr(Schema.Record(Schema.String, Schema.String)))
})
/** A spec tag. */
export type SpecTagJson = typeof SpecTagJson.Type

/** One import (TagEvent): when, the pull spec by digest, the image digest, the spec generation that produced it. */
export const TagEventJson: Schema.Struct<{
  readonly created: Schema.String
  readonly dockerImageReference: Schema.String
  readonly image: Schema.String
  readonly generation: Schema.Number
}> = Schema.Struct({
  created: Schema.String,
  dockerImageReference: Schema.String,
  image: Schema.String,
  generation: Schema.Number
})
/** One import. */
export type TagEventJson = typeof TagEventJson.Type

/** A failed import's condition. */
export const TagConditionJson = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  generation: Schema.optionalKey(Schema.Number)
})

/** An ImageStream as fleet-rollback reads it. */
export const ImageStreamJson = Schema.Struct({
  metadata: ObjectMetaJson,
  spec: Schema.optionalKey(Schema.Struct({ tags: Schema.optionalKey(Schema.NullOr(Schema.Array(SpecTagJson))) })),
  status: Schema.optionalKey(Schema.Struct({
    tags: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({
      tag: Schema.String,
      items: Schema.optionalKey(Schema.NullOr(Schema.Array(TagEventJson))),
      conditions: Schema.optionalKey(Schema.NullOr(Schema.Array(TagConditionJson)))
    }))))
  }))
})
/** An ImageStream. */
export type ImageStreamJson = typeof ImageStreamJson.Type

/** A list of ImageStreams. */
export const ImageStreamListJson = Schema.Struct({ items: Schema.Array(ImageStreamJson) })

/** A DeploymentConfig (`apps.openshift.io/v1`) as fleet-rollback reads it: its ImageChange triggers, containers and rollout counts. */
export const DeploymentConfigJson = Schema.Struct({
  metadata: ObjectMetaJson,
  spec: Schema.Struct({
    replicas: Schema.optionalKey(Schema.Number),
    triggers: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({
      type: Schema.String,
      imageChangeParams: Schema.optionalKey(Schema.Struct({
        automatic: Schema.optionalKey(Schema.Boolean),
        containerNames: Schema.optionalKey(Schema.Array(Schema.String)),
        from: Schema.optionalKey(TagFromJson)
      }))
    })))),
    template: Schema.optionalKey(Schema.Struct({ spec: Schema.Struct({ containers: Schema.Array(Schema.Struct({ name: Schema.String, image: Schema.optionalKey(Schema.String) })) }) }))
  }),
  status: Schema.optionalKey(Schema.Struct({
    observedGeneration: Schema.optionalKey(Schema.Number),
    replicas: Schema.optionalKey(Schema.Number),
    updatedReplicas: Schema.optionalKey(Schema.Number),
    availableReplicas: Schema.optionalKey(Schema.Number),
    latestVersion: Schema.optionalKey(Schema.Number)
  }))
})
/** A DeploymentConfig. */
export type DeploymentConfigJson = typeof DeploymentConfigJson.Type

/** A list of DeploymentConfigs. */
export const DeploymentConfigListJson = Schema.Struct({ items: Schema.Array(DeploymentConfigJson) })

/** GET the DeploymentConfigs of a namespace. */
export const listDeploymentConfigs = (namespace: string): KubeRequest => ({ method: "GET", path: `/apis/apps.openshift.io/v1/namespaces/${encodeURIComponent(namespace)}/deploymentconfigs` })

/** A DeploymentConfig's rollout: done when the newest template is observed and every replica updated and available. */
export const deploymentConfigDone = (dc: DeploymentConfigJson): boolean => {
  const replicas = dc.spec.replicas ?? 1
  return (dc.status?.observedGeneration ?? 0) >= (dc.metadata.generation ?? 0) && (dc.status?.updatedReplicas ?? 0) >= replicas && (dc.status?.availableReplicas ?? 0) >= replicas
}

const BASE = "/apis/image.openshift.io/v1"

/** GET the ImageStreams of a namespace. */
export const listImageStreams = (namespace: string): KubeRequest => ({ method: "GET", path: `${BASE}/namespaces/${encodeURIComponent(namespace)}/imagestreams` })

/** GET one ImageStream. */
export const getImageStream = (namespace: string, name: string): KubeRequest => ({ method: "GET", path: `${BASE}/namespaces/${encodeURIComponent(namespace)}/imagestreams/${encodeURIComponent(name)}` })

/** PATCH one ImageStream with a JSON patch (guarded by `test` operations). */
export const patchImageStream = (namespace: string, name: string, ops: ReadonlyArray<JsonPatchOp>, dryRun: boolean): KubeRequest => ({
  ...getImageStream(namespace, name),
  method: "PATCH",
  contentType: "application/json-patch+json",
  body: ops,
  query: { fieldManager: FIELD_MANAGER, ...(dryRun ? { dryRun: "All" } : {}) }
})

/** The spec tag `oc tag --source=docker <pullSpec> ns/is:<name>` writes: the whole tag replaced, generation 0 (= the stream's next). */
export const dockerImageTag = (name: string, pullSpec: string, previous: SpecTagJson | undefined): SpecTagJson => ({
  name,
  from: { kind: "DockerImage", name: pullSpec },
  generation: 0,
  importPolicy: previous?.importPolicy?.insecure === true ? { insecure: true } : {},
  // oc sends Source unless --reference-policy=local; a stream that pulled through the integrated registry keeps doing so.
  referencePolicy: { type: previous?.referencePolicy?.type ?? "Source" }
})

/** The OpenShift resources fleet-rollback calls, as RBAC and its messages name them. */
const OPENSHIFT_RESOURCES = {
  imagestreams: { group: "image.openshift.io", verbs: "get, list and patch", shape: "an OpenShift ImageStream" },
  deploymentconfigs: { group: "apps.openshift.io", verbs: "get and list", shape: "a list of OpenShift DeploymentConfigs" }
} as const

/** An OpenShift resource fleet-rollback calls. */
export type OpenShiftResource = keyof typeof OPENSHIFT_RESOURCES

/** Sends a request about `resource`; a non-2xx answer fails with a message naming `what`, the resource and what to do. */
export const callOpenShift = <A>(
  transport: Transport,
  access: ClusterAccess,
  request: KubeRequest,
  schema: Schema.Decoder<A>,
  what: string,
  namespace: string,
  resource: OpenShiftResource = "imagestreams"
): Effect.Effect<A, TargetError> =>
  sendDecoded(transport, request, schema, { what, shape: OPENSHIFT_RESOURCES[resource].shape, failure: (response) => openShiftFailure(response, what, access, namespace, resource) })

/** The error of a non-2xx answer about an OpenShift resource. */
const openShiftFailure = (response: KubeResponse, what: string, access: ClusterAccess, namespace: string, resource: OpenShiftResource): TargetError => {
  const said = serverMessage(response)
  const base = { status: response.status }
  switch (response.status) {
    case 401:
      return new TargetError({ ...base, reason: "Unauthorized", message: `${what}: ${access.server} did not accept the credentials of ${access.source} (${said}). Log in again (oc login) or renew the service-account token, and retry` })
    case 403:
      return new TargetError({ ...base, reason: "Forbidden", message: `${what}: RBAC does not allow this on ${resource} (API group "${OPENSHIFT_RESOURCES[resource].group}") in namespace "${namespace}" (${said}). Ask for a Role granting ${OPENSHIFT_RESOURCES[resource].verbs} on ${resource} there` })
    case 404:
      return new TargetError({ ...base, reason: "NotFound", message: `${what} was not found (${said}): is this an OpenShift cluster, and the namespace right? (oc get is -n ${namespace})` })
    case 409:
    case 422:
      return new TargetError({ ...base, reason: response.status === 409 ? "Conflict" : "Invalid", message: `${what}: the API server refused the change (${said}); nothing was changed by fleet-rollback — run plan again` })
    default:
      return new TargetError({ ...base, reason: response.status >= 500 ? "Unavailable" : "BadResponse", message: `${what}: ${access.server} answered ${said}` })
  }
}
