/**
 * @module openshift.test — seed 003's runbook as commands: the real bin in a child process, the
 * real docker-registry holding only `:prod`, the sandbox with ImageStreams over HTTPS and an `oc
 * login` bearer token in the kubeconfig (KUBECONFIG): `get --from imagestreams` writes points from
 * the import history; `run --target openshift --pin-digest` pins both tags to the point's digests
 * and the triggers roll the StatefulSet and the Deployment; `undo` puts the tracking reference
 * back; a digest no longer in the registry is refused with exit 2 and nothing changed (by the
 * run's own existence check, before the target's, which test/openshift covers).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { NS, type Scenario, startScenario } from "../openshift/support.ts"
import { type CliResult, runCli } from "./runCli.ts"

let s: Scenario
let dir: string
beforeEach(async () => {
  s = await startScenario()
  dir = dirname(s.kubeconfig)
  writeFileSync(join(dir, "fleet-rollback.yaml"), `registry:\n  url: ${s.registry.url}\ntarget:\n  kind: openshift\n  namespaces: [${NS}]\n`)
}, 60_000)
afterEach(() => s.close())

const cli = (args: ReadonlyArray<string>) => runCli(args, { cwd: dir, env: { KUBECONFIG: s.kubeconfig }, timeoutMs: 90_000 })
const all = (r: CliResult) => r.stdout + r.stderr
const image = (kind: string, name: string): string => s.sandbox.object(kind, NS, name)!.spec.template.spec.containers[0].image
/** The point at which both services run their first imported image. */
const firstCommonPoint = (): string => {
  const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
  const firsts = Object.values(file.images as Record<string, Array<{ created: string }>>).map((list) => list[list.length - 1]!.created)
  return firsts.sort().at(-1)!
}

describe("fleet-rollback --target openshift (seed 003)", () => {
  it("get --from imagestreams, run to the oldest common point, undo", async () => {
    const got = await cli(["get", "--from", "imagestreams"])
    assert.strictEqual(got.code, 0, all(got))
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    assert.deepStrictEqual(Object.keys(file.images).sort(), ["service", "worker"])
    assert.deepStrictEqual(file.images.worker.map((i: { digest: string }) => i.digest), [...s.pushed.worker].reverse())
    assert.isAtLeast(file.points.length, 3)
    const run = await cli(["run", "--target", "openshift", "--point", firstCommonPoint(), "--pin-digest", "--yes", "--poll-ms", "100"])
    assert.strictEqual(run.code, 0, all(run))
    assert.strictEqual(image("StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[0]}`)
    assert.strictEqual(image("Deployment", "packit-service"), `${s.registry.host}/packit/service@${s.pushed.service[0]}`)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
    assert.strictEqual(report.target.kind, "openshift")
    const undo = await cli(["undo", "--target", "openshift", "--yes", "--poll-ms", "100"])
    assert.strictEqual(undo.code, 0, all(undo))
    const worker = s.sandbox.object("ImageStream", NS, "worker")!
    assert.deepStrictEqual(worker.spec.tags[0].from, { kind: "DockerImage", name: `${s.registry.host}/packit/worker:prod` }, "tracking :prod again")
    assert.strictEqual(worker.spec.tags[0].importPolicy.scheduled, true)
    assert.strictEqual(image("StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
  })

  it("a digest no longer in the registry: exit 2, nothing changed", async () => {
    const got = await cli(["get", "--from", "imagestreams"])
    assert.strictEqual(got.code, 0, all(got))
    await fetch(`${s.registry.url}/v2/packit/worker/manifests/${s.pushed.worker[0]}`, { method: "DELETE" })
    const before = s.sandbox.snapshot()
    const run = await cli(["run", "--target", "openshift", "--point", firstCommonPoint(), "--pin-digest", "--yes", "--poll-ms", "100"])
    assert.strictEqual(run.code, 2, all(run))
    assert.include(all(run), `manifests/${s.pushed.worker[0]} answered 404`)
    assert.include(all(run), "nothing was changed")
    assert.deepStrictEqual(s.sandbox.snapshot(), before)
  })

  it("re-track after a fix puts the pinned tags back to tracking :prod (without --yes nothing changes)", async () => {
    assert.strictEqual((await cli(["get", "--from", "imagestreams"])).code, 0)
    const run = await cli(["run", "--target", "openshift", "--point", firstCommonPoint(), "--pin-digest", "--yes", "--poll-ms", "100"])
    assert.strictEqual(run.code, 0, all(run))
    const before = s.sandbox.snapshot()
    const asked = await cli(["re-track"])
    assert.strictEqual(asked.code, 2, all(asked))
    assert.include(all(asked), `re-track ${NS}/ImageStreamTag/worker:prod (now ${s.registry.host}/packit/worker@${s.pushed.worker[0]})`)
    assert.deepStrictEqual(s.sandbox.snapshot(), before)
    const done = await cli(["re-track", "--yes", "--poll-ms", "100"])
    assert.strictEqual(done.code, 0, all(done))
    assert.include(all(done), `${NS}/ImageStreamTag/service:prod: tracks ${s.registry.host}/packit/service:prod, runs ${s.registry.host}/packit/service@${s.pushed.service[2]}`)
    assert.strictEqual(image("StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
    assert.strictEqual(image("Deployment", "packit-service"), `${s.registry.host}/packit/service@${s.pushed.service[2]}`)
  })

  it("the config's target.kubeconfig finds the cluster for get --from imagestreams and re-track too, as for run (no KUBECONFIG)", async () => {
    writeFileSync(join(dir, "fleet-rollback.yaml"), `registry:\n  url: ${s.registry.url}\ntarget:\n  kind: openshift\n  kubeconfig: ${s.kubeconfig}\n  namespaces: [${NS}]\n`)
    const bare = (args: ReadonlyArray<string>) => runCli(args, { cwd: dir, timeoutMs: 90_000 })
    const got = await bare(["get", "--from", "imagestreams"])
    assert.strictEqual(got.code, 0, all(got))
    const run = await bare(["run", "--target", "openshift", "--point", firstCommonPoint(), "--pin-digest", "--yes", "--poll-ms", "100"])
    assert.strictEqual(run.code, 0, all(run))
    const done = await bare(["re-track", "--yes", "--poll-ms", "100"])
    assert.strictEqual(done.code, 0, all(done))
    assert.strictEqual(image("StatefulSet", "packit-worker"), `${s.registry.host}/packit/worker@${s.pushed.worker[2]}`)
  })
})
