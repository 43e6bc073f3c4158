/**
 * @module Capabilities.test — a switch that needs a capability the target lacks is refused before
 * anything is read or changed, naming the target and the switch (table-driven, fake Target that
 * can do nothing and counts every call).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { RollbackReport } from "../../lib/core/Report.ts"
import type { RollbackFile } from "../../lib/core/RollbackFile.ts"
import { Notifier } from "../../lib/notify/Slack.ts"
import { Target } from "../../lib/target/Target.ts"
import type { TargetShape } from "../../lib/target/Target.ts"
import { TargetError } from "../../lib/target/TargetError.ts"
import { planFleet } from "../../lib/workflow/PlanFleet.ts"
import { runRollback, undoRollback } from "../../lib/workflow/RunRollback.ts"

/** A target that can do nothing; every call is counted and fails. */
const incapable = () => {
  const calls: Array<string> = []
  const no = (name: string) => () => {
    calls.push(name)
    return Effect.fail(new TargetError({ reason: "Unavailable", message: "not reachable in this test" }))
  }
  const shape: TargetShape = {
    description: { kind: "gitops", url: "https://git.example.com/fleet.git" },
    displayName: "GitOps",
    changeNoun: "commit",
    capabilities: { force: false, revert: false, serverDryRun: false, watch: false, pinDigest: false },
    listWorkloads: no("listWorkloads"),
    getWorkload: no("getWorkload"),
    apply: no("apply"),
    watch: no("watch"),
    inProgress: no("inProgress"),
    verify: no("verify"),
    revert: no("revert")
  }
  return { calls, layer: Layer.mergeAll(Layer.succeed(Target, Target.of(shape)), Notifier.none) }
}

const file = {} as RollbackFile
const report: RollbackReport = {
  schemaVersion: 1,
  kind: "run",
  user: "oncall",
  startedAt: "2026-11-20T10:00:00.000Z",
  finishedAt: "2026-11-20T10:01:00.000Z",
  durationMs: 60_000,
  point: "2026-11-19",
  label: null,
  environment: null,
  marathon: "https://git.example.com/fleet.git",
  target: { kind: "gitops", url: "https://git.example.com/fleet.git" },
  outcome: "succeeded",
  message: "rolled back",
  deploymentId: null,
  revertDeploymentId: null,
  durations: { deployMs: 0, waitMs: 0 },
  services: [{ service: "api", app: "apps/prod#api", action: "rollback", before: "registry.example.com/shop/api:2", after: "registry.example.com/shop/api:1", outcome: "rolled-back" }],
  finalState: []
}

const CASES = [
  { name: "run --force", flag: "--force", go: () => runRollback(file, "2026-11-19", { user: "u", force: true }) },
  { name: "run --revert-on-failure", flag: "--revert-on-failure", go: () => runRollback(file, "2026-11-19", { user: "u", revertOnFailure: true }) },
  { name: "run --pin-digest", flag: "--pin-digest", go: () => runRollback(file, "2026-11-19", { user: "u", pinDigest: true }) },
  { name: "plan --pin-digest", flag: "--pin-digest", go: () => planFleet(file, "2026-11-19", { pinDigest: true }) },
  { name: "plan --server-dry-run", flag: "--server-dry-run", go: () => planFleet(file, "2026-11-19", { serverDryRun: true }) },
  { name: "undo --force", flag: "--force", go: () => undoRollback(report, { user: "u", force: true }) },
  { name: "undo --revert-on-failure", flag: "--revert-on-failure", go: () => undoRollback(report, { user: "u", revertOnFailure: true }) }
] as const

describe("a switch the target cannot honour is refused before anything happens", () => {
  for (const c of CASES) {
    it.effect(`${c.name}: BadInput naming the target and the flag; the target is never called`, () => {
      const fake = incapable()
      return Effect.gen(function*() {
        const error = yield* Effect.flip(c.go() as Effect.Effect<unknown, import("../../lib/workflow/RollbackError.ts").RollbackError, Target | Notifier>)
        assert.strictEqual(error._tag, "RollbackError")
        assert.strictEqual(error.kind, "BadInput")
        assert.strictEqual(error.exitCode, 2)
        assert.include(error.message, `${c.flag} is not available with the gitops target`)
        assert.include(error.message, "GitOps cannot")
        assert.include(error.message, "nothing was changed")
        assert.deepStrictEqual(fake.calls, [])
      }).pipe(Effect.provide(fake.layer))
    })
  }
})
