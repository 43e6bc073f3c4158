/**
 * @module test/deno/library_test — Deno users: the Promise API, imported as
 * `fleet-rollback/promise` (resolved by Deno through the project's deno.json `exports`), runs
 * `get`, `plan`, `run` and `undo` against the built-in sandbox. The sandboxes are test helpers,
 * not exports, so they are imported by path. Run by test/project/deno.test.ts with `deno test`.
 */
import { getRollbacks, plan, run, undo } from "fleet-rollback/promise"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"

const check = (condition: boolean, message: string) => {
  if (!condition) throw new Error(message)
}

Deno.test("get, plan, run and undo through the Promise API on Deno", async () => {
  const registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z", annotationCreated: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" },
      { repository: "shop/web", tag: "3-master", created: "2026-11-01T10:00:00Z" }
    ]
  })
  const host = new URL(registry.url).host
  const marathon = await startMarathonSandbox({
    deploymentMs: 50,
    apps: [sampleApp("/shop/api", `${host}/shop/api:8-master`), sampleApp("/shop/web", `${host}/shop/web:3-master`)]
  })
  try {
    const { file } = await getRollbacks({
      registry: { url: registry.url },
      services: [{ name: "api", repository: "shop/api" }, { name: "web", repository: "shop/web" }],
      environment: "master"
    })
    check(file.points.length === 3, `3 points expected, got ${file.points.length}`)
    check(file.images.api?.[0]?.dateSource === "config" && file.images.api?.[1]?.dateSource === "annotation", "date sources as pushed")
    const preview = await plan({ file, point: "2026-11-15", marathon: { url: marathon.url } })
    check(preview.services.map((s) => s.action).join(",") === "rollback,unchanged", `plan: ${JSON.stringify(preview.services)}`)
    const report = await run({ file, point: "2026-11-15", marathon: { url: marathon.url }, user: "deno", pollMs: 100 })
    check(report.outcome === "succeeded", `run: ${report.outcome} ${report.message}`)
    const image = () => String((marathon.apps().find((a) => a["id"] === "/shop/api")?.["container"] as { docker: { image: string } }).docker.image)
    check(image().endsWith("shop/api:7-master"), `api runs ${image()}`)
    const undone = await undo({ report, marathon: { url: marathon.url }, user: "deno", pollMs: 100 })
    check(undone.outcome === "succeeded", `undo: ${undone.outcome} ${undone.message}`)
    check(image().endsWith("shop/api:8-master"), `api runs ${image()} after undo`)
  } finally {
    await marathon.stop()
    await registry.stop()
  }
})
