/**
 * @module sandbox images on a real engine — the sandbox registry's runnable images (the Swarm
 * demo's) are pulled and run by a real Docker Engine as a Swarm service, and stop at once.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine } from "../support/DockerEngine.ts"

let engine: DockerEngine
let registry: SandboxRegistry

beforeAll(async () => {
  ;[engine, registry] = await Promise.all([
    startDockerEngine(),
    startSandboxRegistry({ runnable: true, images: [{ repository: "shop/api", tag: "1-master", created: "2026-01-01T00:00:00Z" }] })
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all([engine?.stop(), registry?.stop()])
}, 120_000)

describe("the sandbox registry's runnable images", () => {
  it("run as a Swarm service on a real engine (pulled from the sandbox, /pause waiting)", async () => {
    const image = `${new URL(registry.url).host}/shop/api:1-master`
    await engine.createService({ name: "demo_api", stack: "demo", image })
    await engine.waitConverged(["demo_api"])
    const tasks = await engine.get(`/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ["demo_api"], "desired-state": ["running"] }))}`) as Array<{ Status: { State: string } }>
    assert.deepStrictEqual(tasks.map((t) => t.Status.State), ["running"])
    const service = await engine.get("/services/demo_api") as { Spec: { TaskTemplate: { ContainerSpec: { Image: string } } } }
    // the docker CLI pinned the sandbox's digest
    assert.match(service.Spec.TaskTemplate.ContainerSpec.Image, /^127\.0\.0\.1:\d+\/shop\/api:1-master@sha256:[0-9a-f]{64}$/)
  })
})
