/**
 * @module OfficialExamples.test — the Marathon client's own Schemas (lib/targets/marathon/MarathonApp.ts)
 * decode Marathon's published examples under `../shared/marathon-api/` (resolved from the
 * repository root, wherever the checkout is): app definitions and AppInfos, the app list, the
 * deployment list and a deployment's result; and `toMarathonApp` reads from them what the
 * client reads (id, image, instances, labels). Until now only the sandbox saw these files.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { AppInfoJson, AppListJson, DeploymentListJson, DeploymentResultJson, toMarathonApp } from "../../lib/targets/marathon/MarathonApp.ts"

/** `../shared/marathon-api/marathon` beside the checkout. */
const MARATHON_API = resolve(import.meta.dirname, "../../../shared/marathon-api/marathon")

const read = (path: string): unknown => JSON.parse(readFileSync(join(MARATHON_API, path), "utf8"))

/** Decodes with the client's Schema; fails the test with the Schema's message otherwise. */
const decode = <S extends Schema.Top>(schema: S, json: unknown, what: string): S["Type"] => {
  const result = Schema.decodeUnknownResult(schema as never)(json) as Result.Result<S["Type"], Schema.SchemaError>
  if (Result.isFailure(result)) assert.fail(`${what} does not decode with the client's Schema: ${String(result.failure)}`)
  return (result as Result.Success<S["Type"], never>).success
}

const exampleApps = readdirSync(join(MARATHON_API, "example-apps")).filter((f) => f.endsWith(".json")).sort()

describe("Marathon's published examples through the client's Schemas", () => {
  it("the examples are there (five example apps and the raml examples)", () => {
    assert.deepStrictEqual(exampleApps, [
      "docker-http-server.json",
      "private-docker-app.json",
      "private-ucr-docker-app.json",
      "sleep-app.json",
      "ucr-docker-http-server.json"
    ])
  })

  for (const file of [...exampleApps.map((f) => `example-apps/${f}`), "raml/v2/examples/app.json"]) {
    it(`${file} decodes as an AppInfo, and the client reads its id, image and instances`, () => {
      const raw = read(file) as Record<string, unknown>
      const app = toMarathonApp(decode(AppInfoJson, raw, file), raw)
      assert.strictEqual(app.id, raw["id"])
      const docker = (raw["container"] as { docker?: { image?: string } } | undefined)?.docker
      assert.strictEqual(app.image ?? undefined, docker?.image ?? undefined)
      assert.strictEqual(app.instances, (raw["instances"] as number | undefined) ?? app.instances)
    })
  }

  it("raml/v2/examples/app_list.json decodes as the app list, each app as an AppInfo", () => {
    const list = decode(AppListJson, read("raml/v2/examples/app_list.json"), "app_list.json")
    assert.isAbove(list.apps.length, 0)
    for (const [i, app] of list.apps.entries()) {
      const info = decode(AppInfoJson, app, `app_list.json apps[${i}]`)
      assert.strictEqual(toMarathonApp(info, app as Record<string, unknown>).id, info.id)
    }
  })

  it("raml/v2/examples/deployments.json decodes as the deployment list, with ids and affected apps", () => {
    const deployments = decode(DeploymentListJson, read("raml/v2/examples/deployments.json"), "deployments.json")
    assert.isAbove(deployments.length, 0)
    assert.strictEqual(deployments[0]!.id, "97c136bf-5a28-4821-9d94-480d9fbb01c8")
    assert.deepStrictEqual(deployments[0]!.affectedApps, ["/foo"])
  })

  it("raml/v2/examples/deployments_result.json decodes as a deployment's result", () => {
    const result = decode(DeploymentResultJson, read("raml/v2/examples/deployments_result.json"), "deployments_result.json")
    assert.deepStrictEqual(result, { deploymentId: "5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43", version: "2015-09-29T15:59:51.164Z" })
  })
})
