/**
 * @module Swarm command line tests — the real `fleet-rollback` bin (child processes) against a
 * REAL Docker Engine: `demo --target swarm` tells the story there and says what it needs when no
 * engine is reachable; `run --target swarm --stack` rolls a stack back to a point and writes a
 * report `undo` goes back from; a broken image fails (reverted with --revert-on-failure); Ctrl-C
 * after the updates were sent still writes the report; bad settings exit 2 with nothing changed.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine, TestImageBehaviour } from "../support/DockerEngine.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry } from "../support/DockerRegistry.ts"
import { bin, runCli } from "../cli/runCli.ts"
import type { CliResult } from "../cli/runCli.ts"

let engine: DockerEngine
let registry: DockerRegistry
let cwd: string
/** Pinned references by `repo:tag`. */
const images: Record<string, string> = {}

/** Build day (November 2026) of each image; `get` would read these dates from the images. */
const BUILDS: ReadonlyArray<readonly [string, TestImageBehaviour, number]> = [
  ["api:1.0", "healthy", 1],
  ["api:1.1", "healthy", 2],
  ["api:1.2", "healthy", 3],
  ["api:1.3-broken", "exits", 4],
  ["api:1.4-stuck", "stuck", 5],
  ["web:1.0", "healthy", 1],
  ["web:1.1", "healthy", 3],
  ["worker:1.0", "healthy", 1]
]

beforeAll(async () => {
  ;[engine, registry] = await Promise.all([startDockerEngine(), startDockerRegistry()])
  for (const [name, behaviour] of BUILDS) images[name] = await engine.buildImage(`${registry.host}/shop/${name}`, behaviour)
  cwd = mkdtempSync(join(tmpdir(), "fleet-rollback-swarm-cli-"))
}, 180_000)

afterAll(async () => {
  await Promise.all([engine?.stop(), registry?.stop()])
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true })
}, 120_000)

const day = (d: number) => `2026-11-0${d}T12:00:00.000Z`

/** rollback.json as `get` writes it for these images (digests as pushed). */
const writeRollbackFile = (): string => {
  const services = ["api", "web", "worker"]
  const file = join(cwd, "rollback.json")
  const entries = BUILDS.map(([name, , d]) => ({ name, d, service: name.split(":")[0]!, tag: name.split(":")[1]! }))
  writeFileSync(file, JSON.stringify({
    schemaVersion: 1,
    generatedAt: "2026-11-06T00:00:00.000Z",
    environment: null,
    registry: registry.url,
    services: services.map((s) => ({ name: s, repository: `shop/${s}` })),
    images: Object.fromEntries(services.map((s) => [s, entries.filter((e) => e.service === s).reverse().map((e) => ({
      tag: e.tag,
      digest: images[e.name]!.slice(images[e.name]!.indexOf("@") + 1),
      created: day(e.d),
      dateSource: "config"
    }))])),
    points: [5, 4, 3, 2, 1].map((d) => ({
      id: day(d),
      label: day(d),
      changes: entries.filter((e) => e.d === d).map((e) => ({ service: e.service, tag: e.tag }))
    }))
  }))
  return file
}

let stacks = 0
/** A stack on the day-3 release (api 1.2, web 1.1, worker 1.0). */
const makeStack = async (): Promise<string> => {
  const stack = `cli${++stacks}`
  const members: Record<string, string> = { api: "api:1.2", web: "web:1.1", worker: "worker:1.0" }
  await Promise.all(Object.entries(members).map(([m, image]) => engine.createService({ name: `${stack}_${m}`, stack, image: images[image]! })))
  await engine.waitConverged(Object.keys(members).map((m) => `${stack}_${m}`))
  return stack
}

interface Inspected {
  readonly Version: { readonly Index: number }
  readonly Spec: { readonly TaskTemplate: { readonly ContainerSpec: { readonly Image: string } } }
  readonly UpdateStatus?: { readonly State: string }
}
const inspect = async (name: string) => engine.get(`/services/${name}`) as Promise<Inspected>
const imageOf = async (name: string) => (await inspect(name)).Spec.TaskTemplate.ContainerSpec.Image

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { cwd, env: { DOCKER_HOST: engine.dockerHost, ...env }, timeoutMs: 180_000 })

const readReport = (path: string) => JSON.parse(readFileSync(path, "utf8")) as {
  outcome: string
  message: string
  target?: { kind: string; url: string; settings?: Record<string, string> }
  services: Array<{ service: string; app: string | null; outcome: string; before: string | null; after: string | null; problem?: string }>
  finalState: Array<{ app: string; image: string | null; instances: number; tasksRunning: number }>
}

describe("demo --target swarm", () => {
  it("tells the story on the engine at DOCKER_HOST and removes its stack afterwards", async () => {
    const result = await cli(["demo", "--target", "swarm"])
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    for (const step of ["1. Read every service", "2. The points", "3. The plan", "4. Roll back", "5. What runs now", "6. Undo"]) assert.include(result.stdout, step)
    assert.match(result.stdout, /fleet-rollback-demo_payments/)
    const left = await engine.get(`/services?filters=${encodeURIComponent(JSON.stringify({ label: ["com.docker.stack.namespace=fleet-rollback-demo"] }))}`) as Array<unknown>
    assert.deepStrictEqual(left, [], "the demo stack is removed")
  }, 240_000)

  it("without a reachable engine it says what it needs, exits 2 and changes nothing; --keep is refused", async () => {
    const result = await cli(["demo", "--target", "swarm"], { DOCKER_HOST: `unix://${cwd}/no-engine.sock` })
    assert.strictEqual(result.code, 2, result.stdout + result.stderr)
    assert.match(result.stderr + result.stdout, /demo --target swarm needs a Docker Engine that is a swarm manager/)
    assert.match(result.stderr + result.stdout, /docker swarm init --advertise-addr 127\.0\.0\.1/)
    const keep = await cli(["demo", "--target", "swarm", "--keep"])
    assert.strictEqual(keep.code, 2, keep.stdout + keep.stderr)
    assert.match(keep.stderr, /demo --target swarm has no --keep/)
  })
})

describe("run and undo --target swarm", () => {
  it("rolls a stack back to a point (the unchanged service untouched), reports where, and undo puts it back from the report", async () => {
    const stack = await makeStack()
    const file = writeRollbackFile()
    const report = join(cwd, `${stack}-report.json`)
    const [apiBefore, webBefore, workerBefore] = await Promise.all([inspect(`${stack}_api`), inspect(`${stack}_web`), inspect(`${stack}_worker`)])
    const run = await cli(["run", "--target", "swarm", "--stack", stack, "--file", file, "--point", "2026-11-02", "--yes", "--report", report, "--poll-ms", "250"])
    assert.strictEqual(run.code, 0, run.stdout + run.stderr)
    assert.strictEqual(await imageOf(`${stack}_api`), images["api:1.1"])
    assert.strictEqual(await imageOf(`${stack}_web`), images["web:1.0"])
    assert.deepStrictEqual(await inspect(`${stack}_worker`), workerBefore, "the unchanged service keeps its version and spec")
    const written = readReport(report)
    assert.strictEqual(written.outcome, "succeeded")
    assert.deepStrictEqual(written.target, { kind: "swarm", url: engine.dockerHost, settings: { stack } })
    assert.deepStrictEqual(written.services.map((s) => [s.service, s.app, s.outcome]), [
      ["api", `${stack}_api`, "rolled-back"],
      ["web", `${stack}_web`, "rolled-back"],
      ["worker", `${stack}_worker`, "unchanged"]
    ])
    // the final state: each changed service as the engine shows it after the run (Swarm's verify
    // returns no reading, so the workflow reads them)
    assert.deepStrictEqual<ReadonlyArray<unknown>>(written.finalState.map((f) => [f.app, f.image, f.tasksRunning === f.instances]), [[`${stack}_api`, images["api:1.1"], true], [`${stack}_web`, images["web:1.0"], true]])
    // with registry credentials in the environment, undo does not send them where a report says
    const guarded = await cli(["undo", "--report", report, "--out", join(cwd, `${stack}-undo.json`), "--yes"], { REGISTRY_USERNAME: "bot", REGISTRY_PASSWORD: "pw" })
    assert.strictEqual(guarded.code, 2, guarded.stdout + guarded.stderr)
    assert.match(guarded.stderr, /--target-from-report/)
    assert.strictEqual(await imageOf(`${stack}_api`), images["api:1.1"], "nothing changed")
    // undo names no target: it goes where the report says (no credential would be sent there)
    const undo = await cli(["undo", "--report", report, "--out", join(cwd, `${stack}-undo.json`), "--yes", "--poll-ms", "250"])
    assert.strictEqual(undo.code, 0, undo.stdout + undo.stderr)
    // nobody touched them since the run: the engine's previous spec is the one before it, taken back whole
    assert.match(undo.stdout + undo.stderr, /rollback=previous, back to the spec before the run exactly/)
    for (const name of [`${stack}_api`, `${stack}_web`]) assert.strictEqual((await inspect(name)).UpdateStatus?.State, "rollback_completed", name)
    assert.deepStrictEqual((await inspect(`${stack}_api`)).Spec, apiBefore.Spec)
    assert.deepStrictEqual((await inspect(`${stack}_web`)).Spec, webBefore.Spec)
    assert.deepStrictEqual(await inspect(`${stack}_worker`), workerBefore)
  }, 180_000)

  it("a broken image fails the run with the task error (exit 1), undo naming the target puts it back, and --revert-on-failure puts the previous spec back", async () => {
    const stack = await makeStack()
    const file = writeRollbackFile()
    const report = join(cwd, `${stack}-report.json`)
    const failedRun = await cli(["run", "--target", "swarm", "--stack", stack, "--file", file, "--point", "2026-11-04", "--allow-forward", "--yes", "--report", report, "--poll-ms", "250"])
    assert.strictEqual(failedRun.code, 1, failedRun.stdout + failedRun.stderr)
    const failed = readReport(report)
    assert.strictEqual(failed.outcome, "failed")
    assert.match(failed.message, /not every service is healthy/)
    // the operator reads the engine's pause and the task's error on the service
    assert.match(failed.services.find((s) => s.service === "api")?.problem ?? "", /update is paused: .*task \S+ \(.*1\.3-broken@sha256:.*\) failed: task: non-zero exit \(3\)/)
    assert.strictEqual(await imageOf(`${stack}_api`), images["api:1.3-broken"], "without a revert the broken update is left as the engine paused it")
    // the README's way out: undo naming the target, registry credentials in the environment
    const undo = await cli(["undo", "--report", report, "--target", "swarm", "--stack", stack, "--out", join(cwd, `${stack}-undo.json`), "--yes", "--poll-ms", "250"], {
      REGISTRY_USERNAME: "bot",
      REGISTRY_PASSWORD: "pw"
    })
    assert.strictEqual(undo.code, 0, undo.stdout + undo.stderr)
    assert.strictEqual(await imageOf(`${stack}_api`), images["api:1.2"])

    const other = await makeStack()
    const otherBefore = await inspect(`${other}_api`)
    const revertReport = join(cwd, `${other}-report.json`)
    const reverted = await cli(["run", "--target", "swarm", "--stack", other, "--file", file, "--point", "2026-11-04", "--allow-forward", "--revert-on-failure", "--yes", "--report", revertReport, "--poll-ms", "250"])
    assert.strictEqual(reverted.code, 1, reverted.stdout + reverted.stderr)
    assert.strictEqual(readReport(revertReport).outcome, "reverted")
    assert.deepStrictEqual((await inspect(`${other}_api`)).Spec, otherBefore.Spec)
    assert.strictEqual((await inspect(`${other}_api`)).UpdateStatus?.State, "rollback_completed")
  }, 180_000)

  it("Ctrl-C after the updates were sent: the report is written and says the rollout goes on", async () => {
    const stack = await makeStack()
    const file = writeRollbackFile()
    const report = join(cwd, `${stack}-report.json`)
    const child = spawn(process.execPath, [bin, "run", "--target", "swarm", "--stack", stack, "--file", file, "--point", "2026-11-05", "--allow-forward", "--yes", "--report", report, "--poll-ms", "250"], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", HOME: cwd, USER: "oncall", NO_COLOR: "1", NODE_DISABLE_COMPILE_CACHE: "1", DOCKER_HOST: engine.dockerHost },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")))
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    try {
      // the update reached the engine (the stuck image never gets healthy, so the run waits)
      for (let waited = 0; (await imageOf(`${stack}_api`)) !== images["api:1.4-stuck"]; waited += 200) {
        assert.isBelow(waited, 60_000, `the update was not sent:\n${output}`)
        assert.isNull(child.exitCode, `the run ended early:\n${output}`)
        await new Promise((r) => setTimeout(r, 200))
      }
      child.kill("SIGINT")
      const code = await exited
      assert.notStrictEqual(code, 0, output)
      assert.isTrue(existsSync(report), `no report after Ctrl-C:\n${output}`)
      const written = readReport(report)
      assert.strictEqual(written.target?.kind, "swarm")
      assert.notStrictEqual(written.services.find((s) => s.service === "api")?.outcome, "not-started")
      assert.match(written.message, /^interrupted while rollout \S+_api was running: it goes on in Docker Swarm/)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  }, 120_000)

  it("settings that cannot work exit 2 and change nothing: a selector Docker cannot say, ssh://, --force (Swarm has no lock)", async () => {
    const stack = await makeStack()
    const file = writeRollbackFile()
    const before = await Promise.all([inspect(`${stack}_api`), inspect(`${stack}_web`)])
    const selector = await cli(["run", "--target", "swarm", "--label-selector", "tier in (a,b)", "--file", file, "--point", "2026-11-02", "--yes", "--report", join(cwd, "x.json")])
    assert.strictEqual(selector.code, 2, selector.stdout + selector.stderr)
    assert.match(selector.stderr, /key or key=value/)
    const ssh = await cli(["run", "--target", "swarm", "--stack", stack, "--file", file, "--point", "2026-11-02", "--yes", "--report", join(cwd, "x.json")], { DOCKER_HOST: "ssh://ops@manager1" })
    assert.strictEqual(ssh.code, 2, ssh.stdout + ssh.stderr)
    assert.match(ssh.stderr, /ssh:\/\/ is not supported/)
    const forced = await cli(["run", "--target", "swarm", "--stack", stack, "--file", file, "--point", "2026-11-02", "--force", "--yes", "--report", join(cwd, "x.json")])
    assert.strictEqual(forced.code, 2, forced.stdout + forced.stderr)
    assert.match(forced.stderr, /Docker Swarm/)
    assert.match(forced.stderr, /--force/)
    assert.deepStrictEqual(await Promise.all([inspect(`${stack}_api`), inspect(`${stack}_web`)]), before)
  }, 120_000)
})
