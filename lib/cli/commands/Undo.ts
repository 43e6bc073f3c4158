/**
 * @module Undo — `fleet-rollback undo`: put back what ran before a rollback, from its report.
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { badInput } from "../../workflow/RollbackError.ts"
import { undoRollback } from "../../workflow/RunRollback.ts"
import { CliPlatform } from "../CliPlatform.ts"
import * as Flags from "../Flags.ts"
import { makePaint, renderPlan } from "../Output.ts"
import { checkReportPath, deploymentTimeoutMs, loadConfig, loadReport, marathonLayer, notifierLayer, writeFileAtomic } from "../Settings.ts"
import { confirmation, finishRun, progressPrinter, resolveUser } from "./Run.ts"

/** `undo`. */
export const undoCommand = Command.make(
  "undo",
  {
    report: Flag.String("report").pipe(Flag.withDescription("the report of the rollback to undo"), Flag.withDefault("rollback-report.json")),
    out: Flag.String("out").pipe(Flag.withDescription("where to write the undo's own report"), Flag.withDefault("rollback-undo-report.json")),
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
    quiet: Flags.quiet
  },
  (flags) =>
    Effect.gen(function*() {
      const platform = yield* CliPlatform
      const fileSystem = yield* FileSystem.FileSystem
      const paint = makePaint(platform.stdoutIsTerminal && platform.env.NO_COLOR === undefined)
      const config = yield* loadConfig(flags.config)
      const report = yield* loadReport(flags.report)
      const marathonFlags = { ...flags, marathon: Option.isSome(flags.marathon) || Option.isSome(flags.dcos) || config.marathon?.url !== undefined || config.dcos?.url !== undefined ? flags.marathon : Option.some(report.marathon) }
      const marathon = yield* marathonLayer(marathonFlags, config)
      yield* checkReportPath(flags.out, "--out")
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
        confirm,
        onPlan: (plan) => {
          if (!flags.quiet && !flags.json) console.log(renderPlan(plan, paint))
        },
        onProgress: progressPrinter(platform, flags.quiet),
        onInterrupted: (report) => writeFileAtomic(flags.out, JSON.stringify(report, null, 2) + "\n").pipe(Effect.provideService(FileSystem.FileSystem, fileSystem), Effect.ignore),
        onStep: (line) => {
          if (!flags.quiet) platform.writeStderr(`${line}\n`)
        }
      }).pipe(Effect.provide(Layer.mergeAll(marathon.layer, notifier)))
      yield* finishRun(result, flags.out, flags.json, paint)
    })
).pipe(
  Command.withDescription("Put back the images that ran before a rollback, from its report (same safety checks)"),
  Command.withExamples([{ command: "fleet-rollback undo --report rollback-report.json", description: "asks before changing anything" }])
)
