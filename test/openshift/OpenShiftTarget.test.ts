/**
 * @module OpenShiftTarget.test — seed 003 through the Target contract over HTTPS with an `oc
 * login` bearer token, images in the real local registry (only `:prod` listed): the ImageStream
 * tags the StatefulSet and Deployment follow are the workloads; both are rolled back by digest to
 * a point taken from the import history, and the triggers roll the workloads; undo / re-track
 * put the tracking reference back and the tags import `:prod` again; a digest no longer in the
 * registry is refused before anything changes.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { IMPORTED_IMAGE_PATTERN, mergeTimeline, resolveTagScheme, type TagScheme } from "../../lib/core/index.ts"
import type { ImageChange } from "../../lib/target/Target.ts"
import { readImageStreamFleet } from "../../lib/targets/openshift/Timeline.ts"
import type { TagHistory } from "../../lib/targets/openshift/OpenShiftTarget.ts"
import { historyIn, kubectl, NS, registryClient, type Scenario, startScenario, targetFor, until } from "./support.ts"

const WORKER = `${NS}/ImageStreamTag/worker:prod`
const SERVICE = `${NS}/ImageStreamTag/service:prod`

/** The change back to a tag's oldest import of the three (`items[2]`), guarded by its current image. */
const toOldest = (h: TagHistory): ImageChange => ({ workload: h.id, image: h.items[2]!.dockerImageReference, expected: h.items[0]!.dockerImageReference })

const imageOf = (s: Scenario, kind: string, name: string): string => s.sandbox.object(kind, NS, name)!.spec.template.spec.containers[0].image

describe("OpenShift target on ImageStreams (seed 003)", () => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario()
  }, 60_000)
  afterEach(() => s.close())

  it.live("the registry lists only :prod, yet each followed tag has its import history; the tags are the workloads, each with what it drives", () =>
    Effect.gen(function*() {
      const tags = yield* Effect.promise(() => fetch(`${s.registry.url}/v2/packit/worker/tags/list`).then((r) => r.json()))
      assert.deepStrictEqual(tags.tags, ["prod"])
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const worker = history.find((h) => h.id === WORKER)!
      assert.deepStrictEqual(worker.items.map((i) => i.image), [...s.pushed.worker].reverse())
      assert.deepStrictEqual(worker.drives, [`${NS}/StatefulSet/packit-worker`])
      assert.strictEqual(worker.tracks, `${s.registry.host}/packit/worker:prod`)
      const workloads = yield* target.listWorkloads({})
      assert.deepStrictEqual(workloads.map((w) => w.id).sort(), [SERVICE, WORKER])
      const w = workloads.find((x) => x.id === WORKER)!
      assert.strictEqual(w.image, `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
      assert.match(w.health.summary, /drives packit-prod\/StatefulSet\/packit-worker/)
      const memory = yield* target.history!([{ workload: WORKER }])
      assert.deepStrictEqual(memory.entries.map((e) => e.image), [...s.pushed.worker].reverse().map((d) => `${s.registry.host}/packit/worker@${d}`))
    }))

  it.live("the StatefulSet and the Deployment are rolled back by digest to a point of the import history, then re-tracked", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const changes = history.map(toOldest)
      const applied = yield* target.apply(changes, { force: false })
      assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["applied", "applied"])
      const stream = s.sandbox.object("ImageStream", NS, "worker")!
      assert.deepStrictEqual(stream.spec.tags[0].from, { kind: "DockerImage", name: `${s.registry.host}/packit/worker@${s.pushed.worker[0]}` })
      const streamPath = `/apis/image.openshift.io/v1/namespaces/${NS}/imagestreams`
      const sent = s.sandbox.requests.length
      yield* target.watch(applied, { timeoutMs: 20_000, pollMs: 50 })
      const watching = s.sandbox.requests.slice(sent)
      assert.isFalse(watching.some((r) => r.path.startsWith(`${streamPath}/`)), "the imports are read by listing the namespace's streams, not a GET per tag")
      assert.isTrue(watching.some((r) => r.path === streamPath))
      assert.strictEqual(imageOf(s, "StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[0]}`)
      assert.strictEqual(imageOf(s, "Deployment", "packit-service"), `${s.registry.host}/packit/service@${s.pushed.service[0]}`)
      const watched = s.sandbox.requests.length
      const verified = yield* target.verify(changes, new Map())
      assert.deepStrictEqual(verified.map((v) => v.ok), [true, true])
      assert.strictEqual(s.sandbox.requests.slice(watched).filter((r) => r.path === streamPath).length, 1, "verify reads the namespace once for both tags")
      // The older image is on top of the history again (items are not unique).
      assert.deepStrictEqual(historyIn(s.sandbox, "worker")[0], s.pushed.worker[0])

      const back = yield* target.reTrack([WORKER, SERVICE])
      yield* target.watch(back, { timeoutMs: 20_000, pollMs: 50 })
      const tracked = s.sandbox.object("ImageStream", NS, "worker")!
      assert.deepStrictEqual(tracked.spec.tags[0].from, { kind: "DockerImage", name: `${s.registry.host}/packit/worker:prod` })
      assert.strictEqual(tracked.spec.tags[0].importPolicy.scheduled, true, "the tracking reference as it was, scheduled")
      assert.strictEqual(imageOf(s, "StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
      assert.strictEqual(imageOf(s, "Deployment", "packit-service"), `${s.registry.host}/packit/service@${s.pushed.service[2]}`)
    }))

  it.live("a follower whose rollout failed is not 'in progress': inProgress says no, as for Kubernetes, so no revert waits on it", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const service = history.find((h) => h.id === SERVICE)!
      s.sandbox.markBroken(service.items[2]!.dockerImageReference)
      const applied = yield* target.apply([toOldest(service)], { force: false })
      const failed = yield* Effect.flip(target.watch(applied, { timeoutMs: 20_000, pollMs: 50 }))
      assert.strictEqual(failed.reason, "RolloutFailed")
      assert.isFalse(yield* target.inProgress(applied))
    }))

  it.live("verify of two tags, one whose follower failed its rollout: each tag is judged by its own followers (the failed one names its StatefulSet, the other is ok)", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const worker = history.find((h) => h.id === WORKER)!
      s.sandbox.markBroken(worker.items[2]!.dockerImageReference)
      const changes = history.map(toOldest)
      yield* target.apply(changes, { force: false })
      // the triggers set both images; the service's rollout ends, the worker's never does (its image is broken)
      yield* Effect.promise(() =>
        until("both triggers and the service's rollout", () =>
          imageOf(s, "StatefulSet", "packit-worker").endsWith(s.pushed.worker[0]!) && imageOf(s, "Deployment", "packit-service").endsWith(s.pushed.service[0]!) &&
          !s.sandbox.rolling().some((r) => r.includes("packit-service")))
      )
      const verified = yield* target.verify(changes, new Map())
      const byTag = new Map(verified.map((v) => [v.workload, v]))
      assert.isFalse(byTag.get(WORKER)!.ok)
      assert.include(byTag.get(WORKER)!.problem ?? "", "packit-worker")
      assert.isTrue(byTag.get(SERVICE)!.ok, byTag.get(SERVICE)!.problem)
    }))

  it.live("a stream deleted while its import is awaited (kubectl delete is) fails the wait naming it, not a hang", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const worker = history.find((h) => h.id === WORKER)!
      const applied = yield* target.apply([toOldest(worker)], { force: false })
      const deleted = yield* Effect.promise(() => kubectl(s.kubeconfig, ["delete", "imagestream", "worker", "-n", NS]))
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      const failed = yield* Effect.flip(target.watch(applied, { timeoutMs: 20_000, pollMs: 50 }))
      assert.strictEqual(failed.reason, "RolloutFailed")
      assert.include(failed.message, `ImageStream ${NS}/worker was deleted`)
    }))

  it.live("re-track: a stream that is missing stops it before anything changes; one the server refuses is reported, the others are still re-tracked", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const changes = history.map(toOldest)
      yield* target.watch(yield* target.apply(changes, { force: false }), { timeoutMs: 20_000, pollMs: 50 })
      const pinned = s.sandbox.snapshot()
      const missing = yield* Effect.flip(target.reTrack([WORKER, `${NS}/ImageStreamTag/gone:prod`]))
      assert.strictEqual(missing.reason, "NotFound")
      assert.include(missing.message, "nothing was changed")
      assert.deepStrictEqual(s.sandbox.snapshot(), pinned, "the worker's stream was not re-tracked before the missing one was found")
      s.sandbox.forbid({ verb: "patch", resource: "imagestreams", namespace: NS, name: "service" })
      const back = yield* target.reTrack([WORKER, SERVICE])
      assert.deepStrictEqual(back.workloads.map((w) => [w.workload, w.state]), [[WORKER, "applied"], [SERVICE, "refused"]])
      assert.match(back.workloads[1]!.problem ?? "", /forbidden/)
      yield* target.watch(back, { timeoutMs: 20_000, pollMs: 50 })
      assert.deepStrictEqual(s.sandbox.object("ImageStream", NS, "worker")!.spec.tags[0].from, { kind: "DockerImage", name: `${s.registry.host}/packit/worker:prod` })
    }))

  it.live("RBAC without DeploymentConfigs: the message names deploymentconfigs in apps.openshift.io and the verbs to ask for, not imagestreams", () =>
    Effect.gen(function*() {
      s.sandbox.forbid({ verb: "list", resource: "deploymentconfigs", namespace: NS })
      const target = yield* targetFor(s)
      const error = yield* Effect.flip(target.listWorkloads({}))
      assert.strictEqual(error.reason, "Forbidden")
      assert.include(error.message, `RBAC does not allow this on deploymentconfigs (API group "apps.openshift.io") in namespace "${NS}"`)
      assert.include(error.message, "granting get and list on deploymentconfigs")
    }))

  it.live("undo (revert) puts the tracking reference back", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const changes = history.map((h) => ({ workload: h.id, image: h.items[1]!.dockerImageReference }))
      const applied = yield* target.apply(changes, { force: false })
      yield* target.watch(applied, { timeoutMs: 20_000, pollMs: 50 })
      assert.strictEqual(imageOf(s, "StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[1]}`)
      const reverted = yield* target.revert({ applied, stillInProgress: false, back: [], force: false })
      yield* target.watch(reverted.applied!, { timeoutMs: 20_000, pollMs: 50 })
      assert.strictEqual(s.sandbox.object("ImageStream", NS, "service")!.spec.tags[0].from.name, `${s.registry.host}/packit/service:prod`)
      assert.strictEqual(imageOf(s, "StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
    }))

  it.live("a digest no longer in the registry is refused before anything changes", () =>
    Effect.gen(function*() {
      const gone = s.pushed.worker[0]!
      const deleted = yield* Effect.promise(() => fetch(`${s.registry.url}/v2/packit/worker/manifests/${gone}`, { method: "DELETE" }))
      assert.strictEqual(deleted.status, 202)
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const before = s.sandbox.snapshot()
      const changes = history.map((h) => ({ workload: h.id, image: h.items[2]!.dockerImageReference }))
      const error = yield* Effect.flip(target.apply(changes, { force: false }))
      assert.strictEqual(error.reason, "Invalid")
      assert.include(error.message, `packit/worker@${gone}`)
      assert.include(error.message, "no longer in the registry")
      assert.deepStrictEqual(error.workloads, [WORKER])
      assert.deepStrictEqual(s.sandbox.snapshot(), before)
      assert.isFalse(s.sandbox.requests.some((r) => r.method !== "GET"), "no write was sent")
    }))

  it.live("a tag whose image changed since the plan is refused, the other applied", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(s)
      const history = yield* target.importHistory()
      const changes = history.map((h) => ({ workload: h.id, image: h.items[1]!.dockerImageReference, expected: h.id === WORKER ? "somewhere/else@sha256:00" : h.items[0]!.dockerImageReference }))
      const applied = yield* target.apply(changes, { force: false })
      assert.deepStrictEqual(applied.workloads.map((w) => [w.workload, w.state]).sort(), [[SERVICE, "applied"], [WORKER, "refused"]])
      yield* Effect.promise(() => until("service rolled", () => imageOf(s, "Deployment", "packit-service").endsWith(s.pushed.service[1]!)))
      assert.strictEqual(imageOf(s, "StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
    }))

  it.live("get --from imagestreams: a point per import though the registry lists only :prod; registry dates where it has the digest, else the import time", () =>
    Effect.gen(function*() {
      const gone = s.pushed.worker[0]!
      yield* Effect.promise(() => fetch(`${s.registry.url}/v2/packit/worker/manifests/${gone}`, { method: "DELETE" }))
      const target = yield* targetFor(s)
      const registry = yield* registryClient(s)
      const fleet = yield* readImageStreamFleet(target, (_host, repository, digest) =>
        registry.readImage(repository, digest).pipe(Effect.map((image) => image.dates), Effect.orElseSucceed(() => undefined)))
      assert.deepStrictEqual(fleet.services.map((x) => [x.name, x.app]).sort(), [["service", SERVICE], ["worker", WORKER]])
      const worker = fleet.images["worker"]!
      assert.deepStrictEqual(worker.map((i) => i.digest), s.pushed.worker)
      assert.isUndefined(worker[0]!.dates.config, "the deleted digest has no registry date")
      assert.deepStrictEqual(worker.slice(1).map((i) => i.dates.config), ["2026-02-01T10:00:00Z", "2026-03-01T10:00:00Z"])
      const merged = mergeTimeline({ scheme: resolveTagScheme({ pattern: IMPORTED_IMAGE_PATTERN }) as TagScheme, services: fleet.services, images: fleet.images })
      const sources = merged.timeline.images["worker"]!.map((i) => i.dateSource)
      assert.deepStrictEqual(merged.timeline.images["worker"]!.map((i) => [i.digest, i.dateSource]).sort(), s.pushed.worker.map((digest) => [digest, digest === gone ? "imported" : "config"]).sort())
      assert.include(sources, "imported")
      assert.isAtLeast(merged.timeline.points.length, 3)
      const oldest = merged.timeline.images["service"]!.find((i) => i.digest === s.pushed.service[0])!
      assert.strictEqual(oldest.dateSource, "config")
    }))

  it.live("a DeploymentConfig whose ImageChange trigger follows the tag is driven, rolled back and verified with the others", () =>
    Effect.gen(function*() {
      s.sandbox.apply({
        apiVersion: "apps.openshift.io/v1",
        kind: "DeploymentConfig",
        metadata: { name: "packit-dashboard", namespace: NS },
        spec: {
          replicas: 2,
          selector: { app: "packit-dashboard" },
          template: { metadata: { labels: { app: "packit-dashboard" } }, spec: { containers: [{ name: "dashboard", image: "packit/dashboard:unset" }] } },
          triggers: [{ type: "ConfigChange" }, { type: "ImageChange", imageChangeParams: { automatic: true, containerNames: ["dashboard"], from: { kind: "ImageStreamTag", name: "service:prod" } } }]
        }
      })
      const dcImage = () => s.sandbox.object("DeploymentConfig", NS, "packit-dashboard")!.spec.template.spec.containers[0].image
      yield* Effect.promise(() => until("the DeploymentConfig's trigger", () => dcImage() === `${s.registry.host}/packit/service@${s.pushed.service[2]}`))
      const target = yield* targetFor(s)
      const service = (yield* target.listWorkloads({})).find((w) => w.id === SERVICE)!
      assert.match(service.health.summary, /drives packit-prod\/Deployment\/packit-service, packit-prod\/DeploymentConfig\/packit-dashboard/)
      const history = (yield* target.importHistory()).find((h) => h.id === SERVICE)!
      const changes = [{ workload: SERVICE, image: history.items[2]!.dockerImageReference }]
      const applied = yield* target.apply(changes, { force: false })
      yield* target.watch(applied, { timeoutMs: 20_000, pollMs: 50 })
      assert.strictEqual(dcImage(), `${s.registry.host}/packit/service@${s.pushed.service[0]}`)
      assert.strictEqual(s.sandbox.object("DeploymentConfig", NS, "packit-dashboard")!.spec.triggers[1].imageChangeParams.lastTriggeredImage, dcImage())
      assert.deepStrictEqual((yield* target.verify(changes, new Map())).map((v) => v.ok), [true])
    }))
})
