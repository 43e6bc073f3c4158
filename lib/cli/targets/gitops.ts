/**
 * @module gitops — the builder of the `gitops` target (lib/targets/gitops/): `--repo-url URL` or
 * `--repo-path DIR`, `--branch`, `--strategy set|revert`, `--push-to-branch`, `--hold`,
 * `--wait-on kubernetes`; config `target: {kind: gitops, repoUrl | repoPath, branch, remote, paths,
 * helmValues, strategy, pushToBranch, hold, kubectl, waitOn}`. git runs with the operator's own
 * configuration and credentials: a URL carrying a password is refused.
 */
import { resolve } from "node:path"
import { Effect, Layer, Option } from "effect"
import type { ReportTarget } from "../../core/Report.ts"
import { Target } from "../../target/Target.ts"
import type { GitOpsSettings } from "../../targets/gitops/GitOpsTarget.ts"
import { describeGitOps, makeGitOpsTarget } from "../../targets/gitops/GitOpsTarget.ts"
import type { HelmValuesPath } from "../../targets/gitops/ImageFiles.ts"
import type { RepositoryLocation } from "../../targets/gitops/Repository.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { defaultCacheDir } from "../Settings.ts"
import { settingText } from "./Builder.ts"
import type { BuiltTarget, TargetBuilder, TargetBuildInput } from "./Builder.ts"
import { buildKubernetesTarget } from "./kubernetes.ts"

/** True when a URL carries a password (`https://user:token@host/…`): credentials belong in git's helpers. */
const carriesPassword = (url: string): boolean => /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:[^/@]*@/i.test(url)

/**
 * Where the repository is: the report's (undo with `--target-from-report`), else `--repo-url` /
 * `--repo-path`, else the config's `repoUrl` / `repoPath`. BadInput when none or both.
 */
export const repositoryOf = (input: TargetBuildInput, what: string) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const cacheDir = defaultCacheDir(platform.env, platform.homeDir)
    const report: ReportTarget | undefined = input.fromReport
    if (report !== undefined) {
      const path = report.settings?.["repoPath"]
      return path !== undefined ? { path } satisfies RepositoryLocation : { url: report.url, cacheDir } satisfies RepositoryLocation
    }
    const url = Option.getOrUndefined(input.flags.repoUrl) ?? (Option.isNone(input.flags.repoPath) ? settingText(input.settings["repoUrl"]) : undefined)
    const path = Option.getOrUndefined(input.flags.repoPath) ?? (Option.isNone(input.flags.repoUrl) ? settingText(input.settings["repoPath"]) : undefined)
    if (url !== undefined && path !== undefined) return yield* badInput(`${what}: give --repo-url or --repo-path, not both`)
    if (url !== undefined) {
      if (carriesPassword(url)) {
        return yield* badInput(`--repo-url must not carry a password (user:password@): git takes credentials from its credential helper or SSH agent, and fleet-rollback never puts secrets in flags. Nothing was changed.`)
      }
      return { url, cacheDir } satisfies RepositoryLocation
    }
    if (path !== undefined) return { path: resolve(path) } satisfies RepositoryLocation
    return undefined
  })

const stringList = (value: unknown, key: string) =>
  value === undefined
    ? Effect.succeed(undefined)
    : Array.isArray(value) && value.every((v) => typeof v === "string")
    ? Effect.succeed(value as ReadonlyArray<string>)
    : Effect.fail(badInput(`target.${key}: expected a list of paths, got ${JSON.stringify(value)}`))

const helmValuesOf = (value: unknown) =>
  value === undefined
    ? Effect.succeed(undefined)
    : Array.isArray(value) && value.every((v) => typeof v === "object" && v !== null && typeof v.file === "string" && typeof v.path === "string")
    ? Effect.succeed(value.map((v: { file: string; path: string }) => ({ file: v.file, path: v.path })) as ReadonlyArray<HelmValuesPath>)
    : Effect.fail(badInput(`target.helmValues: expected a list of {file, path} (the values file and the YAML path of an image, e.g. {file: charts/api/values-prod.yaml, path: image}), got ${JSON.stringify(value)}`))

/** The GitOps settings from the report, flags and config. */
const settingsOf = (input: TargetBuildInput) =>
  Effect.gen(function*() {
    const { flags, settings } = input
    const report = input.fromReport?.settings ?? {}
    const repository = yield* repositoryOf(input, "the gitops target")
    if (repository === undefined) {
      return yield* badInput("where is the GitOps repository? give --repo-url URL (cloned into the cache) or --repo-path DIR (a local clone), or target.repoUrl / target.repoPath in the config")
    }
    const strategy = Option.getOrUndefined(flags.strategy) ?? settingText(settings["strategy"]) ?? report["strategy"] ?? "set"
    if (strategy !== "set" && strategy !== "revert") return yield* badInput(`--strategy ${JSON.stringify(strategy)}: expected set (write the target tags) or revert (git revert the commits since the point)`)
    const kubectl = settings["kubectl"]
    const result: GitOpsSettings = {
      repository,
      branch: Option.getOrUndefined(flags.branch) ?? settingText(settings["branch"]) ?? report["branch"] ?? "main",
      ...(settingText(settings["remote"]) !== undefined ? { remote: settingText(settings["remote"]) } : {}),
      paths: (yield* stringList(settings["paths"], "paths")) ?? (report["paths"] !== undefined ? report["paths"].split(",") : undefined),
      helmValues: yield* helmValuesOf(settings["helmValues"]),
      strategy,
      pushToBranch: flags.pushToBranch || settings["pushToBranch"] === true || report["pushToBranch"] === "true",
      hold: flags.hold || settings["hold"] === true,
      ...(kubectl === false ? { kubectl: null } : settingText(kubectl) !== undefined ? { kubectl: settingText(kubectl) } : {})
    }
    return result
  })

/**
 * The targets of a cluster that `--wait-on` can follow, by kind (imported here directly rather than
 * through the registry in index.ts, which imports this file).
 */
/** Builds the GitOps target; with `--wait-on kubernetes`, over the Kubernetes target that syncs it. */
export const buildGitOpsTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const settings = yield* settingsOf(input)
    const description = describeGitOps(settings)
    const waitOn = Option.getOrUndefined(input.flags.waitOn) ?? settingText(input.settings["waitOn"])
    if (waitOn === undefined) {
      return { layer: Layer.effect(Target, makeGitOpsTarget(settings)), description, sendsCredentials: "url" in settings.repository } satisfies BuiltTarget
    }
    if (waitOn !== "kubernetes") return yield* badInput(`--wait-on ${JSON.stringify(waitOn)}: expected kubernetes (the cluster that syncs the repository)`)
    const clusterSettings = typeof input.settings["cluster"] === "object" && input.settings["cluster"] !== null ? input.settings["cluster"] as Record<string, unknown> : {}
    const cluster = yield* buildKubernetesTarget({ ...input, kind: "kubernetes", settings: clusterSettings, fromReport: undefined })
    const layer = Layer.effect(Target, Effect.gen(function*() {
      const onCluster = yield* Target
      return yield* makeGitOpsTarget({ ...settings, waitOn: onCluster })
    })).pipe(Layer.provide(cluster.layer))
    return { layer, description, sendsCredentials: "url" in settings.repository || cluster.sendsCredentials } satisfies BuiltTarget
  })
