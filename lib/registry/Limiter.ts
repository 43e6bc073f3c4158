/**
 * @module Limiter — a first-come-first-served concurrency limit (permits of one) for the requests
 * to one registry host.
 *
 * Effect's `Semaphore` wakes waiters by scanning all of them on every release, which costs
 * O(waiters) per request: `get` reads every repository at once, so hundreds of fibers wait on
 * one host. Here a release hands its permit to the oldest waiter directly (O(1)), and an
 * interrupted waiter leaves the queue (or passes on a permit it was just handed).
 */
import { Effect } from "effect"

/** Limits how many effects run at once; `withPermit` runs one effect under a permit. */
export interface Limiter {
  readonly withPermit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

interface Waiter {
  readonly resume: (effect: Effect.Effect<void>) => void
  granted: boolean
  prev: Waiter | undefined
  next: Waiter | undefined
}

/** A limiter with `permits` (at least 1) permits. */
export const makeLimiter = (permits: number): Limiter => {
  let free = Math.max(1, permits)
  let head: Waiter | undefined
  let tail: Waiter | undefined

  const unlink = (waiter: Waiter): void => {
    if (waiter.prev === undefined) head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === undefined) tail = waiter.prev
    else waiter.next.prev = waiter.prev
    waiter.prev = undefined
    waiter.next = undefined
  }

  /** Gives the permit to the oldest waiter, or returns it to the pool. */
  const release = (): void => {
    const waiter = head
    if (waiter === undefined) {
      free++
      return
    }
    unlink(waiter)
    waiter.granted = true
    waiter.resume(Effect.void)
  }

  const acquire: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (free > 0) {
      free--
      resume(Effect.void)
      return
    }
    const waiter: Waiter = { resume, granted: false, prev: tail, next: undefined }
    if (tail === undefined) head = waiter
    else tail.next = waiter
    tail = waiter
    // Interrupted while waiting: leave the queue, or pass on a permit handed over meanwhile.
    return Effect.sync(() => {
      if (waiter.granted) release()
      else unlink(waiter)
    })
  })

  const releaseEffect = Effect.sync(release)

  return {
    withPermit: (effect) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(acquire), () => Effect.ensuring(restore(effect), releaseEffect))
      )
  }
}
