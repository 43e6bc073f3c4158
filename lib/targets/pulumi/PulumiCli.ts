/**
 * @module PulumiCli — the `pulumi` command, run in the project's directory for one stack:
 * `config --json` (what the stack's config holds, wherever Pulumi keeps it), `config set`,
 * `preview --diff` and `up --yes` with their output streamed to the operator. Never prompts
 * (`--non-interactive`); its output is scrubbed of URL credentials.
 */
import { Effect, Schema } from "effect"
import { GitOpsError, scrubCredentials } from "../gitops/GitOpsError.ts"
import type { ProcessResult } from "../gitops/Process.ts"
import { runProcess } from "../gitops/Process.ts"

/** What to install when `pulumi` is missing. */
export const INSTALL_PULUMI = "install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or brew install pulumi; see https://www.pulumi.com/docs/iac/download-install/) and log in to the stack's backend"

/** How to run pulumi for one stack. */
export interface PulumiCommand {
  /** The `pulumi` program. */
  readonly program: string
  /** The project directory (where `Pulumi.yaml` is). */
  readonly cwd: string
  readonly stack: string
  /** Streams pulumi's output (preview, up) to the operator. */
  readonly onOutput?: ((text: string) => void) | undefined
}

const ConfigJson = Schema.Record(Schema.String, Schema.Struct({ value: Schema.optional(Schema.Unknown), secret: Schema.optional(Schema.Boolean) }))

const run = (cmd: PulumiCommand, args: ReadonlyArray<string>, stream: boolean) =>
  runProcess(cmd.program, [...args, "--stack", cmd.stack, "--non-interactive"], {
    cwd: cmd.cwd,
    onOutput: stream && cmd.onOutput !== undefined ? (t) => cmd.onOutput!(scrubCredentials(t)) : undefined
  }).pipe(Effect.mapError((e) => new GitOpsError({ reason: "Missing", message: e.missing ? `pulumi is not installed: ${INSTALL_PULUMI}` : e.message })))

const failedWith = (what: string, result: ProcessResult) =>
  new GitOpsError({
    reason: "Failed",
    message: `pulumi ${what} failed (exit ${result.code ?? "killed"}): ${scrubCredentials((result.stderr.trim() || result.stdout.trim()).split("\n").slice(-8).join("\n"))}`
  })

/** The stack's plain config values (secrets left out), by key. */
export const pulumiConfig = Effect.fn("Pulumi.config")(function*(cmd: PulumiCommand) {
  const result = yield* run(cmd, ["config", "--json"], false)
  if (result.code !== 0) return yield* failedWith("config", result)
  const decoded = yield* Schema.decodeUnknownEffect(Schema.fromJsonString(ConfigJson))(result.stdout).pipe(
    Effect.mapError(() => new GitOpsError({ reason: "Failed", message: "pulumi config --json did not print the JSON object it should" }))
  )
  const out = new Map<string, string>()
  for (const [key, entry] of Object.entries(decoded)) if (entry.secret !== true && typeof entry.value === "string") out.set(key, entry.value)
  return out
})

/** `pulumi config set KEY VALUE` (a plain string). */
export const pulumiConfigSet = Effect.fn("Pulumi.configSet")(function*(cmd: PulumiCommand, key: string, value: string) {
  const result = yield* run(cmd, ["config", "set", key, value], false)
  if (result.code !== 0) return yield* failedWith(`config set ${key}`, result)
})

/** `pulumi config rm KEY`. */
export const pulumiConfigRemove = Effect.fn("Pulumi.configRemove")(function*(cmd: PulumiCommand, key: string) {
  const result = yield* run(cmd, ["config", "rm", key], false)
  if (result.code !== 0) return yield* failedWith(`config rm ${key}`, result)
})

/** `pulumi preview --diff`, streamed; its output. */
export const pulumiPreview = Effect.fn("Pulumi.preview")(function*(cmd: PulumiCommand) {
  const result = yield* run(cmd, ["preview", "--diff"], true)
  if (result.code !== 0) return yield* failedWith("preview", result)
  return scrubCredentials(result.stdout)
})

/** `pulumi up --yes`, streamed; its result (a failure is an answer: the update may be half done). */
export const pulumiUp = (cmd: PulumiCommand) => run(cmd, ["up", "--yes"], true)
