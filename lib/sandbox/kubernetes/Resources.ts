/**
 * @module Resources — the API server's verbs on stored objects: get, list (label and field
 * selectors), create, update (409 on a stale resourceVersion), patch (JSON / merge / strategic
 * merge by Content-Type, 415 for anything else, 409 when the patch sets a stale resourceVersion,
 * 422 for a failed `test`), delete; `dryRun=All` (validated, defaulted, nothing persisted) and
 * `fieldManager` (recorded in `metadata.managedFields`, ≤ 128 characters). Writes to workloads
 * go through the controllers, which start rollouts and keep history.
 */
import { apiVersionOf, type ResourceType, withKind } from "./Discovery.ts"
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, cloneJson, type Json } from "./Patch.ts"
import type { Controllers } from "./Rollout.ts"
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./Selectors.ts"
import { conflict, notFound, StatusError } from "./Status.ts"
import type { KubeObject, Store } from "./Store.ts"
import { applyDefaults, validateObject, validateUpdate } from "./Validation.ts"

/** Options every write takes from its query string. */
export interface WriteOptions {
  readonly dryRun: boolean
  /** Who is writing (`fieldManager`, else the User-Agent's product). */
  readonly fieldManager: string
}

/** Reads `dryRun` and `fieldManager` from a query; 400 on a value the API server refuses. */
export const writeOptions = (query: URLSearchParams, userAgent: string | undefined): WriteOptions => {
  const dryRun = query.getAll("dryRun")
  if (dryRun.some((v) => v !== "All")) {
    throw new StatusError("BadRequest", `Invalid dryRun value "${dryRun.find((v) => v !== "All")}": the only valid value is "All"`)
  }
  const manager = query.get("fieldManager") ?? (userAgent ?? "unknown").split("/")[0]!
  if (manager.length > 128 || !/^[\x20-\x7e]*$/.test(manager)) {
    throw new StatusError("Invalid", `fieldManager: Invalid value: must be at most 128 printable characters`)
  }
  return { dryRun: dryRun.length > 0, fieldManager: manager }
}

/** The Content-Types PATCH accepts. */
export const PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"] as const

const recordManager = (object: KubeObject, manager: string, operation: string, type: ResourceType, now: string): void => {
  const entries: Array<KubeObject> = (object.metadata.managedFields ?? []).filter((m: KubeObject) => !(m.manager === manager && m.operation === operation))
  entries.push({ manager, operation, apiVersion: apiVersionOf(type), time: now, fieldsType: "FieldsV1", fieldsV1: {} })
  object.metadata.managedFields = entries
}

/** The verbs on the stored objects. */
export class Resources {
  private readonly store: Store
  private readonly controllers: Controllers
  private readonly now: () => number

  constructor(store: Store, controllers: Controllers, now: () => number) {
    this.store = store
    this.controllers = controllers
    this.now = now
  }

  /** One object; 404 when absent. */
  get(type: ResourceType, namespace: string, name: string): KubeObject {
    const found = this.store.get(type.resource, namespace, name)
    if (found === undefined) throw notFound(type.resource, type.group, name)
    return withKind(type, found)
  }

  /** The objects of a type (one namespace, or all when undefined) matching the selectors. */
  list(type: ResourceType, namespace: string | undefined, query: URLSearchParams, all: Array<KubeObject>): Array<KubeObject> {
    const labels = parseLabelSelector(query.get("labelSelector") ?? "")
    const fields = parseFieldSelector(query.get("fieldSelector") ?? "")
    return all
      .filter((o) => namespace === undefined || (o.metadata.namespace ?? "") === namespace)
      .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o.metadata))
      .map((o) => withKind(type, o))
  }

  /** Creates an object; 409 AlreadyExists, 404 for a missing namespace, 422 when invalid. */
  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions): KubeObject {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new StatusError("BadRequest", "the body must be a JSON object")
    const object = cloneJson(body) as KubeObject
    object.metadata ??= {}
    if (namespace !== undefined) {
      if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
        throw new StatusError("BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
      }
      object.metadata.namespace = namespace
      if (this.store.get("namespaces", "", namespace) === undefined) throw notFound("namespaces", "", namespace)
    }
    delete object.status
    const name: string = object.metadata.name ?? ""
    if (this.store.get(type.resource, namespace ?? "", name) !== undefined) {
      throw new StatusError("AlreadyExists", `${type.group === "" ? type.resource : `${type.resource}.${type.group}`} "${name}" already exists`, { name, kind: type.resource, ...(type.group === "" ? {} : { group: type.group }) })
    }
    applyDefaults(type.kind, object)
    validateObject(type.kind, type.group, object)
    delete object.apiVersion
    delete object.kind
    recordManager(object, options.fieldManager, "Update", type, new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"))
    if (type.resource === "namespaces") object.status = { phase: "Active" }
    if (options.dryRun) return withKind(type, object)
    const stored = this.store.create(type.resource, object, { withGeneration: type.generation })
    this.controllers.afterWrite(type.resource, undefined, stored)
    return withKind(type, this.store.get(type.resource, namespace ?? "", name)!)
  }

  /** Replaces an object; 409 when its resourceVersion is set and stale. */
  update(type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions): KubeObject {
    const current = this.get(type, namespace, name)
    const next = cloneJson(body) as KubeObject
    if (next?.metadata === undefined) throw new StatusError("BadRequest", "the body must be an object with metadata")
    next.metadata.namespace ??= namespace
    return this.write(type, current, next, options)
  }

  /** Patches an object by Content-Type; 415 for a type PATCH does not accept. */
  patch(type: ResourceType, namespace: string, name: string, contentType: string, body: unknown, options: WriteOptions): KubeObject {
    const media = contentType.split(";")[0]!.trim().toLowerCase()
    if (!(PATCH_TYPES as ReadonlyArray<string>).includes(media)) {
      throw new StatusError("UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`)
    }
    // The stored object itself (never mutated: the patch functions work on copies).
    const stored = this.store.peek(type.resource, namespace, name)
    if (stored === undefined) throw notFound(type.resource, type.group, name)
    const current = withKind(type, stored)
    const next = media === "application/json-patch+json"
      ? applyJsonPatch(current as Json, body)
      : media === "application/merge-patch+json"
      ? applyMergePatch(current as Json, body as Json)
      : applyStrategicMergePatch(current as Json, body as Json)
    return this.write(type, current, next as KubeObject, options)
  }

  /** Deletes an object; returns the Status of success. */
  delete(type: ResourceType, namespace: string, name: string, options: WriteOptions): KubeObject {
    const current = this.get(type, namespace, name)
    if (!options.dryRun) {
      this.store.delete(type.resource, namespace, name)
      this.controllers.afterDelete(type.resource, namespace, name)
    }
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, kind: type.resource, uid: current.metadata.uid, ...(type.group === "" ? {} : { group: type.group }) } }
  }

  private write(type: ResourceType, current: KubeObject, next: KubeObject, options: WriteOptions): KubeObject {
    if (typeof next !== "object" || next === null || typeof next.metadata !== "object") throw new StatusError("BadRequest", "the result is not an object with metadata")
    const name = current.metadata.name
    if (next.metadata.resourceVersion !== undefined && next.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type.resource, type.group, name)
    }
    validateUpdate(type.kind, type.group, current, next)
    applyDefaults(type.kind, next)
    validateObject(type.kind, type.group, next)
    // Writes through the main resource do not change status; metadata the server owns stays.
    const merged: KubeObject = { ...next, status: current.status }
    merged.metadata = { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, generation: current.metadata.generation, resourceVersion: current.metadata.resourceVersion, managedFields: current.metadata.managedFields }
    if (merged.status === undefined) delete merged.status
    recordManager(merged, options.fieldManager, "Update", type, new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"))
    delete merged.apiVersion
    delete merged.kind
    if (options.dryRun) {
      const preview = cloneJson(merged)
      if (preview.metadata.generation !== undefined && JSON.stringify(current.spec) !== JSON.stringify(preview.spec)) preview.metadata.generation += 1
      return withKind(type, preview)
    }
    if (JSON.stringify(current.spec) === JSON.stringify(merged.spec) && JSON.stringify(current.metadata.annotations ?? {}) === JSON.stringify(merged.metadata.annotations ?? {}) &&
      JSON.stringify(current.metadata.labels ?? {}) === JSON.stringify(merged.metadata.labels ?? {})) {
      // Nothing but bookkeeping changed: the API server writes nothing (same resourceVersion).
      return current
    }
    const stored = this.store.update(type.resource, merged)
    this.controllers.afterWrite(type.resource, current, stored)
    return withKind(type, this.store.get(type.resource, current.metadata.namespace ?? "", name)!)
  }
}
