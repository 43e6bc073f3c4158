/**
 * @module KubernetesTarget.test — the Kubernetes target through the Target contract, over real
 * HTTPS against the sandbox: a namespace of mixed kinds rolled back to a point (unchanged
 * workloads untouched), a workload changed between plan and apply refused, RBAC 403 on one
 * workload, a broken image failing with and without revert, a lost answer, server dry-run,
 * OnDelete, and every refusal leaving the sandbox exactly as it was.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ImageChange } from "../../lib/target/Target.ts"
import { makeCredentials } from "../../lib/targets/kubernetes/Credentials.ts"
import { loadClusterAccess } from "../../lib/targets/kubernetes/Kubeconfig.ts"
import { makeKubernetesTargetFor } from "../../lib/targets/kubernetes/KubernetesTarget.ts"
import { makeTransport } from "../../lib/targets/kubernetes/Transport.ts"
import { imageIn, R, startTestCluster, targetFor, type TestCluster } from "./support.ts"

const WATCH = { timeoutMs: 20_000, pollMs: 50 }

/** Resolves once a Deployment of the shop's namespace runs its current template on every replica (polled, 20 s at most). */
const rolledOut = async (c: TestCluster, name: string): Promise<void> => {
  for (let i = 0; i < 400; i++) {
    const d = c.sandbox.object("Deployment", "shop", name)!
    const s = d.status ?? {}
    if (s.observedGeneration === d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas && (s.unavailableReplicas ?? 0) === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${name} did not finish rolling out`)
}

describe("Kubernetes target on the sandbox", () => {
  let c: TestCluster
  beforeEach(async () => {
    c = await startTestCluster()
  })
  afterEach(() => c.close())

  it.live("lists the three kinds with containers and init containers, and CronJobs and bare Pods as not handled, with why", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      const workloads = yield* target.listWorkloads({})
      const ids = workloads.map((w) => w.id).sort()
      assert.deepStrictEqual(ids, ["shop/CronJob/report", "shop/DaemonSet/agent", "shop/Deployment/api", "shop/Deployment/cart", "shop/Deployment/web", "shop/Pod/debug", "shop/StatefulSet/db"])
      const web = workloads.find((w) => w.id === "shop/Deployment/web")!
      assert.deepStrictEqual(web.containers, [{ name: "web", image: `${R}/web:18` }, { name: "proxy", image: `${R}/proxy:3` }, { name: "migrate", image: `${R}/web-migrate:18`, init: true }])
      assert.strictEqual(web.image, `${R}/web:18`)
      assert.deepStrictEqual({ desired: web.health.desired, healthy: web.health.healthy }, { desired: 2, healthy: 2 })
      assert.include(workloads.find((w) => w.id === "shop/CronJob/report")!.notHandled!, "CronJob")
      assert.include(workloads.find((w) => w.id === "shop/Pod/debug")!.notHandled!, "bare Pod")
      const back = yield* target.listWorkloads({ labelSelector: "tier=back" })
      assert.deepStrictEqual(back.filter((w) => w.inScope).map((w) => w.id).sort(), ["shop/Deployment/api", "shop/Deployment/cart"])
      const both = yield* targetFor(c.kubeconfig, { namespaces: ["shop", "other"] })
      assert.ok((yield* both.listWorkloads({})).some((w) => w.id === "other/Deployment/web"))
    }))

  it.live("rolls a namespace of mixed kinds back to a point: one guarded patch each, waited together; unchanged workloads keep their resourceVersion", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      const cartBefore = c.sandbox.object("Deployment", "shop", "cart")!.metadata.resourceVersion
      const changes: Array<ImageChange> = [
        { workload: "shop/Deployment/web", image: `${R}/web:17`, expected: `${R}/web:18` },
        { workload: "shop/Deployment/web", container: "migrate", image: `${R}/web-migrate:17`, expected: `${R}/web-migrate:18` },
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/StatefulSet/db", image: `${R}/db:4`, expected: `${R}/db:5` },
        { workload: "shop/DaemonSet/agent", image: `${R}/agent:1`, expected: `${R}/agent:2` }
      ]
      const applied = yield* target.apply(changes, { force: false, cause: "fleet-rollback to 2026-12-03 (yesterday) by alice" })
      assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied", "applied", "applied", "applied"])
      assert.strictEqual(applied.changeIds.length, 4)
      assert.match(applied.changeIds[0]!, /^shop\/Deployment\/web@\d+$/)
      const patches = c.sandbox.requests.filter((r) => r.method === "PATCH")
      assert.strictEqual(patches.length, 4, "one patch per workload")
      assert.ok(patches.every((p) => p.contentType === "application/json-patch+json" && p.query.includes("fieldManager=fleet-rollback")))
      assert.ok((patches[0]!.body as Array<{ op: string }>).some((op) => op.op === "test"))
      yield* target.watch(applied, WATCH)
      const verified = yield* target.verify(changes, new Map())
      assert.ok(verified.every((v) => v.ok), JSON.stringify(verified))
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "web"), `${R}/web:17`)
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "web", "migrate"), `${R}/web-migrate:17`)
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "web", "proxy"), `${R}/proxy:3`, "the sidecar is left alone")
      assert.strictEqual(imageIn(c.sandbox, "StatefulSet", "shop", "db"), `${R}/db:4`)
      assert.strictEqual(imageIn(c.sandbox, "DaemonSet", "shop", "agent"), `${R}/agent:1`)
      const web = c.sandbox.object("Deployment", "shop", "web")!
      assert.strictEqual(web.metadata.annotations["kubernetes.io/change-cause"], "fleet-rollback to 2026-12-03 (yesterday) by alice")
      assert.ok(web.metadata.managedFields.some((m: { manager: string }) => m.manager === "fleet-rollback"))
      assert.strictEqual(c.sandbox.object("Deployment", "shop", "cart")!.metadata.resourceVersion, cartBefore, "cart was not in the change: not written")
    }))

  it.live("a workload changed between plan and apply is refused and left as it is; the others go on", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      c.sandbox.setImage("Deployment", "shop", "api", "api", `${R}/api:43-hotfix`)
      // their rollout finishes first (its status moves on the sandbox's clock), so what is compared below is only ours
      yield* Effect.promise(() => rolledOut(c, "api"))
      const apiBefore = c.sandbox.object("Deployment", "shop", "api")
      const applied = yield* target.apply([
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/Deployment/cart", image: `${R}/cart:6`, expected: `${R}/cart:7` }
      ], { force: false, cause: "test" })
      const api = applied.workloads.find((w) => w.workload === "shop/Deployment/api")!
      assert.strictEqual(api.state, "refused")
      assert.include(api.problem!, `runs ${R}/api:43-hotfix now, the plan expected ${R}/api:42`)
      assert.include(api.problem!, "kubectl-set", "names who changed it")
      assert.strictEqual(applied.workloads.find((w) => w.workload === "shop/Deployment/cart")!.state, "applied")
      assert.deepStrictEqual(c.sandbox.object("Deployment", "shop", "api"), apiBefore, "the refused workload is exactly as it was")
    }))

  it.live("every refusal leaves the sandbox exactly as it was (snapshot compare)", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      c.sandbox.setImage("Deployment", "shop", "api", "api", `${R}/api:43-hotfix`)
      c.sandbox.forbid({ user: "alice", verb: "patch", resource: "statefulsets" })
      yield* Effect.promise(() => settle(c))
      const before = c.sandbox.snapshot()
      const applied = yield* target.apply([
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/StatefulSet/db", image: `${R}/db:4`, expected: `${R}/db:5` }
      ], { force: false, cause: "test" })
      assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["refused", "refused"])
      assert.deepStrictEqual(c.sandbox.snapshot(), before)
      const unknownContainer = yield* Effect.flip(target.apply([{ workload: "shop/Deployment/cart", container: "nope", image: `${R}/cart:6` }], { force: false }))
      assert.strictEqual(unknownContainer.reason, "Invalid")
      assert.include(unknownContainer.message, `has no container "nope" (it has: cart)`)
      const forced = yield* Effect.flip(target.apply([{ workload: "shop/Deployment/cart", image: `${R}/cart:6` }], { force: true }))
      assert.strictEqual(forced.reason, "Unsupported")
      assert.deepStrictEqual(c.sandbox.snapshot(), before)
    }))

  it.live("RBAC 403 on one workload: refused with the verb and resource missing; the others are applied", () =>
    Effect.gen(function*() {
      c.sandbox.forbid({ user: "alice", verb: "patch", resource: "deployments", namespace: "shop", name: "api" })
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      const applied = yield* target.apply([
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/Deployment/cart", image: `${R}/cart:6`, expected: `${R}/cart:7` }
      ], { force: false })
      const api = applied.workloads.find((w) => w.workload === "shop/Deployment/api")!
      assert.strictEqual(api.state, "refused")
      assert.include(api.problem!, `shop/Deployment/api: RBAC does not allow "patch" on "deployments" (API group "apps") in namespace "shop"`)
      assert.include(api.problem!, "Role granting patch on deployments")
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "api"), `${R}/api:42`)
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "cart"), `${R}/cart:6`)
    }))

  it.live("a broken image fails the rollout with the pods' waiting reasons; without revert it stays broken", () =>
    Effect.gen(function*() {
      c.sandbox.markBroken(`${R}/api:40-broken`)
      const target = yield* targetFor(c.kubeconfig)
      const changes = [{ workload: "shop/Deployment/api", image: `${R}/api:40-broken`, expected: `${R}/api:42` }]
      const applied = yield* target.apply(changes, { force: false })
      const failed = yield* Effect.flip(target.watch(applied, WATCH))
      assert.strictEqual(failed.reason, "RolloutFailed")
      assert.include(failed.message, `deployment "api" exceeded its progress deadline`)
      assert.include(failed.message, `ImagePullBackOff (Back-off pulling image "${R}/api:40-broken")`)
      const verified = yield* target.verify(changes, new Map())
      assert.strictEqual(verified[0]!.ok, false)
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "api"), `${R}/api:40-broken`)
    }))

  it.live("a broken image with revert: the previous image is patched back, guarded, and rolls out", () =>
    Effect.gen(function*() {
      c.sandbox.markCrashing(`${R}/api:40-crash`)
      const target = yield* targetFor(c.kubeconfig)
      const changes = [{ workload: "shop/Deployment/api", image: `${R}/api:40-crash`, expected: `${R}/api:42` }]
      const applied = yield* target.apply(changes, { force: false })
      const failed = yield* Effect.flip(target.watch(applied, WATCH))
      assert.include(failed.message, "CrashLoopBackOff")
      const back = [{ workload: "shop/Deployment/api", image: `${R}/api:42`, expected: `${R}/api:40-crash` }]
      const reverted = yield* target.revert({ applied, stillInProgress: false, back, force: false })
      assert.strictEqual(reverted.applied!.workloads[0]!.state, "applied")
      yield* target.watch(reverted.applied!, WATCH)
      assert.ok((yield* target.verify(back, new Map()))[0]!.ok)
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "api"), `${R}/api:42`)
      const revertPatch = c.sandbox.requests.filter((r) => r.method === "PATCH").at(-1)!.body as Array<{ op: string; value: unknown }>
      assert.ok(revertPatch.some((op) => op.op === "test" && op.value === `${R}/api:40-crash`), "the revert is guarded by the image we set")
    }))

  it.live("a lost answer: found applied on reading back (not re-sent); lost before applying: sent once more, guarded", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      c.sandbox.failNext({ answer: "reset", method: "PATCH", afterApplying: true })
      const first = yield* target.apply([{ workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` }], { force: false })
      assert.strictEqual(first.workloads[0]!.state, "applied")
      assert.include(first.note!, "found applied")
      assert.strictEqual(c.sandbox.requests.filter((r) => r.method === "PATCH").length, 1)
      c.sandbox.failNext({ answer: "reset", method: "PATCH" })
      const second = yield* target.apply([{ workload: "shop/Deployment/cart", image: `${R}/cart:6`, expected: `${R}/cart:7` }], { force: false })
      assert.strictEqual(second.workloads[0]!.state, "applied")
      assert.strictEqual(imageIn(c.sandbox, "Deployment", "shop", "cart"), `${R}/cart:6`)
      assert.strictEqual(c.sandbox.requests.filter((r) => r.method === "PATCH").length, 2, "the reset request never reached the handler; the second try did")
    }))

  it.live("server dry run: the same patches with dryRun=All, the server's word per workload, nothing stored", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* Effect.promise(() => settle(c))
      const before = c.sandbox.snapshot()
      const result = yield* target.apply([
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/Deployment/cart", image: `${R}/cart:6`, expected: `${R}/cart:99` }
      ], { force: false, dryRun: true, cause: "plan" })
      assert.ok(c.sandbox.requests.filter((r) => r.method === "PATCH").every((r) => r.query.includes("dryRun=All")))
      assert.strictEqual(result.workloads[0]!.state, "applied")
      assert.include(result.workloads[0]!.problem!, "dryRun=All: the API server accepted the patch")
      assert.strictEqual(result.workloads[1]!.state, "refused")
      assert.include(result.note!, "accepted 1 of 2")
      assert.deepStrictEqual(c.sandbox.snapshot(), before)
    }))

  it.live("an OnDelete StatefulSet: applied, pods not restarted", () =>
    Effect.gen(function*() {
      c.sandbox.apply({ ...c.sandbox.object("StatefulSet", "shop", "db")!, apiVersion: "apps/v1", kind: "StatefulSet", spec: { ...c.sandbox.object("StatefulSet", "shop", "db")!.spec, updateStrategy: { type: "OnDelete" } } })
      const target = yield* targetFor(c.kubeconfig)
      const changes = [{ workload: "shop/StatefulSet/db", image: `${R}/db:4`, expected: `${R}/db:5` }]
      const applied = yield* target.apply(changes, { force: false })
      yield* target.watch(applied, WATCH)
      const [verified] = yield* target.verify(changes, new Map())
      assert.strictEqual(verified!.ok, true)
      assert.include(verified!.problem!, "applied, pods not restarted")
    }))
})

/** Waits until no rollout in the sandbox is still going (so its status stays still for a snapshot). */
const settle = async (c: TestCluster): Promise<void> => {
  const deadline = Date.now() + 10_000
  while (c.sandbox.rolling().length > 0) {
    if (Date.now() > deadline) throw new Error(`the sandbox did not settle: ${c.sandbox.rolling().join(", ")} still rolling`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("waiting follows the API server's watch events, as kubectl rollout status does", () => {
  let c: TestCluster
  beforeEach(async () => {
    c = await startTestCluster({ rolloutMs: 1500 })
  })
  afterEach(() => c.close())

  const changes: Array<ImageChange> = [
    { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
    { workload: "shop/StatefulSet/db", image: `${R}/db:4`, expected: `${R}/db:5` }
  ]

  it.live("the end of the rollouts is seen in their watch events, not at a later poll: one watch per list, a list to start and one to confirm", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      const applied = yield* target.apply(changes, { force: false })
      const from = c.sandbox.requests.length
      // a poll every ten minutes: only the watch can end this wait within the test's time
      yield* target.watch(applied, { timeoutMs: 20_000, pollMs: 600_000 })
      const reads = c.sandbox.requests.slice(from).filter((r) => r.method === "GET")
      const watches = reads.filter((r) => /(^|&)watch=1(&|$)/.test(r.query))
      assert.deepStrictEqual(watches.map((r) => r.path).sort(), ["/apis/apps/v1/namespaces/shop/deployments", "/apis/apps/v1/namespaces/shop/statefulsets"])
      assert.ok(watches.every((r) => /(^|&)resourceVersion=\d+/.test(r.query)), "each watch starts at its list's resourceVersion")
      assert.deepStrictEqual(reads.filter((r) => !watches.includes(r)).map((r) => r.path).sort(), [
        "/apis/apps/v1/namespaces/shop/deployments",
        "/apis/apps/v1/namespaces/shop/deployments",
        "/apis/apps/v1/namespaces/shop/statefulsets",
        "/apis/apps/v1/namespaces/shop/statefulsets"
      ])
      assert.ok((yield* target.verify(changes, new Map())).every((v) => v.ok))
    }))

  it.live("a proxy that holds a watch's events back costs ten polls at most: the lists between watches see the end", () =>
    Effect.gen(function*() {
      const access = yield* loadClusterAccess({ kubeconfig: c.kubeconfig, home: "/nonexistent" })
      const transport = yield* makeTransport(access, yield* makeCredentials(access))
      // the streams open and stay silent until the server ends them
      const silent = { ...transport, stream: (request: Parameters<typeof transport.stream>[0]) => transport.stream(request, () => {}) }
      const target = makeKubernetesTargetFor({ access, transport: silent, namespaces: ["shop"], labelSelector: undefined, concurrency: 10, known: new Map() })
      yield* target.listWorkloads({})
      const applied = yield* target.apply(changes, { force: false })
      // ten polls of 200 ms: a 2 s window, where a whole window (25 s) would overrun this test's 15 s
      yield* target.watch(applied, { timeoutMs: 600_000, pollMs: 200 })
      assert.ok((yield* target.verify(changes, new Map())).every((v) => v.ok))
      yield* transport.close
    }), 15_000)

  it.live("where RBAC does not allow watch (403), it polls every pollMs instead and still sees the rollouts end", () =>
    Effect.gen(function*() {
      c.sandbox.forbid({ verb: "watch", resource: "deployments" })
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      const applied = yield* target.apply(changes, { force: false })
      const from = c.sandbox.requests.length
      yield* target.watch(applied, { timeoutMs: 20_000, pollMs: 100 })
      const reads = c.sandbox.requests.slice(from).filter((r) => r.method === "GET")
      assert.ok(reads.some((r) => r.status === 403 && /(^|&)watch=1(&|$)/.test(r.query)), "the watch was refused")
      assert.isAbove(reads.filter((r) => r.path.endsWith("/deployments") && !/watch=1/.test(r.query)).length, 2, "then polled")
      assert.ok((yield* target.verify(changes, new Map())).every((v) => v.ok))
    }))
})

