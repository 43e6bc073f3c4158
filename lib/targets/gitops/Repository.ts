/**
 * @module Repository — the GitOps repository as the target sees it: a local clone (the operator's
 * `--repo-path`, or a private clone of `--repo-url` in the cache directory), its remote, and the
 * tracked branch. It reads files at a commit without a checkout, and makes changes in a scratch
 * clone that shares its objects (`git clone --shared`), so the operator's own checkout — its work
 * tree, index, current branch — is never touched. Commits come back by `fetch`, go out by `push`.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect, Scope } from "effect"
import { gitLine, runGit, tryGit } from "./Git.ts"
import { GitOpsError, scrubCredentials } from "./GitOpsError.ts"
import { runProcess } from "./Process.ts"

/** Where the repository is: a local clone, or a URL cloned into `cacheDir`. */
export type RepositoryLocation =
  | { readonly path: string }
  | { readonly url: string; readonly cacheDir: string }

/** One commit of the branch's history, for the revert strategy. */
export interface CommitInfo {
  readonly id: string
  readonly parents: ReadonlyArray<string>
  readonly subject: string
  /** When it was committed, epoch ms (the committer date: when it reached the branch's history). */
  readonly committedAt: number
}

/** An open repository. */
export interface Repository {
  /** The local clone's directory. */
  readonly dir: string
  /** The remote's name in that clone. */
  readonly remote: string
  /** The remote's URL without user info (report, messages, pull request links). */
  readonly remoteUrl: string
  /** Fetches `branch` from the remote and returns its head commit. */
  readonly fetchHead: (branch: string) => Effect.Effect<string, GitOpsError>
  /** The files under `paths` (all when empty) at a commit. */
  readonly listFiles: (commit: string, paths: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, GitOpsError>
  /** The text of files at a commit (a file missing there is left out). */
  readonly readFiles: (commit: string, files: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, string>, GitOpsError>
  /**
   * The texts of `files` at each of `commits`, all in ONE `git cat-file --batch`: by commit, then
   * by file (a file absent at a commit is absent from its map).
   */
  readonly readFilesAt: (commits: ReadonlyArray<string>, files: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, ReadonlyMap<string, string>>, GitOpsError>
  /** The commits from `head` back (first-parent), newest first, that touched `files`. */
  readonly history: (head: string, files: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<CommitInfo>, GitOpsError>
  /** A scratch clone checked out (detached) at `commit`, removed when the scope closes. */
  readonly workspace: (commit: string) => Effect.Effect<Workspace, GitOpsError, Scope.Scope>
  /**
   * Pushes `commit` to `branch` on the remote. `expect`: the branch's commit the push is based on
   * (the push is refused when the remote has another), or `"absent"` (the branch must not exist).
   */
  readonly push: (commit: string, branch: string, expect: string | "absent") => Effect.Effect<void, GitOpsError>
}

/** A scratch clone to edit, revert and commit in. */
export interface Workspace {
  readonly dir: string
  readonly readFile: (file: string) => string | undefined
  readonly writeFile: (file: string, text: string) => void
  /** `git revert --no-commit` of the commits, newest first; fails with `Conflict` naming the files (and leaves nothing). */
  readonly revertNoCommit: (commits: ReadonlyArray<string>) => Effect.Effect<void, GitOpsError>
  /** The files that differ from the checked-out commit (staged or not). */
  readonly changedFiles: Effect.Effect<ReadonlyArray<string>, GitOpsError>
  /** Commits everything changed with `message` (the operator's identity) and brings the commit into the repository. */
  readonly commit: (message: string) => Effect.Effect<string, GitOpsError>
}

const cacheNameOf = (url: string): string => createHash("sha256").update(scrubCredentials(url)).digest("hex").slice(0, 16)

/** The operator's identity as git resolves it in the repository (its config, then the global one, then the environment). */
const identityOf = (dir: string) =>
  Effect.gen(function*() {
    const parse = (ident: string) => {
      const m = /^(.*) <([^>]*)>/.exec(ident)
      return m === null ? undefined : { name: m[1]!, email: m[2]! }
    }
    const author = parse(yield* gitLine(dir, ["var", "GIT_AUTHOR_IDENT"]).pipe(Effect.catch(() => Effect.succeed(""))))
    const committer = parse(yield* gitLine(dir, ["var", "GIT_COMMITTER_IDENT"]).pipe(Effect.catch(() => Effect.succeed(""))))
    if (author === undefined || committer === undefined) {
      return yield* new GitOpsError({
        reason: "Invalid",
        message: "git does not know who you are: set user.name and user.email (git config --global user.name …) or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, so the commit names who ran the rollback"
      })
    }
    return {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email
    }
  })

/** Parses `git cat-file --batch` output into texts, by the names asked for. */
const parseBatch = (bytes: Buffer, names: ReadonlyArray<string>): Map<string, string> => {
  const found = new Map<string, string>()
  let at = 0
  for (const name of names) {
    const eol = bytes.indexOf(10, at)
    if (eol < 0) break
    const header = bytes.subarray(at, eol).toString("utf8")
    at = eol + 1
    if (header.endsWith(" missing")) continue
    const size = Number(header.split(" ")[2])
    found.set(name, bytes.subarray(at, at + size).toString("utf8"))
    at += size + 1
  }
  return found
}

/** Opens the repository: checks a local clone, or clones/fetches a URL into the cache. */
export const openRepository = Effect.fn("Repository.open")(function*(location: RepositoryLocation, remote = "origin") {
  let dir: string
  if ("path" in location) {
    dir = location.path
    yield* runGit(dir, ["rev-parse", "--git-dir"]).pipe(
      Effect.mapError(() => new GitOpsError({ reason: "Invalid", message: `${location.path} is not a git repository: give --repo-path a local clone, or --repo-url the remote's URL` }))
    )
  } else {
    dir = join(location.cacheDir, "gitops", cacheNameOf(location.url))
    if (!existsSync(join(dir, ".git"))) {
      mkdirSync(dirname(dir), { recursive: true })
      const scratch = mkdtempSync(`${dir}.clone-`)
      yield* runGit(undefined, ["clone", "--quiet", "--no-checkout", "--origin", remote, location.url, scratch]).pipe(
        Effect.tapError(() => Effect.sync(() => rmSync(scratch, { recursive: true, force: true }))),
        Effect.mapError((e) => new GitOpsError({ reason: e.reason, message: `cannot clone ${scrubCredentials(location.url)}: ${e.message}` }))
      )
      if (existsSync(join(dir, ".git"))) rmSync(scratch, { recursive: true, force: true })
      else renameSync(scratch, dir)
    } else {
      yield* runGit(dir, ["remote", "set-url", remote, location.url])
    }
  }
  const remoteUrl = scrubCredentials(
    // the URL as configured (not expanded by url.*.insteadOf): what the operator knows it by, and what a pull request link needs
    yield* gitLine(dir, ["config", "--get", `remote.${remote}.url`]).pipe(
      Effect.mapError(() => new GitOpsError({ reason: "Invalid", message: `the repository at ${dir} has no remote named ${remote}: add it (git remote add ${remote} URL) or name the remote in the settings` }))
    )
  )

  const fetchHead = (branch: string) =>
    runGit(dir, ["fetch", "--quiet", "--no-tags", remote, `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`]).pipe(
      Effect.mapError((e) =>
        /couldn't find remote ref/i.test(e.message)
          ? new GitOpsError({ reason: "Invalid", message: `the branch ${branch} does not exist on ${remoteUrl}: give the branch the cluster follows (--branch)` })
          : new GitOpsError({ reason: e.reason, message: `cannot fetch ${branch} from ${remoteUrl}: ${e.message}` })
      ),
      Effect.andThen(gitLine(dir, ["rev-parse", "--verify", `refs/remotes/${remote}/${branch}^{commit}`]))
    )

  const listFiles = (commit: string, paths: ReadonlyArray<string>) =>
    runGit(dir, ["ls-tree", "-r", "-z", "--name-only", commit, "--", ...paths]).pipe(Effect.map((out) => out.split("\0").filter((f) => f !== "")))

  /** The objects `commit:file`, in one `git cat-file --batch`, keyed as asked. */
  const readObjects = (specs: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      if (specs.length === 0) return new Map<string, string>()
      const result = yield* runProcess("git", ["cat-file", "--batch"], {
        cwd: dir,
        env: { LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" },
        input: specs.map((spec) => `${spec}\n`).join("")
      }).pipe(Effect.mapError((e) => new GitOpsError({ reason: "Missing", message: e.message })))
      if (result.code !== 0) return yield* new GitOpsError({ reason: "Failed", message: `git cat-file failed: ${scrubCredentials(result.stderr.trim())}` })
      return parseBatch(result.stdoutBytes, specs)
    })

  const readFilesAt = (commits: ReadonlyArray<string>, files: ReadonlyArray<string>) =>
    Effect.map(readObjects(commits.flatMap((c) => files.map((f) => `${c}:${f}`))), (texts) =>
      new Map(commits.map((c) => [c, new Map(files.flatMap((f) => {
        const text = texts.get(`${c}:${f}`)
        return text === undefined ? [] : [[f, text] as const]
      }))])))

  const readFiles = (commit: string, files: ReadonlyArray<string>) =>
    Effect.map(readFilesAt([commit], files), (byCommit) => byCommit.get(commit) ?? new Map<string, string>())

  const history = (head: string, files: ReadonlyArray<string>) =>
    runGit(dir, ["log", "--first-parent", "--format=%H%x00%P%x00%ct%x00%s", head, "--", ...files]).pipe(
      Effect.map((out) =>
        out.split("\n").filter((l) => l !== "").map((line) => {
          const [id = "", parents = "", seconds = "", subject = ""] = line.split("\0")
          return { id, parents: parents.split(" ").filter((p) => p !== ""), subject, committedAt: Number(seconds) * 1000 }
        })
      )
    )

  const workspace = (commit: string) =>
    Effect.gen(function*() {
      const scratch = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "fleet-rollback-gitops-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      yield* runGit(undefined, ["clone", "--quiet", "--shared", "--no-checkout", dir, scratch])
      yield* runGit(scratch, ["checkout", "--quiet", "--detach", commit])
      const identity = yield* identityOf(dir)
      const revertNoCommit = (commits: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const result = yield* tryGit(scratch, ["revert", "--no-commit", ...commits], { env: identity })
          if (result.code === 0) return
          const conflicted = (yield* runGit(scratch, ["diff", "--name-only", "--diff-filter=U"])).split("\n").filter((f) => f !== "")
          yield* tryGit(scratch, ["revert", "--abort"])
          return yield* new GitOpsError({
            reason: "Conflict",
            message: `git revert of ${commits.map((c) => c.slice(0, 7)).join(", ")} conflicts${conflicted.length > 0 ? ` in ${conflicted.join(", ")}` : ""}: ${scrubCredentials(result.stderr.trim().split("\n").slice(-3).join(" "))}`
          })
        })
      const ws: Workspace = {
        dir: scratch,
        readFile: (file) => {
          const p = join(scratch, file)
          return existsSync(p) ? readFileSync(p, "utf8") : undefined
        },
        writeFile: (file, text) => writeFileSync(join(scratch, file), text),
        revertNoCommit,
        changedFiles: runGit(scratch, ["diff", "HEAD", "--name-only"]).pipe(Effect.map((out) => out.split("\n").filter((f) => f !== ""))),
        commit: (message) =>
          Effect.gen(function*() {
            yield* runGit(scratch, ["add", "--all"])
            yield* runGit(scratch, ["commit", "--quiet", "--no-verify", "--file=-"], { input: message, env: identity })
            const id = yield* gitLine(scratch, ["rev-parse", "HEAD"])
            // bring the commit's objects into the repository (FETCH_HEAD only, no ref changed)
            yield* runGit(dir, ["fetch", "--quiet", "--no-tags", scratch, "HEAD"])
            return id
          })
      }
      return ws
    })

  const push = (commit: string, branch: string, expect: string | "absent") =>
    runGit(dir, ["push", "--quiet", "--porcelain", `--force-with-lease=refs/heads/${branch}:${expect === "absent" ? "" : expect}`, remote, `${commit}:refs/heads/${branch}`]).pipe(
      Effect.asVoid,
      Effect.mapError((e) =>
        e.reason === "Conflict" || /stale info|rejected/i.test(e.message)
          ? new GitOpsError({
            reason: "Conflict",
            message: expect === "absent"
              ? `the branch ${branch} already exists on ${remoteUrl}; nothing was pushed. Delete it (or merge it) and run again: ${e.message}`
              : `${branch} on ${remoteUrl} moved since the plan; nothing was pushed. Run plan again: ${e.message}`
          })
          : new GitOpsError({ reason: e.reason, message: `cannot push to ${branch} on ${remoteUrl}; nothing was pushed: ${e.message}` })
      )
    )

  const repository: Repository = { dir, remote, remoteUrl, fetchHead, listFiles, readFiles, readFilesAt, history, workspace, push }
  return repository
})
