/**
 * @module RunRollback.test — the run and undo workflows over a scripted Marathon (TestClock): what
 * the report says when the check after a deployment cannot read Marathon, how long the "cannot
 * tell" path keeps the on-call engineer waiting, the revert when a cancel's answer is lost, undo
 * after such runs, and the wait settings refused before anything is read.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import type { PlanEntry, RollbackPlan } from "../../lib/core/Plan.ts"
import type { RollbackReport } from "../../lib/core/Report.ts"
import { Marathon, MarathonError } from "../../lib/targets/marathon/Marathon.ts"
import { appToWorkload, MarathonTarget } from "../../lib/targets/marathon/MarathonTarget.ts"
import type { AppVerification, ImageChange, MarathonApp, MarathonShape } from "../../lib/targets/marathon/Marathon.ts"
import { Notifier } from "../../lib/notify/Slack.ts"
import { deployPlan, undoRollback, VERIFY_BUDGET_MS } from "../../lib/workflow/RunRollback.ts"

const OLD = "registry.example.com/shop/api:100-master"
const TARGET = "registry.example.com/shop/api:99-master"

const app = (image: string, extra: Partial<MarathonApp> = {}): MarathonApp => ({
  id: "/prod/api",
  instances: 2,
  image,
  tasksRunning: 2,
  tasksHealthy: 2,
  hasHealthChecks: true,
  lastTaskFailure: undefined,
  version: "2024-05-01T10:00:00.000Z",
  deployments: [],
  labels: {},
  raw: {},
  ...extra
})

const entry: PlanEntry = { service: "api", app: "/prod/api", current: OLD, target: TARGET, action: "rollback" }
const plan: RollbackPlan = { point: "2024-05-01T00:00:00.000Z", services: [entry] }
const context = { kind: "run" as const, point: plan.point, label: null, user: "oncall", marathonUrl: "http://marathon.test" }

const healthy = (changes: ReadonlyArray<ImageChange>): ReadonlyArray<AppVerification> =>
  changes.map((c) => ({ appId: c.appId, image: c.image, expectedImage: c.image, ok: true }))

const unavailable = () => new MarathonError({ reason: "Unavailable", status: 503, message: "http://marathon.test answered 503 (no leader), still after 5 attempts" })

/**
 * A scripted Marathon: one app running `running`; `deployImages` records each set and by default
 * makes it run; every other method can be replaced.
 */
const fakeMarathon = (overrides: (state: { running: string; deployed: Array<ReadonlyArray<ImageChange>> }) => Partial<MarathonShape>) => {
  const state = { running: OLD, deployed: [] as Array<ReadonlyArray<ImageChange>> }
  const base: MarathonShape = {
    listApps: () => Effect.succeed([app(state.running)]),
    getApp: () => Effect.sync(() => app(state.running)),
    // replaced below by one over the scenario's getApp, as the real readApps lists what getApp reads
    readApps: () => Effect.succeed(new Map()),
    appVersions: () => Effect.succeed([]),
    appVersion: () => Effect.sync(() => app(state.running)),
    deployImages: (changes) =>
      Effect.sync(() => {
        state.deployed.push(changes)
        state.running = changes[0]!.image
        return { deploymentId: `d-${state.deployed.length}`, version: "v" }
      }),
    waitForDeployment: () => Effect.void,
    verifyApps: (changes) => Effect.succeed(healthy(changes)),
    cancelDeployment: () => Effect.die("not expected"),
    deployments: Effect.succeed([])
  }
  const scripted = { ...base, ...overrides(state) }
  const shape: MarathonShape = {
    ...scripted,
    readApps: (ids) =>
      Effect.map(Effect.forEach(ids, (id) => Effect.option(scripted.getApp(id))), (apps) =>
        new Map(apps.flatMap((a) => (a._tag === "Some" ? [[a.value.id, a.value] as const] : [])))
      )
  }
  const layer = Layer.mergeAll(MarathonTarget.layer({ kind: "marathon", url: "http://marathon.test" }).pipe(Layer.provide(Layer.succeed(Marathon, Marathon.of(shape)))), Notifier.none)
  return { state, layer }
}

/** Runs an effect to its end while the TestClock moves on in steps; returns it with the time it took. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>, stepMs = 1000, limitMs = 3 * 3600_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    let elapsed = 0
    while (fiber.pollUnsafe() === undefined && elapsed < limitMs) {
      yield* TestClock.adjust(stepMs)
      elapsed += stepMs
    }
    assert.isDefined(fiber.pollUnsafe(), `still running after ${limitMs / 1000} s`)
    return { result: yield* Fiber.join(fiber), elapsed }
  })

describe("the check after a deployment cannot read Marathon", () => {
  it.effect("503s for a while (a leader election) after a healthy rollback: the check is tried again, nothing is reverted", () => {
    let checks = 0
    const fake = fakeMarathon(() => ({
      verifyApps: (changes) => (++checks <= 2 ? Effect.fail(unavailable()) : Effect.succeed(healthy(changes)))
    }))
    return Effect.gen(function*() {
      const { result } = yield* timed(deployPlan(plan, [entry], new Map(), { ...context, revertOnFailure: true }))
      assert.strictEqual(result.report.outcome, "succeeded")
      assert.strictEqual(checks, 3)
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[TARGET]], "the previous images are NOT redeployed")
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("Marathon stays unreadable: 'could not verify', never reverted with --revert-on-failure, and the report says what to check", () => {
    const fake = fakeMarathon(() => ({ verifyApps: () => Effect.fail(unavailable()) }))
    return Effect.gen(function*() {
      const { result, elapsed } = yield* timed(deployPlan(plan, [entry], new Map(), { ...context, revertOnFailure: true }))
      const report = result.report
      assert.strictEqual(report.outcome, "failed")
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[TARGET]], "nothing was redeployed")
      assert.include(report.message, "could not verify the rollback")
      assert.include(report.message, "Nothing was reverted (--revert-on-failure reverts only a failure it has seen)")
      assert.include(report.message, "Check /prod/api in Marathon")
      assert.notInclude(report.message, "not every app is healthy")
      assert.notInclude(report.message, "half rolled back")
      assert.strictEqual(report.services[0]!.outcome, "failed")
      assert.include(report.services[0]!.problem!, "could not verify")
      assert.strictEqual(report.services[0]!.after, TARGET)
      assert.isAtMost(elapsed, VERIFY_BUDGET_MS + 15_000, "the check is bounded")
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("without the flag it does not claim 'half rolled back' either", () => {
    const fake = fakeMarathon(() => ({ verifyApps: () => Effect.fail(unavailable()) }))
    return Effect.gen(function*() {
      const { result } = yield* timed(deployPlan(plan, [entry], new Map(), context))
      assert.include(result.report.message, "could not verify the rollback")
      assert.notInclude(result.report.message, "half rolled back")
      assert.notInclude(result.report.message, "(--revert-on-failure")
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("an unhealthy app that Marathon DID show is still reverted with --revert-on-failure", () => {
    let checks = 0
    const fake = fakeMarathon(() => ({
      verifyApps: (changes) =>
        Effect.succeed(++checks === 1
          ? changes.map((c) => ({ appId: c.appId, image: c.image, expectedImage: c.image, ok: false, problem: "1 of 2 instances healthy" }))
          : healthy(changes))
    }))
    return Effect.gen(function*() {
      const { result } = yield* timed(deployPlan(plan, [entry], new Map(), { ...context, revertOnFailure: true }))
      assert.strictEqual(result.report.outcome, "reverted")
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[TARGET], [OLD]])
    }).pipe(Effect.provide(fake.layer))
  })
})

describe("undo after a revert whose check could not read Marathon", () => {
  it.effect("the report records what the run deployed, so undo recognises the app still on it and puts the previous image back", () => {
    let checks = 0
    const fake = fakeMarathon((state) => ({
      // the rollback times out and stays listed; the cancel's revert does not take; Marathon then stops answering the check
      waitForDeployment: (id) => (id === "d-1" ? Effect.fail(new MarathonError({ reason: "DeploymentTimeout", message: "Deployment d-1 did not finish within 1 s" })) : Effect.void),
      deployments: Effect.sync(() => (state.deployed.length === 1 ? [{ id: "d-1", version: "v", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }] : [])),
      cancelDeployment: () => Effect.succeed({ revertDeploymentId: "d-revert" }),
      verifyApps: (changes) =>
        ++checks === 1
          ? Effect.succeed(changes.map((c) => ({ appId: c.appId, image: TARGET, expectedImage: c.image, ok: false, problem: "1 of 2 instances running" })))
          : state.deployed.length === 1
          ? Effect.fail(unavailable())
          : Effect.succeed(healthy(changes))
    }))
    return Effect.gen(function*() {
      const { result } = yield* timed(deployPlan(plan, [entry], new Map([["/prod/api", appToWorkload(app(OLD), true)]]), { ...context, revertOnFailure: true, timeoutMs: 1000 }))
      const report: RollbackReport = result.report
      assert.strictEqual(report.outcome, "failed")
      assert.isNull(report.services[0]!.after, "what runs afterwards is unknown")
      assert.strictEqual(report.services[0]!.target, TARGET)
      const undone = yield* timed(undoRollback(report, { user: "oncall", marathonUrl: "http://marathon.test" }))
      assert.strictEqual(undone.result.report.outcome, "succeeded")
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[TARGET], [OLD]])
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("an app that runs neither the report's before, after nor target is still refused, naming all three", () => {
    const fake = fakeMarathon((state) => {
      state.running = "registry.example.com/shop/api:101-master"
      return {}
    })
    const report = {
      schemaVersion: 1 as const,
      kind: "run" as const,
      user: "oncall",
      startedAt: "2024-05-01T00:00:00.000Z",
      finishedAt: "2024-05-01T00:01:00.000Z",
      durationMs: 60_000,
      point: plan.point,
      label: null,
      environment: null,
      marathon: "http://marathon.test",
      outcome: "failed" as const,
      message: "could not verify",
      deploymentId: "d-1",
      revertDeploymentId: null,
      durations: { deployMs: 1, waitMs: 1 },
      services: [{ service: "api", app: "/prod/api", action: "rollback" as const, before: OLD, after: null, target: TARGET, outcome: "failed" as const }],
      finalState: []
    }
    return Effect.gen(function*() {
      const error = yield* Effect.flip(undoRollback(report, { user: "oncall", marathonUrl: "http://marathon.test" }))
      assert.strictEqual(error.kind, "Refused")
      assert.include(error.message, `ran ${OLD} before and deployed ${TARGET}`)
      assert.include(error.message, "runs registry.example.com/shop/api:101-master now")
      assert.lengthOf(fake.state.deployed, 0)
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("undo compares images as the plan does (sameImage): the pinned target by digest is the same image", () => {
    const digest = "sha256:" + "a".repeat(64)
    const fake = fakeMarathon((state) => {
      state.running = `registry.example.com/shop/api@${digest}`
      return {}
    })
    const report = {
      schemaVersion: 1 as const,
      kind: "run" as const,
      user: "oncall",
      startedAt: "2024-05-01T00:00:00.000Z",
      finishedAt: "2024-05-01T00:01:00.000Z",
      durationMs: 60_000,
      point: plan.point,
      label: null,
      environment: null,
      marathon: "http://marathon.test",
      outcome: "succeeded" as const,
      message: "rolled back",
      deploymentId: "d-1",
      revertDeploymentId: null,
      durations: { deployMs: 1, waitMs: 1 },
      services: [{ service: "api", app: "/prod/api", action: "rollback" as const, before: OLD, after: `${TARGET}@${digest}`, outcome: "rolled-back" as const }],
      finalState: []
    }
    return Effect.gen(function*() {
      const undone = yield* timed(undoRollback(report, { user: "oncall", marathonUrl: "http://marathon.test" }))
      assert.strictEqual(undone.result.report.outcome, "succeeded")
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[OLD]])
    }).pipe(Effect.provide(fake.layer))
  })
})

describe("a cancel whose answer was lost and whose deployment is gone", () => {
  it.effect("no revert deployment is listed: the previous images are deployed again, and the report says what happened", () => {
    let checks = 0
    const fake = fakeMarathon(() => ({
      waitForDeployment: (id) => (id === "d-1" ? Effect.fail(new MarathonError({ reason: "DeploymentTimeout", message: "Deployment d-1 did not finish within 1 s" })) : Effect.void),
      deployments: Effect.sync(() => (checks === 0 ? [{ id: "d-1", version: "v", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }] : [])),
      cancelDeployment: () =>
        Effect.succeed({
          answerLost: "Marathon's answer to cancelling deployment d-1 with rollback was lost (503), but deployment d-1 is gone and no revert deployment is listed"
        }),
      verifyApps: (changes) =>
        ++checks === 1
          ? Effect.succeed(changes.map((c) => ({ appId: c.appId, image: c.image, expectedImage: c.image, ok: false, problem: "deployment d-1 still running on it" })))
          : Effect.succeed(healthy(changes))
    }))
    return Effect.gen(function*() {
      const { result } = yield* timed(deployPlan(plan, [entry], new Map([["/prod/api", appToWorkload(app(OLD), true)]]), { ...context, revertOnFailure: true, timeoutMs: 1000 }))
      assert.deepStrictEqual(fake.state.deployed.map((d) => d.map((c) => c.image)), [[TARGET], [OLD]], "the previous image is deployed again")
      assert.strictEqual(result.report.outcome, "reverted")
      assert.strictEqual(result.report.revertDeploymentId, "d-2")
      assert.include(result.report.message, "no revert deployment is listed")
      assert.include(result.report.message, "the previous images were deployed again as deployment d-2")
    }).pipe(Effect.provide(fake.layer))
  })
})

describe("Marathon stops answering after the PUT", () => {
  it.effect("ten apps: the report comes within two minutes, service by service 'unknown', without reading a final state", () => {
    const N = 10
    const appJson = (i: number) => ({
      id: `/prod/s${i}`,
      instances: 1,
      container: { type: "DOCKER", docker: { image: `r.example.com/s${i}:2` } },
      version: "2024-05-01T10:00:00.000Z",
      tasksRunning: 1,
      tasksHealthy: 1,
      deployments: []
    })
    let put = false
    let readsAfterPut = 0
    const client = HttpClient.make((request, url) => {
      if (request.method === "PUT") put = true
      if (put) {
        readsAfterPut++
        return Effect.never
      }
      const body = url.pathname === "/v2/deployments"
        ? []
        : url.pathname === "/v2/apps"
        ? { apps: Array.from({ length: N }, (_, i) => appJson(i)) }
        : { app: appJson(Number(url.pathname.replace(/.*\/s/, ""))) }
      return Effect.succeed(HttpClientResponse.fromWeb(request, Response.json(body)))
    })
    const entries: Array<PlanEntry> = Array.from({ length: N }, (_, i) => ({ service: `s${i}`, app: `/prod/s${i}`, current: `r.example.com/s${i}:2`, target: `r.example.com/s${i}:1`, action: "rollback" }))
    const layer = Layer.mergeAll(MarathonTarget.layerFromConfig({ url: "http://marathon.test" }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client))), Notifier.none)
    return Effect.gen(function*() {
      const { result, elapsed } = yield* timed(deployPlan({ point: "p", services: entries }, entries, new Map(), context), 1000)
      assert.isAtMost(elapsed, 120_000, `the report took ${elapsed / 1000} s`)
      assert.strictEqual(result.report.outcome, "failed")
      assert.deepStrictEqual(result.report.services.map((s) => s.outcome), Array.from({ length: N }, () => "unknown"))
      assert.include(result.report.message, "MAY have started")
      assert.deepStrictEqual(result.report.finalState, [])
      const readsByTheCheck = readsAfterPut
      assert.isAtMost(readsByTheCheck, 1 + N + 1, "the PUT, one read per app and the deployment list: no reads for the final state")
    }).pipe(Effect.provide(layer))
  })

  it.effect("the final state of a run is read all at once under one short timeout, not app after app", () => {
    const N = 10
    let hanging = false
    const fake = fakeMarathon(() => ({
      verifyApps: (changes) =>
        Effect.sync(() => {
          hanging = true
          return changes.map((c) => ({ appId: c.appId, image: c.image, expectedImage: c.image, ok: false, problem: "0 of 2 instances running" }))
        }),
      getApp: () => (hanging ? Effect.never : Effect.succeed(app(OLD)))
    }))
    const entries: Array<PlanEntry> = Array.from({ length: N }, (_, i) => ({ ...entry, service: `s${i}`, app: `/prod/s${i}` }))
    return Effect.gen(function*() {
      const { result, elapsed } = yield* timed(deployPlan({ point: "p", services: entries }, entries, new Map(), context), 1000)
      assert.strictEqual(result.report.outcome, "failed")
      assert.deepStrictEqual(result.report.finalState, [])
      assert.isAtMost(elapsed, 15_000, `the report took ${elapsed / 1000} s`)
    }).pipe(Effect.provide(fake.layer))
  })
})

describe("wait settings are checked before anything is read", () => {
  it.effect("pollMs under 100 or a timeout that is not positive: BadInput, Marathon never asked", () => {
    let asked = 0
    const fake = fakeMarathon(() => ({ getApp: () => Effect.sync(() => ++asked).pipe(Effect.as(app(OLD))) }))
    const report = {
      schemaVersion: 1 as const,
      kind: "run" as const,
      user: "oncall",
      startedAt: "2024-05-01T00:00:00.000Z",
      finishedAt: "2024-05-01T00:01:00.000Z",
      durationMs: 60_000,
      point: plan.point,
      label: null,
      environment: null,
      marathon: "http://marathon.test",
      outcome: "succeeded" as const,
      message: "rolled back",
      deploymentId: "d-1",
      revertDeploymentId: null,
      durations: { deployMs: 1, waitMs: 1 },
      services: [{ service: "api", app: "/prod/api", action: "rollback" as const, before: OLD, after: TARGET, outcome: "rolled-back" as const }],
      finalState: []
    }
    return Effect.gen(function*() {
      for (const settings of [{ pollMs: 0 }, { pollMs: -5 }, { pollMs: 99 }, { timeoutMs: 0 }, { timeoutMs: -1000 }]) {
        const error = yield* Effect.flip(undoRollback(report, { user: "oncall", marathonUrl: "http://marathon.test", ...settings }))
        assert.strictEqual(error.kind, "BadInput", JSON.stringify(settings))
        assert.match(error.message, "pollMs" in settings ? /^pollMs -?\d+: expected at least 100 milliseconds/ : /^timeoutMs -?\d+: expected a positive time/)
      }
      assert.strictEqual(asked, 0)
    }).pipe(Effect.provide(fake.layer))
  })
})
