/**
 * @module PulumiTarget — a Pulumi stack whose config holds the fleet's image tag(s) as a
 * deployment {@link Target} (seed 002): one key for the whole fleet (`<project>:image-tag`) or one
 * key per service. A workload is a service's image as the stack declares it (`Pulumi.<stack>.yaml#key`,
 * `…#key/service` for a shared key). Two ways to apply, as seed 002 describes:
 * - `commit`: ONE commit that edits only the key's value in `Pulumi.<stack>.yaml` (secure values,
 *   `secretsprovider`, `encryptionsalt`, `encryptedkey` byte for byte), pushed to `rollback/<point>`
 *   (pull request URL) or to the tracked branch; it ends at "committed and pushed".
 * - `cli`: `pulumi config set`, then `pulumi up --yes` with its output streamed; `pulumi preview`
 *   is the server-side dry run (`plan --server-dry-run`). Without `pulumi` on the PATH it is refused
 *   with what to install.
 * A shared key holds one tag: changes that ask for different tags are refused, and so is a
 * mutable tag (`main`, `latest`, anything the scheme does not mark immutable).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Ref } from "effect"
import { formatImageReference, parseImageReference } from "../../core/ImageReference.ts"
import type { TargetDescription } from "../../core/Report.ts"
import { isMutableTag } from "../../core/SharedTag.ts"
import type { AppliedChange, ApplyOptions, ImageChange, TargetScope, TargetShape, WorkloadVerification } from "../../target/Target.ts"
import { Target } from "../../target/Target.ts"
import type { Workload } from "../../target/Workload.ts"
import { GitOpsError, scrubCredentials, toTargetError } from "../gitops/GitOpsError.ts"
import { branchNameOfPoint } from "../gitops/GitOpsTarget.ts"
import { findOnPath } from "../gitops/Process.ts"
import { pullRequestUrl } from "../gitops/PullRequest.ts"
import type { Repository, RepositoryLocation } from "../gitops/Repository.ts"
import { openRepository } from "../gitops/Repository.ts"
import type { PulumiCommand } from "./PulumiCli.ts"
import { INSTALL_PULUMI, pulumiConfig, pulumiConfigRemove, pulumiConfigSet, pulumiPreview, pulumiUp } from "./PulumiCli.ts"
import { projectNameOf, readStackConfig, setStackValues } from "./StackFile.ts"

/** A service of the stack: its name, its image repository (`ghcr.io/org/api`), and its own key when it has one. */
export interface PulumiService {
  readonly name: string
  readonly repository: string
  /** Its own config key; default: the shared key. */
  readonly key?: string | undefined
}

/** How the Pulumi target is set up. */
export interface PulumiSettings {
  /** The stack (`prod`): its settings file is `Pulumi.<stack>.yaml` in the project directory. */
  readonly stack: string
  /** `commit` (a commit on a branch) or `cli` (`pulumi config set` + `pulumi up`). */
  readonly mode: "commit" | "cli"
  /** The project directory: relative to the repository (commit), or on disk (cli). */
  readonly projectDir: string
  /** commit: the repository holding the project. */
  readonly repository?: RepositoryLocation | undefined
  readonly remote?: string | undefined
  /** commit: the branch deploys run from; default `main`. */
  readonly branch?: string | undefined
  /** commit: push to the branch itself instead of `rollback/<point>`. */
  readonly pushToBranch?: boolean | undefined
  /** The project name; default: `name:` of `Pulumi.yaml`. */
  readonly project?: string | undefined
  /** The key every service without its own key shares; default `<project>:image-tag` (seed 002). */
  readonly key?: string | undefined
  readonly services: ReadonlyArray<PulumiService>
  /** True for tags that may move (refused); default: {@link isMutableTag} without a scheme. */
  readonly isMutableTag?: ((tag: string) => boolean) | undefined
  /** cli: the `pulumi` program; default: `pulumi` on the PATH. */
  readonly pulumi?: string | undefined
  /** cli: pulumi's output, streamed. */
  readonly onOutput?: ((text: string) => void) | undefined
}

/** How to reach the stack again, for the report: no secret. */
export const describePulumi = (settings: PulumiSettings, remoteUrl?: string): TargetDescription => ({
  kind: "pulumi",
  url: scrubCredentials(remoteUrl ?? (settings.repository === undefined ? settings.projectDir : "url" in settings.repository ? settings.repository.url : settings.repository.path)),
  settings: {
    stack: settings.stack,
    mode: settings.mode,
    projectDir: settings.projectDir,
    ...(settings.repository !== undefined && "path" in settings.repository ? { repoPath: settings.repository.path } : {}),
    ...(settings.branch !== undefined ? { branch: settings.branch } : {}),
    ...(settings.pushToBranch === true ? { pushToBranch: "true" } : {}),
    ...(settings.key !== undefined ? { key: settings.key } : {})
  }
})

const fail = (reason: GitOpsError["reason"], message: string) => new GitOpsError({ reason, message })

/** The key of each service, and the workload ids. */
const layout = (settings: PulumiSettings, project: string) => {
  const shared = settings.key ?? `${project}:image-tag`
  const file = `Pulumi.${settings.stack}.yaml`
  const sharing = settings.services.filter((s) => s.key === undefined).length
  return settings.services.map((s) => {
    const key = s.key ?? shared
    const id = s.key === undefined && sharing > 1 ? `${file}#${key}/${s.name}` : `${file}#${key}`
    return { service: s, key, id, shared: s.key === undefined && sharing > 1 }
  })
}

/** The tag each key gets from the changes; refuses different tags for one key and mutable tags. */
const tagsByKey = (changes: ReadonlyArray<ImageChange>, slots: ReturnType<typeof layout>, isMutable: (tag: string) => boolean) =>
  Effect.gen(function*() {
    const byKey = new Map<string, Map<string, Array<string>>>()
    for (const change of changes) {
      const slot = slots.find((s) => s.id === change.workload)
      if (slot === undefined) return yield* fail("NotFound", `${change.workload}: not a workload of this stack (${slots.map((s) => s.id).join(", ")})`)
      const tag = parseImageReference(change.image)?.tag
      if (tag === undefined) return yield* fail("Invalid", `${change.workload}: ${change.image} names no tag; the stack's config holds tags`)
      if (isMutable(tag)) {
        return yield* fail("Invalid", `${slot.service.name}: the tag ${tag} is mutable (it moves with every build), so setting it would not bring back the build that ran at the point (seed 002); nothing was changed. Roll back to an immutable tag (git-<sha>, a build number).`)
      }
      const tags = byKey.get(slot.key) ?? new Map<string, Array<string>>()
      tags.set(tag, [...(tags.get(tag) ?? []), slot.service.name])
      byKey.set(slot.key, tags)
    }
    const out = new Map<string, string>()
    for (const [key, tags] of byKey) {
      if (tags.size > 1) {
        return yield* fail("Invalid", `${key} holds ONE tag for ${[...tags.values()].flat().join(", ")}, but the targets differ (${[...tags].map(([t, s]) => `${s.join(", ")}: ${t}`).join("; ")}); nothing was changed. Plan with the shared-tag selection (the newest tag every service has at or before the point).`)
      }
      out.set(key, [...tags.keys()][0]!)
    }
    return out
  })

/** The Target over a Pulumi stack. */
export const makePulumiTarget = (settings: PulumiSettings): Effect.Effect<TargetShape> =>
  Effect.gen(function*() {
    const isMutable = settings.isMutableTag ?? ((tag: string) => isMutableTag(tag))
    const branch = settings.branch ?? "main"
    const stackFile = `Pulumi.${settings.stack}.yaml`
    const repoRef = yield* Ref.make<Repository | undefined>(undefined)
    const planned = yield* Ref.make<string | undefined>(undefined)
    const lastCommit = yield* Ref.make<{ commit: string; branch: string } | undefined>(undefined)
    const lastUp = yield* Ref.make<string | undefined>(undefined)

    const repository = Effect.gen(function*() {
      const open = yield* Ref.get(repoRef)
      if (open !== undefined) return open
      if (settings.repository === undefined) return yield* fail("Invalid", "the Pulumi commit mode needs the repository (--repo-url or --repo-path)")
      const repo = yield* openRepository(settings.repository, settings.remote ?? "origin")
      yield* Ref.set(repoRef, repo)
      return repo
    })
    const program = settings.mode === "cli" ? settings.pulumi ?? findOnPath("pulumi") : undefined
    const cli = Effect.gen(function*() {
      if (program === undefined) {
        return yield* fail("Missing", `the pulumi command is not on the PATH, so the stack cannot be set and updated with it; nothing was changed. ${INSTALL_PULUMI[0]!.toUpperCase()}${INSTALL_PULUMI.slice(1)}, or commit the change for review instead (mode commit).`)
      }
      return { program, cwd: settings.projectDir, stack: settings.stack, onOutput: settings.onOutput } satisfies PulumiCommand
    })

    const projectOf = (pulumiYaml: string | undefined) =>
      settings.project ?? (pulumiYaml !== undefined ? projectNameOf(pulumiYaml) : undefined) ?? "project"
    const inRepo = (file: string) => (settings.projectDir === "" || settings.projectDir === "." ? file : `${settings.projectDir.replace(/\/$/, "")}/${file}`)

    /** cli: the project of the directory on disk (Pulumi.yaml's `name:`). */
    const projectOnDisk = () => {
      const file = join(settings.projectDir, "Pulumi.yaml")
      return projectOf(existsSync(file) ? readFileSync(file, "utf8") : undefined)
    }

    /** What the stack's config holds now (plain values by key), its project, and where it was read. */
    const readConfig = (commit?: string) =>
      Effect.gen(function*() {
        if (settings.mode === "cli") return { project: projectOnDisk(), values: yield* pulumiConfig(yield* cli), revision: undefined as string | undefined }
        const repo = yield* repository
        const at = commit ?? (yield* repo.fetchHead(branch))
        const files = yield* repo.readFiles(at, [inRepo("Pulumi.yaml"), inRepo(stackFile)])
        const project = projectOf(files.get(inRepo("Pulumi.yaml")))
        const text = files.get(inRepo(stackFile))
        if (text === undefined) return yield* fail("Invalid", `${inRepo(stackFile)} is not on ${branch}: give the project directory (--pulumi-dir) and the stack (--stack)`)
        const config = readStackConfig(text, project)
        if ("_tag" in config) return yield* fail("Invalid", `${inRepo(stackFile)}: ${config.message}`)
        const values = new Map<string, string>()
        for (const [k, v] of config) if (v.value !== undefined) values.set(k, v.value)
        return { project, values, revision: at }
      })

    const workloadsOf = (project: string, values: ReadonlyMap<string, string>, revision: string | undefined, scope: TargetScope): ReadonlyArray<Workload> =>
      layout(settings, project).map((slot) => {
        const tag = values.get(slot.key)
        const repo = parseImageReference(slot.service.repository)
        const image = tag !== undefined && repo !== undefined ? formatImageReference({ host: repo.host, repository: repo.repository, tag }) : undefined
        return {
          id: slot.id,
          kind: "stack config",
          labels: { stack: settings.stack, key: slot.key, ...(slot.shared ? { shared: "true" } : {}) },
          containers: [{ name: slot.service.name, image }],
          image,
          health: { desired: 1, running: 1, healthy: 1, summary: `${slot.key} = ${tag ?? "(not set)"} in stack ${settings.stack}${slot.shared ? " (shared by every service)" : ""}` },
          revision,
          inScope: scope.idPrefix === undefined || slot.id.startsWith(scope.idPrefix)
        }
      })

    const listWorkloads = (scope: TargetScope) =>
      Effect.gen(function*() {
        const read = yield* readConfig()
        if (read.revision !== undefined) yield* Ref.set(planned, read.revision)
        return workloadsOf(read.project, read.values, read.revision, scope)
      }).pipe(Effect.mapError(toTargetError))

    const getWorkload = (id: string) =>
      Effect.gen(function*() {
        const read = yield* readConfig((yield* Ref.get(lastCommit))?.commit)
        const found = workloadsOf(read.project, read.values, read.revision, {}).find((w) => w.id === id)
        if (found === undefined) return yield* fail("NotFound", `${id}: not a workload of stack ${settings.stack}`)
        return found
      }).pipe(Effect.mapError(toTargetError))

    const commitMessage = (options: ApplyOptions, tags: ReadonlyMap<string, string>, before: ReadonlyMap<string, string>, purpose: string) => {
      const point = options.point ?? "(no point given)"
      return [
        purpose === "undo" ? `Undo rollback of stack ${settings.stack}` : `Roll back stack ${settings.stack} to ${point}`,
        "",
        `Point: ${point}${options.label !== undefined && options.label !== options.point ? ` (${options.label})` : ""}`,
        `Run by: ${options.cause ?? "fleet-rollback"}`,
        ...[...tags].map(([k, t]) => `- ${k}: ${before.get(k) ?? "(not set)"} -> ${t}`),
        "",
        "Deploy it with pulumi preview / pulumi up once merged. Made by fleet-rollback."
      ].join("\n") + "\n"
    }

    const applyByCommit = (changes: ReadonlyArray<ImageChange>, options: ApplyOptions, purpose: string) =>
      Effect.gen(function*() {
        const repo = yield* repository
        const head = yield* repo.fetchHead(branch)
        const seen = yield* Ref.get(planned)
        const base = seen ?? head
        // the changes are checked first (a mutable tag is refused as such, whatever the branch did)
        const read = yield* readConfig(base)
        const tags = yield* tagsByKey(changes, layout(settings, read.project), isMutable)
        if (settings.pushToBranch === true && seen !== undefined && seen !== head) {
          return yield* fail("Conflict", `${branch} on ${repo.remoteUrl} moved since the plan (planned at ${seen.slice(0, 7)}, now ${head.slice(0, 7)}); nothing was committed or pushed. Run plan again.`)
        }
        const commit = yield* Effect.scoped(Effect.gen(function*() {
          const ws = yield* repo.workspace(base)
          const text = ws.readFile(inRepo(stackFile)) ?? ""
          const edited = setStackValues(text, read.project, tags)
          if (typeof edited !== "string") return yield* fail("Invalid", `${inRepo(stackFile)}: ${edited.message}; nothing was committed`)
          if (edited === text) return undefined
          ws.writeFile(inRepo(stackFile), edited)
          return yield* ws.commit(commitMessage(options, tags, read.values, purpose))
        }))
        if (commit === undefined) return { changeIds: [], workloads: [], note: `${stackFile} already holds these tags; nothing was committed` } satisfies AppliedChange
        const target = settings.pushToBranch === true ? branch : `rollback/${branchNameOfPoint(options.point ?? commit.slice(0, 12))}${purpose === "undo" ? "-undo" : ""}`
        yield* repo.push(commit, target, settings.pushToBranch === true ? base : "absent")
        yield* Ref.set(lastCommit, { commit, branch: target })
        const pr = settings.pushToBranch === true ? undefined : pullRequestUrl(repo.remoteUrl, branch, target)
        return {
          changeIds: [commit],
          workloads: [],
          note: `commit ${commit.slice(0, 12)} pushed to ${settings.pushToBranch === true ? branch : `the new branch ${target}`} on ${repo.remoteUrl}` +
            (pr !== undefined ? `; open the pull request: ${pr}` : settings.pushToBranch === true ? "" : `; open a pull request of ${target} into ${branch}`) +
            "; then deploy it with pulumi up (the rollback ends at committed and pushed)",
          handle: { commit, branch: target }
        } satisfies AppliedChange
      })

    const applyByCli = (tags: ReadonlyMap<string, string>, dryRun: boolean) =>
      Effect.gen(function*() {
        const cmd = yield* cli
        const file = join(settings.projectDir, stackFile)
        const saved = existsSync(file) ? readFileSync(file) : undefined
        const setTags = Effect.forEach([...tags], ([key, tag]) => pulumiConfigSet(cmd, key, tag), { discard: true })
        if (dryRun) {
          const before = yield* pulumiConfig(cmd)
          // preview with the new tags, then the config as it was — also when a `config set` failed
          // or Ctrl-C came half-way: set back through pulumi (a stack whose config Pulumi keeps
          // remotely), then the local stack file byte for byte
          const putBack = Effect.forEach([...tags.keys()], (key) => {
            const old = before.get(key)
            return old !== undefined ? pulumiConfigSet(cmd, key, old) : pulumiConfigRemove(cmd, key)
          }, { discard: true }).pipe(
            Effect.ignore,
            Effect.andThen(Effect.sync(() => (saved !== undefined ? writeFileSync(file, saved) : rmSync(file, { force: true }))))
          )
          const preview = yield* setTags.pipe(Effect.andThen(pulumiPreview(cmd)), Effect.ensuring(putBack))
          return { changeIds: [], workloads: [], note: `pulumi preview:\n${preview.trimEnd()}` } satisfies AppliedChange
        }
        yield* setTags
        const up = yield* pulumiUp(cmd)
        const problem = up.code === 0 ? undefined : `pulumi up failed (exit ${up.code ?? "killed"}): ${scrubCredentials((up.stderr.trim() || up.stdout.trim()).split("\n").slice(-5).join(" "))}`
        yield* Ref.set(lastUp, problem)
        return { changeIds: [`pulumi up --stack ${settings.stack}`], workloads: [], ...(problem !== undefined ? { note: problem } : {}) } satisfies AppliedChange
      })

    const apply: TargetShape["apply"] = (changes, options) =>
      Effect.gen(function*() {
        const purpose = options.purpose ?? (options.cause === "undo" ? "undo" : "run")
        if (options.dryRun === true && settings.mode !== "cli") return yield* fail("Invalid", "a commit has no server-side dry run; use the cli mode for pulumi preview")
        // the stack's project names the keys: on disk (cli), in the commit the change is made on (commit)
        const applied = settings.mode === "cli"
          ? yield* applyByCli(yield* tagsByKey(changes, layout(settings, projectOnDisk()), isMutable), options.dryRun === true)
          : yield* applyByCommit(changes, options, purpose)
        const upFailed = settings.mode === "cli" && options.dryRun !== true && (yield* Ref.get(lastUp)) !== undefined
        return {
          ...applied,
          workloads: changes.map((c) => ({ workload: c.workload, state: upFailed ? "unknown" as const : "applied" as const, ...(upFailed ? { problem: applied.note } : {}) }))
        }
      }).pipe(Effect.mapError(toTargetError))

    const verify = (changes: ReadonlyArray<ImageChange>) =>
      Effect.gen(function*() {
        const read = yield* readConfig((yield* Ref.get(lastCommit))?.commit)
        const upProblem = yield* Ref.get(lastUp)
        const workloads = workloadsOf(read.project, read.values, read.revision, {})
        return changes.map((c): WorkloadVerification => {
          const image = workloads.find((w) => w.id === c.workload)?.image
          const wanted = parseImageReference(c.image)
          const ok = upProblem === undefined && image !== undefined && wanted !== undefined && parseImageReference(image)?.tag === wanted.tag
          return { workload: c.workload, image, expectedImage: c.image, ok, ...(ok ? {} : { problem: upProblem ?? `the stack declares ${image ?? "nothing"}` }) }
        })
      }).pipe(Effect.mapError(toTargetError))

    const revert: TargetShape["revert"] = (args) =>
      apply(args.back, { force: false, purpose: "undo", cause: "revert of a failed rollback" }).pipe(
        Effect.map((applied) => ({ applied, note: "the previous tags were set again" }))
      )

    const sharesOneKey = settings.services.length > 1 && settings.services.every((s) => s.key === undefined)
    return Target.of({
      description: describePulumi(settings),
      workloadNoun: "service",
      ...(sharesOneKey ? { sharedTag: { isMutable } } : {}),
      displayName: settings.mode === "cli" ? `Pulumi stack ${settings.stack}` : `Pulumi stack file ${stackFile}`,
      changeNoun: settings.mode === "cli" ? "pulumi up" : "commit",
      capabilities: { force: false, revert: true, serverDryRun: settings.mode === "cli", watch: settings.mode === "cli", pinDigest: false },
      listWorkloads,
      getWorkload,
      apply,
      watch: () => Effect.void,
      inProgress: () => Effect.succeed(false),
      verify,
      revert
    })
  })

/** A Pulumi stack as the deployment target. */
export const PulumiTarget = {
  layer: (settings: PulumiSettings): Layer.Layer<Target> => Layer.effect(Target, makePulumiTarget(settings))
}

