/**
 * @module Git — runs the real `git` with the operator's own configuration and credentials
 * (credential helpers, SSH agent, `url.*.insteadOf`), never prompting (`GIT_TERMINAL_PROMPT=0`),
 * messages in English (`LC_ALL=C`) so that failures can be classified. git's output is only ever
 * shown through {@link scrubCredentials}: a URL with user info, or anything a credential helper
 * answered and git echoed, does not reach a message.
 */
import { Effect } from "effect"
import { GitOpsError, scrubCredentials } from "./GitOpsError.ts"
import type { GitOpsErrorReason } from "./GitOpsError.ts"
import type { ProcessResult } from "./Process.ts"
import { runProcess } from "./Process.ts"

/** How to run one git command. */
export interface GitOptions {
  /** Written to git's standard input. */
  readonly input?: string | undefined
  /** Added to git's environment (an identity, an index file). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** The environment every git command runs with: the operator's, never prompting, English messages. */
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", LANGUAGE: "C", GIT_OPTIONAL_LOCKS: "0" }

/** What a failure's output says it was, for the operator and the workflow. */
export const classifyGitFailure = (stderr: string): GitOpsErrorReason => {
  if (/Authentication failed|could not read Username|could not read Password|terminal prompts disabled|Permission denied \(publickey|HTTP Basic: Access denied|\b40[13]\b/i.test(stderr)) return "Unauthorized"
  if (/\[rejected\]|non-fast-forward|fetch first|stale info|\[remote rejected\]|failed to push some refs/i.test(stderr)) return "Conflict"
  if (/Could not resolve host|Connection refused|unable to access|Could not read from remote repository|unable to connect|Connection timed out|does not appear to be a git repository|not found/i.test(stderr)) return "Unreachable"
  return "Failed"
}

/** The last lines of git's error output, scrubbed: what the operator needs to see. */
const gitSaid = (result: ProcessResult): string => {
  const text = (result.stderr.trim() !== "" ? result.stderr : result.stdout).trim().split("\n").slice(-6).join("\n")
  return scrubCredentials(text === "" ? `exit code ${result.code ?? "(killed)"}` : text)
}

/** Runs git in `cwd` and returns its whole result, whatever its exit code (for commands whose failure is an answer). */
export const tryGit = (cwd: string | undefined, args: ReadonlyArray<string>, options: GitOptions = {}) =>
  runProcess("git", args, { cwd, env: { ...GIT_ENV, ...options.env }, input: options.input }).pipe(
    Effect.mapError((e) =>
      new GitOpsError({ reason: "Missing", message: e.missing ? "git is not installed: install git (Debian: apt-get install git) and try again" : scrubCredentials(e.message) })
    )
  )

/** Runs git in `cwd`; its standard output, or a {@link GitOpsError} naming the command and what git said. */
export const runGit = Effect.fn("Git.run")(function*(cwd: string | undefined, args: ReadonlyArray<string>, options: GitOptions = {}) {
  const result = yield* tryGit(cwd, args, options)
  if (result.code === 0) return result.stdout
  const said = gitSaid(result)
  return yield* new GitOpsError({ reason: classifyGitFailure(said), message: `git ${args[0] ?? ""} failed: ${said}` })
})

/** Runs git and returns its output's first line, trimmed (a commit id, a URL, a ref). */
export const gitLine = (cwd: string | undefined, args: ReadonlyArray<string>, options: GitOptions = {}) =>
  runGit(cwd, args, options).pipe(Effect.map((out) => out.split("\n")[0]?.trim() ?? ""))
