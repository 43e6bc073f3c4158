/**
 * @module Patch — the three patch types the sandbox's PATCH accepts (FACTS.md "Changing an
 * image"): JSON patch (RFC 6902, with `test`), JSON merge patch (RFC 7386: lists replaced
 * whole) and strategic merge patch (lists with a patch merge key merged item by item:
 * `containers` and `initContainers` by `name`, as the OpenAPI document's
 * `x-kubernetes-patch-merge-key` says; the `$patch: replace|delete`, `$retainKeys` and
 * `$setElementOrder` directives of `community/strategic-merge-patch.md`). Pure functions over
 * JSON values; a patch that cannot apply throws a {@link StatusError}.
 */
import { StatusError } from "./Status.ts"

/** A JSON value. */
export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

const isObject = (value: unknown): value is { [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A deep copy of a JSON value. */
export const cloneJson = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)))

/** Deep equality of JSON values (key order ignored). */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]))
  }
  return false
}

// apiserver answers a JSON patch that cannot apply with 422 and no detail (FACTS.md); the
// sandbox says which operation, which helps a reader of its log and changes nothing for a client.
const patchFailed = (detail: string): StatusError =>
  new StatusError("Invalid", `the server rejected our request due to an error in our request`, {
    causes: [{ reason: "FieldValueInvalid", message: detail }]
  })

const parsePointer = (pointer: string): Array<string> => {
  if (pointer === "") return []
  if (!pointer.startsWith("/")) throw patchFailed(`invalid JSON pointer "${pointer}"`)
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"))
}

const parentOf = (doc: Json, tokens: Array<string>, path: string): { parent: Json; key: string } => {
  let node: Json = doc
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] as Json
    else if (isObject(node)) node = node[token] as Json
    else node = undefined as unknown as Json
    if (node === undefined) throw patchFailed(`path "${path}" does not exist`)
  }
  return { parent: node, key: tokens[tokens.length - 1]! }
}

const getAt = (doc: Json, path: string): Json | undefined => {
  let node: Json | undefined = doc
  for (const token of parsePointer(path)) {
    if (Array.isArray(node)) node = /^\d+$/.test(token) ? node[Number(token)] : undefined
    else if (isObject(node)) node = Object.hasOwn(node, token) ? node[token] : undefined
    else return undefined
    if (node === undefined) return undefined
  }
  return node
}

const arrayIndex = (array: Array<Json>, key: string, path: string, forAdd: boolean): number => {
  if (forAdd && key === "-") return array.length
  if (!/^(0|[1-9]\d*)$/.test(key)) throw patchFailed(`invalid array index "${key}" in "${path}"`)
  const index = Number(key)
  if (index > array.length || (!forAdd && index === array.length)) throw patchFailed(`index ${index} out of range in "${path}"`)
  return index
}

const addAt = (doc: Json, path: string, value: Json): Json => {
  const tokens = parsePointer(path)
  if (tokens.length === 0) return value
  const { parent, key } = parentOf(doc, tokens, path)
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value)
  else if (isObject(parent)) parent[key] = value
  else throw patchFailed(`path "${path}" does not exist`)
  return doc
}

const removeAt = (doc: Json, path: string): { doc: Json; removed: Json } => {
  const tokens = parsePointer(path)
  if (tokens.length === 0) throw patchFailed(`cannot remove the whole document`)
  const { parent, key } = parentOf(doc, tokens, path)
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(parent, key, path, false), 1)
    return { doc, removed: removed as Json }
  }
  if (isObject(parent) && Object.hasOwn(parent, key)) {
    const removed = parent[key] as Json
    delete parent[key]
    return { doc, removed }
  }
  throw patchFailed(`path "${path}" does not exist`)
}

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  readonly op: string
  readonly path: string
  readonly from?: string
  readonly value?: Json
}

/** Applies an RFC 6902 JSON patch to a copy of `doc`; a failed `test` or a missing path is a 422. */
export const applyJsonPatch = (doc: Json, operations: unknown): Json => {
  if (!Array.isArray(operations)) throw new StatusError("BadRequest", "a JSON patch must be an array of operations")
  let result = cloneJson(doc)
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw new StatusError("BadRequest", `invalid JSON patch operation ${JSON.stringify(raw)}: "op" and "path" are required`)
    }
    const op = raw as unknown as JsonPatchOperation
    switch (op.op) {
      case "add":
        result = addAt(result, op.path, cloneJson(op.value ?? null))
        break
      case "remove":
        result = removeAt(result, op.path).doc
        break
      case "replace":
        if (getAt(result, op.path) === undefined) throw patchFailed(`replace operation does not apply: doc is missing key: ${op.path}`)
        result = addAt(removeAt(result, op.path).doc, op.path, cloneJson(op.value ?? null))
        break
      case "move": {
        const moved = removeAt(result, op.from ?? "")
        result = addAt(moved.doc, op.path, moved.removed)
        break
      }
      case "copy": {
        const value = getAt(result, op.from ?? "")
        if (value === undefined) throw patchFailed(`copy from "${op.from}": path does not exist`)
        result = addAt(result, op.path, cloneJson(value))
        break
      }
      case "test":
        if (!jsonEqual(getAt(result, op.path), op.value)) {
          throw patchFailed(`testing value ${op.path} failed: expected ${JSON.stringify(op.value)}`)
        }
        break
      default:
        throw new StatusError("BadRequest", `unexpected JSON patch operation "${op.op}"`)
    }
  }
  return result
}

/** Applies an RFC 7386 merge patch (null deletes; arrays and scalars replace). */
export const applyMergePatch = (target: Json | undefined, patch: Json): Json => {
  if (!isObject(patch)) return cloneJson(patch)
  const result: { [key: string]: Json } = isObject(target) ? cloneJson(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}

/** Lists merged item by item in a strategic merge patch, and the key each merges on (PodSpec and Container). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  imagePullSecrets: "name",
  conditions: "type"
}

const mergeList = (field: string, target: Json | undefined, patch: Array<Json>): Json => {
  const mergeKey = MERGE_KEYS[field]
  if (mergeKey === undefined || !Array.isArray(target)) return patch.filter((item) => !(isObject(item) && "$patch" in item))
  if (patch.some((item) => isObject(item) && item["$patch"] === "replace")) {
    return patch.filter((item) => !(isObject(item) && item["$patch"] === "replace"))
  }
  const result = cloneJson(target)
  for (const item of patch) {
    if (!isObject(item) || item[mergeKey] === undefined) {
      throw new StatusError("BadRequest", `a strategic merge patch item of "${field}" has no "${mergeKey}"`)
    }
    const index = result.findIndex((existing) => isObject(existing) && jsonEqual(existing[mergeKey], item[mergeKey]))
    if (item["$patch"] === "delete") {
      if (index >= 0) result.splice(index, 1)
    } else if (index >= 0) result[index] = applyStrategicMergePatch(result[index], item)
    else result.push(applyStrategicMergePatch(undefined, item))
  }
  return result
}

/** Applies a strategic merge patch: maps merged, lists with a merge key merged by it, other lists replaced. */
export const applyStrategicMergePatch = (target: Json | undefined, patch: Json): Json => {
  if (!isObject(patch)) return cloneJson(patch)
  const directive = patch["$patch"]
  if (directive === "delete") return null
  const base: { [key: string]: Json } = directive === "replace" || !isObject(target) ? {} : cloneJson(target)
  const retain = Array.isArray(patch["$retainKeys"]) ? patch["$retainKeys"] as Array<string> : undefined
  if (retain !== undefined) {
    for (const key of Object.keys(base)) if (!retain.includes(key)) delete base[key]
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/") || key.startsWith("$deleteFromPrimitiveList/")) continue
    if (value === null) delete base[key]
    else if (Array.isArray(value)) base[key] = mergeList(key, base[key], value)
    else base[key] = applyStrategicMergePatch(base[key], value)
  }
  return base
}
