/**
 * @module WakeUp — the pause of a poll loop that an event can cut short. A target that follows
 * its orchestrator's events (Docker's `GET /events`, Marathon's `/v2/events`) calls `wake()` when
 * one says a watched change moved: the pause under way ends at once — or, when none is, the next
 * one does — so the end of a change is read when it happens, not at the next poll. Without events
 * the pauses are plain sleeps, and the polls alone decide.
 */
import { Duration, Effect } from "effect"

/** A poll loop's pause, and what cuts it short. */
export interface WakeUp {
  /** Ends the pause under way now (or the next one at once). Safe to call from any callback. */
  readonly wake: () => void
  /** Waits `ms`, or less when woken since the last pause; true when it was woken. */
  readonly pause: (ms: number) => Effect.Effect<boolean>
}

/** A fresh {@link WakeUp}. */
export const makeWakeUp = (): WakeUp => {
  let woken = false
  let resume: (() => void) | undefined
  const clear = Effect.sync(() => {
    resume = undefined
    woken = false
  })
  return {
    wake: () => {
      woken = true
      resume?.()
    },
    pause: (ms) =>
      Effect.raceFirst(
        Effect.as(Effect.sleep(Duration.millis(ms)), false),
        // `woken` is looked at when the callback is registered, not before: a wake that came in
        // between (the fiber may yield there) is not lost
        Effect.callback<boolean>((done) => {
          if (woken) done(Effect.succeed(true))
          else resume = () => done(Effect.succeed(true))
        })
      ).pipe(Effect.ensuring(clear))
  }
}
