/**
 * @module TimeZone — calendar days in an IANA time zone, from the runtime's `Intl` data (pure: no clock).
 */

const formatters = new Map<string, Intl.DateTimeFormat>()

/** True when the runtime knows the IANA time zone name (`UTC`, `Europe/Berlin`, …). */
export const isValidTimeZone = (timeZone: string): boolean => {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit"
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** Offset of the zone from UTC at an instant, in milliseconds (positive east of Greenwich). */
export const zoneOffsetAt = (instant: number, timeZone: string): number => {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return 0
  const parts = formatterFor(timeZone).formatToParts(new Date(instant))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0")
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"))
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000))
}

/** The calendar day (`YYYY-MM-DD`) of an instant in a zone. */
export const calendarDayOf = (instant: number, timeZone: string): string =>
  new Date(instant + zoneOffsetAt(instant, timeZone)).toISOString().slice(0, 10)

/** The instant at which a local wall-clock time (given as if it were UTC millis) happens in a zone. */
export const instantOfLocalTime = (localAsUtc: number, timeZone: string): number => {
  // Two rounds settle the offset except inside a DST gap, where the later offset is taken.
  let guess = localAsUtc - zoneOffsetAt(localAsUtc, timeZone)
  guess = localAsUtc - zoneOffsetAt(guess, timeZone)
  return guess
}

/** The last millisecond of a calendar day (`YYYY-MM-DD`) in a zone. */
export const endOfDay = (day: string, timeZone: string): number => {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number]
  return instantOfLocalTime(Date.UTC(y, m - 1, d + 1), timeZone) - 1
}

/**
 * A memo of day keys per quarter hour, so grouping a million instants by day stays cheap.
 * Every zone offset and transition since 1980 falls on a quarter hour, so a quarter-hour
 * bucket never spans two local days.
 */
export const makeDayKeyer = (timeZone: string): ((instant: number) => string) => {
  const byQuarter = new Map<number, string>()
  return (instant) => {
    const quarter = Math.floor(instant / 900_000)
    let day = byQuarter.get(quarter)
    if (day === undefined) {
      day = calendarDayOf(quarter * 900_000, timeZone)
      byQuarter.set(quarter, day)
    }
    return day
  }
}
