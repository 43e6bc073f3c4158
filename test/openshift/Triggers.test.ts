/**
 * @module test/openshift/Triggers — pull specs as the OpenShift target reads them: the registry
 * host and repository of a pinned image (what the digest check asks the registry about), read as
 * every target reads image references, and the `oc tag --source=docker` form of a pin.
 */
import { assert, describe, it } from "@effect/vitest"
import { pinnedPullSpec, registryPath } from "../../lib/targets/openshift/Triggers.ts"

const A = `sha256:${"a".repeat(64)}`

describe("registryPath", () => {
  const cases: ReadonlyArray<[string, { host: string; repository: string }]> = [
    [`quay.io/packit/worker@${A}`, { host: "quay.io", repository: "packit/worker" }],
    [`127.0.0.1:5000/packit/worker:prod@${A}`, { host: "127.0.0.1:5000", repository: "packit/worker" }],
    [`packit/worker@${A}`, { host: "docker.io", repository: "packit/worker" }],
    [`ubuntu@${A}`, { host: "docker.io", repository: "library/ubuntu" }],
    [`localhost/x/y:1`, { host: "localhost", repository: "x/y" }]
  ]
  for (const [spec, expected] of cases) {
    it(`${spec.slice(0, 40)} → ${expected.host} ${expected.repository}`, () => {
      assert.deepStrictEqual(registryPath(spec), expected)
    })
  }
})

describe("pinnedPullSpec", () => {
  it("repository@digest, the tag dropped; undefined without a sha256 digest", () => {
    assert.strictEqual(pinnedPullSpec(`quay.io/packit/worker:prod@${A}`), `quay.io/packit/worker@${A}`)
    assert.isUndefined(pinnedPullSpec("quay.io/packit/worker:prod"))
  })
})
