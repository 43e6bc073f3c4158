/**
 * `get --from history` end to end on real components: Debian's docker-registry holds the images
 * (with their build dates and revisions), the Marathon sandbox remembers what each app ran as
 * versions, and a run report fills what Marathon forgot. The fleet's build dates and deployment
 * times disagree: api 2 was built on Monday but deployed on Wednesday, the hotfix api 3 was built
 * on Tuesday and never deployed. "As of Tuesday noon" by build date is a set that never ran; by
 * history it is the set that was running.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { startMarathonSandbox, type MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startDockerRegistry, type DockerRegistry } from "../support/DockerRegistry.ts"
import { pushFleet } from "../support/pushImage.ts"
import { runCli } from "../cli/runCli.ts"
import type { CliResult } from "../cli/runCli.ts"

const sha = (c: string) => c.repeat(40)
const images = {
  api: [
    { tag: "1-master", created: "2026-11-10T09:00:00Z", revision: sha("a") },
    { tag: "2-master", created: "2026-11-16T09:00:00Z", revision: sha("b") }, // Monday; deployed Wednesday
    { tag: "3-master", created: "2026-11-17T09:00:00Z", revision: sha("c") } // Tuesday hotfix, never deployed
  ],
  web: [
    { tag: "7-master", created: "2026-11-10T09:30:00Z", revision: sha("d") },
    { tag: "8-master", created: "2026-11-18T09:00:00Z", revision: sha("e") }
  ],
  worker: [{ tag: "5-master", created: "2026-11-09T09:00:00Z", revision: sha("f") }]
} as const
type Service = keyof typeof images

let dir: string
let registry: DockerRegistry
let marathon: MarathonSandbox
const ref = (service: Service, tag: string) => `${registry.host}/shop/${service}:${tag}`

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-history-"))
  registry = await startDockerRegistry({})
  await pushFleet({ url: registry.url }, {
    repositories: (Object.keys(images) as Array<Service>).map((service) => ({
      name: `shop/${service}`,
      images: images[service].map((i) => ({ tag: i.tag, created: i.created, annotationCreated: i.created, revision: i.revision }))
    }))
  })
  const app = (service: Service, tag: string) => ({
    id: `/shop/prod/${service}`,
    instances: 1,
    cpus: 0.1,
    mem: 64,
    container: { type: "DOCKER", docker: { image: ref(service, tag) } }
  })
  marathon = await startMarathonSandbox({
    deploymentMs: 100,
    apps: [app("api", "2-master"), app("web", "8-master"), app("worker", "5-master")],
    appHistory: {
      "/shop/prod/api": [{ version: "2026-11-10T12:00:00Z", image: ref("api", "1-master") }, { version: "2026-11-18T10:00:00Z", image: ref("api", "2-master") }],
      "/shop/prod/web": [{ version: "2026-11-10T12:00:00Z", image: ref("web", "7-master") }, { version: "2026-11-18T10:05:00Z", image: ref("web", "8-master") }]
      // worker: Marathon remembers only its current definition (its older versions are gone)
    }
  })
  writeFileSync(join(dir, "fleet-rollback.yaml"), [
    "environment: prod",
    `registry: { url: ${registry.url} }`,
    "environments: { prod: { tagFilter: master } }",
    "services:",
    "  api: { repository: shop/api, source: https://github.com/shop/api }",
    "  web: { repository: shop/web }",
    "  worker: { repository: shop/worker }",
    `marathon: { url: ${marathon.url} }`,
    ""
  ].join("\n"))
  // a run report from 9 November: the worker was rolled back to 5-master then
  mkdirSync(join(dir, "reports"))
  writeFileSync(join(dir, "reports", "rollback-report-1109.json"), JSON.stringify({
    schemaVersion: 1,
    kind: "run",
    user: "oncall",
    startedAt: "2026-11-09T11:59:00.000Z",
    finishedAt: "2026-11-09T12:00:00.000Z",
    durationMs: 60000,
    point: "2026-11-09T10:00:00.000Z",
    label: null,
    environment: "prod",
    marathon: marathon.url,
    outcome: "succeeded",
    message: "rolled back 1 app(s)",
    deploymentId: "d-1",
    revertDeploymentId: null,
    durations: { deployMs: 10, waitMs: 100 },
    services: [{ service: "worker", app: "/shop/prod/worker", action: "rollback", before: ref("worker", "4-master"), after: ref("worker", "5-master"), outcome: "rolled-back" }],
    finalState: []
  }))
  writeFileSync(join(dir, "reports", "notes.json"), JSON.stringify({ not: "a report" }))
  // the files every test reads: from history (with and without the report) and from build dates
  gets.history = await cli(["get", "--config", "fleet-rollback.yaml", "--no-cache", "--from", "history", "--reports", "reports", "--out", "history.json"])
  gets.marathonOnly = await cli(["get", "--config", "fleet-rollback.yaml", "--no-cache", "--from", "history", "--out", "marathon-only.json"])
  gets.built = await cli(["get", "--config", "fleet-rollback.yaml", "--no-cache", "--out", "built.json"])
}, 180_000)

afterAll(async () => {
  await marathon?.stop()
  await registry?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const cli = (args: ReadonlyArray<string>) => runCli(args, { cwd: dir })
const gets: Record<"history" | "marathonOnly" | "built", CliResult> = {} as never
const plan = async (file: string, point: string, extra: ReadonlyArray<string> = []) => {
  const result = await cli(["plan", "--config", "fleet-rollback.yaml", "--file", file, "--point", point, "--json", ...extra])
  assert.strictEqual(result.code, 0, result.stderr)
  return JSON.parse(result.stdout) as { services: Array<{ service: string; current: string | null; target: string | null; action: string; undoes?: { revisions: Array<string>; compareUrl?: string } }>; knownGood?: { label: string; ranFor: string } }
}
const targets = (p: Awaited<ReturnType<typeof plan>>) => Object.fromEntries(p.services.map((s) => [s.service, `${s.action} ${s.target?.slice(s.target.lastIndexOf(":") + 1) ?? "-"}`]))

describe("get --from history", () => {
  it("writes rollback.json version 3 whose points are the sets that ran, each saying how long it ran", async () => {
    const result = gets.history
    assert.strictEqual(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(dir, "history.json"), "utf8"))
    assert.strictEqual(file.schemaVersion, 3)
    assert.deepStrictEqual(file.points.map((p: { id: string }) => p.id), [
      "2026-11-18T10:05:00.000Z",
      "2026-11-18T10:00:00.000Z",
      "2026-11-10T12:00:00.000Z",
      "2026-11-09T12:00:00.000Z"
    ])
    assert.match(file.points[0].label, /web 8-master \(running now\)$/)
    assert.match(file.points[1].label, /api 2-master \(ran 5 min\)$/)
    assert.match(file.points[2].label, /\(ran 7 d 22 h\)$/)
    assert.deepStrictEqual(file.history.worker.map((d: { tag: string; source: string }) => `${d.tag} ${d.source}`), ["5-master report"])
    assert.deepStrictEqual(file.history.api.map((d: { tag: string; source: string }) => `${d.tag} ${d.source}`), ["1-master marathon", "2-master marathon"])
    assert.include(result.stderr, "Marathon remembers each app's definitions as versions")
    const choices = await cli(["choices", "--file", "history.json"])
    assert.deepStrictEqual(choices.stdout.trim().split("\n"), file.points.map((p: { label: string }) => p.label))
  })

  it("as of Tuesday noon, history picks the set that was running; the build-date timeline picks a hotfix that never ran", async () => {
    assert.strictEqual(gets.built.code, 0, gets.built.stderr)
    const byHistory = await plan("history.json", "2026-11-17T12:00:00Z")
    const byBuild = await plan("built.json", "2026-11-17T12:00:00Z")
    assert.deepStrictEqual(targets(byHistory), { api: "rollback 1-master", web: "rollback 7-master", worker: "unchanged 5-master" })
    assert.deepStrictEqual(targets(byBuild), { api: "forward 3-master", web: "rollback 7-master", worker: "unchanged 5-master" })
  })

  it("`previous` is the set that ran just before the current one; the plan names the known-good set and what the rollback takes away", async () => {
    const previous = await plan("history.json", "previous")
    assert.deepStrictEqual(targets(previous), { api: "unchanged 2-master", web: "rollback 7-master", worker: "unchanged 5-master" })
    assert.match(previous.knownGood?.label ?? "", /^2026-11-10 12:00:00 UTC - /)
    assert.strictEqual(previous.knownGood?.ranFor, "7 d 22 h")
    const back = await plan("history.json", "2026-11-10T12:00:00Z")
    const api = back.services.find((s) => s.service === "api")!
    assert.deepStrictEqual(api.undoes?.revisions, ["bbbbbbb"])
    assert.strictEqual(api.undoes?.compareUrl, `https://github.com/shop/api/compare/${sha("a")}...${sha("b")}`)
    const text = await cli(["plan", "--config", "fleet-rollback.yaml", "--file", "history.json", "--point", "previous"])
    assert.match(text.stdout, /Known good: 2026-11-10 12:00:00 UTC - [^\n]* \(ran 7 d 22 h;/)
    const shorter = await cli(["plan", "--config", "fleet-rollback.yaml", "--file", "history.json", "--point", "previous", "--known-good", "5m"])
    assert.include(shorter.stdout, "Known good: 2026-11-18 10:00:00 UTC - api 2-master (ran 5 min;")
    const bad = await cli(["plan", "--config", "fleet-rollback.yaml", "--file", "history.json", "--point", "previous", "--known-good", "soon"])
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "expected a duration such as 24h")
  })

  it("without the report, the worker's history begins with what Marathon remembers, so older points leave it unresolved", async () => {
    assert.strictEqual(gets.marathonOnly.code, 0, gets.marathonOnly.stderr)
    const p = await plan("marathon-only.json", "2026-11-17T12:00:00Z")
    assert.strictEqual(p.services.find((s) => s.service === "worker")?.action, "unresolved")
  })

  it("--reports without --from history is bad input, and nothing is written", async () => {
    const result = await cli(["get", "--config", "fleet-rollback.yaml", "--reports", "reports", "--out", "nothing.json"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--from history")
  })
})
