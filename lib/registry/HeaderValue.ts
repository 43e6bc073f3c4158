/**
 * @module HeaderValue — reads one parameter value of an HTTP header (RFC 9110): a quoted string
 * with backslash escapes, or a bare token up to a delimiter. Shared by the `WWW-Authenticate`
 * and `Link` parsers.
 */

/** Reads the value starting at `start`; returns it and the index just after it. */
export const readHeaderValue = (header: string, start: number, delimiters: RegExp): { readonly value: string; readonly end: number } => {
  const n = header.length
  let i = start
  let value = ""
  if (header[i] === "\"") {
    i++
    while (i < n && header[i] !== "\"") {
      if (header[i] === "\\" && i + 1 < n) i++
      value += header[i++]
    }
    return { value, end: i + 1 }
  }
  while (i < n && !delimiters.test(header[i]!)) value += header[i++]
  return { value, end: i }
}
