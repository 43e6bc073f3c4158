/**
 * @module MarathonTarget.sandbox.test — Marathon as a deployment Target over real HTTP against the
 * sandbox on loopback: workloads as the contract shapes them (scope marked, one container, health,
 * revision, failure marker), apply = ONE array PUT, watch, inProgress, verify, revert by cancel
 * with rollback and by redeploying, error mapping, and what it declares it cannot do.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { Target } from "../../lib/target/Target.ts"
import { MarathonTarget } from "../../lib/targets/marathon/MarathonTarget.ts"

const REGISTRY = "registry.example.com:5000"
const img = (name: string, tag: string) => `${REGISTRY}/shop/${name}:${tag}`

const fleet = (): ReadonlyArray<Record<string, unknown>> => [
  {
    id: "/prod/shop/api",
    instances: 2,
    labels: { env: "prod" },
    container: { type: "DOCKER", docker: { image: img("api", "100-master") }, volumes: [{ containerPath: "/var/cache/api", hostPath: "/srv/api-cache", mode: "RW" }] },
    healthChecks: [{ protocol: "MESOS_HTTP", path: "/health", portIndex: 0, gracePeriodSeconds: 30 }]
  },
  { id: "/prod/shop/web", instances: 1, labels: { env: "prod" }, container: { type: "DOCKER", docker: { image: img("web", "100-master") } } },
  { id: "/stage/shop/web", instances: 1, labels: { env: "stage" }, container: { type: "DOCKER", docker: { image: img("web", "100-master") } } }
]

const running: Array<MarathonSandbox> = []
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop().catch(() => undefined)))
})

const withTarget = <A, E>(options: { readonly brokenImages?: ReadonlyArray<string>; readonly deploymentMs?: number }, test: (sandbox: MarathonSandbox) => Effect.Effect<A, E, Target>) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const sandbox = await startMarathonSandbox({ apps: fleet(), deploymentMs: options.deploymentMs ?? 150, brokenImages: options.brokenImages ?? [] })
      running.push(sandbox)
      return sandbox
    }),
    (sandbox) => test(sandbox).pipe(Effect.provide(MarathonTarget.layerFromConfig({ url: sandbox.url }).pipe(Layer.provide(FetchHttpClient.layer)))),
    (sandbox) => Effect.promise(() => sandbox.stop())
  )

const imageOf = (sandbox: MarathonSandbox, id: string) => String(((sandbox.app(id)?.["container"] as { docker: { image: string } }).docker.image))

describe("Marathon as a Target", () => {
  it.live("lists every app as a workload, marked in or out of the scope (group and label selector)", () =>
    withTarget({}, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const workloads = yield* target.listWorkloads({ idPrefix: "/prod", labelSelector: "env==prod" })
        assert.deepStrictEqual(workloads.map((w) => [w.id, w.inScope]), [["/prod/shop/api", true], ["/prod/shop/web", true], ["/stage/shop/web", false]])
        const api = workloads[0]!
        assert.strictEqual(api.kind, "app")
        assert.deepStrictEqual(api.containers, [{ name: "api", image: img("api", "100-master") }])
        assert.strictEqual(api.image, img("api", "100-master"))
        assert.deepStrictEqual({ desired: api.health.desired, running: api.health.running, healthy: api.health.healthy }, { desired: 2, running: 2, healthy: 2 })
        assert.isString(api.revision)
        assert.deepStrictEqual(target.description, { kind: "marathon", url: sandbox.url })
        assert.deepStrictEqual(target.capabilities, { force: true, revert: true, serverDryRun: false, watch: true, pinDigest: true })
      })))

  it.live("a malformed label selector is Invalid with Marathon's forms, before anything is read", () =>
    withTarget({}, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const before = sandbox.requests.length
        const error = yield* Effect.flip(target.listWorkloads({ labelSelector: "env in (prod" }))
        assert.strictEqual(error.reason, "Invalid")
        assert.include(error.message, "expected Marathon's forms key, key==value")
        assert.strictEqual(sandbox.requests.length, before)
      })))

  it.live("apply sends ONE array PUT for every change; watch waits for the deployment; verify finds every workload healthy on its image", () =>
    withTarget({}, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const before = new Map((yield* target.listWorkloads({})).map((w) => [w.id, w]))
        const changes = [
          { workload: "/prod/shop/api", image: img("api", "99-master"), expected: img("api", "100-master") },
          { workload: "/prod/shop/web", image: img("web", "99-master"), expected: img("web", "100-master") }
        ]
        const applied = yield* target.apply(changes, { force: false })
        const puts = sandbox.requests.filter((r) => r.method === "PUT")
        assert.strictEqual(puts.length, 1)
        assert.strictEqual((puts[0]!.body as ReadonlyArray<unknown>).length, 2)
        assert.strictEqual(applied.changeIds.length, 1)
        assert.deepStrictEqual(applied.workloads.map((w) => [w.workload, w.state]), [["/prod/shop/api", "applied"], ["/prod/shop/web", "applied"]])
        assert.isTrue(yield* target.inProgress(applied))
        const seen: Array<string> = []
        yield* target.watch(applied, { timeoutMs: 30_000, pollMs: 100, onProgress: (p) => seen.push(p.summary) })
        assert.isFalse(yield* target.inProgress(applied))
        const verified = yield* target.verify(changes, before)
        assert.deepStrictEqual(verified.map((v) => [v.workload, v.ok]), [["/prod/shop/api", true], ["/prod/shop/web", true]])
        assert.strictEqual(imageOf(sandbox, "/prod/shop/api"), img("api", "99-master"))
        // the whole container was kept: only the image changed
        assert.deepStrictEqual((sandbox.app("/prod/shop/api")?.["container"] as { volumes: unknown }).volumes, [{ containerPath: "/var/cache/api", hostPath: "/srv/api-cache", mode: "RW" }])
      })))

  it.live("a broken image: watch times out (Timeout, Marathon's message), verify says what is wrong, revert cancels with rollback and the old image is back", () =>
    withTarget({ brokenImages: [img("api", "98-broken")] }, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const before = new Map((yield* target.listWorkloads({})).map((w) => [w.id, w]))
        const changes = [{ workload: "/prod/shop/api", image: img("api", "98-broken") }]
        const applied = yield* target.apply(changes, { force: false })
        const timedOut = yield* Effect.flip(target.watch(applied, { timeoutMs: 600, pollMs: 100 }))
        assert.strictEqual(timedOut.reason, "Timeout")
        assert.include(timedOut.message, "Marathon has no deployment timeout")
        assert.isTrue(yield* target.inProgress(applied))
        const verified = yield* target.verify(changes, before)
        assert.isFalse(verified[0]!.ok)
        const back = [{ workload: "/prod/shop/api", image: img("api", "100-master") }]
        const reverted = yield* target.revert({ applied, stillInProgress: true, back, force: false })
        assert.isDefined(reverted.applied)
        assert.notStrictEqual(reverted.applied!.changeIds[0], applied.changeIds[0])
        assert.isTrue(sandbox.requests.some((r) => r.method === "DELETE" && r.path.startsWith("/v2/deployments/")))
        yield* target.watch(reverted.applied!, { timeoutMs: 30_000, pollMs: 100 })
        assert.strictEqual(imageOf(sandbox, "/prod/shop/api"), img("api", "100-master"))
      })))

  it.live("revert after a finished change deploys the previous images again (and says so)", () =>
    withTarget({}, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const changes = [{ workload: "/prod/shop/web", image: img("web", "99-master") }]
        const applied = yield* target.apply(changes, { force: false })
        yield* target.watch(applied, { timeoutMs: 30_000, pollMs: 100 })
        const reverted = yield* target.revert({ applied, stillInProgress: false, back: [{ workload: "/prod/shop/web", image: img("web", "100-master") }], force: false })
        assert.include(reverted.note ?? "", "the previous images were deployed again as deployment")
        yield* target.watch(reverted.applied!, { timeoutMs: 30_000, pollMs: 100 })
        assert.strictEqual(imageOf(sandbox, "/prod/shop/web"), img("web", "100-master"))
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "DELETE").length, 0)
      })))

  it.live("errors keep Marathon's words with the contract's reasons: a missing app is NotFound, a dry run is Unsupported and sends nothing", () =>
    withTarget({}, (sandbox) =>
      Effect.gen(function*() {
        const target = yield* Target
        const missing = yield* Effect.flip(target.getWorkload("/prod/shop/nope"))
        assert.strictEqual(missing.reason, "NotFound")
        assert.include(missing.message, "reading app /prod/shop/nope")
        const dry = yield* Effect.flip(target.apply([{ workload: "/prod/shop/web", image: img("web", "99-master") }], { force: false, dryRun: true }))
        assert.strictEqual(dry.reason, "Unsupported")
        assert.isFalse(sandbox.requests.some((r) => r.method === "PUT"))
      })))
})
