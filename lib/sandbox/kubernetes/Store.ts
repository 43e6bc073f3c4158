/**
 * @module Store — the sandbox's etcd: objects by resource, namespace and name, one global
 * `resourceVersion` counter (every write gets the next one), `generation` bumped when `spec`
 * changes, `uid` and `creationTimestamp` set on create, and the event log watches read from
 * (ADDED / MODIFIED / DELETED, replayed from a resourceVersion; older than the log → 410 Gone).
 */
import { randomUUID } from "node:crypto"
import { cloneJson, jsonEqual } from "./Patch.ts"

/** A stored object (its JSON). */
export type KubeObject = Record<string, any>

/** One change, as a watch sends it. */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly resource: string
  readonly resourceVersion: number
  readonly object: KubeObject
}

/** Listens to every change. */
export type WatchListener = (event: WatchEvent) => void

const key = (resource: string, namespace: string, name: string) => `${resource}/${namespace}/${name}`

/** How many events a watch can be resumed from. */
const LOG_SIZE = 5000

/** The objects and their history. */
export class Store {
  private readonly objects = new Map<string, KubeObject>()
  /** The same objects by resource, for lists that need not walk every object. */
  private readonly byResource = new Map<string, Map<string, KubeObject>>()
  /** Keys of the objects each controller (by uid) owns, for the controllers' history lookups. */
  private readonly byOwner = new Map<string, Set<string>>()
  private revision = 1
  private readonly log: Array<WatchEvent> = []
  private readonly listeners = new Set<WatchListener>()

  private readonly now: () => number

  constructor(now: () => number) {
    this.now = now
  }

  /** The newest resourceVersion given out. */
  get resourceVersion(): number {
    return this.revision
  }

  /** A copy of one object, or undefined. */
  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(key(resource, namespace, name))
    return found === undefined ? undefined : cloneJson(found)
  }

  /** The stored object itself (no copy): for the sandbox's controllers only. */
  peek(resource: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(key(resource, namespace, name))
  }

  /** Copies of every object of a resource (in one namespace when given) that `keep` accepts, sorted by namespace and name. */
  list(resource: string, namespace?: string, keep?: (object: KubeObject) => boolean): Array<KubeObject> {
    const found: Array<KubeObject> = []
    for (const object of this.byResource.get(resource)?.values() ?? []) {
      if (namespace !== undefined && (object.metadata.namespace ?? "") !== namespace) continue
      if (keep !== undefined && !keep(object)) continue
      found.push(object)
    }
    return found
      .sort((a, b) => `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`))
      .map((o) => strip(cloneJson(o)))
  }

  /** Copies of the objects of a resource whose controller is the object with `ownerUid`. */
  owned(resource: string, ownerUid: string): Array<KubeObject> {
    const found: Array<KubeObject> = []
    for (const k of this.byOwner.get(ownerUid) ?? []) {
      const object = this.objects.get(k)
      if (object !== undefined && object.__resource === resource) found.push(strip(cloneJson(object)))
    }
    return found
  }

  private indexOwner(k: string, object: KubeObject | undefined, add: boolean): void {
    const owner = (object?.metadata?.ownerReferences ?? []).find((r: KubeObject) => r.controller === true)?.uid
    if (owner === undefined) return
    let keys = this.byOwner.get(owner)
    if (keys === undefined) this.byOwner.set(owner, keys = new Set())
    if (add) keys.add(k)
    else keys.delete(k)
  }

  private put(resource: string, k: string, object: KubeObject): void {
    this.indexOwner(k, this.objects.get(k), false)
    this.indexOwner(k, object, true)
    this.objects.set(k, object)
    let index = this.byResource.get(resource)
    if (index === undefined) this.byResource.set(resource, index = new Map())
    index.set(k, object)
  }

  /** Stores a new object: uid, creationTimestamp, resourceVersion, generation 1. Returns a copy. */
  create(resource: string, object: KubeObject, options: { readonly withGeneration: boolean }): KubeObject {
    const stored = cloneJson(object)
    const metadata = stored.metadata
    metadata.uid = randomUUID()
    metadata.creationTimestamp = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z")
    if (options.withGeneration) metadata.generation = 1
    else delete metadata.generation
    metadata.resourceVersion = String(++this.revision)
    Object.defineProperty(stored, "__resource", { value: resource, enumerable: false, writable: true })
    this.put(resource, key(resource, metadata.namespace ?? "", metadata.name), stored)
    this.emit("ADDED", resource, stored)
    return strip(cloneJson(stored))
  }

  /**
   * Replaces a stored object with `next` (same name): the next resourceVersion, generation + 1
   * when `spec` changed. Nothing is written (same resourceVersion) when nothing changed.
   */
  update(resource: string, next: KubeObject): KubeObject {
    const namespace = next.metadata.namespace ?? ""
    const current = this.objects.get(key(resource, namespace, next.metadata.name))
    if (current === undefined) throw new Error(`no ${resource} ${namespace}/${next.metadata.name}`)
    const stored = cloneJson(next)
    stored.metadata.uid = current.metadata.uid
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp
    stored.metadata.resourceVersion = current.metadata.resourceVersion
    if (current.metadata.generation !== undefined) {
      stored.metadata.generation = current.metadata.generation + (jsonEqual(current.spec, stored.spec) ? 0 : 1)
    }
    // The stored objects are never mutated (every write stores a fresh copy), so they are compared and sent as they are.
    if (jsonEqual(current, stored)) return strip(cloneJson(current))
    stored.metadata.resourceVersion = String(++this.revision)
    Object.defineProperty(stored, "__resource", { value: resource, enumerable: false, writable: true })
    this.put(resource, key(resource, namespace, stored.metadata.name), stored)
    this.emit("MODIFIED", resource, stored)
    return strip(cloneJson(stored))
  }

  /** Removes an object; returns it, or undefined when there was none. */
  delete(resource: string, namespace: string, name: string): KubeObject | undefined {
    const k = key(resource, namespace, name)
    const current = this.objects.get(k)
    if (current === undefined) return undefined
    this.objects.delete(k)
    this.byResource.get(resource)?.delete(k)
    this.indexOwner(k, current, false)
    const gone = cloneJson(current)
    gone.metadata.resourceVersion = String(++this.revision)
    this.emit("DELETED", resource, gone)
    return strip(gone)
  }

  /** The events after `resourceVersion`, or undefined when the log no longer reaches back that far. */
  eventsSince(resourceVersion: number): Array<WatchEvent> | undefined {
    const first = this.log[0]
    if (first !== undefined && first.resourceVersion > resourceVersion + 1 && this.log.length >= LOG_SIZE) return undefined
    return this.log.filter((e) => e.resourceVersion > resourceVersion)
  }

  /** Calls `listener` with every change from now on; returns the function that stops it. */
  subscribe(listener: WatchListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Every stored object, deep-copied, keyed `resource/namespace/name` (for "nothing changed" checks). */
  snapshot(): Record<string, KubeObject> {
    const all: Record<string, KubeObject> = {}
    for (const [k, v] of [...this.objects.entries()].sort(([a], [b]) => a.localeCompare(b))) all[k] = strip(cloneJson(v))
    return all
  }

  private emit(type: WatchEvent["type"], resource: string, object: KubeObject): void {
    const event: WatchEvent = { type, resource, resourceVersion: Number(object.metadata.resourceVersion), object }
    this.log.push(event)
    if (this.log.length > LOG_SIZE) this.log.shift()
    for (const listener of this.listeners) listener(event)
  }
}

/** The object without the store's own bookkeeping. */
const strip = (object: KubeObject): KubeObject => {
  delete object.__resource
  return object
}
