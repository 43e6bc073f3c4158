/**
 * @module GitRemote — real git for the GitOps and Pulumi tests: a bare repository on disk as the
 * remote, a seeding clone that commits files as a given author at a given time (seed 001's Flux
 * "Auto-release …" history), and `git daemon` serving a directory on 127.0.0.1 at a free port
 * (`--export-all --enable=receive-pack`), stopped by its process id.
 *
 * Test harness code: plain Node APIs (it runs outside Effect).
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, createConnection } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"

/** The identity tests commit as, and the operator's identity for the target. */
export const OPERATOR = { name: "Mike Williamson", email: "mike@korora.ca" }
/** Flux's identity in seed 001. */
export const FLUX = { name: "fluxcd", email: "fluxcd@users.noreply.github.com" }

/** The environment git runs with in tests: no global or system config of this machine, an identity. */
export const gitEnv = (home: string, who = OPERATOR): Record<string, string> => ({
  HOME: home,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: join(home, ".gitconfig"),
  GIT_AUTHOR_NAME: who.name,
  GIT_AUTHOR_EMAIL: who.email,
  GIT_COMMITTER_NAME: who.name,
  GIT_COMMITTER_EMAIL: who.email
})

/** Runs git synchronously; throws with its output when it fails. */
export const git = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): string => {
  const r = spawnSync("git", [...args], { cwd, env: { ...process.env, ...env }, encoding: "utf8" })
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return r.stdout
}

/** A bare remote with a seeding clone. */
export interface TestRemote {
  /** The temporary directory holding everything (removed by `close`). */
  readonly root: string
  /** The bare repository. */
  readonly bare: string
  /** The seeding clone (tests commit "from elsewhere" through it). */
  readonly seed: string
  /** Writes files and commits them to `branch` as `who`, at `date` when given, and pushes; returns the commit id. */
  readonly commit: (files: Record<string, string>, message: string, options?: { who?: { name: string; email: string }; date?: string; branch?: string }) => string
  /** A file's text at a ref of the bare remote (undefined when absent). */
  readonly show: (ref: string, file: string) => string | undefined
  /** The commit a ref of the bare remote points to (undefined when absent). */
  readonly head: (ref: string) => string | undefined
  /** The refs of the bare remote. */
  readonly refs: () => ReadonlyArray<string>
  readonly close: () => void
}

/** Makes a bare remote (branch `main`) and a seeding clone under a new temporary directory. */
export const makeRemote = (): TestRemote => {
  const root = mkdtempSync(join(tmpdir(), "fleet-rollback-git-"))
  const home = join(root, "home")
  mkdirSync(home)
  writeFileSync(join(home, ".gitconfig"), "[init]\n\tdefaultBranch = main\n")
  const env = gitEnv(home)
  const bare = join(root, "remote.git")
  git(root, ["init", "--quiet", "--bare", "--initial-branch=main", bare], env)
  const seed = join(root, "seed")
  git(root, ["clone", "--quiet", bare, seed], env)
  git(seed, ["checkout", "--quiet", "-B", "main"], env)
  const commit: TestRemote["commit"] = (files, message, options = {}) => {
    const branch = options.branch ?? "main"
    git(seed, ["fetch", "--quiet", "origin"], env)
    if (git(bare, ["branch", "--list", branch], env).trim() !== "") git(seed, ["checkout", "--quiet", "-B", branch, `origin/${branch}`], env)
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(seed, file)), { recursive: true })
      writeFileSync(join(seed, file), text)
    }
    git(seed, ["add", "--all"], env)
    const who = options.who ?? OPERATOR
    const date = options.date !== undefined ? { GIT_AUTHOR_DATE: options.date, GIT_COMMITTER_DATE: options.date } : {}
    git(seed, ["commit", "--quiet", "-m", message], { ...gitEnv(home, who), ...date })
    git(seed, ["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`], env)
    return git(seed, ["rev-parse", "HEAD"], env).trim()
  }
  const show = (ref: string, file: string) => {
    const r = spawnSync("git", ["show", `${ref}:${file}`], { cwd: bare, env: { ...process.env, ...env }, encoding: "utf8" })
    return r.status === 0 ? r.stdout : undefined
  }
  const head = (ref: string) => {
    const r = spawnSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: bare, env: { ...process.env, ...env }, encoding: "utf8" })
    return r.status === 0 ? r.stdout.trim() : undefined
  }
  const refs = () => git(bare, ["for-each-ref", "--format=%(refname)"], env).split("\n").filter((l) => l !== "")
  return { root, bare, seed, commit, show, head, refs, close: () => rmSync(root, { recursive: true, force: true }) }
}

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** A running `git daemon`. */
export interface GitDaemon {
  /** `git://127.0.0.1:PORT/` — append a repository's path relative to the base directory. */
  readonly url: string
  readonly stop: () => Promise<void>
}

/** Serves `base` with `git daemon` on 127.0.0.1 (free port, export-all, receive-pack on); resolves once it accepts connections. */
export const startGitDaemon = async (base: string): Promise<GitDaemon> => {
  const port = await freePort()
  const child: ChildProcess = spawn("git", ["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", `--base-path=${base}`, "--listen=127.0.0.1", `--port=${port}`, base], {
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()))
  const deadline = Date.now() + 20_000
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (up) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`git daemon did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: `git://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      })
  }
}

/** Reads a file as text. */
export const readText = (path: string): string => readFileSync(path, "utf8")
