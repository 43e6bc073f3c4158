/**
 * @module GitOpsTarget — a Git repository the cluster follows (Flux, Argo CD, kustomize) as a
 * deployment {@link Target}. A workload is an image line the tracked branch's head declares
 * (`file#name`: a kustomize `images:` entry, a manifest container, a Helm values path); `apply`
 * is ONE commit that sets every workload's target (or, `strategy: "revert"`, reverts the commits
 * since each line last declared it), rendered with `kubectl kustomize` before it is committed,
 * then pushed to a new branch `rollback/<point>` for review (the pull request URL in the note) or,
 * with `pushToBranch`, to the tracked branch when it has not moved since the plan. `hold` turns
 * Flux's setter markers on the changed lines off in the same commit, and `undo` turns them back on.
 * The target ends at "committed and pushed": it cannot watch the cluster (`watch: false`).
 */
import { Effect, Layer, Ref } from "effect"
import type { TargetDescription } from "../../core/Report.ts"
import type { AppliedChange, ApplyOptions, ImageChange, TargetScope, TargetShape, WorkloadMemory, WorkloadVerification } from "../../target/Target.ts"
import { Target } from "../../target/Target.ts"
import type { Workload } from "../../target/Workload.ts"
import type { ClusterFollow } from "./ClusterWait.ts"
import { followInCluster, verifyInCluster, waitForCluster } from "./ClusterWait.ts"
import { GitOpsError, scrubCredentials, toTargetError } from "./GitOpsError.ts"
import { commitsToRevert, sameDeclaredImage } from "./History.ts"
import type { LineAtCommit } from "./History.ts"
import type { EntryChange, HelmValuesPath, ImageEdit, ImageEntry } from "./ImageFiles.ts"
import { editImageFile, findImageEntries, isImageFileCandidate, kustomizeNameMatches } from "./ImageFiles.ts"
import { findOnPath } from "./Process.ts"
import { pullRequestUrl } from "./PullRequest.ts"
import { kustomizationsToRender, renderKustomizations } from "./Render.ts"
import type { Repository, RepositoryLocation, Workspace } from "./Repository.ts"
import { openRepository } from "./Repository.ts"

/** How the GitOps target is set up (command line: `--repo-url/--repo-path`, `--branch`, …; config `target:`). */
export interface GitOpsSettings {
  /** The repository: a local clone (`path`), or a URL cloned into `cacheDir`. */
  readonly repository: RepositoryLocation
  /** The remote's name in the clone; default `origin`. */
  readonly remote?: string | undefined
  /** The branch the cluster follows; default `main`. */
  readonly branch?: string | undefined
  /** Where to look for image lines (directories or files); default: the whole repository. */
  readonly paths?: ReadonlyArray<string> | undefined
  /** Helm values files and the YAML paths in them that hold images. */
  readonly helmValues?: ReadonlyArray<HelmValuesPath> | undefined
  /** `set` (default): write the targets; `revert`: `git revert` the commits that changed the lines since they declared them. */
  readonly strategy?: "set" | "revert" | undefined
  /** Commit to the tracked branch itself instead of a new `rollback/<point>` branch. */
  readonly pushToBranch?: boolean | undefined
  /** Turn Flux setter markers on the changed lines off in the same commit. */
  readonly hold?: boolean | undefined
  /** `kubectl` to render kustomizations with; default: `kubectl` on the PATH (none: no render); `null`: never render. */
  readonly kubectl?: string | null | undefined
  /**
   * The cluster that syncs the repository (`--wait-on kubernetes`): `watch` waits until its
   * workloads run the committed images and `verify` uses its rules; without it the run ends at
   * "committed and pushed".
   */
  readonly waitOn?: TargetShape | undefined
}

/** What `apply` leaves for `watch`, `verify`, `revert`: the commit and where it went. */
export interface GitOpsHandle {
  readonly commit: string
  readonly branch: string
  readonly base: string
  /** With `waitOn`: the cluster's workloads that follow the commit. */
  readonly cluster?: ClusterFollow | undefined
}

/** The files a repository's image lines live in at a commit, and the entries found. */
interface Snapshot {
  readonly commit: string
  readonly files: ReadonlyArray<string>
  readonly texts: ReadonlyMap<string, string>
  readonly entries: ReadonlyArray<ImageEntry>
}

/** A name safe in a git branch: `2024-05-01T12:00:00.000Z` → `2024-05-01T12-00-00Z`. */
export const branchNameOfPoint = (point: string): string =>
  point.replace(/\.000(?=Z$)/, "").replace(/[:\s~^?*[\\]+/g, "-").replace(/\.\.+/g, ".").replace(/[./-]+$/, "")

/** How to reach the repository again, for the report: no secret. */
export const describeGitOps = (settings: GitOpsSettings, remoteUrl?: string): TargetDescription => ({
  kind: "gitops",
  url: scrubCredentials(remoteUrl ?? ("url" in settings.repository ? settings.repository.url : settings.repository.path)),
  settings: {
    branch: settings.branch ?? "main",
    ...("path" in settings.repository ? { repoPath: settings.repository.path } : {}),
    strategy: settings.strategy ?? "set",
    ...(settings.pushToBranch === true ? { pushToBranch: "true" } : {}),
    ...(settings.paths !== undefined && settings.paths.length > 0 ? { paths: settings.paths.join(",") } : {})
  }
})

const helmPathsOf = (settings: GitOpsSettings, file: string): ReadonlyArray<string> =>
  (settings.helmValues ?? []).filter((h) => h.file === file).map((h) => h.path)

/** Reads every image line at a commit; manifest images that a kustomize entry rewrites are marked not handled. */
const readSnapshot = (repo: Repository, settings: GitOpsSettings, commit: string) =>
  Effect.gen(function*() {
    const files = yield* repo.listFiles(commit, [])
    const scope = settings.paths ?? []
    const inPaths = (f: string) => scope.length === 0 || scope.some((p) => f === p || f.startsWith(p.replace(/\/?$/, "/")))
    const helmFiles = new Set((settings.helmValues ?? []).map((h) => h.file))
    const candidates = files.filter((f) => helmFiles.has(f) || (inPaths(f) && isImageFileCandidate(f)))
    const texts = yield* repo.readFiles(commit, candidates)
    const found: Array<ImageEntry> = []
    for (const [file, text] of texts) {
      try {
        found.push(...findImageEntries(file, text, helmPathsOf(settings, file)))
      } catch {
        // a file the YAML parser cannot read holds no image line we could edit safely
      }
    }
    const kustomize = found.filter((e) => e.kind === "kustomize")
    const entries = found.map((e): ImageEntry => {
      if (e.kind !== "manifest" || e.notHandled !== undefined || e.image === undefined) return e
      const by = kustomize.find((k) => kustomizeNameMatches(k.name, e.image!))
      return by === undefined ? e : { ...e, notHandled: `its image is set by the kustomization entry ${by.id}` }
    })
    return { commit, files, texts, entries } satisfies Snapshot
  })

/** An image line as a workload: one container, its file and line in the labels and summary. */
const entryToWorkload = (entry: ImageEntry, commit: string, branch: string, scope: TargetScope, hold = false): Workload => {
  const automation = entry.markers.filter((m) => !m.held).map((m) => m.policy)
  const held = entry.markers.filter((m) => m.held).map((m) => m.policy)
  const where = `${entry.file}:${entry.line}`
  return {
    id: entry.id,
    kind: entry.kind === "kustomize" ? "kustomize image" : entry.kind === "helm" ? "Helm value" : "container image",
    labels: {
      file: entry.file,
      line: String(entry.line),
      ...(automation.length > 0 ? { automation: automation.join(",") } : {}),
      ...(held.length > 0 ? { held: held.join(",") } : {})
    },
    containers: [{ name: entry.name, image: entry.image }],
    image: entry.image,
    health: {
      desired: 1,
      running: 1,
      healthy: 1,
      summary: `declared at ${where} on ${branch} (${commit.slice(0, 7)})` +
        (automation.length > 0 ? `; Flux image automation ${automation.join(", ")} would set it back unless held (--hold)` : "") +
        (held.length > 0 ? `; Flux image automation ${held.join(", ")} held by fleet-rollback` : "")
    },
    revision: commit,
    where: `${where}` +
      (automation.length > 0
        ? hold
          ? ` — Flux image automation ${automation.join(", ")} is on this line: --hold turns it off in the same commit`
          : ` — Flux image automation ${automation.join(", ")} is on this line and NOT held: it will set the tag back (use --hold)`
        : "") +
      (held.length > 0 ? ` — Flux image automation ${held.join(", ")} held` : ""),
    inScope: scope.idPrefix === undefined || entry.id.startsWith(scope.idPrefix),
    ...(entry.notHandled !== undefined ? { notHandled: entry.notHandled } : {})
  }
}

const fail = (reason: GitOpsError["reason"], message: string) => new GitOpsError({ reason, message })

/** One line per change for the commit message. */
const changeLines = (changes: ReadonlyArray<EntryChange>): ReadonlyArray<string> =>
  changes.map((c) => `- ${c.id} (line ${c.line}): ${c.before ?? "(no tag)"} -> ${c.after}`)

/** The commit message: what, to which point, who ran it, which automation was held or released. */
const commitMessage = (
  options: ApplyOptions,
  purpose: "run" | "undo",
  changes: ReadonlyArray<EntryChange>,
  reverted: ReadonlyArray<LineAtCommit>
): string => {
  const point = options.point !== undefined ? `${options.point}${options.label !== undefined && options.label !== options.point ? ` (${options.label})` : ""}` : "(no point given)"
  const n = changes.length
  const subject = reverted.length > 0
    ? reverted.length === 1 ? `Revert "${reverted[0]!.subject}"` : `Revert ${reverted.length} image updates: roll back ${n} service(s) to ${point}`
    : purpose === "undo"
    ? `Undo rollback: put back ${n} service(s)' previous images`
    : `Roll back ${n} service(s) to ${point}`
  const held = changes.flatMap((c) => c.held)
  const released = changes.flatMap((c) => c.released)
  return [
    subject,
    "",
    ...(reverted.length > 0 ? [...reverted.map((c) => `This reverts commit ${c.commit} (${c.subject}).`), ""] : []),
    `Point: ${point}`,
    `Run by: ${options.cause ?? "fleet-rollback"}`,
    "Services:",
    ...changeLines(changes),
    ...(held.length > 0 ? ["", `Flux image automation held (markers turned off so Flux does not set the tags back): ${held.join(", ")}.`, "`fleet-rollback undo` turns them back on."] : []),
    ...(released.length > 0 ? ["", `Flux image automation turned back on: ${released.join(", ")}.`] : []),
    "",
    "Made by fleet-rollback."
  ].join("\n") + "\n"
}

/** The commits to revert so that every change's line declares its target again (newest first, deduplicated). */
const findCommitsToRevert = (repo: Repository, settings: GitOpsSettings, base: string, entries: ReadonlyArray<{ entry: ImageEntry; change: ImageChange }>) =>
  Effect.gen(function*() {
    const files = [...new Set(entries.map((e) => e.entry.file))]
    const history = yield* repo.history(base, files)
    const texts = yield* repo.readFilesAt(history.map((c) => c.id), files)
    const picked = new Map<string, LineAtCommit>()
    for (const { entry, change } of entries) {
      const lineHistory: Array<LineAtCommit> = history.map((c) => {
        const text = texts.get(c.id)?.get(entry.file)
        const found = text === undefined ? undefined : findImageEntries(entry.file, text, helmPathsOf(settings, entry.file)).find((e) => e.id === entry.id)
        return { commit: c.id, subject: c.subject, image: found?.image }
      })
      const commits = commitsToRevert(lineHistory, change.image)
      if (commits === undefined) {
        return yield* fail("Invalid", `--strategy revert: no commit on the branch declares ${entry.id} as ${change.image}, so no revert brings it back; nothing was committed. Use --strategy set to write the target.`)
      }
      for (const c of commits) picked.set(c.commit, c)
    }
    return history.filter((c) => picked.has(c.id)).map((c) => picked.get(c.id)!)
  })

/** The Target over a GitOps repository. */
export const makeGitOpsTarget = (settings: GitOpsSettings): Effect.Effect<TargetShape> =>
  Effect.gen(function*() {
    const branch = settings.branch ?? "main"
    const repoRef = yield* Ref.make<Repository | undefined>(undefined)
    /** The head the last listing (the plan) saw. */
    const planned = yield* Ref.make<string | undefined>(undefined)
    /** The last commit this target made and pushed. */
    const last = yield* Ref.make<GitOpsHandle | undefined>(undefined)
    const snapshots = new Map<string, Snapshot>()

    const repository = Effect.gen(function*() {
      const open = yield* Ref.get(repoRef)
      if (open !== undefined) return open
      const repo = yield* openRepository(settings.repository, settings.remote ?? "origin")
      yield* Ref.set(repoRef, repo)
      return repo
    })
    const snapshotAt = (commit: string) =>
      Effect.gen(function*() {
        const cached = snapshots.get(commit)
        if (cached !== undefined) return cached
        const snap = yield* readSnapshot(yield* repository, settings, commit)
        snapshots.set(commit, snap)
        return snap
      })
    const kubectl = settings.kubectl === null ? undefined : settings.kubectl ?? findOnPath("kubectl")

    const listWorkloads = (scope: TargetScope) =>
      Effect.gen(function*() {
        if (scope.labelSelector !== undefined) {
          return yield* fail("Invalid", `the GitOps target has no labels to select by (${scope.labelSelector}): narrow it with paths (target.paths) or the id prefix instead`)
        }
        const head = yield* (yield* repository).fetchHead(branch)
        yield* Ref.set(planned, head)
        const snap = yield* snapshotAt(head)
        return snap.entries.map((e) => entryToWorkload(e, head, branch, scope, settings.hold === true))
      }).pipe(Effect.mapError(toTargetError))

    const getWorkload = (id: string) =>
      Effect.gen(function*() {
        const made = yield* Ref.get(last)
        const commit = made?.commit ?? (yield* Ref.get(planned)) ?? (yield* (yield* repository).fetchHead(branch))
        const snap = yield* snapshotAt(commit)
        const entry = snap.entries.find((e) => e.id === id)
        if (entry === undefined) return yield* fail("NotFound", `${id}: no such image line at ${commit.slice(0, 7)} (${made?.branch ?? branch})`)
        return entryToWorkload(entry, commit, made?.branch ?? branch, {})
      }).pipe(Effect.mapError(toTargetError))

    /** The commit of the changes in a scratch clone of `base`; undefined when nothing would change. */
    const makeCommit = (repo: Repository, base: string, changes: ReadonlyArray<ImageChange>, options: ApplyOptions, purpose: "run" | "undo") =>
      Effect.scoped(Effect.gen(function*() {
        const snap = yield* snapshotAt(base)
        const located = yield* Effect.forEach(changes, (change) => {
          const entry = snap.entries.find((e) => e.id === change.workload)
          return entry === undefined
            ? Effect.fail(fail("NotFound", `${change.workload}: no such image line on ${branch} at ${base.slice(0, 7)}; nothing was committed. Run plan again.`))
            : Effect.succeed({ entry, change })
        })
        const ws: Workspace = yield* repo.workspace(base)
        let reverted: ReadonlyArray<LineAtCommit> = []
        if (settings.strategy === "revert") {
          reverted = yield* findCommitsToRevert(repo, settings, base, located)
          if (reverted.length > 0) yield* ws.revertNoCommit(reverted.map((c) => c.commit))
        }
        const byFile = new Map<string, Array<ImageEdit>>()
        for (const { change } of located) {
          const file = change.workload.slice(0, change.workload.indexOf("#"))
          const edits = byFile.get(file) ?? []
          edits.push({ id: change.workload, image: change.image, hold: settings.hold === true && purpose === "run", release: purpose === "undo" })
          byFile.set(file, edits)
        }
        const entryChanges: Array<EntryChange> = []
        for (const [file, edits] of byFile) {
          const text = ws.readFile(file) ?? ""
          if (settings.strategy === "revert") {
            // the revert must bring every line to its target by itself; never write over what it left
            const now = findImageEntries(file, text, helmPathsOf(settings, file))
            for (const edit of edits) {
              const image = now.find((e) => e.id === edit.id)?.image
              if (!sameDeclaredImage(image, edit.image)) {
                return yield* fail("Conflict", `--strategy revert leaves ${edit.id} at ${image ?? "(no image)"}, not the plan's ${edit.image}; nothing was committed. Use --strategy set.`)
              }
            }
          }
          const edited = editImageFile(file, text, edits, helmPathsOf(settings, file))
          if ("_tag" in edited) return yield* fail("Invalid", `${edited.message}; nothing was committed`)
          ws.writeFile(file, edited.text)
          const before = snap.entries
          entryChanges.push(...edited.changes.map((c) => ({ ...c, before: before.find((e) => e.id === c.id)?.image })))
        }
        const touched = yield* ws.changedFiles
        if (touched.length === 0) return undefined
        if (kubectl !== undefined) yield* renderKustomizations(kubectl, ws.dir, kustomizationsToRender(touched, snap.files))
        return { commit: yield* ws.commit(commitMessage(options, purpose, entryChanges, reverted)), entryChanges }
      }))

    const apply: TargetShape["apply"] = (changes, options) =>
      Effect.gen(function*() {
        if (options.dryRun === true) return yield* fail("Invalid", "a GitOps repository has no server-side dry run; nothing was done")
        const purpose = options.purpose ?? (options.cause === "undo" ? "undo" : "run")
        const repo = yield* repository
        const head = yield* repo.fetchHead(branch)
        const seen = yield* Ref.get(planned)
        if (settings.pushToBranch === true && seen !== undefined && seen !== head) {
          return yield* fail("Conflict", `${branch} on ${repo.remoteUrl} moved since the plan (planned at ${seen.slice(0, 7)}, now ${head.slice(0, 7)}); nothing was committed or pushed. Run plan again to see what it declares now.`)
        }
        const base = seen ?? head
        const made = yield* makeCommit(repo, base, changes, options, purpose)
        const workloads = changes.map((c) => ({ workload: c.workload, state: "applied" as const }))
        if (made === undefined) return { changeIds: [], workloads, note: `${branch} already declares these images; nothing was committed` } satisfies AppliedChange
        const slug = branchNameOfPoint(options.point ?? made.commit.slice(0, 12))
        const target = settings.pushToBranch === true ? branch : `rollback/${slug}${purpose === "undo" ? "-undo" : ""}`
        yield* repo.push(made.commit, target, settings.pushToBranch === true ? base : "absent")
        const cluster = settings.waitOn !== undefined ? yield* followInCluster(settings.waitOn, changes).pipe(Effect.option) : undefined
        const handle: GitOpsHandle = { commit: made.commit, branch: target, base, ...(cluster?._tag === "Some" ? { cluster: cluster.value } : {}) }
        yield* Ref.set(last, handle)
        const pr = settings.pushToBranch === true ? undefined : pullRequestUrl(repo.remoteUrl, branch, target)
        const where = settings.pushToBranch === true
          ? `commit ${made.commit.slice(0, 12)} pushed to ${branch} on ${repo.remoteUrl}`
          : `commit ${made.commit.slice(0, 12)} pushed to the new branch ${target} on ${repo.remoteUrl}; ` +
            (pr !== undefined ? `open the pull request: ${pr}` : `open a pull request of ${target} into ${branch}`)
        const waiting = settings.waitOn === undefined
          ? `(the cluster follows once ${branch} has it)`
          : handle.cluster === undefined
          ? `(${settings.waitOn.displayName} could not be read to follow the commit: not waited for)`
          : `(waiting until ${settings.waitOn.displayName} runs the committed images${handle.cluster.unmatched.length > 0 ? `; no workload there runs ${handle.cluster.unmatched.join(", ")}` : ""})`
        return { changeIds: [made.commit], workloads, note: `${where} ${waiting}`, handle } satisfies AppliedChange
      }).pipe(Effect.mapError(toTargetError))

    const verify = (changes: ReadonlyArray<ImageChange>) =>
      Effect.gen(function*() {
        const made = yield* Ref.get(last)
        if (settings.waitOn !== undefined && made?.cluster !== undefined) return yield* verifyInCluster(settings.waitOn, made.cluster, changes)
        const commit = made?.commit ?? (yield* (yield* repository).fetchHead(branch))
        const snap = yield* snapshotAt(commit)
        return changes.map((c): WorkloadVerification => {
          const image = snap.entries.find((e) => e.id === c.workload)?.image
          const ok = sameDeclaredImage(image, c.image)
          return { workload: c.workload, image, expectedImage: c.image, ok, ...(ok ? {} : { problem: `${made?.branch ?? branch} at ${commit.slice(0, 7)} declares ${image ?? "nothing"}` }) }
        })
      }).pipe(Effect.mapError(toTargetError))

    const revert: TargetShape["revert"] = (args) =>
      Effect.gen(function*() {
        const handle = args.applied.handle as GitOpsHandle | undefined
        if (handle === undefined) return { applied: undefined, note: "nothing had been committed" }
        const repo = yield* repository
        const head = yield* repo.fetchHead(handle.branch)
        const commit = yield* Effect.scoped(Effect.gen(function*() {
          const ws = yield* repo.workspace(head)
          yield* ws.revertNoCommit([handle.commit])
          return yield* ws.commit(`Revert the rollback commit ${handle.commit.slice(0, 12)}\n\nThis reverts commit ${handle.commit}.\n\nMade by fleet-rollback.\n`)
        }))
        yield* repo.push(commit, handle.branch, head)
        const back: GitOpsHandle = { commit, branch: handle.branch, base: head }
        yield* Ref.set(last, back)
        return {
          applied: { changeIds: [commit], workloads: args.back.map((c) => ({ workload: c.workload, state: "applied" as const })), handle: back },
          note: `commit ${commit.slice(0, 12)} reverts ${handle.commit.slice(0, 12)} on ${handle.branch}`
        }
      }).pipe(Effect.mapError(toTargetError))

    /**
     * What each image line declared when: the branch's commits (first parent, oldest first) that
     * touched its file, a new entry wherever the line declares another image, dated when the
     * commit was made. What the cluster ran follows the branch within its sync interval.
     */
    const history: NonNullable<TargetShape["history"]> = (asked) =>
      Effect.gen(function*() {
        const repo = yield* repository
        const head = yield* repo.fetchHead(branch)
        const entries: Array<WorkloadMemory> = []
        // per file: one git log and ONE cat-file for every commit that touched it; each line of it read from those texts
        const byFile = new Map<string, Array<string>>()
        for (const { workload } of asked) {
          const file = workload.slice(0, workload.indexOf("#"))
          byFile.set(file, [...(byFile.get(file) ?? []), workload])
        }
        for (const [file, workloads] of byFile) {
          const commits = [...(yield* repo.history(head, [file]))].reverse()
          const texts = yield* repo.readFilesAt(commits.map((c) => c.id), [file])
          const linesAt = commits.map((c) => {
            const text = texts.get(c.id)?.get(file)
            return text === undefined ? [] : findImageEntries(file, text, helmPathsOf(settings, file))
          })
          for (const workload of workloads) {
            let previous: string | undefined
            for (const [i, c] of commits.entries()) {
              const image = linesAt[i]!.find((e) => e.id === workload)?.image
              if (image !== undefined && image !== previous && Number.isFinite(c.committedAt)) entries.push({ workload, image, at: c.committedAt, revision: c.id, cause: c.subject })
              previous = image
            }
          }
        }
        return { entries, note: `the GitOps repository remembers every commit on ${branch}: each image line's history is its git log (dated when committed; the cluster follows within its sync interval)` }
      }).pipe(Effect.mapError(toTargetError))

    const description = describeGitOps(settings)
    return Target.of({
      history,
      description,
      displayName: "GitOps repository",
      changeNoun: "commit",
      workloadNoun: "image line",
      hints: {
        checkState: `the image lines on ${branch} (and the rollback branch) in the repository`,
        checkStarted: `is there a commit by fleet-rollback on ${branch} or a rollback/ branch?`,
        narrowScope: "target.paths (the directories holding this environment's files)"
      },
      capabilities: { force: false, revert: true, serverDryRun: false, watch: settings.waitOn !== undefined, pinDigest: true },
      listWorkloads,
      getWorkload,
      apply,
      watch: (applied, options) => {
        const cluster = (applied.handle as GitOpsHandle | undefined)?.cluster
        return settings.waitOn !== undefined && cluster !== undefined ? waitForCluster(settings.waitOn, cluster, options) : Effect.void
      },
      inProgress: () => Effect.succeed(false),
      verify,
      revert
    })
  })

/** A GitOps repository as the deployment target. */
export const GitOpsTarget = {
  /** The Target over the repository the settings name. */
  layer: (settings: GitOpsSettings): Layer.Layer<Target> => Layer.effect(Target, makeGitOpsTarget(settings))
}

