/**
 * @module test/registry/SingleFlight — the one single-flight helper behind the client's memos,
 * token fetches, first requests to a host and cache files: a run starts when its effect runs,
 * never when it is built; an interrupted caller never leaves the others waiting; each policy
 * remembers what it says. And the authorizer, which uses it for a host's first request. Live
 * clock: a caller left waiting shows as a time-out after a second, not as a hung test.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { makeAuthorizer } from "../../lib/registry/Auth.ts"
import { RegistryError } from "../../lib/registry/RegistryError.ts"
import { makeSingleFlight } from "../../lib/registry/SingleFlight.ts"
import { makeCounters } from "../../lib/registry/Transport.ts"
import type { Transport, WireRequest } from "../../lib/registry/Transport.ts"

const failure = (message: string) => new RegistryError({ reason: "BadResponse", message })

/** Counts the runs of an effect that succeeds with the run's number (or fails when told). */
const counted = (fails = false) => {
  let runs = 0
  const lead = () =>
    Effect.suspend(() => {
      runs++
      return fails ? Effect.fail(failure(`run ${runs}`)) : Effect.succeed(runs)
    })
  return { lead, runs: () => runs }
}

/**
 * Runs `effect` in a fiber that is interrupted inside the single flight's guarded region: at the
 * moment the run's entry for `key` is stored, before its completion is installed (for the length
 * of this call `Map.prototype.set` is watched for that key, and the fiber interrupts itself
 * there). Fails unless that moment came, so the test cannot pass without reaching it.
 */
const interruptedWhenStored = <A, E>(key: string, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    let target: Fiber.Fiber<unknown, unknown> | undefined
    let fired = false
    const originalSet = Map.prototype.set
    Map.prototype.set = function(this: Map<unknown, unknown>, k: unknown, v: unknown) {
      const result = originalSet.call(this, k, v)
      if (k === key && target !== undefined) {
        const fiber = target
        target = undefined
        fired = true
        fiber.interruptUnsafe()
      }
      return result
    }
    try {
      const fiber = yield* Effect.forkChild(Effect.withFiber((f) => {
        target = f
        return effect
      }))
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(fired, "the run's entry was stored, and the caller interrupted right then")
      assert.isTrue(Exit.isFailure(exit) && Exit.hasInterrupts(exit), "the caller was interrupted")
    } finally {
      Map.prototype.set = originalSet
    }
  })

describe("single flight", () => {
  it.live("callers who ask while a run is in flight share it: one run for ten callers", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("nothing")
      const gate = yield* Deferred.make<void>()
      let runs = 0
      const lead = () => Effect.andThen(Deferred.await(gate), Effect.sync(() => ++runs))
      const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.forkChild(flights.run("k", lead)))
      yield* Effect.yieldNow
      yield* Deferred.succeed(gate, undefined)
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(results, Array.from({ length: 10 }, () => 1))
      assert.strictEqual(runs, 1)
    }))

  it.live("an effect built but never run takes no key: the next caller runs at once", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("nothing")
      const { lead, runs } = counted()
      void flights.run("k", lead)
      assert.strictEqual(runs(), 0)
      assert.strictEqual(yield* flights.run("k", lead).pipe(Effect.timeout("1 second")), 1)
    }))

  it.live("a caller interrupted the moment its run is registered, before it starts, leaves no one waiting", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("nothing")
      const { lead, runs } = counted()
      yield* interruptedWhenStored("k", flights.run("k", lead))
      assert.strictEqual(runs(), 0, "the interrupted run never started")
      assert.strictEqual(yield* flights.run("k", lead).pipe(Effect.timeout("1 second")), 1)
    }))

  it.live("a run interrupted midway is not shared as an interruption: a waiter runs it again and gets the answer", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, string, RegistryError>("outcome")
      const started = yield* Deferred.make<void>()
      let runs = 0
      const lead = () =>
        Effect.suspend(() => {
          runs++
          return runs === 1 ? Effect.andThen(Deferred.succeed(started, undefined), Effect.never) : Effect.succeed("answer")
        })
      const leader = yield* Effect.forkChild(flights.run("k", lead))
      yield* Deferred.await(started)
      const waiter = yield* Effect.forkChild(flights.run("k", lead))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(leader)
      assert.strictEqual(yield* Fiber.join(waiter).pipe(Effect.timeout("1 second")), "answer")
      assert.strictEqual(runs, 2)
    }))

  it.live("remember outcome: a success and a failure each answer later callers without a new run", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("outcome")
      const ok = counted()
      assert.strictEqual(yield* flights.run("ok", ok.lead), 1)
      assert.strictEqual(yield* flights.run("ok", ok.lead), 1)
      assert.strictEqual(ok.runs(), 1)
      const bad = counted(true)
      const first = yield* Effect.exit(flights.run("bad", bad.lead))
      const second = yield* Effect.exit(flights.run("bad", bad.lead))
      assert.deepStrictEqual([Exit.isFailure(first), Exit.isFailure(second), bad.runs()], [true, true, 1])
    }))

  it.live("remember failure: a success is asked again (the caller keeps it), a failure is not", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("failure")
      const ok = counted()
      assert.deepStrictEqual([yield* flights.run("ok", ok.lead), yield* flights.run("ok", ok.lead)], [1, 2])
      const bad = counted(true)
      yield* Effect.exit(flights.run("bad", bad.lead))
      yield* Effect.exit(flights.run("bad", bad.lead))
      assert.strictEqual(bad.runs(), 1)
    }))

  it.live("remember nothing: a failure is tried again by the next caller; a defect is never remembered", () =>
    Effect.gen(function*() {
      const flights = makeSingleFlight<string, number, RegistryError>("nothing")
      const bad = counted(true)
      yield* Effect.exit(flights.run("bad", bad.lead))
      yield* Effect.exit(flights.run("bad", bad.lead))
      assert.strictEqual(bad.runs(), 2)
      const outcome = makeSingleFlight<string, number, RegistryError>("outcome")
      let dies = 0
      const dying = () => Effect.suspend(() => (++dies === 1 ? Effect.die("bug") : Effect.succeed(dies)))
      assert.isTrue(Exit.hasDies(yield* Effect.exit(outcome.run("k", dying))))
      assert.strictEqual(yield* outcome.run("k", dying), 2)
    }))
})

describe("the authorizer's first request to a host", () => {
  const request = (path: string): WireRequest => ({ kind: "tags", method: "GET", url: new URL(`http://registry.test${path}`), headers: {}, repository: path })
  const okTransport: Transport = {
    counters: makeCounters(),
    send: (req) => Effect.succeed({ status: 200, headers: {}, body: new Uint8Array(), url: req.url })
  }

  it.live("a request built but never sent does not hold up the next one to that host", () =>
    Effect.gen(function*() {
      const auth = makeAuthorizer(okTransport, undefined, new URL("http://registry.test"))
      void auth.send(request("/v2/a/tags/list"), undefined)
      const answer = yield* auth.send(request("/v2/b/tags/list"), undefined).pipe(Effect.timeout("1 second"))
      assert.strictEqual(answer.status, 200)
    }))

  it.live("a request interrupted the moment it became the host's first, before it went, does not hold up the next one", () =>
    Effect.gen(function*() {
      const auth = makeAuthorizer(okTransport, undefined, new URL("http://registry.test"))
      yield* interruptedWhenStored("registry.test", auth.send(request("/v2/a/tags/list"), undefined))
      const answer = yield* auth.send(request("/v2/b/tags/list"), undefined).pipe(Effect.timeout("1 second"))
      assert.strictEqual(answer.status, 200)
    }))

  it.live("a first request interrupted while on its way: the requests waiting for it still get their answers", () =>
    Effect.gen(function*() {
      const onItsWay = yield* Deferred.make<void>()
      let sent = 0
      const transport: Transport = {
        counters: makeCounters(),
        send: (req) =>
          Effect.suspend(() =>
            ++sent === 1
              ? Effect.andThen(Deferred.succeed(onItsWay, undefined), Effect.never)
              : Effect.succeed({ status: 200, headers: {}, body: new Uint8Array(), url: req.url })
          )
      }
      const auth = makeAuthorizer(transport, undefined, new URL("http://registry.test"))
      const first = yield* Effect.forkChild(auth.send(request("/v2/a/tags/list"), undefined))
      yield* Deferred.await(onItsWay)
      const waiting = yield* Effect.forkChild(auth.send(request("/v2/b/tags/list"), undefined))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(first)
      assert.strictEqual((yield* Fiber.join(waiting).pipe(Effect.timeout("1 second"))).status, 200)
    }))
})
