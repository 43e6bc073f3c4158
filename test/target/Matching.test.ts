/**
 * @module Matching.test — service → workload matching, once for every target: the config names the
 * workload, else the one in-scope container running the service's repository; several stop the
 * run listing candidates; the container is named only when the workload has several.
 */
import { assert, describe, it } from "@effect/vitest"
import { matchServiceToWorkload } from "../../lib/target/Matching.ts"
import type { Workload } from "../../lib/target/Workload.ts"

const workload = (id: string, containers: ReadonlyArray<{ name: string; image: string; init?: boolean }>, inScope = true): Workload => ({
  id,
  kind: "Deployment",
  labels: {},
  containers,
  image: containers.find((c) => c.init !== true)?.image,
  health: { desired: 1, running: 1, healthy: 1, summary: "1/1" },
  revision: "1",
  inScope
})

const service = { name: "api", repository: "shop/api", registryHost: "registry.example.com" }

describe("matchServiceToWorkload", () => {
  it("the one in-scope workload running the repository; a single container is not named", () => {
    const found = matchServiceToWorkload(service, [
      workload("prod/api", [{ name: "api", image: "registry.example.com/shop/api:1" }]),
      workload("prod/web", [{ name: "web", image: "registry.example.com/shop/web:1" }])
    ])
    assert.deepStrictEqual(found, { _tag: "Found", workload: "prod/api", container: undefined })
  })

  it("out-of-scope workloads and other registries are not candidates", () => {
    const found = matchServiceToWorkload(service, [
      workload("stage/api", [{ name: "api", image: "registry.example.com/shop/api:1" }], false),
      workload("prod/api", [{ name: "api", image: "other.example.com/shop/api:1" }])
    ])
    assert.deepStrictEqual(found, { _tag: "NotFound" })
  })

  it("a workload with several containers: the container running the repository is named (init containers never count)", () => {
    const found = matchServiceToWorkload(service, [
      workload("prod/api", [
        { name: "migrate", image: "registry.example.com/shop/api:1", init: true },
        { name: "proxy", image: "registry.example.com/shop/envoy:1" },
        { name: "app", image: "registry.example.com/shop/api:1" }
      ])
    ])
    assert.deepStrictEqual(found, { _tag: "Found", workload: "prod/api", container: "app" })
  })

  it("several candidates: Ambiguous, sorted, containers named", () => {
    const found = matchServiceToWorkload(service, [
      workload("prod/b", [{ name: "api", image: "registry.example.com/shop/api:1" }]),
      workload("prod/a", [{ name: "x", image: "registry.example.com/shop/api:1" }, { name: "y", image: "registry.example.com/shop/api:2" }])
    ])
    assert.deepStrictEqual(found, { _tag: "Ambiguous", candidates: ["prod/a/x", "prod/a/y", "prod/b"] })
  })

  it("the config names the workload: found outside the scope too, through the target's canonical id; a missing one is NotFound", () => {
    const workloads = [workload("/stage/api", [{ name: "api", image: "registry.example.com/shop/api:1" }], false)]
    const canonical = (id: string) => (id.startsWith("/") ? id : `/${id}`)
    assert.deepStrictEqual(matchServiceToWorkload({ ...service, app: "stage/api" }, workloads, canonical), { _tag: "Found", workload: "/stage/api", container: undefined })
    assert.deepStrictEqual(matchServiceToWorkload({ ...service, app: "stage/nope" }, workloads, canonical), { _tag: "NotFound" })
  })
})
