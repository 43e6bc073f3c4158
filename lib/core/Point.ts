/**
 * @module Point — what an operator types to say "roll back to here": a label printed by
 * `choices`, an ISO-8601 instant, or a date `YYYY-MM-DD` (the end of that day in a zone).
 */
import type { TimelinePoint } from "./Timeline.ts"
import { endOfDay, formatIsoInstant, instantOfLocalTime, isValidTimeZone } from "./TimeZone.ts"

/** A resolved point: the instant to select at, and the timeline point it names (when it names one). */
export interface ResolvedPoint {
  /** Epoch milliseconds; images with an effective time at or before it are eligible. */
  readonly instant: number
  /** ISO-8601 form of the instant (UTC). */
  readonly iso: string
  /** How the input was read. */
  readonly form: "label" | "id" | "instant" | "date"
  /** The timeline point's label when the input was a label or point id. */
  readonly label?: string | undefined
}

/** The operator's point could not be read; `message` says what forms are accepted. */
export interface PointProblem {
  readonly _tag: "PointProblem"
  readonly message: string
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * Reads a point. Labels and point ids are matched exactly against the timeline's points; an
 * instant without an offset and a bare date are read in `timeZone` (default UTC).
 */
export const parsePoint = (
  text: string,
  points: ReadonlyArray<TimelinePoint>,
  timeZone = "UTC"
): ResolvedPoint | PointProblem => {
  const input = text.trim()
  if (!isValidTimeZone(timeZone)) {
    return problem(`unknown time zone "${timeZone}": expected an IANA name such as UTC or Europe/Berlin`)
  }
  const byLabel = points.find((p) => p.label === input)
  if (byLabel !== undefined) return resolved(Date.parse(byLabel.id), "label", byLabel.label)
  const byId = points.find((p) => p.id === input)
  if (byId !== undefined) return resolved(Date.parse(byId.id), "id", byId.label)
  const date = DATE_ONLY.exec(input)
  if (date !== null) {
    const [, y, m, d] = date.map(Number) as [number, number, number, number]
    if (!validCalendarDate(y, m, d)) return problem(`${notADate(input)}. ${accepted(points, timeZone)}`)
    return resolved(endOfDay(input, timeZone), "date")
  }
  const instant = ISO_INSTANT.exec(input)
  if (instant !== null) {
    const [, y, mo, d, h, mi, s, fraction, offset] = instant
    const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s ?? "0"].map(Number) as [number, number, number, number, number, number]
    if (!validCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
      return problem(`${notADate(input)}. ${accepted(points, timeZone)}`)
    }
    const millis = fraction !== undefined ? Number(fraction.slice(0, 3).padEnd(3, "0")) : 0
    const local = Date.UTC(year, month - 1, day, hour, minute, second, millis)
    if (offset === undefined) return resolved(instantOfLocalTime(local, timeZone), "instant")
    if (offset === "Z") return resolved(local, "instant")
    const sign = offset.startsWith("-") ? -1 : 1
    const digits = offset.slice(1).replace(":", "")
    const offsetHours = Number(digits.slice(0, 2))
    const offsetMinutes = Number(digits.slice(2, 4))
    // an offset such as +99:99 is a typo, not a zone: refuse it rather than shift by four days
    if (offsetHours > 23 || offsetMinutes > 59) return problem(`${notADate(input)}: the offset ${offset} is out of range. ${accepted(points, timeZone)}`)
    return resolved(local - sign * (offsetHours * 60 + offsetMinutes) * 60_000, "instant")
  }
  return problem(`cannot read the point ${JSON.stringify(input)}. ${accepted(points, timeZone)}`)
}

/** The forms a point may take, and the newest labels, for error messages. */
const accepted = (points: ReadonlyArray<TimelinePoint>, timeZone: string): string => {
  const near = points.slice(0, 3).map((p) => `  ${p.label}`)
  return (
    `Expected a label printed by \`choices\`, an ISO-8601 instant ` +
    `(2026-11-21T14:03:00Z) or a date YYYY-MM-DD (end of that day, ${timeZone}).` +
    (near.length > 0 ? `\nNewest points:\n${near.join("\n")}` : "")
  )
}

const resolved = (instant: number, form: ResolvedPoint["form"], label?: string): ResolvedPoint => ({
  instant,
  iso: formatIsoInstant(instant),
  form,
  ...(label !== undefined ? { label } : {})
})

const problem = (message: string): PointProblem => ({ _tag: "PointProblem", message })

const notADate = (input: string) => `the point ${JSON.stringify(input)} is not a real calendar date or time`

const validCalendarDate = (y: number, m: number, d: number): boolean => {
  if (m < 1 || m > 12 || d < 1) return false
  const check = new Date(Date.UTC(y, m - 1, d))
  return check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d
}
