/**
 * @module harness tests — the throw-away Docker Engine the Swarm tests run on: it starts as its own
 * daemon with a swarm, builds busybox-static images that push to the real loopback registry, runs
 * services on the host network, and leaves nothing behind (no process, no mount, no directory).
 */
import { existsSync, readFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine } from "../support/DockerEngine.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"

let engine: DockerEngine
let registry: DockerRegistry

beforeAll(async () => {
  ;[engine, registry] = await Promise.all([startDockerEngine(), startDockerRegistry()])
}, 120_000)

afterAll(async () => {
  await Promise.all([engine?.stop(), registry?.stop()])
}, 120_000)

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("the throw-away Docker Engine", () => {
  it("is a swarm manager on its own socket, advertising 127.0.0.1", async () => {
    const info = await engine.get("/info") as { Swarm: { LocalNodeState: string; ControlAvailable: boolean; NodeAddr: string }; DockerRootDir: string }
    assert.strictEqual(info.Swarm.LocalNodeState, "active")
    assert.isTrue(info.Swarm.ControlAvailable)
    assert.strictEqual(info.Swarm.NodeAddr, "127.0.0.1")
    assert.isTrue(info.DockerRootDir.startsWith(engine.dir))
  })

  it("runs a pushed healthy image as a service on the host network, pinned by digest", async () => {
    const image = await engine.buildImage(`${registry.host}/harness/api:1.0`, "healthy")
    assert.match(image, new RegExp(`^${registry.host}/harness/api:1\\.0@sha256:[0-9a-f]{64}$`))
    await engine.createService({ name: "h_api", stack: "h", image })
    await engine.waitConverged(["h_api"])
    const service = await engine.get("/services/h_api") as { Spec: { TaskTemplate: { ContainerSpec: { Image: string } } } }
    assert.strictEqual(service.Spec.TaskTemplate.ContainerSpec.Image, image)
  })

  it("stops without leaving a process, a mount or a directory behind", async () => {
    const pid = engine.pid
    const dir = engine.dir
    await engine.stop()
    assert.isFalse(alive(pid), "dockerd still runs")
    assert.isFalse(existsSync(dir), "the engine directory is still there")
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((line) => line.includes(dir))
    assert.deepStrictEqual(mounts, [])
  })
})
