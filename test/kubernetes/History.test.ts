/**
 * @module History.test — what Kubernetes remembers a workload ran, read through the Target
 * contract's `history` over real HTTPS from the sandbox: a Deployment's ReplicaSets (with their
 * change-cause) and a StatefulSet's ControllerRevisions, each dated by its creation on the
 * server's clock; a revision brought back by `rollout undo` comes after the one before it.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { revisionsToMemory } from "../../lib/targets/kubernetes/History.ts"
import { R, startTestCluster, targetFor, type TestCluster } from "./support.ts"

const DAY = 86_400_000
const WATCH = { timeoutMs: 20_000, pollMs: 50 }

describe("Kubernetes history", () => {
  let c: TestCluster
  // the sandbox's clock: real time plus whole days the test moves it forward
  let offset = 0
  beforeEach(async () => {
    offset = 0
    c = await startTestCluster({ now: () => Date.now() + offset })
  })
  afterEach(() => c.close())

  it.live("each revision of a Deployment and a StatefulSet, oldest first, dated when it was made, with its change-cause", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.kubeconfig)
      yield* target.listWorkloads({})
      const start = Date.now() + offset
      offset += 2 * DAY
      const applied = yield* target.apply([
        { workload: "shop/Deployment/api", image: `${R}/api:41`, expected: `${R}/api:42` },
        { workload: "shop/StatefulSet/db", image: `${R}/db:4`, expected: `${R}/db:5` }
      ], { force: false, cause: "fleet-rollback run to yesterday by alice" })
      yield* target.watch(applied, WATCH)
      const memory = yield* target.history!([{ workload: "shop/Deployment/api" }, { workload: "shop/StatefulSet/db" }])
      const of = (id: string) => memory.entries.filter((e) => e.workload === id)
      assert.deepStrictEqual(of("shop/Deployment/api").map((e) => [e.image, e.revision]), [[`${R}/api:42`, "1"], [`${R}/api:41`, "2"]])
      assert.deepStrictEqual(of("shop/StatefulSet/db").map((e) => [e.image, e.revision]), [[`${R}/db:5`, "1"], [`${R}/db:4`, "2"]])
      const [first, second] = of("shop/Deployment/api")
      assert.isTrue(first!.at <= start + 1000, "the seeded revision dates from the start")
      assert.isTrue(second!.at >= start + 2 * DAY - 1000, "the rollback's revision dates from when it was made, two days later")
      assert.strictEqual(second!.cause, "fleet-rollback run to yesterday by alice")
      assert.include(memory.note ?? "", "revisionHistoryLimit")
    }))
})

describe("revisions to memory", () => {
  it("a revision brought back keeps its first creation time in Kubernetes, so it is placed just after the revision before it, and says so", () => {
    const memory = revisionsToMemory("ns/Deployment/api", undefined, [
      { number: 3, created: 1_000, containers: [{ name: "api", image: "r/api:1" }], cause: "rollout undo" },
      { number: 2, created: 2_000, containers: [{ name: "api", image: "r/api:2" }], cause: undefined }
    ])
    assert.deepStrictEqual(memory.map((m) => [m.image, m.at]), [["r/api:2", 2_000], ["r/api:1", 2_001]])
    assert.include(memory[1]!.cause ?? "", "brought back")
  })

  it("the named container's image, else the first container's", () => {
    const revisions = [{ number: 1, created: 5, containers: [{ name: "web", image: "r/web:1" }, { name: "proxy", image: "r/proxy:3" }], cause: undefined }]
    assert.strictEqual(revisionsToMemory("w", "proxy", revisions)[0]!.image, "r/proxy:3")
    assert.strictEqual(revisionsToMemory("w", undefined, revisions)[0]!.image, "r/web:1")
  })
})
