/**
 * @module Selectors — Kubernetes label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma = AND) and the field selectors the sandbox supports
 * (`metadata.name`, `metadata.namespace`), parsed and matched as apimachinery's `labels.Parse`
 * and `fields.ParseSelector` do. A selector that does not parse is a 400 BadRequest.
 */
import { StatusError } from "./Status.ts"

/** One requirement of a label selector. */
export type LabelRequirement =
  | { readonly op: "exists" | "notexists"; readonly key: string }
  | { readonly op: "eq" | "neq"; readonly key: string; readonly value: string }
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: ReadonlyArray<string> }

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/

const splitTop = (input: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let current = ""
  for (const ch of input) {
    if (ch === "(") depth++
    if (ch === ")") depth--
    if (ch === "," && depth === 0) {
      parts.push(current)
      current = ""
    } else current += ch
  }
  parts.push(current)
  return parts
}

const bad = (selector: string, why: string): StatusError =>
  new StatusError("BadRequest", `unable to parse requirement: ${why} (label selector "${selector}")`)

const checkKey = (selector: string, key: string): string => {
  if (!KEY.test(key)) throw bad(selector, `invalid label key "${key}"`)
  return key
}
const checkValue = (selector: string, value: string): string => {
  if (!VALUE.test(value)) throw bad(selector, `invalid label value "${value}"`)
  return value
}

/** Parses a label selector; throws a 400 {@link StatusError} when it does not parse. */
export const parseLabelSelector = (selector: string): ReadonlyArray<LabelRequirement> => {
  if (selector.trim() === "") return []
  return splitTop(selector).map((raw): LabelRequirement => {
    const part = raw.trim()
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part)
    if (set !== null) {
      const values = set[3]!.split(",").map((v) => checkValue(selector, v.trim()))
      return { op: set[2] as "in" | "notin", key: checkKey(selector, set[1]!), values }
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part)
    if (cmp !== null) {
      return { op: cmp[2] === "!=" ? "neq" : "eq", key: checkKey(selector, cmp[1]!), value: checkValue(selector, cmp[3]!) }
    }
    if (part.startsWith("!")) return { op: "notexists", key: checkKey(selector, part.slice(1).trim()) }
    return { op: "exists", key: checkKey(selector, part) }
  })
}

/** Whether labels satisfy every requirement. */
export const matchesLabels = (
  requirements: ReadonlyArray<LabelRequirement>,
  labels: Readonly<Record<string, string>> | undefined
): boolean =>
  requirements.every((r) => {
    const value = labels?.[r.key]
    switch (r.op) {
      case "exists":
        return value !== undefined
      case "notexists":
        return value === undefined
      case "eq":
        return value === r.value
      case "neq":
        return value !== r.value
      case "in":
        return value !== undefined && r.values.includes(value)
      case "notin":
        return value === undefined || !r.values.includes(value)
    }
  })

/** A field selector: `metadata.name=x,metadata.namespace!=y`. */
export type FieldRequirement = { readonly field: "metadata.name" | "metadata.namespace"; readonly equal: boolean; readonly value: string }

/** Parses a field selector; only `metadata.name` and `metadata.namespace` are supported (400 otherwise). */
export const parseFieldSelector = (selector: string): ReadonlyArray<FieldRequirement> => {
  if (selector.trim() === "") return []
  return selector.split(",").map((raw) => {
    const m = /^\s*([a-zA-Z.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw)
    if (m === null) throw new StatusError("BadRequest", `invalid field selector "${selector}"`)
    const field = m[1]!
    if (field !== "metadata.name" && field !== "metadata.namespace") {
      throw new StatusError("BadRequest", `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`)
    }
    return { field, equal: m[2] !== "!=", value: m[3]! }
  })
}

/** Whether an object's metadata satisfies every field requirement. */
export const matchesFields = (
  requirements: ReadonlyArray<FieldRequirement>,
  metadata: { readonly name?: unknown; readonly namespace?: unknown }
): boolean =>
  requirements.every((r) => {
    const actual = r.field === "metadata.name" ? metadata.name : metadata.namespace ?? ""
    return (actual === r.value) === r.equal
  })

/** A `LabelSelector` object (`matchLabels`, `matchExpressions`) as requirements. */
export const selectorObjectRequirements = (selector: unknown): ReadonlyArray<LabelRequirement> => {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: Array<string> }> }
  const requirements: Array<LabelRequirement> = []
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) requirements.push({ op: "eq", key, value })
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === "In") requirements.push({ op: "in", key: e.key, values: e.values ?? [] })
    else if (e.operator === "NotIn") requirements.push({ op: "notin", key: e.key, values: e.values ?? [] })
    else if (e.operator === "Exists") requirements.push({ op: "exists", key: e.key })
    else requirements.push({ op: "notexists", key: e.key })
  }
  return requirements
}
