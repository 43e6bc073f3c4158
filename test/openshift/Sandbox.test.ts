/**
 * @module Sandbox.test — the OpenShift parts of the Kubernetes sandbox, judged by the real
 * `kubectl` where it can be (discovery of image.openshift.io, `kubectl get is`, `kubectl annotate`
 * to request an import, `kubectl set image` on a triggered container) and by FACTS.md otherwise:
 * spec-tag generations, the API server's history rules, a failed import's condition, scheduled
 * imports on the clock, triggers (paused ones left alone, manual changes reverted).
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { addTagEvent, type TagEvent } from "../../lib/sandbox/openshift/ImageStreams.ts"
import { pushDockerImage, Pusher } from "../support/pushImage.ts"
import { historyIn, kubectl, NS, type Scenario, startScenario, trigger, until } from "./support.ts"

const e = (ref: string, image: string, generation: number, created = "2026-03-01T10:00:00Z"): TagEvent => ({ created, dockerImageReference: ref, image, generation })

describe("the API server's tag event rules (imageutil helpers.go:365-404)", () => {
  const table: ReadonlyArray<readonly [string, ReadonlyArray<TagEvent>, TagEvent, ReadonlyArray<TagEvent>]> = [
    ["first import", [], e("r@a", "a", 1), [e("r@a", "a", 1)]],
    ["same reference, image and generation: nothing", [e("r@a", "a", 1)], e("r@a", "a", 1, "2026-03-02T00:00:00Z"), [e("r@a", "a", 1)]],
    ["same reference and image: only the generation", [e("r@a", "a", 1)], e("r@a", "a", 3, "2026-03-02T00:00:00Z"), [e("r@a", "a", 3)]],
    ["a new image: prepended", [e("r@a", "a", 1)], e("r@b", "b", 2), [e("r@b", "b", 2), e("r@a", "a", 1)]],
    ["an older image again: on top again (items are not unique)", [e("r@b", "b", 2), e("r@a", "a", 1)], e("r@a", "a", 3), [e("r@a", "a", 3), e("r@b", "b", 2), e("r@a", "a", 1)]]
  ]
  for (const [name, items, event, expected] of table) it(name, () => assert.deepStrictEqual(addTagEvent(items, event), expected))
})

describe("OpenShift in the sandbox", () => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario()
  }, 60_000)
  afterEach(() => s.close())

  it("kubectl finds image.openshift.io and lists the ImageStreams with their history", async () => {
    const r = await kubectl(s.kubeconfig, ["get", "is", "-o", "json"])
    assert.strictEqual(r.code, 0, r.stderr)
    const list = JSON.parse(r.stdout)
    assert.deepStrictEqual(list.items.map((i: { metadata: { name: string } }) => i.metadata.name), ["service", "worker"])
    const worker = list.items[1]
    assert.deepStrictEqual(worker.status.tags[0].items.map((i: { image: string }) => i.image), [...s.pushed.worker].reverse())
    assert.strictEqual(worker.status.tags[0].items[0].dockerImageReference, `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
  })

  it("a changed tag reference gets the stream's next generation and is imported; a digest the registry lacks fails with a condition", async () => {
    const before = s.sandbox.object("ImageStream", NS, "worker")!
    const missing = `sha256:${"0".repeat(64)}`
    const r = await kubectl(s.kubeconfig, ["patch", "is", "worker", "--type=json", "-p", JSON.stringify([{ op: "replace", path: "/spec/tags/0/from/name", value: `${s.registry.host}/packit/worker@${missing}` }])])
    assert.strictEqual(r.code, 0, r.stderr)
    const after = s.sandbox.object("ImageStream", NS, "worker")!
    assert.strictEqual(after.metadata.generation, before.metadata.generation + 1)
    assert.strictEqual(after.spec.tags[0].generation, after.metadata.generation)
    await until("the failed import", () => (s.sandbox.object("ImageStream", NS, "worker")!.status.tags[0].conditions ?? []).length > 0)
    const condition = s.sandbox.object("ImageStream", NS, "worker")!.status.tags[0].conditions[0]
    assert.strictEqual(condition.type, "ImportSuccess")
    assert.strictEqual(condition.status, "False")
    assert.strictEqual(condition.generation, after.metadata.generation)
    assert.deepStrictEqual(historyIn(s.sandbox, "worker")[0], s.pushed.worker[2], "the current image stays")
  })

  it("removing the repository-check annotation (kubectl annotate …-) requests an import of the moving tag", async () => {
    // Scheduled imports off for this stream: only the request may import.
    await kubectl(s.kubeconfig, ["patch", "is", "service", "--type=json", "-p", JSON.stringify([{ op: "replace", path: "/spec/tags/0/importPolicy/scheduled", value: false }])])
    await until("the re-import after the policy change", () => s.sandbox.openshift.importing().length === 0)
    const pushed = await pushDockerImage(new Pusher({ url: s.registry.url }), { repository: "packit/service", tag: "prod", config: { created: "2026-04-01T10:00:00Z", labels: { build: "4" } } })
    const r = await kubectl(s.kubeconfig, ["annotate", "is", "service", "openshift.io/image.dockerRepositoryCheck-"])
    assert.strictEqual(r.code, 0, r.stderr)
    await until("the requested import", () => historyIn(s.sandbox, "service")[0] === pushed.digest)
    await until("the Deployment follows", () => s.sandbox.object("Deployment", NS, "packit-service")!.spec.template.spec.containers[0].image.endsWith(pushed.digest))
  })

  it("a scheduled tag imports what :prod points to on the sandbox clock, and the trigger rolls the StatefulSet", async () => {
    const pushed = await pushDockerImage(new Pusher({ url: s.registry.url }), { repository: "packit/worker", tag: "prod", config: { created: "2026-04-01T10:00:00Z", labels: { build: "4", name: "w" } } })
    await until("the scheduled import", () => historyIn(s.sandbox, "worker")[0] === pushed.digest)
    await until("the trigger", () => s.sandbox.object("StatefulSet", NS, "packit-worker")!.spec.template.spec.containers[0].image === `${s.registry.host}/packit/worker@${pushed.digest}`)
  })

  it("kubectl set image on a triggered container is reverted to the tag's image; a paused trigger is left alone", async () => {
    const r = await kubectl(s.kubeconfig, ["set", "image", "sts/packit-worker", "packit-worker=elsewhere/worker:old"])
    assert.strictEqual(r.code, 0, r.stderr)
    const current = `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`
    await until("the revert", () => s.sandbox.object("StatefulSet", NS, "packit-worker")!.spec.template.spec.containers[0].image === current)
    const paused = JSON.stringify(JSON.parse(trigger("service", "packit-service")).map((t: object) => ({ ...t, paused: true })))
    const dep = s.sandbox.object("Deployment", NS, "packit-service")!
    s.sandbox.apply({ apiVersion: "apps/v1", kind: "Deployment", ...dep, metadata: { ...dep.metadata, annotations: { ...dep.metadata.annotations, "image.openshift.io/triggers": paused } } })
    s.sandbox.setImage("Deployment", NS, "packit-service", "packit-service", "elsewhere/service:old")
    // A write the controller would revert at once comes in between: the StatefulSet is reverted again, the paused Deployment not.
    await kubectl(s.kubeconfig, ["set", "image", "sts/packit-worker", "packit-worker=elsewhere/worker:older"])
    await until("the StatefulSet reverted again", () => s.sandbox.object("StatefulSet", NS, "packit-worker")!.spec.template.spec.containers[0].image === current)
    assert.strictEqual(s.sandbox.object("Deployment", NS, "packit-service")!.spec.template.spec.containers[0].image, "elsewhere/service:old")
  })
})
