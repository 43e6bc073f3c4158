/**
 * @module Undo — `fleet-rollback undo`: put back what ran before a rollback, from its report, on
 * the target the report names — credentials go only to a target the operator named (flags,
 * config) or accepted from the report (`--target-from-report`).
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { ReportTarget, RollbackReport } from "../../core/Report.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { undoRollback } from "../../workflow/RunRollback.ts"
import { CliPlatform } from "../CliPlatform.ts"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import * as Flags from "../Flags.ts"
import { colourWanted, makePaint } from "../Output.ts"
import type { TargetFlagValues } from "../Flags.ts"
import { checkReportPath, deploymentTimeoutMs, loadConfig, loadReport, notifierLayer, writeFileAtomic } from "../Settings.ts"
import { buildTarget, targetConfigured } from "../targets/index.ts"
import type { OutputMode } from "./Run.ts"
import { confirmation, finishRun, withReportPath, planPrinter, progressPrinter, resolveUser, stepPrinter } from "./Run.ts"

/** A target as an operator reads it: `marathon https://marathon.example.com`, `dcos https://… as rollback-bot`. */
const describe = (t: ReportTarget): string => `${t.kind} target at ${t.url}${t.dcosUid !== undefined ? ` (uid ${t.dcosUid})` : ""}`

/** The trailing slash and case of the scheme and host do not make another target. */
const sameUrl = (a: string, b: string): boolean => {
  const norm = (u: string) => (URL.canParse(u) ? new URL(u).toString() : u).replace(/\/+$/, "")
  return norm(a) === norm(b)
}

/** True when the configured target is the one the report names (kind, URL, and the DC/OS uid when both say one). */
const sameTarget = (configured: ReportTarget, named: ReportTarget): boolean =>
  configured.kind === named.kind && sameUrl(configured.url, named.url) &&
  (configured.dcosUid === undefined || named.dcosUid === undefined || configured.dcosUid === named.dcosUid) &&
  Object.entries(named.settings ?? {}).every(([k, v]) => configured.settings?.[k] === undefined || configured.settings[k] === v)

/** The target a report names: its `target`, or (reports of older versions) a plain Marathon at `marathon`. */
const reportTarget = (report: RollbackReport): ReportTarget => report.target ?? { kind: "marathon", url: report.marathon }

/**
 * Where to undo, sending credentials only where the operator said (issue: reports are archived
 * build artifacts, and their target could have been edited):
 * - flags or the config name a target: it must be the one the report names, else BadInput saying
 *   how to proceed (nothing is sent anywhere);
 * - `--target-from-report`: the report's target, with the credentials configured for its kind;
 * - neither: the report's target only when no credential would be sent there; else BadInput.
 */
export const undoTarget = (flags: TargetFlagValues & { readonly targetFromReport: boolean }, config: ConfigFile, report: RollbackReport, reportPath: string) =>
  Effect.gen(function*() {
    const named = reportTarget(report)
    if (flags.targetFromReport) return yield* buildTarget(flags, config, named)
    if (targetConfigured(flags, config)) {
      const built = yield* buildTarget(flags, config)
      if (!sameTarget(built.description, named)) {
        return yield* badInput(
          `${reportPath} is the report of a rollback on the ${describe(named)}, but this undo is set up for the ${describe(built.description)}; nothing was changed. ` +
            `Undo goes back where the rollback went: give the report's target (e.g. ${named.kind === "dcos" ? `--dcos ${named.url}` : named.kind === "marathon" ? `--marathon ${named.url}` : `--target ${named.kind}`}), ` +
            "or pass --target-from-report to go to the report's target with the credentials configured for it."
        )
      }
      return built
    }
    const built = yield* buildTarget(flags, config, named)
    if (built.sendsCredentials) {
      return yield* badInput(
        `${reportPath} names the ${describe(named)}, and no flag or config names a target: credentials from the environment are sent only to a target you name. ` +
          `Nothing was changed. Give it (e.g. ${named.kind === "dcos" ? `--dcos ${named.url}` : named.kind === "marathon" ? `--marathon ${named.url}` : `--target ${named.kind}`}), or pass --target-from-report if you trust this report.`
      )
    }
    return built
  })

/** `undo`. */
export const undoCommand = Command.make(
  "undo",
  {
    report: Flag.String("report").pipe(Flags.describedWithDefault("the report of the rollback to undo", "rollback-report.json")),
    out: Flag.String("out").pipe(Flags.describedWithDefault("where to write the undo's own report (written when the fleet changed or may have)", "rollback-undo-report.json")),
    config: Flags.config,
    ...Flags.targetFlags,
    targetFromReport: Flags.targetFromReport,
    yes: Flags.yes,
    user: Flags.user,
    force: Flags.force,
    revertOnFailure: Flags.revertOnFailure,
    timeout: Flags.timeout,
    pollMs: Flags.pollMs,
    json: Flags.json,
    quiet: Flags.quiet,
    verbose: Flags.verbose
  },
  (flags) =>
    Effect.gen(function*() {
      const platform = yield* CliPlatform
      const fileSystem = yield* FileSystem.FileSystem
      const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
      const config = yield* loadConfig(flags.config)
      const report = yield* loadReport(flags.report)
      const target = yield* undoTarget(flags, config, report, flags.report)
      yield* checkReportPath(flags.out, "--out")
      const mode: OutputMode = { json: flags.json, quiet: flags.quiet, verbose: flags.verbose, yes: flags.yes }
      const confirm = yield* confirmation(flags.yes, "Undo the rollback of")
      const notifier = yield* notifierLayer(config)
      const timeoutMs = deploymentTimeoutMs(flags.timeout, config)
      if (typeof timeoutMs === "string") return yield* badInput(timeoutMs)
      const result = yield* undoRollback(report, {
        force: flags.force,
        revertOnFailure: flags.revertOnFailure,
        timeoutMs,
        pollMs: Option.getOrUndefined(flags.pollMs),
        user: resolveUser(flags.user, platform.env),
        environment: report.environment,
        marathonUrl: target.description.url,
        target: target.description,
        confirm,
        onPlan: yield* planPrinter(mode),
        onProgress: progressPrinter(platform, flags.quiet),
        onInterrupted: (report) => writeFileAtomic(flags.out, JSON.stringify(withReportPath(report, flags.out), null, 2) + "\n").pipe(Effect.provideService(FileSystem.FileSystem, fileSystem), Effect.ignore),
        onStep: stepPrinter(platform, flags.quiet)
      }).pipe(Effect.provide(Layer.mergeAll(target.layer, notifier)))
      yield* finishRun(result, flags.out, mode, paint)
    })
).pipe(
  Command.withDescription("Put back the images that ran before a rollback, from its report (same safety checks), on the target the report names"),
  Command.withExamples([{ command: "fleet-rollback undo --report rollback-report.json", description: "shows what it would put back and asks before changing anything" }])
)
