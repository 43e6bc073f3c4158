/**
 * @module SingleFlight — one run of an effect per key, shared by every caller that asks while it
 * runs and, as the policy says, by later callers: the client's manifests, config blobs and image
 * descriptions, token fetches, the first request to a host, the cache's directory listing and
 * repository files. Internal to the registry adapter (not exported by the library).
 *
 * A run starts when the returned effect runs, never when it is built. Its entry and the
 * completion that releases its waiters are installed together, with no gap for an interruption,
 * so a caller that is interrupted, or whose effect never runs, cannot leave the key taken and
 * later callers waiting forever. An interrupted run is always forgotten, and its waiters start a
 * new run instead of sharing the interruption.
 */
import { Cause, Deferred, Effect, Exit } from "effect"

/**
 * What a finished run leaves for later callers:
 * - `nothing`: only callers that ask while it runs share it (its result is kept elsewhere, as
 *   tokens are, or the question must be asked again, as a host's first request);
 * - `outcome`: its success or its failure — the same request is never made twice in a client's
 *   lifetime (a defect is forgotten);
 * - `failure`: only its failure; the caller keeps successes elsewhere (image descriptions in the
 *   image cache), so the memo does not hold them for the whole run.
 */
export type Remember = "nothing" | "outcome" | "failure"

/** Runs shared per key (see the module comment). */
export interface SingleFlight<K, A, E> {
  /**
   * The outcome of the run for `key`: the one in flight (or remembered), else a new run of
   * `lead()`. A new run's outcome is shared with everyone who asks meanwhile.
   */
  readonly run: <R>(key: K, lead: () => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * As {@link run}, but a caller who finds a run in flight (or remembered) does not take its
   * outcome as its own: `join(exit)` says what that caller does with it (for a host's first
   * request: send its own request, now that the challenge is known).
   */
  readonly runOrJoin: <B, E2, R, R2>(
    key: K,
    lead: () => Effect.Effect<A, E, R>,
    join: (exit: Exit.Exit<A, E>) => Effect.Effect<B, E2, R2>
  ) => Effect.Effect<A | B, E | E2, R | R2>
}

/** Runs shared per key, remembering finished runs as `remember` says. */
export const makeSingleFlight = <K, A, E>(remember: Remember): SingleFlight<K, A, E> => {
  const flights = new Map<K, Deferred.Deferred<A, E>>()

  /** True when a finished run stays for later callers. Interruptions and defects never stay. */
  const kept = (exit: Exit.Exit<A, E>): boolean => {
    if (remember === "nothing") return false
    if (Exit.isSuccess(exit)) return remember === "outcome"
    return Exit.hasFails(exit)
  }

  const runOrJoin = <B, E2, R, R2>(
    key: K,
    lead: () => Effect.Effect<A, E, R>,
    join: (exit: Exit.Exit<A, E>) => Effect.Effect<B, E2, R2>
  ): Effect.Effect<A | B, E | E2, R | R2> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend((): Effect.Effect<A | B, E | E2, R | R2> => {
        const existing = flights.get(key)
        if (existing !== undefined) {
          return restore(
            Effect.flatMap(Effect.exit(Deferred.await(existing)), (exit) =>
              // the run was interrupted (its caller went away): this caller runs it instead
              Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? runOrJoin(key, lead, join) : join(exit))
          )
        }
        const deferred = Deferred.makeUnsafe<A, E>()
        flights.set(key, deferred)
        // Still uninterruptible here: the completion below is installed before the run can be interrupted.
        return Effect.onExit(restore(Effect.suspend(lead)), (exit) =>
          Effect.sync(() => {
            if (!kept(exit) && flights.get(key) === deferred) flights.delete(key)
            Deferred.doneUnsafe(deferred, exit)
          }))
      })
    )

  return {
    run: (key, lead) => runOrJoin(key, lead, (exit) => exit),
    runOrJoin
  }
}
