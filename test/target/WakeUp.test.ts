/**
 * @module WakeUp.test — the pause an event cuts short: a wake during a pause ends it, a wake
 * between pauses ends the next one at once, and a pause nobody wakes lasts its time (with the
 * test clock, so nothing here waits on the real one).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { makeWakeUp } from "../../lib/target/WakeUp.ts"

describe("WakeUp", () => {
  it.effect("a wake during a pause ends it at once, and says it was woken", () =>
    Effect.gen(function*() {
      const wakeUp = makeWakeUp()
      const pausing = yield* Effect.forkChild(wakeUp.pause(600_000))
      yield* Effect.yieldNow
      wakeUp.wake()
      assert.isTrue(yield* Fiber.join(pausing))
    }))

  it.effect("a wake between pauses ends the next pause at once; the one after lasts its time", () =>
    Effect.gen(function*() {
      const wakeUp = makeWakeUp()
      wakeUp.wake()
      assert.isTrue(yield* wakeUp.pause(600_000))
      const pausing = yield* Effect.forkChild(wakeUp.pause(1_000))
      yield* TestClock.adjust(999)
      assert.isUndefined(pausing.pollUnsafe(), "still pausing before its time")
      yield* TestClock.adjust(1)
      assert.isFalse(yield* Fiber.join(pausing))
    }))
})
