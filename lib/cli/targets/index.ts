/**
 * @module targets — the registry of deployment targets the command line can build: one builder
 * file per kind in this folder (`marathon.ts` builds `marathon` and `dcos`). To add a target: write
 * `lib/targets/<kind>/` (copy `lib/targets/marathon/`), a builder `lib/cli/targets/<kind>.ts`
 * ({@link TargetBuilder}), add ONE line to {@link TARGET_BUILDERS}, and its flags to
 * `targetFlags` in `lib/cli/Flags.ts`.
 */
import { Effect, Option } from "effect"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import { TargetKind } from "../../core/Report.ts"
import type { ReportTarget } from "../../core/Report.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import type { TargetFlagValues } from "../Flags.ts"
import type { BuiltTarget, TargetBuilder } from "./Builder.ts"
import { buildGitOpsTarget } from "./gitops.ts"
import { buildKubernetesTarget } from "./kubernetes.ts"
import { buildMarathonTarget } from "./marathon.ts"
import { buildOpenShiftTarget } from "./openshift.ts"
import { buildPulumiTarget } from "./pulumi.ts"
import { buildSwarmTarget } from "./swarm.ts"

export type { BuiltTarget, TargetBuilder, TargetBuildInput } from "./Builder.ts"

/** The targets this version can drive, by kind. A kind without a builder is refused (exit 2). */
const TARGET_BUILDERS: Partial<Record<TargetKind, TargetBuilder>> = {
  marathon: buildMarathonTarget,
  dcos: buildMarathonTarget,
  swarm: buildSwarmTarget,
  kubernetes: buildKubernetesTarget,
  openshift: buildOpenShiftTarget,
  gitops: buildGitOpsTarget,
  pulumi: buildPulumiTarget
}

const KINDS: ReadonlyArray<string> = TargetKind.literals

/** Reads a kind as typed (`--target`); an unknown one is BadInput listing the kinds. */
export const parseTargetKind = (asked: string) => {
  const kind = asked.trim().toLowerCase()
  return KINDS.includes(kind)
    ? Effect.succeed(kind as TargetKind)
    : Effect.fail(badInput(`--target ${JSON.stringify(asked)}: expected one of ${KINDS.join(", ")}`))
}

/**
 * The kind to build: `--target`, else the config's `target.kind`, else `dcos` when `--dcos` (or
 * `dcos.url` without `--marathon`) names a DC/OS cluster, else `marathon` (as before targets
 * existed). An unknown kind is BadInput listing the kinds.
 */
const resolveTargetKind = (flags: TargetFlagValues, config: ConfigFile) => {
  const asked = Option.getOrUndefined(flags.target)
  if (asked !== undefined) return parseTargetKind(asked)
  if (config.target !== undefined) return Effect.succeed(config.target.kind)
  const dcos = Option.isSome(flags.dcos) || (Option.isNone(flags.marathon) && config.dcos?.url !== undefined)
  return Effect.succeed<TargetKind>(dcos ? "dcos" : "marathon")
}

/** True when a flag or the config names a target (so `undo` does not take the report's word for it). */
export const targetConfigured = (flags: TargetFlagValues, config: ConfigFile): boolean =>
  Option.isSome(flags.target) || Option.isSome(flags.marathon) || Option.isSome(flags.dcos) ||
  config.target !== undefined || config.marathon?.url !== undefined || config.dcos?.url !== undefined

/** The builder of a kind, or BadInput (exit 2) when this version has none. */
export const builderOf = (kind: TargetKind) => {
  const builder = TARGET_BUILDERS[kind]
  if (builder !== undefined) return Effect.succeed(builder)
  const available = Object.keys(TARGET_BUILDERS).join(", ")
  return Effect.fail(badInput(`target ${kind} is not available in this version (available: ${available}); nothing was changed`))
}

/**
 * Builds the target flags and config name (or, for `undo` with `fromReport`, the one the report
 * names): the kind, its builder, the config's `target:` settings when they are for that kind.
 */
export const buildTarget = (flags: TargetFlagValues, config: ConfigFile, fromReport?: ReportTarget) =>
  Effect.gen(function*() {
    const kind = fromReport !== undefined ? fromReport.kind : yield* resolveTargetKind(flags, config)
    const builder = yield* builderOf(kind)
    const { kind: configuredKind, ...rest } = config.target ?? { kind: undefined }
    const settings: Readonly<Record<string, unknown>> = configuredKind === kind ? rest : {}
    const built: BuiltTarget = yield* builder({ kind, flags, config, settings, ...(fromReport !== undefined ? { fromReport } : {}) })
    return built
  })
