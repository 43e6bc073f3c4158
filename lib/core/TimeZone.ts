/**
 * @module TimeZone — calendar days in an IANA time zone, from the runtime's `Intl` data (pure: no
 * clock), and fast strict reading and writing of ISO-8601 instants.
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

/**
 * `Date.UTC` for every year from 0 on: `Date.UTC` itself reads years 0–99 as 1900–1999, so
 * `0099-12-31` would become 1999-12-31.
 */
export const utcMillis = (year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number =>
  year >= 0 && year < 100
    ? Date.UTC(year + 400, monthIndex, day, hour, minute, second, millis) - FOUR_CENTURIES
    : Date.UTC(year, monthIndex, day, hour, minute, second, millis)

/** The zone's offset at an instant, read from `Intl` (slow: microseconds per call). */
const exactZoneOffsetAt = (instant: number, timeZone: string): number => {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0")
  const asUtc = utcMillis(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"))
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000))
}

/** Per zone: UTC day number → the offset valid all that day, or NaN when the offset changes that day. */
const offsetsByDay = new Map<string, Map<number, number>>()

/** Offset of the zone from UTC at an instant, in milliseconds (positive east of Greenwich). */
export const zoneOffsetAt = (instant: number, timeZone: string): number => {
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return 0
  // Offsets change at most a few times a year: when a UTC day starts and ends with the same
  // offset, that offset holds all day (no zone has changed and changed back within a day since
  // 1980), so one Intl call per zone and day replaces one per instant.
  let days = offsetsByDay.get(timeZone)
  if (days === undefined) {
    days = new Map()
    offsetsByDay.set(timeZone, days)
  }
  const day = Math.floor(instant / MS_PER_DAY)
  let offset = days.get(day)
  if (offset === undefined) {
    const start = exactZoneOffsetAt(day * MS_PER_DAY, timeZone)
    const end = exactZoneOffsetAt((day + 1) * MS_PER_DAY - 1000, timeZone)
    offset = start === end ? start : Number.NaN
    if (days.size < 1_000_000) days.set(day, offset)
  }
  return Number.isNaN(offset) ? exactZoneOffsetAt(instant, timeZone) : offset
}

/** The calendar day (`YYYY-MM-DD`) of an instant in a zone. */
export const calendarDayOf = (instant: number, timeZone: string): string =>
  utcDayName(Math.floor((instant + zoneOffsetAt(instant, timeZone)) / MS_PER_DAY))

/**
 * The instant at which a local wall-clock time (given as if it were UTC millis) happens in a
 * zone, disambiguated as Temporal's `"compatible"` does: a time that happens twice (clocks went
 * back) is its first occurrence; a time that does not exist (clocks went forward) is moved
 * forward by the gap, so local midnight of a day that starts at 01:00 is the 01:00, the day's
 * first instant. Hence the last millisecond before it is always the end of the previous day.
 */
export const instantOfLocalTime = (localAsUtc: number, timeZone: string): number => {
  // The offsets a day before and after bracket at most one transition (none has followed
  // another within two days since 1980), and the real instant is within ±14 h of localAsUtc.
  const before = zoneOffsetAt(localAsUtc - MS_PER_DAY, timeZone)
  const after = zoneOffsetAt(localAsUtc + MS_PER_DAY, timeZone)
  if (before === after) return localAsUtc - before
  const withBefore = localAsUtc - before
  const withAfter = localAsUtc - after
  const beforeHolds = zoneOffsetAt(withBefore, timeZone) === before
  const afterHolds = zoneOffsetAt(withAfter, timeZone) === after
  // both hold: the time happens twice, take the earlier; neither: a gap, shift forward by it
  // (the offset before the transition puts the local time past the gap's end)
  if (beforeHolds && afterHolds) return Math.min(withBefore, withAfter)
  if (afterHolds) return withAfter
  return withBefore
}

/** The last millisecond of a calendar day (`YYYY-MM-DD`) in a zone. */
export const endOfDay = (day: string, timeZone: string): number => {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number]
  return instantOfLocalTime(utcMillis(y, m - 1, d + 1), timeZone) - 1
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

const MS_PER_DAY = 86_400_000
/** 400 Gregorian years in milliseconds: shifts years 0–99 past Date.UTC's 1900 mapping. */
const FOUR_CENTURIES = 146_097 * MS_PER_DAY
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => (i < 10 ? `00${i}` : i < 100 ? `0${i}` : `${i}`))
const dayNames = new Map<number, string>()

/** `YYYY-MM-DD` of a UTC day number (days since 1970-01-01), memoised: a fleet spans few days. */
const utcDayName = (dayNumber: number): string => {
  let name = dayNames.get(dayNumber)
  if (name === undefined) {
    name = new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10)
    if (dayNames.size < 1_000_000) dayNames.set(dayNumber, name)
  }
  return name
}

/**
 * Formats epoch milliseconds exactly as `Date.prototype.toISOString` does for years 1970–9999
 * (`2026-11-21T14:03:27.000Z`), several times faster: the date part is memoised per day.
 */
export const formatIsoInstant = (instant: number): string => {
  if (!(instant >= 0 && instant < 253402300800000) || !Number.isInteger(instant)) return new Date(instant).toISOString()
  const day = Math.floor(instant / MS_PER_DAY)
  let rest = instant - day * MS_PER_DAY
  const ms = rest % 1000
  rest = (rest - ms) / 1000
  const s = rest % 60
  rest = (rest - s) / 60
  const mi = rest % 60
  const h = (rest - mi) / 60
  return `${utcDayName(day)}T${TWO_DIGITS[h]}:${TWO_DIGITS[mi]}:${TWO_DIGITS[s]}.${THREE_DIGITS[ms]}Z`
}

/** The greatest epoch milliseconds a Date holds (±100,000,000 days). */
const MAX_DATE = 8.64e15

/** An instant for messages and reports: ISO-8601 when a Date can hold it, else the number as text (`NaN`). */
export const describeInstant = (instant: number): string => (Math.abs(instant) <= MAX_DATE ? formatIsoInstant(instant) : String(instant))

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0

/** Reads `count` decimal digits at `at`; -1 when any is not a digit. */
const digitsAt = (text: string, at: number, count: number): number => {
  let value = 0
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48
    if (!(d >= 0 && d <= 9)) return -1
    value = value * 10 + d
  }
  return value
}

/**
 * Parses an RFC 3339 / ISO-8601 instant strictly: `YYYY-MM-DD`, `T` (or `t` or a space),
 * `HH:mm[:ss[.fraction]]`, then `Z` or `±HH:mm` / `±HHmm`. Without an offset the time is read
 * in `timeZone` (default UTC, never the machine's zone). Rejects dates that do not exist
 * (`2026-02-30`), hours past 23 and offsets past ±23:59 — `Date.parse` rolls those over.
 * Undefined when the text is not such an instant.
 */
export const parseIsoInstant = (text: string, timeZone = "UTC"): number | undefined => {
  const n = text.length
  if (n < 16) return undefined
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  const separator = text.charCodeAt(10)
  const hour = digitsAt(text, 11, 2)
  const minute = digitsAt(text, 14, 2)
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
    text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 ||
    (separator !== 84 && separator !== 116 && separator !== 32)
  ) return undefined
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined
  let i = 16
  let second = 0
  let millis = 0
  if (i < n && text.charCodeAt(i) === 58) {
    second = digitsAt(text, 17, 2)
    if (second < 0 || second > 59) return undefined
    i = 19
    if (i < n && (text.charCodeAt(i) === 46 || text.charCodeAt(i) === 44)) {
      const start = ++i
      // fractional seconds: the first three digits are milliseconds, the rest is dropped
      let scale = 100
      while (i < n) {
        const digit = text.charCodeAt(i) - 48
        if (digit < 0 || digit > 9) break
        millis += digit * scale
        scale = scale >= 10 ? scale / 10 : 0
        i++
      }
      if (i === start) return undefined
    }
  }
  let offset: number | undefined
  if (i < n) {
    const c = text.charCodeAt(i)
    if (c === 90 || c === 122) {
      offset = 0
      i++
    } else if (c === 43 || c === 45) {
      const oh = digitsAt(text, i + 1, 2)
      let j = i + 3
      if (text.charCodeAt(j) === 58) j++
      const om = digitsAt(text, j, 2)
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined
      offset = (c === 43 ? 1 : -1) * (oh * 60 + om) * 60_000
      i = j + 2
    } else return undefined
  }
  if (i !== n) return undefined
  const local = utcMillis(year, month - 1, day, hour, minute, second, millis)
  if (offset !== undefined) return local - offset
  return timeZone === "UTC" ? local : instantOfLocalTime(local, timeZone)
}
