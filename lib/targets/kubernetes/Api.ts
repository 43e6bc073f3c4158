/**
 * @module Api — the Kubernetes API calls fleet-rollback makes, as typed requests (data, built by
 * pure functions) and one `call` that sends a request through the {@link Transport} and decodes
 * the answer with its Schema. A failed call's `Status` becomes a {@link TargetError} whose message
 * says which workload, what the server said, and what to do (RBAC: the verb and resource missing).
 */
import { Effect, Schema } from "effect"
import { TargetError } from "../../target/TargetError.ts"
import type { ClusterAccess } from "./Kubeconfig.ts"
import { KIND_PATHS, StatusJson, WORKLOAD_KINDS, type WorkloadKind } from "./Resources.ts"
import type { KubeRequest, KubeResponse, Transport } from "./Transport.ts"

/** The field manager every write names (`metadata.managedFields`). */
export const FIELD_MANAGER = "fleet-rollback"

/** A workload's address. */
export interface WorkloadRef {
  readonly namespace: string
  readonly kind: WorkloadKind
  readonly name: string
}

/** `namespace/Kind/name`, the Workload id. */
export const workloadId = (ref: WorkloadRef): string => `${ref.namespace}/${ref.kind}/${ref.name}`

/** kubectl's names of the kinds (`deploy`, `deployment`, `deployments`, `sts`, `ds`, …), lower-case. */
const KIND_ALIASES: Readonly<Record<string, WorkloadKind>> = {
  deploy: "Deployment", deployment: "Deployment", deployments: "Deployment",
  sts: "StatefulSet", statefulset: "StatefulSet", statefulsets: "StatefulSet",
  ds: "DaemonSet", daemonset: "DaemonSet", daemonsets: "DaemonSet"
}

/**
 * The canonical id of a workload an operator typed (the config's `services.<name>.app`):
 * `shop/Deployment/api` as is; kubectl's forms `deploy/api`, `deployment/api`, `sts/db` in the one
 * namespace in scope, or `shop/deploy/api`. Anything else is returned unchanged (and then not found).
 */
export const canonicalWorkloadId = (id: string, namespaces: ReadonlyArray<string>): string => {
  const parts = id.trim().split("/")
  const kindOf = (k: string | undefined) => k === undefined ? undefined : (WORKLOAD_KINDS as ReadonlyArray<string>).includes(k) ? k as WorkloadKind : KIND_ALIASES[k.toLowerCase()]
  if (parts.length === 3) {
    const kind = kindOf(parts[1])
    return kind === undefined ? id : `${parts[0]}/${kind}/${parts[2]}`
  }
  if (parts.length === 2 && namespaces.length === 1) {
    const kind = kindOf(parts[0])
    return kind === undefined ? id : `${namespaces[0]}/${kind}/${parts[1]}`
  }
  return id
}

/** Parses a Workload id; Invalid when it is not `namespace/Deployment|StatefulSet|DaemonSet/name`. */
export const parseWorkloadId = (id: string): Effect.Effect<WorkloadRef, TargetError> => {
  const parts = id.split("/")
  const kind = parts[1] as WorkloadKind
  if (parts.length !== 3 || parts[0] === "" || parts[2] === "" || !WORKLOAD_KINDS.includes(kind)) {
    return Effect.fail(new TargetError({ reason: "Invalid", message: `"${id}" is not a Kubernetes workload id: expected namespace/Kind/name with Kind one of ${WORKLOAD_KINDS.join(", ")} (e.g. prod/Deployment/api)`, workloads: [id] }))
  }
  return Effect.succeed({ namespace: parts[0]!, kind, name: parts[2]! })
}

/** What a call is about, for messages. */
export interface CallContext {
  /** The workload id or what was listed ("Deployments in prod"). */
  readonly what: string
  readonly verb: string
  readonly kind: keyof typeof KIND_PATHS
  readonly namespace: string | undefined
  readonly workloads?: ReadonlyArray<string> | undefined
}

/** GET a list of one kind (one namespace, or all when undefined), narrowed by a label selector. */
export const listRequest = (kind: keyof typeof KIND_PATHS, namespace: string | undefined, labelSelector?: string): KubeRequest => {
  const p = KIND_PATHS[kind]
  return {
    method: "GET",
    path: namespace === undefined ? `${p.base}/${p.resource}` : `${p.base}/namespaces/${encodeURIComponent(namespace)}/${p.resource}`,
    query: labelSelector === undefined || labelSelector === "" ? undefined : { labelSelector }
  }
}

/**
 * A watch of a list from `resourceVersion` (`?watch=1`): every change after it, one JSON event a
 * line, with bookmarks, ended by the server after `timeoutSeconds`.
 */
export const watchRequest = (kind: keyof typeof KIND_PATHS, namespace: string, resourceVersion: string, timeoutSeconds: number): KubeRequest => {
  const list = listRequest(kind, namespace)
  return { ...list, query: { watch: "1", resourceVersion, allowWatchBookmarks: "true", timeoutSeconds: String(timeoutSeconds) } }
}

/** GET one workload. */
export const getRequest = (ref: WorkloadRef): KubeRequest => {
  const p = KIND_PATHS[ref.kind]
  return { method: "GET", path: `${p.base}/namespaces/${encodeURIComponent(ref.namespace)}/${p.resource}/${encodeURIComponent(ref.name)}` }
}

/** GET one pod. */
export const podRequest = (namespace: string, name: string): KubeRequest => ({ method: "GET", path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}` })

/** A key as one JSON Pointer token (RFC 6901: `~` → `~0`, `/` → `~1`), e.g. an annotation's name in a patch path. */
export const pointerToken = (key: string): string => key.replaceAll("~", "~0").replaceAll("/", "~1")

/** One JSON patch operation. */
export type JsonPatchOp =
  | { readonly op: "test" | "replace" | "add"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }

/** PATCH a workload with a JSON patch, as fleet-rollback (and `dryRun=All` when asked). */
export const patchRequest = (ref: WorkloadRef, ops: ReadonlyArray<JsonPatchOp>, dryRun: boolean): KubeRequest => ({
  ...getRequest(ref),
  method: "PATCH",
  contentType: "application/json-patch+json",
  body: ops,
  query: { fieldManager: FIELD_MANAGER, ...(dryRun ? { dryRun: "All" } : {}) }
})

const decodeStatus = Schema.decodeUnknownOption(StatusJson)

/** The server's own words of a failed answer. */
export const serverMessage = (response: KubeResponse): string => {
  const status = decodeStatus(response.body)
  if (status._tag === "Some") {
    const s = status.value
    const causes = (s.details?.causes ?? []).map((c) => `${c.field === undefined ? "" : `${c.field}: `}${c.message ?? c.reason ?? ""}`).filter((c) => c !== "")
    return `${response.status} ${s.reason ?? ""}: ${s.message ?? "(no message)"}${causes.length > 0 && !(s.message ?? "").includes(causes[0]!) ? ` (${causes.join("; ")})` : ""}`
  }
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body ?? "")
  return `${response.status}: ${text.slice(0, 200)}`
}

/** A failed answer as a TargetError that says which workload, what the server said, and what to do. */
export const statusFailure = (response: KubeResponse, context: CallContext, access: ClusterAccess): TargetError => {
  const said = serverMessage(response)
  const p = KIND_PATHS[context.kind]
  const resource = p.group === "" ? p.resource : `${p.resource}.${p.group}`
  const where = context.namespace === undefined ? "cluster-wide" : `in namespace "${context.namespace}"`
  const base = { status: response.status, ...(context.workloads === undefined ? {} : { workloads: [...context.workloads] }) }
  switch (response.status) {
    case 401:
      return new TargetError({ ...base, reason: "Unauthorized", message: `${context.what}: the API server ${access.server} did not accept the credentials of ${access.source} (${said}). Renew them (log in again, or fix the token / client certificate) and retry` })
    case 403: {
      const rbac = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"/.exec(said)
      const verb = rbac?.[1] ?? context.verb
      const missing = rbac?.[2] ?? p.resource
      const group = rbac?.[3] ?? p.group
      return new TargetError({ ...base, reason: "Forbidden", message: `${context.what}: RBAC does not allow "${verb}" on "${missing}" (API group "${group === "" ? "core" : group}") ${where} (${said}). Ask a cluster admin for a Role granting ${verb} on ${missing} ${where}, or use a context that has it` })
    }
    case 404:
      return new TargetError({ ...base, reason: "NotFound", message: `${context.what} was not found (${said}): check the namespace and name (kubectl get ${resource} ${context.namespace === undefined ? "-A" : `-n ${context.namespace}`})` })
    case 409:
      return new TargetError({ ...base, reason: "Conflict", message: `${context.what} was changed by someone else meanwhile (${said}): nothing was changed by fleet-rollback; run plan again to see what runs now` })
    case 422:
    case 400:
      return new TargetError({ ...base, reason: "Invalid", message: `${context.what}: the API server refused the request (${said})` })
    case 429:
      return new TargetError({ ...base, reason: "Busy", message: `${context.what}: the API server is throttling requests (${said}); retry in a minute` })
    case 500:
    case 502:
    case 503:
    case 504:
      return new TargetError({ ...base, reason: "Unavailable", message: `${context.what}: the API server ${access.server} is unavailable (${said}); retry when it is back` })
    default:
      return new TargetError({ ...base, reason: "BadResponse", message: `${context.what}: unexpected answer from ${access.server} (${said})` })
  }
}

const decoders = new WeakMap<object, (input: unknown) => Effect.Effect<unknown, Schema.SchemaError>>()

/** The decoder of a Schema, made once (a list of 200 workloads is decoded every poll). */
const decoderOf = <A>(schema: Schema.Decoder<A>): ((input: unknown) => Effect.Effect<A, Schema.SchemaError>) => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownEffect(schema) as (input: unknown) => Effect.Effect<unknown, Schema.SchemaError>
    decoders.set(schema, decode)
  }
  return decode as (input: unknown) => Effect.Effect<A, Schema.SchemaError>
}

/** How {@link sendDecoded} words its failures: what was asked, what a good answer is, and a non-2xx answer's error. */
export interface AnswerRules {
  readonly what: string
  readonly workloads?: ReadonlyArray<string> | undefined
  /** What a 2xx answer should have been (`what Kubernetes sends`, `an ImageStream`). */
  readonly shape: string
  readonly failure: (response: KubeResponse) => TargetError
}

/** Sends a request and decodes a 2xx answer with `schema`; any other answer fails with the rules' error. */
export const sendDecoded = <A>(transport: Transport, request: KubeRequest, schema: Schema.Decoder<A>, rules: AnswerRules): Effect.Effect<A, TargetError> =>
  transport.send(request).pipe(
    Effect.mapError((e) => new TargetError({ ...e, message: `${rules.what}: ${e.message}`, ...(rules.workloads === undefined ? {} : { workloads: [...rules.workloads] }) })),
    Effect.flatMap((response) =>
      response.status >= 200 && response.status < 300
        ? decoderOf(schema)(response.body).pipe(
          Effect.mapError((issue) => new TargetError({ reason: "BadResponse", status: response.status, message: `${rules.what}: the API server's answer is not ${rules.shape} (${String(issue).slice(0, 300)})` }))
        )
        : Effect.fail(rules.failure(response))
    )
  )

/** Sends a request and decodes a 2xx answer with `schema`; any other answer fails with {@link statusFailure}. */
export const call = <A>(
  transport: Transport,
  access: ClusterAccess,
  request: KubeRequest,
  schema: Schema.Decoder<A>,
  context: CallContext
): Effect.Effect<A, TargetError> =>
  sendDecoded(transport, request, schema, { what: context.what, workloads: context.workloads, shape: "what Kubernetes sends", failure: (response) => statusFailure(response, context, access) })
