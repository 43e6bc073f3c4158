/**
 * @module Transport.test — the Kubernetes transport against the sandbox: reads retried after a
 * 503 and a reset connection, a 429 retried for a write too (refused before anything happened),
 * a write's 503 never re-sent by the transport, an unreachable server named with what to check.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeCredentials } from "../../lib/targets/kubernetes/Credentials.ts"
import { loadClusterAccess } from "../../lib/targets/kubernetes/Kubeconfig.ts"
import { makeTransport } from "../../lib/targets/kubernetes/Transport.ts"
import { startTestCluster, type TestCluster } from "./support.ts"

describe("Kubernetes transport", () => {
  let c: TestCluster
  beforeEach(async () => {
    c = await startTestCluster()
  })
  afterEach(() => c.close())

  const transport = (kubeconfig = c.kubeconfig) =>
    Effect.gen(function*() {
      const access = yield* loadClusterAccess({ kubeconfig, home: "/nonexistent" })
      return yield* makeTransport(access, yield* makeCredentials(access), { backoffMs: 10 })
    })
  const GET = { method: "GET", path: "/apis/apps/v1/namespaces/shop/deployments/api" } as const

  it.live("a read is retried after a 503 and after a reset connection", () =>
    Effect.gen(function*() {
      const t = yield* transport()
      c.sandbox.failNext({ answer: 503, method: "GET" })
      c.sandbox.failNext({ answer: "reset", method: "GET" })
      const response = yield* t.send(GET)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* t.requestCount, 3)
    }))

  it.live("a 429 is retried for a write (the server did nothing); a 503 on a write is returned, not re-sent", () =>
    Effect.gen(function*() {
      const t = yield* transport()
      const patch = { method: "PATCH", path: GET.path, contentType: "application/strategic-merge-patch+json", body: { metadata: { labels: { touched: "yes" } } } } as const
      c.sandbox.failNext({ answer: 429, method: "PATCH" })
      assert.strictEqual((yield* t.send(patch)).status, 200)
      c.sandbox.failNext({ answer: 503, method: "PATCH" })
      assert.strictEqual((yield* t.send(patch)).status, 503)
      assert.strictEqual(c.sandbox.requests.filter((r) => r.method === "PATCH").length, 1, "the 429 and the 503 never reached the handler; the transport did not re-send after the 503")
    }))

  it.live("an unreachable server: Unreachable, no answer, naming the server and what to check", () =>
    Effect.gen(function*() {
      const url = c.sandbox.url
      yield* Effect.promise(() => c.sandbox.close())
      const t = yield* transport()
      const error = yield* Effect.flip(t.send(GET))
      assert.strictEqual(error.reason, "Unreachable")
      assert.strictEqual(error.noAnswer, true)
      assert.include(error.message, url)
      assert.include(error.message, "check the server URL")
    }))
})
