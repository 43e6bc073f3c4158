/**
 * @module Point — what an operator types to say "roll back to here": a label printed by
 * `choices`, an ISO-8601 instant, or a date `YYYY-MM-DD` (the end of that day in a zone).
 */
import { previousPoint, withoutRanFor } from "./History.ts"
import type { TimelinePoint } from "./Timeline.ts"
import { endOfDay, formatIsoInstant, isValidTimeZone, parseIsoInstant } from "./TimeZone.ts"

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

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
/**
 * The shape of an ISO-8601 instant, only to tell "not a real date or time" from "not an
 * instant at all" in the message: the value is read by {@link parseIsoInstant}, the core's one
 * strict parser (RFC 3339: `T`, `t` or a space; `.` or `,` fractions; `Z`, `z` or an offset).
 */
const INSTANT_SHAPE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?<offset>[Zz]|[+-](?<oh>\d{2}):?(?<om>\d{2}))?$/

/**
 * Reads a point. Labels and point ids are matched exactly against the timeline's points; an
 * instant without an offset and a bare date are read in `timeZone` (default UTC). A local time
 * that happens twice (clocks went back) is its first occurrence; one that does not exist (clocks
 * went forward) is moved forward by the gap.
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
  if (input === "previous") {
    const previous = previousPoint(points)
    if (previous === undefined) {
      return problem(`"previous" means the set that ran just before the current one (the second-newest point), but there ${points.length === 0 ? "are no points" : "is only one point"}. ${accepted(points, timeZone)}`)
    }
    return resolved(parseIsoInstant(previous.id)!, "label", previous.label)
  }
  // a history point's label may be given without its " (ran …)" suffix
  const byLabel = points.find((p) => p.label === input) ?? points.find((p) => withoutRanFor(p.label) === input)
  if (byLabel !== undefined) return resolved(parseIsoInstant(byLabel.id)!, "label", byLabel.label)
  const byId = points.find((p) => p.id === input)
  if (byId !== undefined) return resolved(parseIsoInstant(byId.id)!, "id", byId.label)
  if (DATE_ONLY.test(input)) {
    if (parseIsoInstant(`${input}T00:00Z`) === undefined) return problem(`${notADate(input)}. ${accepted(points, timeZone)}`)
    return resolved(endOfDay(input, timeZone), "date")
  }
  const instant = parseIsoInstant(input, timeZone)
  if (instant !== undefined) return resolved(instant, "instant")
  const shape = INSTANT_SHAPE.exec(input)
  if (shape !== null) {
    const { oh, om, offset } = shape.groups ?? {}
    // an offset such as +99:99 is a typo, not a zone: refused rather than shifted by four days
    const badOffset = oh !== undefined && om !== undefined && (Number(oh) > 23 || Number(om) > 59)
    return problem(`${notADate(input)}${badOffset ? `: the offset ${offset} is out of range` : ""}. ${accepted(points, timeZone)}`)
  }
  return problem(`cannot read the point ${JSON.stringify(input)}. ${accepted(points, timeZone)}`)
}

/** The forms a point may take, and the newest labels, for error messages. */
const accepted = (points: ReadonlyArray<TimelinePoint>, timeZone: string): string => {
  const near = points.slice(0, 3).map((p) => `  ${p.label}`)
  return (
    `Expected a label printed by \`choices\`, \`previous\` (the set before the newest point), an ISO-8601 instant ` +
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
