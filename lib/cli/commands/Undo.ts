/**
 * @module Undo — `fleet-rollback undo`: put back what ran before a rollback, from its report, on
 * the Marathon (or DC/OS cluster) the report names unless flags or the config say otherwise.
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { RollbackReport } from "../../core/Report.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { undoRollback } from "../../workflow/RunRollback.ts"
import { CliPlatform } from "../CliPlatform.ts"
import type { ConfigFile } from "../../core/ConfigFile.ts"
import * as Flags from "../Flags.ts"
import { makePaint } from "../Output.ts"
import type { MarathonFlags } from "../Settings.ts"
import { checkReportPath, deploymentTimeoutMs, loadConfig, loadReport, marathonLayer, notifierLayer, writeFileAtomic } from "../Settings.ts"
import type { OutputMode } from "./Run.ts"
import { confirmation, finishRun, planPrinter, progressPrinter, resolveUser, stepPrinter } from "./Run.ts"

/**
 * Where to undo: `--marathon` / `--dcos` or the config when they name a Marathon, else the one the
 * report records — for DC/OS the cluster and uid (the secret still comes from the environment);
 * reports of older versions name only a plain Marathon URL.
 */
export const undoTarget = (flags: MarathonFlags, config: ConfigFile, report: RollbackReport): MarathonFlags => {
  const named = Option.isSome(flags.marathon) || Option.isSome(flags.dcos) || config.marathon?.url !== undefined || config.dcos?.url !== undefined
  if (named) return flags
  const target = report.target
  if (target?.kind === "dcos") {
    return {
      ...flags,
      dcos: Option.some(target.url),
      dcosUid: Option.isSome(flags.dcosUid) || target.dcosUid === undefined ? flags.dcosUid : Option.some(target.dcosUid)
    }
  }
  return { ...flags, marathon: Option.some(target?.url ?? report.marathon) }
}

/** `undo`. */
export const undoCommand = Command.make(
  "undo",
  {
    report: Flag.String("report").pipe(Flags.describedWithDefault("the report of the rollback to undo", "rollback-report.json")),
    out: Flag.String("out").pipe(Flags.describedWithDefault("where to write the undo's own report (written when the fleet changed or may have)", "rollback-undo-report.json")),
    config: Flags.config,
    marathon: Flags.marathon,
    dcos: Flags.dcos,
    dcosUid: Flags.dcosUid,
    caFile: Flags.caFile,
    insecureSkipVerify: Flags.insecureSkipVerify,
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
      const paint = makePaint(platform.stdoutIsTerminal && platform.env.NO_COLOR === undefined)
      const config = yield* loadConfig(flags.config)
      const report = yield* loadReport(flags.report)
      const marathon = yield* marathonLayer(undoTarget(flags, config, report), config)
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
        marathonUrl: marathon.url,
        target: marathon.target,
        confirm,
        onPlan: yield* planPrinter(mode),
        onProgress: progressPrinter(platform, flags.quiet),
        onInterrupted: (report) => writeFileAtomic(flags.out, JSON.stringify(report, null, 2) + "\n").pipe(Effect.provideService(FileSystem.FileSystem, fileSystem), Effect.ignore),
        onStep: stepPrinter(platform, flags.quiet)
      }).pipe(Effect.provide(Layer.mergeAll(marathon.layer, notifier)))
      yield* finishRun(result, flags.out, mode, paint)
    })
).pipe(
  Command.withDescription("Put back the images that ran before a rollback, from its report (same safety checks), on the Marathon the report names"),
  Command.withExamples([{ command: "fleet-rollback undo --report rollback-report.json", description: "shows what it would put back and asks before changing anything" }])
)
