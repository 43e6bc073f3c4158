/**
 * @module pulumi — the builder of the `pulumi` target (lib/targets/pulumi/): `--stack NAME`; with
 * `--repo-url` / `--repo-path` (and `--branch`, `--push-to-branch`) the change is a commit of
 * `Pulumi.<stack>.yaml`, otherwise `pulumi config set` + `pulumi up` in the project directory.
 * Config `target: {kind: pulumi, stack, mode, projectDir, repoUrl | repoPath, branch, project, key,
 * services: {<name>: {repository, key}}}`; without `target.services`, the config's `services:`.
 */
import { resolve } from "node:path"
import { Effect, Option } from "effect"
import { serviceRepository } from "../../core/ImageReference.ts"
import { isMutableTag } from "../../core/SharedTag.ts"
import { resolveTagScheme } from "../../core/TagScheme.ts"
import type { PulumiService, PulumiSettings } from "../../targets/pulumi/PulumiTarget.ts"
import { describePulumi, PulumiTarget } from "../../targets/pulumi/PulumiTarget.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { settingText } from "./Builder.ts"
import type { TargetBuilder, TargetBuildInput } from "./Builder.ts"
import { repositoryOf } from "./gitops.ts"

/** The services and their image repositories: `target.services`, else the config's `services:` under `registry.url`. */
const servicesOf = (input: TargetBuildInput) =>
  Effect.gen(function*() {
    const own = input.settings["services"]
    const registry = input.config.registry?.url ?? ""
    const entries: Array<[string, { repository?: unknown; key?: unknown }]> = own !== undefined && typeof own === "object" && own !== null
      ? Object.entries(own as Record<string, { repository?: unknown; key?: unknown }>)
      : Object.entries(input.config.services ?? {})
    if (entries.length === 0) {
      return yield* badInput("the pulumi target needs the services and their image repositories: target.services: {core: {repository: ghcr.io/org/core}} (a key of its own: key: platform:core-tag), or services: in the config")
    }
    const out: Array<PulumiService> = []
    for (const [name, s] of entries) {
      const repo = typeof s?.repository === "string" ? serviceRepository(s.repository, registry === "" ? "docker.io" : registry) : undefined
      if (repo === undefined) return yield* badInput(`target.services.${name}.repository: expected an image repository (ghcr.io/org/${name}), got ${JSON.stringify(s?.repository)}`)
      out.push({ name, repository: `${repo.host}/${repo.repository}`, ...(typeof s.key === "string" ? { key: s.key } : {}) })
    }
    return out
  })

/** Builds the Pulumi target. */
export const buildPulumiTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const { flags, settings } = input
    const report = input.fromReport?.settings ?? {}
    const stack = Option.getOrUndefined(flags.stack) ?? settingText(settings["stack"]) ?? report["stack"]
    if (stack === undefined) return yield* badInput("which Pulumi stack? give --stack NAME (its settings file is Pulumi.<stack>.yaml), or target.stack in the config")
    // a report of the cli mode names the project directory, not a repository
    const repository = report["mode"] === "cli" ? undefined : yield* repositoryOf(input, "the pulumi target")
    const mode = settingText(settings["mode"]) ?? report["mode"] ?? (repository !== undefined ? "commit" : "cli")
    if (mode !== "commit" && mode !== "cli") return yield* badInput(`target.mode ${JSON.stringify(mode)}: expected commit (a commit of Pulumi.${stack}.yaml for review) or cli (pulumi config set + pulumi up)`)
    if (mode === "commit" && repository === undefined) return yield* badInput("the pulumi target's commit mode needs the repository: --repo-url URL or --repo-path DIR")
    const projectDir = settingText(settings["projectDir"]) ?? report["projectDir"] ?? "."
    let isMutable = (tag: string) => isMutableTag(tag)
    if (input.config.scheme !== undefined) {
      const scheme = resolveTagScheme(input.config.scheme)
      if (!("_tag" in scheme)) isMutable = (tag) => isMutableTag(tag, scheme)
    }
    const result: PulumiSettings = {
      stack,
      mode,
      projectDir: mode === "cli" ? resolve(projectDir) : projectDir.replace(/^\.\/?$/, ""),
      ...(repository !== undefined ? { repository } : {}),
      branch: Option.getOrUndefined(flags.branch) ?? settingText(settings["branch"]) ?? report["branch"] ?? "main",
      pushToBranch: flags.pushToBranch || settings["pushToBranch"] === true || report["pushToBranch"] === "true",
      ...(settingText(settings["project"]) !== undefined ? { project: settingText(settings["project"]) } : {}),
      ...(settingText(settings["key"]) ?? report["key"] ? { key: settingText(settings["key"]) ?? report["key"] } : {}),
      services: yield* servicesOf(input),
      isMutableTag: isMutable,
      onOutput: (t) => platform.writeStderr(t)
    }
    return {
      layer: PulumiTarget.layer(result),
      description: describePulumi(result),
      sendsCredentials: repository !== undefined && "url" in repository,
      // seed 002: pulumi preview, then pulumi up once someone has looked at it
      previewFirst: mode === "cli"
    } as const
  })
