/**
 * @module Api — the Docker Engine API calls the Swarm target makes, each a typed request (data, see
 * {@link EngineRequest}) and a Schema for its answer: services listed and inspected, a service
 * updated (complete spec, `version` guard, `X-Registry-Auth`) or rolled back to its previous spec
 * (`rollback=previous`), tasks listed by service, and an image's digest asked of its registry
 * through the engine (`GET /distribution/{name}/json`, what `docker service update` does).
 *
 * The spec is sent back whole: the engine has no partial update, so the raw `Spec` JSON is kept
 * next to the decoded view and only `TaskTemplate.ContainerSpec.Image` is replaced.
 */
import { Effect, Schema } from "effect"
import { SwarmError } from "./SwarmError.ts"
import type { EngineRequest, Transport } from "./Transport.ts"

const Labels = Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.String)))

/** The part of a `ServiceSpec` the target reads (the rest is kept raw and sent back as it was). */
const ServiceSpecView = Schema.Struct({
  Name: Schema.String,
  Labels,
  TaskTemplate: Schema.optional(Schema.Struct({
    ContainerSpec: Schema.optional(Schema.Struct({ Image: Schema.optional(Schema.String) }))
  })),
  Mode: Schema.optional(Schema.Struct({
    Replicated: Schema.optional(Schema.Struct({ Replicas: Schema.optional(Schema.Number) })),
    Global: Schema.optional(Schema.Unknown)
  }))
})

/** A service as `GET /services` and `GET /services/{id}` answer it (the fields read). */
export const ServiceBody = Schema.Struct({
  ID: Schema.String,
  Version: Schema.Struct({ Index: Schema.Number }),
  Spec: ServiceSpecView,
  PreviousSpec: Schema.optional(Schema.NullOr(ServiceSpecView)),
  UpdateStatus: Schema.optional(Schema.NullOr(Schema.Struct({
    State: Schema.optional(Schema.String),
    Message: Schema.optional(Schema.String)
  })))
})

/** A task as `GET /tasks` answers it (the fields read). */
export const TaskBody = Schema.Struct({
  ID: Schema.String,
  ServiceID: Schema.String,
  /** When the task was made: a task of a new spec is made when the update reaches its slot. */
  CreatedAt: Schema.optional(Schema.String),
  Slot: Schema.optional(Schema.Number),
  NodeID: Schema.optional(Schema.String),
  DesiredState: Schema.String,
  Status: Schema.Struct({
    Timestamp: Schema.optional(Schema.String),
    State: Schema.String,
    Message: Schema.optional(Schema.String),
    Err: Schema.optional(Schema.String),
    ContainerStatus: Schema.optional(Schema.Struct({ ExitCode: Schema.optional(Schema.Number) }))
  }),
  Spec: Schema.optional(Schema.Struct({
    ContainerSpec: Schema.optional(Schema.Struct({
      Image: Schema.optional(Schema.String),
      Healthcheck: Schema.optional(Schema.Unknown)
    }))
  }))
})
/** A task (the fields read). */
export type TaskBody = typeof TaskBody.Type

/** `GET /distribution/{name}/json`: the digest the registry has for a reference. */
const DistributionBody = Schema.Struct({ Descriptor: Schema.Struct({ digest: Schema.String }) })

/** A Swarm service as the target works with it. */
export interface SwarmService {
  readonly id: string
  readonly name: string
  /** `Version.Index`: the guard of an update. */
  readonly version: number
  readonly labels: Readonly<Record<string, string>>
  /** `Spec.TaskTemplate.ContainerSpec.Image`. */
  readonly image: string | undefined
  /** The image of `PreviousSpec`, what `rollback=previous` goes back to. */
  readonly previousImage: string | undefined
  readonly hasPreviousSpec: boolean
  /** Replicas wanted; undefined for a global service. */
  readonly replicas: number | undefined
  /** `UpdateStatus.State` (`updating`, `paused`, `completed`, `rollback_*`); undefined when none. */
  readonly updateState: string | undefined
  readonly updateMessage: string | undefined
  /** The complete `Spec` as the engine gave it, to send back changed in one field. */
  readonly spec: Readonly<Record<string, unknown>>
}

/** An error for an answer that is not what the Engine API documents. */
const badResponse = (what: string, detail: string) =>
  new SwarmError({ reason: "BadResponse", message: `${what}: the engine's answer is not what the Engine API documents (${detail})` })

const decodeJson = <A>(schema: Schema.Codec<A, unknown>, text: string, what: string): Effect.Effect<A, SwarmError> =>
  Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => badResponse(what, "not JSON") }).pipe(
    Effect.flatMap((json) => Schema.decodeUnknownEffect(schema)(json).pipe(Effect.mapError((issue) => badResponse(what, String(issue).slice(0, 300)))))
  )

const toService = (raw: Record<string, unknown>, body: typeof ServiceBody.Type): SwarmService => ({
  id: body.ID,
  name: body.Spec.Name,
  version: body.Version.Index,
  labels: body.Spec.Labels ?? {},
  image: body.Spec.TaskTemplate?.ContainerSpec?.Image,
  previousImage: body.PreviousSpec?.TaskTemplate?.ContainerSpec?.Image,
  hasPreviousSpec: body.PreviousSpec !== undefined && body.PreviousSpec !== null,
  replicas: body.Spec.Mode?.Global !== undefined ? undefined : body.Spec.Mode?.Replicated?.Replicas ?? 1,
  updateState: body.UpdateStatus?.State,
  updateMessage: body.UpdateStatus?.Message,
  spec: raw["Spec"] as Record<string, unknown>
})

const parseServices = (text: string, what: string): Effect.Effect<Array<SwarmService>, SwarmError> =>
  Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => badResponse(what, "not JSON") }).pipe(
    Effect.flatMap((json) =>
      Array.isArray(json)
        ? Effect.forEach(json, (item) =>
          Schema.decodeUnknownEffect(ServiceBody)(item).pipe(
            Effect.mapError((issue) => badResponse(what, String(issue).slice(0, 300))),
            Effect.map((body) => toService(item as Record<string, unknown>, body))
          ))
        : Effect.fail(badResponse(what, "not a list"))
    )
  )

/** Filters of `GET /services` and `GET /tasks` (`{"label": ["k=v"], "service": [id]}`). */
export type EngineFilters = Readonly<Record<string, ReadonlyArray<string>>>

const filtersQuery = (filters: EngineFilters | undefined): Record<string, string | undefined> =>
  filters === undefined || Object.keys(filters).length === 0 ? {} : { filters: JSON.stringify(filters) }

/** `GET /services[?filters=…]`. */
export const listServicesRequest = (filters?: EngineFilters): EngineRequest => ({
  method: "GET",
  path: "/services",
  query: filtersQuery(filters),
  what: "listing the services"
})

/** `GET /services/{id}`. */
export const inspectServiceRequest = (idOrName: string): EngineRequest => ({
  method: "GET",
  path: `/services/${encodeURIComponent(idOrName)}`,
  what: `reading service ${idOrName}`
})

/**
 * `POST /services/{id}/update?version=N` with the complete spec; `rollback: true` adds
 * `rollback=previous` (the engine swaps `Spec` and `PreviousSpec`; the body is ignored but must be
 * a valid spec, so the current one is sent, as the docker CLI does). `registryAuth` is the value of
 * `X-Registry-Auth`; without it the engine keeps the credentials stored with the spec.
 */
export const updateServiceRequest = (
  service: Pick<SwarmService, "id" | "name">,
  version: number,
  spec: Readonly<Record<string, unknown>>,
  options: { readonly registryAuth?: string | undefined; readonly rollback?: boolean | undefined }
): EngineRequest => ({
  method: "POST",
  path: `/services/${encodeURIComponent(service.id)}/update`,
  query: {
    version: String(version),
    ...(options.rollback === true ? { rollback: "previous", registryAuthFrom: "previous-spec" } : {})
  },
  body: spec,
  headers: options.registryAuth !== undefined ? { "X-Registry-Auth": options.registryAuth } : {},
  what: options.rollback === true ? `rolling service ${service.name} back to its previous spec` : `updating service ${service.name}`
})

/** `GET /tasks?filters=…`. */
export const listTasksRequest = (filters: EngineFilters): EngineRequest => ({
  method: "GET",
  path: "/tasks",
  query: filtersQuery(filters),
  what: "listing the tasks"
})

/** `GET /distribution/{name}/json`: the engine asks the registry for the reference's digest. */
export const distributionRequest = (image: string, registryAuth: string | undefined): EngineRequest => ({
  method: "GET",
  path: `/distribution/${image}/json`,
  headers: registryAuth !== undefined ? { "X-Registry-Auth": registryAuth } : {},
  what: `asking the registry (through the engine) for the digest of ${image}`
})

/** `POST /services/create` with a complete spec (the demo creates its stack with it). */
export const createServiceRequest = (spec: Readonly<Record<string, unknown>>, registryAuth?: string): EngineRequest => ({
  method: "POST",
  path: "/services/create",
  body: spec,
  headers: registryAuth !== undefined ? { "X-Registry-Auth": registryAuth } : {},
  what: `creating service ${String(spec["Name"])}`
})

/** `DELETE /services/{id}`. */
export const removeServiceRequest = (idOrName: string): EngineRequest => ({
  method: "DELETE",
  path: `/services/${encodeURIComponent(idOrName)}`,
  what: `removing service ${idOrName}`
})

/** `GET /info`: whether the engine is a swarm manager, its architecture. */
export const infoRequest: EngineRequest = { method: "GET", path: "/info", what: "reading the engine's info" }

/** The part of `GET /info` the demo reads. */
export const InfoBody = Schema.Struct({
  Architecture: Schema.optional(Schema.String),
  Swarm: Schema.optional(Schema.Struct({
    LocalNodeState: Schema.optional(Schema.String),
    ControlAvailable: Schema.optional(Schema.Boolean)
  }))
})

/** The calls of the Swarm target over one engine. */
export interface SwarmApi {
  readonly listServices: (filters?: EngineFilters) => Effect.Effect<ReadonlyArray<SwarmService>, SwarmError>
  readonly inspectService: (idOrName: string) => Effect.Effect<SwarmService, SwarmError>
  /** Sends one update (never retried here); the engine's warnings on success. */
  readonly updateService: (
    service: Pick<SwarmService, "id" | "name">,
    version: number,
    spec: Readonly<Record<string, unknown>>,
    options: { readonly registryAuth?: string | undefined; readonly rollback?: boolean | undefined }
  ) => Effect.Effect<ReadonlyArray<string>, SwarmError>
  readonly listTasks: (filters: EngineFilters) => Effect.Effect<ReadonlyArray<TaskBody>, SwarmError>
  readonly distributionDigest: (image: string, registryAuth: string | undefined) => Effect.Effect<string, SwarmError>
  /** Creates a service; its ID. */
  readonly createService: (spec: Readonly<Record<string, unknown>>) => Effect.Effect<string, SwarmError>
  readonly removeService: (idOrName: string) => Effect.Effect<void, SwarmError>
  readonly info: Effect.Effect<typeof InfoBody.Type, SwarmError>
}

/** The API calls over a transport. */
export const makeSwarmApi = (transport: Transport): SwarmApi => ({
  listServices: (filters) => {
    const request = listServicesRequest(filters)
    return Effect.flatMap(transport.send(request), (r) => parseServices(r.text, request.what))
  },
  inspectService: (idOrName) => {
    const request = inspectServiceRequest(idOrName)
    return Effect.flatMap(transport.send(request), (r) =>
      Effect.try({ try: () => JSON.parse(r.text) as Record<string, unknown>, catch: () => badResponse(request.what, "not JSON") }).pipe(
        Effect.flatMap((raw) =>
          Schema.decodeUnknownEffect(ServiceBody)(raw).pipe(
            Effect.mapError((issue) => badResponse(request.what, String(issue).slice(0, 300))),
            Effect.map((body) => toService(raw, body))
          )
        )
      ))
  },
  updateService: (service, version, spec, options) => {
    const request = updateServiceRequest(service, version, spec, options)
    return Effect.flatMap(transport.send(request), (r) =>
      decodeJson(Schema.Struct({ Warnings: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))) }), r.text === "" ? "{}" : r.text, request.what).pipe(
        Effect.map((body) => body.Warnings ?? [])
      ))
  },
  listTasks: (filters) => {
    const request = listTasksRequest(filters)
    return Effect.flatMap(transport.send(request), (r) => decodeJson(Schema.Array(TaskBody), r.text, request.what))
  },
  distributionDigest: (image, registryAuth) => {
    const request = distributionRequest(image, registryAuth)
    return Effect.flatMap(transport.send(request), (r) => decodeJson(DistributionBody, r.text, request.what)).pipe(
      Effect.map((body) => body.Descriptor.digest)
    )
  },
  createService: (spec) => {
    const request = createServiceRequest(spec)
    return Effect.flatMap(transport.send(request), (r) => decodeJson(Schema.Struct({ ID: Schema.String }), r.text, request.what)).pipe(Effect.map((b) => b.ID))
  },
  removeService: (idOrName) => Effect.asVoid(transport.send(removeServiceRequest(idOrName))),
  info: Effect.flatMap(transport.send(infoRequest), (r) => decodeJson(InfoBody, r.text, infoRequest.what))
})
