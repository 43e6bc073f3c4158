/**
 * @module AppMatching — pure: which running Marathon app is a service? The config's `app` when
 * given, else the one app in scope (id prefix, label selector) whose running image comes from the
 * service's repository (registry host and path compared after proper reference parsing).
 */
import { matchServiceToWorkload } from "../../target/Matching.ts"
import type { Workload } from "../../target/Workload.ts"

/** The result of matching one service to the running apps. */
export type AppMatch =
  | { readonly _tag: "Found"; readonly appId: string }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Ambiguous"; readonly candidates: Array<string> }

/** Where to look: a Marathon group (`/prod`: its apps and subgroups) and/or a label selector (`env==prod`). */
export interface AppScope {
  /** A group path (`/shop/prod` or `/shop/prod/`): a prefix of whole id segments, never of a segment's name. */
  readonly idPrefix?: string | undefined
  readonly labelSelector?: string | undefined
}

/** One requirement of a label selector, as Marathon understands them. */
export type LabelRequirement =
  | { readonly _tag: "Exists"; readonly key: string }
  | { readonly _tag: "Equals"; readonly key: string; readonly value: string }
  | { readonly _tag: "NotEquals"; readonly key: string; readonly value: string }
  | { readonly _tag: "In"; readonly key: string; readonly values: ReadonlyArray<string> }
  | { readonly _tag: "NotIn"; readonly key: string; readonly values: ReadonlyArray<string> }

/** Splits on `sep` outside parentheses, keeping backslash escapes; undefined when unbalanced. */
const splitTopLevel = (text: string, sep: string): Array<string> | undefined => {
  const parts: Array<string> = []
  let depth = 0
  let current = ""
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + text[i + 1]!
      i++
      continue
    }
    if (ch === "(") depth++
    if (ch === ")") depth--
    if (depth < 0 || depth > 1) return undefined
    if (ch === sep && depth === 0) {
      parts.push(current)
      current = ""
    } else {
      current += ch
    }
  }
  if (depth !== 0) return undefined
  parts.push(current)
  return parts
}

/** A label key or value as Marathon parses it: `[-A-Za-z0-9_.]`, other characters backslash-escaped. */
const TERM = /^(?:\\.|[-A-Za-z0-9_.])+$/

const term = (raw: string): string | undefined => {
  const t = raw.trim()
  return TERM.test(t) ? t.replace(/\\(.)/g, "$1") : undefined
}

/**
 * Parses a Marathon label selector (`k`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`; a comma
 * is AND; other characters escaped with a backslash). Returns undefined when it is malformed
 * (Marathon would answer 422).
 */
export const parseLabelSelector = (selector: string): ReadonlyArray<LabelRequirement> | undefined => {
  const parts = splitTopLevel(selector, ",")
  if (parts === undefined) return undefined
  const requirements: Array<LabelRequirement> = []
  for (const raw of parts) {
    const part = raw.trim()
    const set = /^((?:\\.|[^\s\\])+)\s+(in|notin)\s*\((.*)\)$/.exec(part)
    if (set !== null) {
      const key = term(set[1]!)
      const values = (splitTopLevel(set[3]!, ",") ?? [""]).map(term)
      if (key === undefined || values.some((v) => v === undefined)) return undefined
      const list = values as Array<string>
      requirements.push(set[2] === "in" ? { _tag: "In", key, values: list } : { _tag: "NotIn", key, values: list })
      continue
    }
    const cmp = /^((?:\\.|[^\s\\=!])+)\s*(==|!=)\s*((?:\\.|[^\s\\])+)$/.exec(part)
    if (cmp !== null) {
      const key = term(cmp[1]!)
      const value = term(cmp[3]!)
      if (key === undefined || value === undefined) return undefined
      requirements.push(cmp[2] === "==" ? { _tag: "Equals", key, value } : { _tag: "NotEquals", key, value })
      continue
    }
    const key = term(part)
    if (key === undefined) return undefined
    requirements.push({ _tag: "Exists", key })
  }
  return requirements
}

/** True when the labels satisfy every requirement (Marathon semantics: `!=`/`notin` need the key). */
export const labelsMatch = (
  labels: Record<string, string>,
  requirements: ReadonlyArray<LabelRequirement>
): boolean =>
  requirements.every((r) => {
    const value = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined
    if (value === undefined) return false
    switch (r._tag) {
      case "Exists":
        return true
      case "Equals":
        return value === r.value
      case "NotEquals":
        return value !== r.value
      case "In":
        return r.values.includes(value)
      case "NotIn":
        return !r.values.includes(value)
    }
  })

/** Marathon app ids are absolute: `shop/api` → `/shop/api`. */
export const normalizeAppId = (id: string): string => (id.startsWith("/") ? id : `/${id}`)

/** A group path as Marathon writes it: absolute, no trailing slash (`shop/prod/` → `/shop/prod`; the root is `/`). */
export const groupPath = (group: string): string => {
  const trimmed = normalizeAppId(group.trim()).replace(/\/+$/, "")
  return trimmed === "" ? "/" : trimmed
}

/**
 * True when the app is inside the group or one of its subgroups: `/prod` holds `/prod/api` and
 * `/prod/eu/api`, but not `/production/api` (a prefix is a group path, compared segment by segment).
 */
export const inGroup = (appId: string, group: string): boolean => {
  const path = groupPath(group)
  return path === "/" || normalizeAppId(appId).startsWith(`${path}/`)
}

/**
 * True when the app is inside the scope. A malformed label selector matches nothing (validate it
 * up front with {@link parseLabelSelector} to report it).
 */
export const inScope = (app: { readonly id: string; readonly labels: Record<string, string> }, scope: AppScope): boolean => {
  if (scope.idPrefix !== undefined && scope.idPrefix !== "") {
    if (!inGroup(app.id, scope.idPrefix)) return false
  }
  if (scope.labelSelector !== undefined && scope.labelSelector.trim() !== "") {
    const requirements = parseLabelSelector(scope.labelSelector)
    if (requirements === undefined || !labelsMatch(app.labels, requirements)) return false
  }
  return true
}

/**
 * Finds the Marathon app of a service. With `service.app` the named app is `Found` when it is
 * among `apps` (scope is not applied: the config named it), else `NotFound`. Otherwise the apps
 * in scope whose running image has the service's repository (host and path) are the candidates:
 * one → `Found`, none → `NotFound`, several → `Ambiguous` (candidates sorted).
 */
export const matchServiceToApp = (
  service: { readonly name: string; readonly repository: string; readonly registryHost: string; readonly app?: string | undefined },
  apps: ReadonlyArray<{ readonly id: string; readonly image: string | undefined; readonly labels: Record<string, string> }>,
  scope: AppScope
): AppMatch => {
  // every target's rule (lib/target/Matching.ts), on apps as one-container workloads
  const workloads = apps.map((app): Workload => ({
    id: app.id,
    kind: "app",
    labels: app.labels,
    containers: [{ name: app.id, image: app.image }],
    image: app.image,
    health: { desired: 0, running: 0, healthy: 0, summary: "" },
    revision: undefined,
    inScope: inScope(app, scope)
  }))
  const match = matchServiceToWorkload(service, workloads, normalizeAppId)
  return match._tag === "Found" ? { _tag: "Found", appId: match.workload } : match._tag === "Ambiguous" ? { _tag: "Ambiguous", candidates: [...match.candidates] } : match
}
