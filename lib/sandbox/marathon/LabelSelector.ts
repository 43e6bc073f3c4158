/**
 * @module LabelSelector — Marathon's `label=` query of `GET /v2/apps`, parsed and matched.
 *
 * Grammar (Marathon `LabelSelectorParsers`): selectors separated by commas (AND);
 * each is `k` (exists), `k==v`, `k!=v`, `k in (a,b)` or `k notin (a,b)`. Labels and values are
 * `[-A-Za-z0-9_.]`, any other character escaped with a backslash. Every selector but plain
 * existence still requires the label to exist (`!=` and `notin` included), as in Marathon.
 */

/** One parsed label selector. */
export type LabelSelector =
  | { readonly kind: "exists"; readonly key: string }
  | { readonly kind: "eq" | "neq"; readonly key: string; readonly value: string }
  | { readonly kind: "in" | "notin"; readonly key: string; readonly values: ReadonlyArray<string> }

/** Thrown for a selector Marathon cannot parse; the server answers 422 with its message. */
export class LabelSelectorError extends Error {}

/** Splits on `sep` outside parentheses, keeping backslash escapes intact. */
const splitTop = (input: string, sep: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let current = ""
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!
    if (ch === "\\" && i + 1 < input.length) {
      current += ch + input[i + 1]!
      i++
      continue
    }
    if (ch === "(") depth++
    if (ch === ")") depth--
    if (ch === sep && depth === 0) {
      parts.push(current)
      current = ""
    } else {
      current += ch
    }
  }
  parts.push(current)
  return parts
}

const TERM = /^(?:\\.|[-A-Za-z0-9_.])+$/
const unescape = (term: string): string => term.replace(/\\(.)/g, "$1")

const term = (raw: string, whole: string): string => {
  const t = raw.trim()
  if (!TERM.test(t)) throw new LabelSelectorError(`Can not parse label selector ${whole}`)
  return unescape(t)
}

/** Parses a `label=` query value; throws {@link LabelSelectorError} when it is not valid. */
export const parseLabelSelectors = (query: string): ReadonlyArray<LabelSelector> =>
  splitTop(query, ",").map((raw) => {
    const s = raw.trim()
    const set = /^((?:\\.|[^\s\\])+)\s+(in|notin)\s*\((.*)\)$/.exec(s)
    if (set) {
      const values = splitTop(set[3]!, ",").map((v) => term(v, query))
      return { kind: set[2] === "in" ? "in" : "notin", key: term(set[1]!, query), values }
    }
    const eq = /^((?:\\.|[^\s\\=!])+)\s*(==|!=)\s*((?:\\.|[^\s\\])+)$/.exec(s)
    if (eq) {
      return { kind: eq[2] === "==" ? "eq" : "neq", key: term(eq[1]!, query), value: term(eq[3]!, query) }
    }
    return { kind: "exists", key: term(s, query) }
  })

/** True when `labels` satisfies every selector. */
export const matchesLabelSelectors = (
  selectors: ReadonlyArray<LabelSelector>,
  labels: Readonly<Record<string, unknown>>
): boolean =>
  selectors.every((sel) => {
    if (!Object.hasOwn(labels, sel.key)) return false
    const value = String(labels[sel.key])
    switch (sel.kind) {
      case "exists":
        return true
      case "eq":
        return value === sel.value
      case "neq":
        return value !== sel.value
      case "in":
        return sel.values.includes(value)
      case "notin":
        return !sel.values.includes(value)
    }
  })
