/**
 * @module Limiter.test — the per-host request limit: never more requests at once than allowed,
 * first come first served, and a waiter given up on (interrupted) never takes a permit with it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { makeLimiter } from "../../lib/registry/Limiter.ts"

describe("per-host request limit", () => {
  it.effect("forty requests through a limit of three never run more than three at once, in arrival order", () =>
    Effect.gen(function*() {
      const limiter = makeLimiter(3)
      let running = 0
      let peak = 0
      const started: Array<number> = []
      yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) =>
          limiter.withPermit(Effect.gen(function*() {
            running++
            peak = Math.max(peak, running)
            started.push(i)
            yield* Effect.yieldNow
            running--
          })),
        { concurrency: "unbounded", discard: true }
      )
      assert.strictEqual(peak, 3)
      assert.deepStrictEqual(started, Array.from({ length: 40 }, (_, i) => i))
    }))

  it.effect("a waiting request that is interrupted leaves the queue; the permits all come back", () =>
    Effect.gen(function*() {
      const limiter = makeLimiter(1)
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(limiter.withPermit(Deferred.await(release)))
      yield* Effect.yieldNow
      const waiter = yield* Effect.forkChild(limiter.withPermit(Effect.succeed("never")))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(waiter)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      // Both permits-worth of work can run again: nothing leaked, nothing stuck.
      const after = yield* Effect.all([limiter.withPermit(Effect.succeed(1)), limiter.withPermit(Effect.succeed(2))], {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(after, [1, 2])
    }))

  it.effect("a failing request gives its permit back", () =>
    Effect.gen(function*() {
      const limiter = makeLimiter(1)
      const failed = yield* Effect.flip(limiter.withPermit(Effect.fail("boom")))
      assert.strictEqual(failed, "boom")
      assert.strictEqual(yield* limiter.withPermit(Effect.succeed("next")), "next")
    }))
})
