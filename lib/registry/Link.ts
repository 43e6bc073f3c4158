/**
 * @module Link — pure parsing of RFC 8288 (RFC 5988) `Link` headers and safe resolution of `rel="next"`.
 */
import { readHeaderValue } from "./HeaderValue.ts"

/** One link of a `Link` header: its target as written and its parameters (names lower-cased). */
export interface LinkValue {
  readonly target: string
  readonly params: Readonly<Record<string, string>>
}

/**
 * Parses a `Link` header value (`<a>; rel="next", <b>; rel=prev`) into its links.
 * Commas inside `<…>` or quoted strings do not split links; malformed parts are dropped.
 */
export const parseLinkHeader = (header: string): ReadonlyArray<LinkValue> => {
  const links: Array<LinkValue> = []
  let i = 0
  const n = header.length
  const skipSpace = () => {
    while (i < n && /[\s]/.test(header[i]!)) i++
  }
  while (i < n) {
    skipSpace()
    if (header[i] === ",") {
      i++
      continue
    }
    if (header[i] !== "<") {
      // Not a link: skip to the next comma outside quotes.
      let quoted = false
      while (i < n && (quoted || header[i] !== ",")) {
        if (header[i] === "\"") quoted = !quoted
        i++
      }
      continue
    }
    const close = header.indexOf(">", i + 1)
    if (close < 0) break
    const target = header.slice(i + 1, close).trim()
    i = close + 1
    const params: Record<string, string> = {}
    for (;;) {
      skipSpace()
      if (header[i] !== ";") break
      i++
      skipSpace()
      let name = ""
      while (i < n && /[^\s=;,]/.test(header[i]!)) name += header[i++]
      skipSpace()
      let value = ""
      if (header[i] === "=") {
        i++
        skipSpace()
        const read = readHeaderValue(header, i, /[\s;,]/)
        value = read.value
        i = read.end
      }
      const key = name.toLowerCase()
      if (key !== "" && !(key in params)) params[key] = value
    }
    links.push({ target, params })
  }
  return links
}

/** The target of the first link whose `rel` (a space-separated list) contains `next`, as written. */
export const nextLinkTarget = (header: string | undefined): string | undefined => {
  if (header === undefined || header.trim() === "") return undefined
  for (const link of parseLinkHeader(header)) {
    const rels = (link.params["rel"] ?? "").toLowerCase().split(/\s+/)
    if (rels.includes("next")) return link.target
  }
  return undefined
}

/** The result of resolving a `next` link against the URL of the request that returned it. */
export type ResolvedLink =
  | { readonly _tag: "Same"; readonly url: URL }
  | { readonly _tag: "Foreign"; readonly url: string; readonly why: string }

/**
 * Resolves `target` (usually relative) against `requestUrl`. A link to another scheme or another
 * host:port is `Foreign`: following it would send credentials elsewhere, so callers refuse it.
 */
export const resolveLink = (requestUrl: string | URL, target: string): ResolvedLink => {
  const base = URL.parse(requestUrl)
  const url = base === null ? null : URL.parse(target, base)
  if (base === null || url === null) return { _tag: "Foreign", url: target, why: "it is not a valid URL" }
  if (url.protocol !== base.protocol) {
    return { _tag: "Foreign", url: url.href, why: `it changes the scheme from ${base.protocol} to ${url.protocol}` }
  }
  if (url.host !== base.host) {
    return { _tag: "Foreign", url: url.href, why: `it points to host ${url.host}, not ${base.host}` }
  }
  return { _tag: "Same", url }
}
