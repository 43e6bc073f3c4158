/**
 * @module api.test — the sandbox's API server behaves as FACTS.md says a real one does: the three
 * patch types (strategic merge keeps other containers, merge patch replaces the list, JSON patch
 * with a failing `test` is a 422 that changes nothing), 415 for another Content-Type, 409 on a
 * stale resourceVersion, dryRun=All stores nothing, fieldManager recorded, generation bumped only
 * by spec changes, discovery shapes, watch events, and Status objects.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { type KubernetesSandbox, startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import { deployment } from "./fixtures.ts"

const DEPLOY = "/apis/apps/v1/namespaces/shop/deployments/web"

describe("the Kubernetes sandbox's API", () => {
  let sb: KubernetesSandbox
  beforeEach(async () => {
    sb = await startKubernetesSandbox({ rolloutMs: 100, objects: [deployment("shop", "web", "r/web:1", { sidecar: "r/proxy:1" })] })
  })
  afterEach(() => sb.close())
  const call = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const r = await fetch(`${sb.url}${path}`, { method, headers: body === undefined ? {} : { "content-type": contentType }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: r.status, body: await r.json() as any }
  }
  const containers = { spec: { template: { spec: { containers: [{ name: "web", image: "r/web:2" }] } } } }

  it("discovery: /version, /api, /apis and the apps/v1 resource list", async () => {
    assert.strictEqual((await call("GET", "/version")).body.major, "1")
    assert.deepStrictEqual((await call("GET", "/api")).body.versions, ["v1"])
    assert.ok((await call("GET", "/apis")).body.groups.some((g: any) => g.name === "apps" && g.preferredVersion.groupVersion === "apps/v1"))
    const apps = (await call("GET", "/apis/apps/v1")).body
    assert.strictEqual(apps.kind, "APIResourceList")
    assert.ok(apps.resources.some((r: any) => r.name === "deployments" && r.kind === "Deployment" && r.namespaced && r.verbs.includes("patch")))
  })

  it("strategic merge patch merges containers by name; merge patch replaces the whole list", async () => {
    const strategic = await call("PATCH", DEPLOY, containers, "application/strategic-merge-patch+json")
    assert.strictEqual(strategic.status, 200)
    assert.deepStrictEqual(strategic.body.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`), ["web=r/web:2", "proxy=r/proxy:1"])
    const merge = await call("PATCH", DEPLOY, containers, "application/merge-patch+json")
    assert.deepStrictEqual(merge.body.spec.template.spec.containers.map((c: any) => c.name), ["web"], "RFC 7386: the list is replaced")
  })

  it("a JSON patch whose test fails is 422 Invalid and changes nothing; one that passes changes the image and bumps generation", async () => {
    const before = sb.snapshot()
    const failed = await call("PATCH", DEPLOY, [
      { op: "test", path: "/spec/template/spec/containers/0/image", value: "r/web:0" },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "r/web:2" }
    ], "application/json-patch+json")
    assert.strictEqual(failed.status, 422)
    assert.strictEqual(failed.body.kind, "Status")
    assert.strictEqual(failed.body.reason, "Invalid")
    assert.strictEqual(failed.body.message, "the server rejected our request due to an error in our request")
    assert.deepStrictEqual(sb.snapshot(), before)
    const generation = sb.object("Deployment", "shop", "web")!.metadata.generation
    const ok = await call("PATCH", `${DEPLOY}?fieldManager=fleet-rollback`, [
      { op: "test", path: "/spec/template/spec/containers/0/image", value: "r/web:1" },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "r/web:2" }
    ], "application/json-patch+json")
    assert.strictEqual(ok.status, 200)
    assert.strictEqual(ok.body.metadata.generation, generation + 1)
    assert.ok(ok.body.metadata.managedFields.some((m: any) => m.manager === "fleet-rollback"))
  })

  it("415 for a Content-Type PATCH does not accept; 409 Conflict for a stale resourceVersion; 400 for dryRun other than All", async () => {
    const unsupported = await call("PATCH", DEPLOY, containers, "application/json")
    assert.strictEqual(unsupported.status, 415)
    assert.strictEqual(unsupported.body.reason, "UnsupportedMediaType")
    const stale = await call("PATCH", DEPLOY, { metadata: { resourceVersion: "1" }, ...containers }, "application/merge-patch+json")
    assert.strictEqual(stale.status, 409)
    assert.strictEqual(stale.body.message, `Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again`)
    assert.deepStrictEqual(stale.body.details, { name: "web", group: "apps", kind: "deployments" })
    assert.strictEqual((await call("PATCH", `${DEPLOY}?dryRun=Yes`, containers, "application/strategic-merge-patch+json")).status, 400)
    const missing = await call("GET", "/apis/apps/v1/namespaces/shop/deployments/nope")
    assert.deepStrictEqual(missing.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `deployments.apps "nope" not found`, reason: "NotFound", details: { name: "nope", group: "apps", kind: "deployments" }, code: 404 })
  })

  it("dryRun=All answers with the patched object and stores nothing", async () => {
    const before = sb.snapshot()
    const dry = await call("PATCH", `${DEPLOY}?dryRun=All`, containers, "application/strategic-merge-patch+json")
    assert.strictEqual(dry.status, 200)
    assert.strictEqual(dry.body.spec.template.spec.containers[0].image, "r/web:2")
    assert.deepStrictEqual(sb.snapshot(), before)
  })

  it("a status-only change bumps resourceVersion but not generation; the rollout progresses on the server's clock to done", async () => {
    const patched = await call("PATCH", DEPLOY, containers, "application/strategic-merge-patch+json")
    const generation = patched.body.metadata.generation
    const deadline = Date.now() + 10_000
    let d: any
    do {
      await new Promise((r) => setTimeout(r, 20))
      d = sb.object("Deployment", "shop", "web")
    } while (!(d.status.observedGeneration === generation && d.status.updatedReplicas === 2 && d.status.replicas === 2) && Date.now() < deadline)
    assert.strictEqual(d.status.observedGeneration, generation)
    assert.strictEqual(d.metadata.generation, generation)
    assert.notStrictEqual(d.metadata.resourceVersion, patched.body.metadata.resourceVersion)
  })

  it("watch streams ADDED for what exists, then MODIFIED events after a change", async () => {
    const controller = new AbortController()
    const response = await fetch(`${sb.url}/apis/apps/v1/namespaces/shop/deployments?watch=true&fieldSelector=metadata.name%3Dweb`, { signal: controller.signal })
    const reader = response.body!.getReader()
    const events: Array<any> = []
    let buffer = ""
    const next = async () => {
      while (!buffer.includes("\n")) buffer += new TextDecoder().decode((await reader.read()).value)
      const line = buffer.slice(0, buffer.indexOf("\n"))
      buffer = buffer.slice(buffer.indexOf("\n") + 1)
      events.push(JSON.parse(line))
    }
    await next()
    assert.strictEqual(events[0].type, "ADDED")
    await call("PATCH", DEPLOY, containers, "application/strategic-merge-patch+json")
    await next()
    assert.strictEqual(events[1].type, "MODIFIED")
    assert.strictEqual(events[1].object.spec.template.spec.containers[0].image, "r/web:2")
    controller.abort()
  })
})
