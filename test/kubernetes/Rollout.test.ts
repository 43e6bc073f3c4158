/**
 * @module Rollout.test — kubectl's rollout-status rules, table-tested per kind (FACTS.md "Rollout
 * done / failed"; kubectl `rollout_status.go`), including the gitops-engine health examples
 * (deployment-degraded: failed; deployment-progressing: waiting; statefulset-ondelete).
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { parse } from "yaml"
import type { WorkloadJson, WorkloadKind } from "../../lib/targets/kubernetes/Resources.ts"
import { rolloutVerdict } from "../../lib/targets/kubernetes/Rollout.ts"

const container = { name: "c", image: "r/c:1" }
const workload = (spec: Record<string, unknown>, status: Record<string, unknown>, generation = 2): WorkloadJson => ({
  metadata: { name: "x", generation },
  spec: { template: { spec: { containers: [container] } }, ...spec },
  status
}) as WorkloadJson

const cases: ReadonlyArray<readonly [string, WorkloadKind, WorkloadJson, string, string]> = [
  ["Deployment: spec not observed yet", "Deployment", workload({ replicas: 3 }, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }), "waiting", "spec update to be observed"],
  ["Deployment: ProgressDeadlineExceeded is failed", "Deployment", workload({ replicas: 3 }, { observedGeneration: 2, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] }), "failed", `deployment "x" exceeded its progress deadline`],
  ["Deployment: absent counts are 0", "Deployment", workload({ replicas: 3 }, { observedGeneration: 2 }), "waiting", "0 out of 3 new replicas have been updated"],
  ["Deployment: old replicas terminating", "Deployment", workload({ replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }), "waiting", "1 old replicas are pending termination"],
  ["Deployment: updated not yet available", "Deployment", workload({ replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }), "waiting", "2 of 3 updated replicas are available"],
  ["Deployment: done", "Deployment", workload({ replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }), "done", `deployment "x" successfully rolled out`],
  ["Deployment: replicas default to 1", "Deployment", workload({}, { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 }), "done", "successfully rolled out"],
  ["DaemonSet: OnDelete is applied, pods not restarted", "DaemonSet", workload({ updateStrategy: { type: "OnDelete" } }, { observedGeneration: 2 }), "notRestarted", "applied, pods not restarted"],
  ["DaemonSet: not all updated", "DaemonSet", workload({}, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 }), "waiting", "1 out of 3 new pods have been updated"],
  ["DaemonSet: updated not available", "DaemonSet", workload({}, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }), "waiting", "2 of 3 updated pods are available"],
  ["DaemonSet: done", "DaemonSet", workload({}, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }), "done", `daemon set "x" successfully rolled out`],
  ["StatefulSet: observedGeneration 0 waits", "StatefulSet", workload({ replicas: 2 }, { observedGeneration: 0, readyReplicas: 2 }, 0), "waiting", "spec update to be observed"],
  ["StatefulSet: not ready", "StatefulSet", workload({ replicas: 3 }, { observedGeneration: 2, readyReplicas: 2 }), "waiting", "Waiting for 1 pods to be ready"],
  ["StatefulSet: partition not reached", "StatefulSet", workload({ replicas: 4, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }, { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 1, updateRevision: "b", currentRevision: "a" }), "waiting", "1 out of 2 new pods have been updated"],
  ["StatefulSet: partition reached is done without comparing revisions", "StatefulSet", workload({ replicas: 4, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }, { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 2, updateRevision: "b", currentRevision: "a" }), "done", "partitioned roll out complete: 2 new pods"],
  ["StatefulSet: no rollingUpdate, revisions differ", "StatefulSet", workload({ replicas: 2, updateStrategy: { type: "RollingUpdate" } }, { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1, updateRevision: "b", currentRevision: "a" }), "waiting", "rolling update to complete 1 pods at revision b"],
  ["StatefulSet: no rollingUpdate, revisions equal", "StatefulSet", workload({ replicas: 2 }, { observedGeneration: 2, readyReplicas: 2, currentReplicas: 2, updateRevision: "b", currentRevision: "b" }), "done", "rolling update complete 2 pods at revision b"],
  ["StatefulSet: OnDelete", "StatefulSet", workload({ replicas: 2, updateStrategy: { type: "OnDelete" } }, { observedGeneration: 1 }), "notRestarted", "OnDelete"]
]

const example = (file: string): WorkloadJson =>
  // statefulset-ondelete.yaml has the key `updateStrategy` twice (both OnDelete), which strict YAML refuses.
  parse(readFileSync(new URL(`../../../shared/kubernetes-api/examples/gitops-engine-health-testdata/${file}`, import.meta.url), "utf8"), { uniqueKeys: false }) as WorkloadJson

describe("kubectl's rollout-status rules", () => {
  for (const [name, kind, w, state, message] of cases) {
    it(name, () => {
      const verdict = rolloutVerdict(kind, w)
      assert.strictEqual(verdict.state, state)
      assert.include(verdict.message, message)
    })
  }

  it("the official examples: degraded Deployment failed, progressing waiting, OnDelete StatefulSet not restarted", () => {
    assert.strictEqual(rolloutVerdict("Deployment", example("deployment-degraded.yaml")).state, "failed")
    assert.strictEqual(rolloutVerdict("Deployment", example("deployment-progressing.yaml")).state, "waiting")
    assert.strictEqual(rolloutVerdict("StatefulSet", example("statefulset-ondelete.yaml")).state, "notRestarted")
    assert.strictEqual(rolloutVerdict("DaemonSet", example("daemonset-ondelete.yaml")).state, "notRestarted")
  })
})

describe("workload ids as an operator types them", () => {
  it("kubectl's forms become namespace/Kind/name; others stay as typed", async () => {
    const { canonicalWorkloadId } = await import("../../lib/targets/kubernetes/Api.ts")
    assert.strictEqual(canonicalWorkloadId("shop/Deployment/api", ["shop"]), "shop/Deployment/api")
    assert.strictEqual(canonicalWorkloadId("deploy/api", ["shop"]), "shop/Deployment/api")
    assert.strictEqual(canonicalWorkloadId("sts/db", ["shop"]), "shop/StatefulSet/db")
    assert.strictEqual(canonicalWorkloadId("shop/daemonset/agent", ["shop", "ops"]), "shop/DaemonSet/agent")
    assert.strictEqual(canonicalWorkloadId("deploy/api", ["shop", "ops"]), "deploy/api", "ambiguous with two namespaces")
    assert.strictEqual(canonicalWorkloadId("/shop/prod/api", ["shop"]), "/shop/prod/api")
  })
})
