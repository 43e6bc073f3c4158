/**
 * @module Search — the binary search the timeline, the selection and the history share: the last
 * entry of an ascending list at or before an instant.
 */

/** Index of the last entry whose time (`timeOf`) is at or before `instant` in a list ascending by it, or -1. */
export const lastIndexAtOrBefore = <T>(list: ReadonlyArray<T>, instant: number, timeOf: (entry: T) => number): number => {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (timeOf(list[mid]!) <= instant) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}
