/**
 * @module SwarmTarget tests — the Swarm target through the Target contract against a REAL Docker
 * Engine (Debian docker.io, its own daemon and single-node swarm) with busybox-static images in
 * the real loopback registry: a stack rolled back to a point, guards that refuse what changed
 * meanwhile, lost answers never resent blindly, broken images failing with and without a revert,
 * our own timeout, and every refusal leaving every service's spec exactly as it was.
 */
import { Effect, Redacted } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { AppliedChange, ImageChange, TargetShape } from "../../lib/target/Target.ts"
import { Target } from "../../lib/target/Target.ts"
import type { TargetError } from "../../lib/target/TargetError.ts"
import type { Workload } from "../../lib/target/Workload.ts"
import { SwarmError } from "../../lib/targets/swarm/SwarmError.ts"
import { makeSwarmTarget, SwarmTarget } from "../../lib/targets/swarm/SwarmTarget.ts"
import type { SwarmConfig } from "../../lib/targets/swarm/SwarmTarget.ts"
import { makeTransport } from "../../lib/targets/swarm/Transport.ts"
import type { Transport } from "../../lib/targets/swarm/Transport.ts"
import { startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine, TestImageBehaviour } from "../support/DockerEngine.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"

let engine: DockerEngine
let registry: DockerRegistry
/** Pinned references (`host/shop/api:1.0@sha256:…`) by `repo:tag`. */
const images: Record<string, string> = {}

const IMAGES: ReadonlyArray<readonly [string, TestImageBehaviour]> = [
  ["api:1.0", "healthy"],
  ["api:1.1", "healthy"],
  ["api:1.2", "healthy"],
  ["web:1.0", "healthy"],
  ["web:1.1", "healthy"],
  ["worker:1.0", "healthy"],
  ["api:broken-health", "unhealthy"],
  ["api:broken-exit", "exits"],
  ["api:stuck", "stuck"]
]

beforeAll(async () => {
  ;[engine, registry] = await Promise.all([startDockerEngine(), startDockerRegistry()])
  for (const [name, behaviour] of IMAGES) images[name] = await engine.buildImage(`${registry.host}/shop/${name}`, behaviour)
}, 180_000)

afterAll(async () => {
  await Promise.all([engine?.stop(), registry?.stop()])
}, 120_000)

/** The tag form (`host/shop/api:1.0`) and digest of a built image. */
const tagged = (name: string) => {
  const pinned = images[name]!
  const at = pinned.indexOf("@")
  return { image: pinned.slice(0, at), digest: pinned.slice(at + 1) }
}

let stacks = 0
/** Creates a stack (`sN_api`, …) running the given images and waits until it runs them. */
const makeStack = async (members: Record<string, string>): Promise<string> => {
  const stack = `s${++stacks}`
  const names = Object.keys(members).map((m) => `${stack}_${m}`)
  await Promise.all(Object.entries(members).map(([m, name]) => engine.createService({ name: `${stack}_${m}`, stack, image: images[name]! })))
  await engine.waitConverged(names)
  return stack
}

interface Inspected {
  readonly ID: string
  readonly Version: { readonly Index: number }
  readonly Spec: { readonly Labels: Record<string, string>; readonly TaskTemplate: { readonly ContainerSpec: { readonly Image: string } } }
  readonly UpdateStatus?: { readonly State: string; readonly Message: string }
}
const inspect = async (name: string): Promise<Inspected> => engine.get(`/services/${name}`) as Promise<Inspected>
const snapshot = async (names: ReadonlyArray<string>) => Promise.all(names.map(async (n) => ({ name: n, ...(await inspect(n)) })))

const config = (extra: Partial<SwarmConfig> = {}): SwarmConfig => ({ docker: { host: engine.dockerHost }, ...extra })

/** Runs an effect against the target on the test engine. */
const run = <A>(effect: Effect.Effect<A, TargetError, Target>, extra: Partial<SwarmConfig> = {}): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.provide(SwarmTarget.layer(config(extra)))))
/** Runs an effect expected to fail; its error. */
const runFailing = <A>(effect: Effect.Effect<A, TargetError, Target>, extra: Partial<SwarmConfig> = {}): Promise<TargetError> =>
  Effect.runPromise(Effect.flip(effect.pipe(Effect.provide(SwarmTarget.layer(config(extra))))))

/** The target over a transport the test tampers with (lost answers, changes slipped in). */
const runWithTransport = <A>(wrap: (t: Transport) => Transport, body: (target: TargetShape) => Effect.Effect<A, TargetError>): Promise<A> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const transport = yield* makeTransport({ host: engine.dockerHost }).pipe(Effect.orDie)
    const target = yield* makeSwarmTarget(wrap(transport), config())
    return yield* body(target)
  })))

/** The error an effect must fail with (a success is a test failure). */
const failureOf = <A>(effect: Effect.Effect<A, TargetError>): Effect.Effect<TargetError> =>
  Effect.matchEffect(effect, { onFailure: Effect.succeed, onSuccess: () => Effect.die(new Error("expected a failure, it succeeded")) })

const isUpdate = (path: string, method: string) => method === "POST" && path.endsWith("/update")

const change = (workload: string, name: string, expected: string | undefined): ImageChange => ({ workload, ...tagged(name), expected })

const watchOptions = { timeoutMs: 120_000, pollMs: 250 }

describe("a stack rolled back to a point", () => {
  it("changed services run the old images pinned by the recorded digest; an unchanged service keeps its version and spec", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1", worker: "worker:1.0" })
    const [apiBefore, webBefore, workerBefore] = await snapshot([`${stack}_api`, `${stack}_web`, `${stack}_worker`])
    const changes = [change(`${stack}_api`, "api:1.0", images["api:1.2"]), change(`${stack}_web`, "web:1.0", images["web:1.1"])]
    const verified = await run(Effect.gen(function*() {
      const target = yield* Target
      const before = new Map((yield* target.listWorkloads({})).map((w) => [w.id, w]))
      const applied = yield* target.apply(changes, { force: false })
      assert.deepStrictEqual(applied.workloads.map((w) => [w.workload, w.state]), [[`${stack}_api`, "applied"], [`${stack}_web`, "applied"]])
      assert.deepStrictEqual([...applied.changeIds], [`${stack}_api`, `${stack}_web`])
      yield* target.watch(applied, watchOptions)
      return yield* target.verify(changes, before)
    }), { stack })
    assert.deepStrictEqual(verified.map((v) => [v.workload, v.ok, v.problem]), [[`${stack}_api`, true, undefined], [`${stack}_web`, true, undefined]])
    const [apiAfter, webAfter, workerAfter] = await snapshot([`${stack}_api`, `${stack}_web`, `${stack}_worker`])
    // the pinned form, with the digest rollback.json recorded, as the docker CLI sends it
    assert.strictEqual(apiAfter!.Spec.TaskTemplate.ContainerSpec.Image, images["api:1.0"])
    assert.strictEqual(webAfter!.Spec.TaskTemplate.ContainerSpec.Image, images["web:1.0"])
    // nothing but the image changed in the specs that were updated
    for (const [before, after] of [[apiBefore!, apiAfter!], [webBefore!, webAfter!]] as const) {
      assert.deepStrictEqual(
        { ...after.Spec, TaskTemplate: { ...after.Spec.TaskTemplate, ContainerSpec: { ...after.Spec.TaskTemplate.ContainerSpec, Image: "" } } },
        { ...before.Spec, TaskTemplate: { ...before.Spec.TaskTemplate, ContainerSpec: { ...before.Spec.TaskTemplate.ContainerSpec, Image: "" } } }
      )
    }
    assert.deepStrictEqual(workerAfter, workerBefore, "the unchanged service was touched")
  })

  it("the services to change are read in ONE listing before the updates, not one request each", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1", worker: "worker:1.0" })
    const reads: Array<string> = []
    const changes = [change(`${stack}_api`, "api:1.0", images["api:1.2"]), change(`${stack}_web`, "web:1.0", images["web:1.1"])]
    const applied = await runWithTransport((t) => ({
      ...t,
      send: (request) => {
        if (request.method === "GET") reads.push(request.path)
        return t.send(request)
      }
    }), (target) => target.apply(changes, { force: false }))
    assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied", "applied"])
    assert.deepStrictEqual(reads.filter((p) => p.startsWith("/services")), ["/services"])
    await engine.waitConverged([`${stack}_api`, `${stack}_web`])
  })

  it("the end of an update is seen from the engine's service events, not at the next poll", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1" })
    const changes = [change(`${stack}_api`, "api:1.0", images["api:1.2"]), change(`${stack}_web`, "web:1.0", images["web:1.1"])]
    const verified = await run(Effect.gen(function*() {
      const target = yield* Target
      const before = new Map((yield* target.listWorkloads({})).map((w) => [w.id, w]))
      const applied = yield* target.apply(changes, { force: false })
      // a poll every ten minutes: only the events can end this wait within the test's time
      yield* target.watch(applied, { timeoutMs: 120_000, pollMs: 600_000 })
      return yield* target.verify(changes, before)
    }), { stack })
    assert.deepStrictEqual(verified.map((v) => [v.workload, v.ok]), [[`${stack}_api`, true], [`${stack}_web`, true]])
  })

  it("the digest rollback.json recorded is what runs, even when the tag moved since; without one the registry's digest is pinned, as the docker CLI does", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1" })
    // the tag `web:release` now points at web:1.1, but rollback.json recorded web:1.0's digest for it
    const moved = `${registry.host}/shop/web:release`
    await engine.docker(["tag", tagged("web:1.1").image, moved])
    await engine.docker(["push", "--quiet", moved])
    const changes: Array<ImageChange> = [
      { workload: `${stack}_web`, image: moved, digest: tagged("web:1.0").digest, expected: images["web:1.1"] },
      { workload: `${stack}_api`, image: tagged("api:1.0").image, expected: images["api:1.2"] }
    ]
    await run(Effect.gen(function*() {
      const target = yield* Target
      yield* target.watch(yield* target.apply(changes, { force: false }), watchOptions)
    }))
    assert.strictEqual((await inspect(`${stack}_web`)).Spec.TaskTemplate.ContainerSpec.Image, `${moved}@${tagged("web:1.0").digest}`)
    assert.strictEqual((await inspect(`${stack}_api`)).Spec.TaskTemplate.ContainerSpec.Image, images["api:1.0"])
  })

  it("lists every service with its image, version and health, in scope by stack and label selector", async () => {
    const stack = await makeStack({ api: "api:1.1" })
    const other = await makeStack({ api: "api:1.0" })
    const workloads = await run(Effect.flatMap(Target, (t) => t.listWorkloads({})), { stack })
    const byId = new Map<string, Workload>(workloads.map((w) => [w.id, w]))
    const mine = byId.get(`${stack}_api`)!
    assert.strictEqual(mine.kind, "service")
    assert.strictEqual(mine.image, images["api:1.1"])
    assert.strictEqual(mine.revision, String((await inspect(`${stack}_api`)).Version.Index))
    assert.deepStrictEqual([mine.health.desired, mine.health.running, mine.health.healthy], [1, 1, 1])
    assert.isTrue(mine.inScope)
    assert.isFalse(byId.get(`${other}_api`)!.inScope)
    const selected = await run(Effect.flatMap(Target, (t) => t.listWorkloads({ labelSelector: `com.docker.stack.namespace=${other}` })))
    assert.deepStrictEqual(selected.filter((w) => w.inScope).map((w) => w.id), [`${other}_api`])
  })
})

describe("history: what each service ran, as far as the engine remembers", () => {
  it("the tasks still listed tell each image a service ran and since when, oldest first; the note says how far that goes", async () => {
    const stack = await makeStack({ api: "api:1.0" })
    const name = `${stack}_api`
    for (const next of ["api:1.1", "api:1.2"]) {
      await run(Effect.gen(function*() {
        const target = yield* Target
        const current = yield* target.getWorkload(name)
        yield* target.watch(yield* target.apply([{ workload: name, image: images[next]!, expected: current.image }], { force: false }), watchOptions)
      }))
    }
    const tasks = await engine.get(`/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [name] }))}`) as Array<{ CreatedAt: string; Spec: { ContainerSpec: { Image: string } } }>
    const made = (image: string) => Math.min(...tasks.filter((t) => t.Spec.ContainerSpec.Image === image).map((t) => Date.parse(t.CreatedAt)))
    const memory = await run(Effect.gen(function*() {
      const target = yield* Target
      return yield* target.history!([{ workload: name }])
    }))
    assert.deepStrictEqual(memory.entries.map((e) => e.image), [images["api:1.0"], images["api:1.1"], images["api:1.2"]])
    assert.deepStrictEqual(memory.entries.map((e) => e.at), [made(images["api:1.0"]!), made(images["api:1.1"]!), made(images["api:1.2"]!)])
    assert.isTrue(memory.entries[0]!.at < memory.entries[1]!.at && memory.entries[1]!.at < memory.entries[2]!.at)
    assert.include(memory.note ?? "", "one previous spec")
  })
})

describe("guards: what changed meanwhile is refused, not overwritten", () => {
  it("a service whose image someone changed after the plan is refused and left as they left it; the others are applied", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1" })
    await engine.docker(["service", "update", "--detach", "--quiet", "--image", images["api:1.1"]!, `${stack}_api`])
    // their update finished (its UpdateStatus no longer moves), so what is compared below is only ours
    await engine.waitConverged([`${stack}_api`])
    const theirs = await inspect(`${stack}_api`)
    const applied = await run(Effect.flatMap(Target, (t) =>
      t.apply([change(`${stack}_api`, "api:1.0", images["api:1.2"]), change(`${stack}_web`, "web:1.0", images["web:1.1"])], { force: false })
    ))
    assert.deepStrictEqual(applied.workloads.map((w) => [w.workload, w.state]), [[`${stack}_api`, "refused"], [`${stack}_web`, "applied"]])
    assert.match(applied.workloads[0]!.problem!, /someone changed it/)
    assert.deepStrictEqual(await inspect(`${stack}_api`), theirs)
  })

  it("a stale version (the engine's 500 'update out of sequence') after someone's label change: read again, retried once, their change kept", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    const seen: Array<string> = []
    let slipped = false
    const applied = await runWithTransport((t) => ({
      ...t,
      send: (request) =>
        Effect.gen(function*() {
          if (isUpdate(request.path, request.method) && !slipped) {
            slipped = true
            yield* Effect.promise(() => engine.docker(["service", "update", "--detach", "--quiet", "--label-add", "changed-by=someone", `${stack}_api`]))
          }
          return yield* t.send(request).pipe(Effect.tapError((e) => Effect.sync(() => seen.push(`${e.reason} ${e.status}`))))
        })
    }), (target) => target.apply([change(`${stack}_api`, "api:1.0", images["api:1.2"])], { force: false }))
    assert.deepStrictEqual(seen, ["OutOfSequence 500"])
    assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied"])
    const after = await inspect(`${stack}_api`)
    assert.strictEqual(after.Spec.TaskTemplate.ContainerSpec.Image, images["api:1.0"])
    assert.strictEqual(after.Spec.Labels["changed-by"], "someone")
  })

  it("undo after someone changed the service since the run: a guarded update back to the image, their change kept (not rollback=previous, which would now go back to the run's own spec)", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    const name = `${stack}_api`
    await run(Effect.gen(function*() {
      const target = yield* Target
      yield* target.watch(yield* target.apply([change(name, "api:1.0", images["api:1.2"])], { force: false }), watchOptions)
    }))
    await engine.docker(["service", "update", "--quiet", "--label-add", "changed-by=someone", name])
    const back: ImageChange = { workload: name, ...tagged("api:1.2"), expected: images["api:1.0"] }
    const undone = await run(Effect.gen(function*() {
      const target = yield* Target
      const applied = yield* target.apply([back], { force: false, purpose: "undo" })
      yield* target.watch(applied, watchOptions)
      return applied
    }))
    assert.isUndefined(undone.note, "no rollback=previous")
    const after = await inspect(name)
    assert.strictEqual(after.Spec.TaskTemplate.ContainerSpec.Image, images["api:1.2"])
    assert.strictEqual(after.Spec.Labels["changed-by"], "someone")
    assert.strictEqual(after.UpdateStatus?.State, "completed")
  })

  it("a stale version after someone's image change: refused, their image kept", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    let slipped = false
    const applied = await runWithTransport((t) => ({
      ...t,
      send: (request) =>
        Effect.gen(function*() {
          if (isUpdate(request.path, request.method) && !slipped) {
            slipped = true
            yield* Effect.promise(() => engine.docker(["service", "update", "--detach", "--quiet", "--image", images["api:1.1"]!, `${stack}_api`]))
          }
          return yield* t.send(request)
        })
    }), (target) => target.apply([change(`${stack}_api`, "api:1.0", images["api:1.2"])], { force: false }))
    assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["refused"])
    assert.strictEqual((await inspect(`${stack}_api`)).Spec.TaskTemplate.ContainerSpec.Image, images["api:1.1"])
  })
})

describe("lost answers are never resent blindly", () => {
  it("an update that reached the engine but whose answer was lost is found applied by reading the service; sent once", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    let updates = 0
    const applied = await runWithTransport((t) => ({
      ...t,
      send: (request) =>
        isUpdate(request.path, request.method)
          ? t.send(request).pipe(
            Effect.tap(() => Effect.sync(() => updates++)),
            Effect.andThen(Effect.fail(new SwarmError({ reason: "Timeout", noAnswer: true, message: "updating: no answer (test)" })))
          )
          : t.send(request)
    }), (target) => target.apply([change(`${stack}_api`, "api:1.0", images["api:1.2"])], { force: false }))
    assert.strictEqual(updates, 1)
    assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied"])
    assert.match(applied.workloads[0]!.problem!, /answer was lost/)
    assert.strictEqual((await inspect(`${stack}_api`)).Spec.TaskTemplate.ContainerSpec.Image, images["api:1.0"])
  })

  it("an update lost before it reached the engine (version unmoved) is sent again on the same version, once", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    const before = await inspect(`${stack}_api`)
    const versions: Array<string | undefined> = []
    const applied = await runWithTransport((t) => ({
      ...t,
      send: (request) => {
        if (!isUpdate(request.path, request.method)) return t.send(request)
        versions.push(request.query?.["version"])
        return versions.length === 1
          ? Effect.fail(new SwarmError({ reason: "Unreachable", noAnswer: true, message: "updating: connection reset (test)" }))
          : t.send(request)
      }
    }), (target) => target.apply([change(`${stack}_api`, "api:1.0", images["api:1.2"])], { force: false }))
    assert.deepStrictEqual(versions, [String(before.Version.Index), String(before.Version.Index)])
    assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied"])
  })
})

describe("broken images", () => {
  it("without a revert: the update fails with the task errors and the service is left paused on the broken image", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    const error = await runFailing(Effect.gen(function*() {
      const target = yield* Target
      const applied = yield* target.apply([change(`${stack}_api`, "api:broken-exit", images["api:1.2"])], { force: false })
      yield* target.watch(applied, watchOptions)
    }))
    assert.strictEqual(error.reason, "RolloutFailed")
    assert.deepStrictEqual(error.workloads, [`${stack}_api`])
    assert.match(error.message, /paused the update/)
    assert.match(error.message, /task [0-9a-z]{12} .*failed.*exit code 3|non-zero exit \(3\)/)
    const after = await inspect(`${stack}_api`)
    assert.strictEqual(after.UpdateStatus?.State, "paused")
    assert.strictEqual(after.Spec.TaskTemplate.ContainerSpec.Image, images["api:broken-exit"])
  })

  it("with a revert: rollback=previous puts the previous spec back exactly, watched and verified", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1" })
    const [original] = await snapshot([`${stack}_api`])
    const { verified, revertedIds } = await run(Effect.gen(function*() {
      const target = yield* Target
      const before = new Map((yield* target.listWorkloads({})).map((w) => [w.id, w]))
      const applied = yield* target.apply([change(`${stack}_api`, "api:broken-health", images["api:1.2"])], { force: false })
      const failed = yield* failureOf(target.watch(applied, watchOptions))
      assert.strictEqual(failed.reason, "RolloutFailed")
      const back: Array<ImageChange> = [{ workload: `${stack}_api`, image: images["api:1.2"]! }]
      const reverted = yield* target.revert({ applied, stillInProgress: yield* target.inProgress(applied), back, force: false })
      yield* target.watch(reverted.applied!, watchOptions)
      return { verified: yield* target.verify(back, before), revertedIds: reverted.applied!.changeIds }
    }))
    assert.deepStrictEqual(revertedIds, [`${stack}_api`])
    assert.deepStrictEqual(verified.map((v) => [v.workload, v.ok]), [[`${stack}_api`, true]])
    const after = await inspect(`${stack}_api`)
    assert.deepStrictEqual(after.Spec, original!.Spec)
    assert.strictEqual(after.UpdateStatus?.State, "rollback_completed")
  })

  it("an update that never converges ends with our own timeout, still in progress, and can be reverted", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    const [original] = await snapshot([`${stack}_api`])
    await run(Effect.gen(function*() {
      const target = yield* Target
      const applied: AppliedChange = yield* target.apply([change(`${stack}_api`, "api:stuck", images["api:1.2"])], { force: false })
      const timedOut = yield* failureOf(target.watch(applied, { timeoutMs: 2_000, pollMs: 250 }))
      assert.strictEqual(timedOut.reason, "Timeout")
      assert.deepStrictEqual(timedOut.workloads, [`${stack}_api`])
      assert.isTrue(yield* target.inProgress(applied))
      const reverted = yield* target.revert({ applied, stillInProgress: true, back: [{ workload: `${stack}_api`, image: images["api:1.2"]! }], force: false })
      yield* target.watch(reverted.applied!, watchOptions)
    }))
    assert.deepStrictEqual((await inspect(`${stack}_api`)).Spec, original!.Spec)
  })
})

describe("every refusal leaves every service's spec exactly as it was", () => {
  it("an unknown service, plan guards that all fail, an image the engine refuses, a dry run, --force, a bad selector: nothing changed", async () => {
    const stack = await makeStack({ api: "api:1.2", web: "web:1.1", worker: "worker:1.0" })
    const names = [`${stack}_api`, `${stack}_web`, `${stack}_worker`]
    const before = await snapshot(names)
    const valid = [change(`${stack}_api`, "api:1.0", images["api:1.2"]), change(`${stack}_web`, "web:1.0", images["web:1.1"])]

    const unknown = await runFailing(Effect.flatMap(Target, (t) => t.apply([...valid, change(`${stack}_gone`, "api:1.0", undefined)], { force: false })))
    assert.strictEqual(unknown.reason, "NotFound")
    assert.deepStrictEqual(unknown.workloads, [`${stack}_gone`])
    // the engine's name filter matches prefixes: a prefix of a service's name is not that service
    const prefix = await runFailing(Effect.flatMap(Target, (t) => t.apply([change(`${stack}_ap`, "api:1.0", undefined)], { force: false })))
    assert.strictEqual(prefix.reason, "NotFound")
    assert.deepStrictEqual(prefix.workloads, [`${stack}_ap`])

    const guarded = await run(Effect.flatMap(Target, (t) =>
      t.apply([change(`${stack}_api`, "api:1.0", images["api:1.1"]), change(`${stack}_web`, "web:1.0", images["web:1.0"])], { force: false })
    ))
    assert.deepStrictEqual(guarded.workloads.map((w) => w.state), ["refused", "refused"])
    assert.deepStrictEqual(guarded.changeIds, [])

    // an image reference the engine refuses (400): every service refused by the engine = the apply fails as the engine said
    const invalid = await runFailing(Effect.flatMap(Target, (t) =>
      t.apply([{ workload: `${stack}_api`, image: `${registry.host}/shop/API:Not A Tag`, expected: images["api:1.2"] }], { force: false })
    ))
    assert.strictEqual(invalid.reason, "Invalid")
    assert.match(invalid.message, /updating service \S+_api: the engine answered 400/)

    const dryRun = await runFailing(Effect.flatMap(Target, (t) => t.apply(valid, { force: false, dryRun: true })))
    assert.strictEqual(dryRun.reason, "Unsupported")
    const forced = await runFailing(Effect.flatMap(Target, (t) => t.apply(valid, { force: true })))
    assert.strictEqual(forced.reason, "Unsupported")
    const selector = await runFailing(Effect.flatMap(Target, (t) => t.apply(valid, { force: false })), { labelSelector: "tier in (a,b)" })
    assert.strictEqual(selector.reason, "Invalid")
    assert.match(selector.message, /key or key=value/)

    assert.deepStrictEqual(await snapshot(names), before)
  })
})

describe("registry credentials go to the engine as X-Registry-Auth", () => {
  const user = { username: "deployer", password: "s3cret-Pa55word" }
  let privateRegistry: DockerRegistry
  let privateImage: string

  beforeAll(async () => {
    privateRegistry = await startDockerRegistry({ auth: "htpasswd", users: [user] })
    await engine.login(privateRegistry.host, user.username, user.password)
    privateImage = await engine.buildImage(`${privateRegistry.host}/shop/api:2.0-private`, "healthy")
  }, 120_000)

  afterAll(async () => {
    await privateRegistry?.stop()
  })

  const toPrivate = (stack: string): ImageChange => {
    const at = privateImage.indexOf("@")
    return { workload: `${stack}_api`, image: privateImage.slice(0, at), digest: privateImage.slice(at + 1), expected: images["api:1.2"] }
  }

  /** The engine keeps what it built or pulled and runs it without pulling: forget it so the next task must pull. */
  const forgetPrivateImage = async () => {
    await engine.docker(["image", "rm", "--force", privateImage, privateImage.slice(0, privateImage.indexOf("@"))]).catch(() => "")
  }

  it("without them the engine cannot pull: the update fails naming the task error", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    await forgetPrivateImage()
    const error = await runFailing(Effect.gen(function*() {
      const target = yield* Target
      yield* target.watch(yield* target.apply([toPrivate(stack)], { force: false }), watchOptions)
    }))
    assert.strictEqual(error.reason, "RolloutFailed")
    // the engine logs the refused pull and reports the task's last error: the image is not there
    assert.match(error.message, /rejected: No such image: 127\.0\.0\.1:\d+\/shop\/api:2\.0-private@sha256:/)
  })

  it("with the registry's credentials the engine pulls from a registry that needs a login; the password appears nowhere", async () => {
    const stack = await makeStack({ api: "api:1.2" })
    await forgetPrivateImage()
    const asked: Array<string> = []
    const applied = await run(Effect.gen(function*() {
      const target = yield* Target
      const applied = yield* target.apply([toPrivate(stack)], { force: false })
      yield* target.watch(applied, watchOptions)
      return applied
    }), {
      registryCredentials: (host) =>
        Effect.sync(() => {
          asked.push(host)
          return host === privateRegistry.host ? { username: user.username, password: Redacted.make(user.password) } : undefined
        })
    })
    assert.deepStrictEqual(asked, [privateRegistry.host])
    assert.strictEqual((await inspect(`${stack}_api`)).Spec.TaskTemplate.ContainerSpec.Image, privateImage)
    assert.notInclude(JSON.stringify(applied), user.password)
    assert.notInclude(JSON.stringify(await inspect(`${stack}_api`)), user.password)
  })
})
