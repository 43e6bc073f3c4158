/**
 * @module RateLimit — pure reading of the rate limits registries announce in their answers, so
 * a run knows its budget instead of hard-coding one: Docker Hub's registry pull limits
 * (`ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76;w=21600`, IETF draft
 * "RateLimit header fields") and the Docker Hub web API's `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining`, `X-RateLimit-Reset` (unix time).
 */

/** A rate limit as last announced by one host. */
export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number
  /** Requests left in the current window. */
  readonly remaining: number
  /** Length of the window in seconds (`w=`), when announced. */
  readonly windowSeconds?: number | undefined
  /** When the window resets (epoch milliseconds), when announced. */
  readonly resetAt?: number | undefined
}

/** `100;w=21600` → 100 and 21600; undefined when the value does not start with a number. */
const parseQuota = (value: string | undefined): { readonly count: number; readonly window?: number | undefined } | undefined => {
  if (value === undefined) return undefined
  const [first = "", ...params] = value.split(",")[0]!.split(";").map((part) => part.trim())
  if (!/^\d+$/.test(first)) return undefined
  let window: number | undefined
  for (const param of params) {
    const match = /^w\s*=\s*(\d+)$/i.exec(param)
    if (match !== null) window = Number(match[1])
  }
  return { count: Number(first), window }
}

/**
 * The rate limit an answer announces (header names lower-case), or undefined when it announces
 * none. `ratelimit-*` (registry pull limits) wins over `x-ratelimit-*` (web APIs).
 */
export const parseRateLimit = (headers: Readonly<Record<string, string>>): RateLimit | undefined => {
  // Most answers announce nothing: two lookups, nothing built.
  if (headers["ratelimit-limit"] === undefined && headers["x-ratelimit-limit"] === undefined) return undefined
  for (const prefix of ["ratelimit-", "x-ratelimit-"]) {
    const limit = parseQuota(headers[`${prefix}limit`])
    const remaining = parseQuota(headers[`${prefix}remaining`])
    if (limit === undefined || remaining === undefined) continue
    const reset = headers[`${prefix}reset`]?.trim()
    const windowSeconds = limit.window ?? remaining.window
    return {
      limit: limit.count,
      remaining: remaining.count,
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      // X-RateLimit-Reset is a unix time; a small number would be seconds from now, which this
      // pure function cannot turn into an instant, so it is left out.
      ...(reset !== undefined && /^\d{9,}$/.test(reset) ? { resetAt: Number(reset) * 1000 } : {})
    }
  }
  return undefined
}

/** True when at most a tenth of the limit (and at least one request's worth of room: ≤ 5) is left. */
export const isRateLimitLow = (rateLimit: RateLimit): boolean =>
  rateLimit.remaining <= Math.max(5, Math.floor(rateLimit.limit / 10))

/** `57 of 100 requests left per 6 h` — for messages and the summary. */
export const describeRateLimit = (rateLimit: RateLimit): string => {
  const window = rateLimit.windowSeconds
  const per = window === undefined
    ? ""
    : window % 3600 === 0
    ? ` per ${window / 3600} h`
    : window % 60 === 0
    ? ` per ${window / 60} min`
    : ` per ${window} s`
  const reset = rateLimit.resetAt === undefined ? "" : `, resets at ${new Date(rateLimit.resetAt).toISOString()}`
  return `${rateLimit.remaining} of ${rateLimit.limit} requests left${per}${reset}`
}
