/**
 * @module ReTrack — `fleet-rollback re-track`: after a fix, put pinned ImageStream tags back to
 * tracking their registry tag (seed 003's `oc tag quay.io/…:prod ns/is:prod`), as fleet-rollback
 * kept the reference when it pinned them (scheduled, insecure, reference policy), then wait for
 * the imports, the triggers and the rollouts. Without `--tag`, every followed tag that is pinned
 * to a digest in the namespaces in scope.
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { makeOpenShiftTarget } from "../../targets/openshift/OpenShiftTarget.ts"
import { badInput, failed } from "../../workflow/RollbackError.ts"
import { resolveClusterAccess } from "../targets/ClusterAccess.ts"
import * as Flags from "../Flags.ts"
import { loadConfig } from "../Settings.ts"

/** `re-track`. */
export const reTrackCommand = Command.make(
  "re-track",
  {
    config: Flags.config,
    namespace: Flags.namespace,
    context: Flags.context,
    tag: Flag.String("tag").pipe(Flag.withDescription("an ImageStream tag to re-track, stream:tag (repeat for several; default every pinned tag that workloads follow)"), Flag.atLeast(0)),
    yes: Flags.yes,
    timeout: Flags.timeout,
    pollMs: Flags.pollMs
  },
  (flags) =>
    Effect.gen(function*() {
      const config = yield* loadConfig(flags.config)
      const settings = config.target?.kind === "openshift" ? config.target as Record<string, unknown> : {}
      // the cluster and projects found as run and undo find them (target.kubeconfig, target.context, namespaces)
      const { access, namespaces } = yield* resolveClusterAccess({ flags, settings }, { cluster: "OpenShift", namespace: "project", example: "packit-prod" })
      yield* Effect.scoped(Effect.gen(function*() {
        // Re-tracking checks no digest: the tags import their registry tag again.
        const target = yield* makeOpenShiftTarget(access, { namespaces, digestExists: () => Effect.succeed(true) })
        const history = yield* target.importHistory()
        const asked = flags.tag.map((t) => `${namespaces[0]}/ImageStreamTag/${t}`)
        const unknown = asked.filter((id) => !history.some((h) => h.id === id))
        if (unknown.length > 0) return yield* badInput(`--tag ${unknown.map((id) => id.split("/").at(-1)).join(", ")}: no such tag followed by a workload in ${namespaces[0]} (followed: ${history.map((h) => h.id.split("/").at(-1)).join(", ") || "none"}); nothing was changed`)
        const ids = asked.length > 0 ? asked : history.filter((h) => (h.tracks ?? "").includes("@sha256:")).map((h) => h.id)
        if (ids.length === 0) return yield* Console.log(`No pinned tag in ${namespaces.join(", ")}: every followed tag tracks its registry tag. Nothing was changed.`)
        for (const id of ids) yield* Console.log(`re-track ${id} (now ${history.find((h) => h.id === id)?.tracks ?? "?"})`)
        if (!flags.yes) return yield* badInput("re-track changes the tags above: pass --yes to go ahead (nothing was changed)")
        const applied = yield* target.reTrack(ids)
        // a stream refused (or unanswered) is said tag by tag; the others are re-tracked and followed
        const notDone = applied.workloads.filter((w) => w.state !== "applied")
        yield* target.watch(applied, { timeoutMs: (Option.getOrUndefined(flags.timeout) ?? 600) * 1000, pollMs: Option.getOrUndefined(flags.pollMs) ?? 1000 })
        const after = yield* target.importHistory()
        for (const id of ids.filter((id) => !notDone.some((w) => w.workload === id))) {
          yield* Console.log(`${id}: tracks ${after.find((h) => h.id === id)?.tracks ?? "?"}, runs ${after.find((h) => h.id === id)?.items[0]?.dockerImageReference ?? "?"}`)
        }
        if (notDone.length > 0) {
          return yield* failed(`re-track: ${notDone.map((w) => `${w.workload} ${w.state === "unknown" ? "MAY have been re-tracked (its answer was lost: check it with oc describe is)" : "was not re-tracked"}: ${w.problem ?? ""}`).join("; ")}`)
        }
      })).pipe(Effect.mapError((e) => "_tag" in e && e._tag === "TargetError" ? failed(`re-track failed: ${e.message}`) : e))
    })
).pipe(
  Command.withDescription("OpenShift: put ImageStream tags pinned by a rollback back to tracking their registry tag (oc tag quay.io/…:prod ns/is:prod)"),
  Command.withExamples([{ command: "fleet-rollback re-track --namespace packit-prod --yes", description: "every pinned tag of the project tracks :prod again" }])
)
