/**
 * @module Run — `fleet-rollback run`: print the plan, check, confirm, deploy the set as one
 * Marathon deployment, wait, verify, write the report (always), tell Slack.
 */
import { Console, Effect, FileSystem, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { RollbackPlan } from "../../core/Plan.ts"
import type { RollbackReport } from "../../core/Report.ts"
import type { DeploymentProgress } from "../../marathon/Marathon.ts"
import { planFleet } from "../../workflow/PlanFleet.ts"
import { badInput, RollbackError } from "../../workflow/RollbackError.ts"
import type { RunResult } from "../../workflow/RunRollback.ts"
import { runRollback } from "../../workflow/RunRollback.ts"
import { CliPlatform } from "../CliPlatform.ts"
import * as Flags from "../Flags.ts"
import type { Paint } from "../Output.ts"
import { makePaint, renderPlan, renderReport } from "../Output.ts"
import { checkReportPath, deploymentTimeoutMs, notifierLayer, registryLayer, writeFileAtomic } from "../Settings.ts"
import { planFlags, planJson, preparePlan } from "./Plan.ts"

/** Who runs it: `--user`, else `BUILD_USER_ID` (Jenkins), else `USER`. */
export const resolveUser = (flag: Option.Option<string>, env: Readonly<Record<string, string | undefined>>): string =>
  Option.getOrUndefined(flag) ?? env.BUILD_USER_ID ?? env.USER ?? env.USERNAME ?? "unknown"

/** Asks on a terminal; refuses when not on one and `--yes` is missing. */
export const confirmation = (yes: boolean, what: string) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    if (yes) return undefined
    if (!platform.stdinIsTerminal) {
      return yield* badInput(`not on a terminal, so nobody can confirm: add --yes to ${what} without asking (nothing was changed)`)
    }
    return (plan: RollbackPlan) =>
      Effect.promise(() => platform.readLine(`${what} ${plan.services.filter((s) => s.action === "rollback" || s.action === "forward").length} app(s)? Type yes to go on: `)).pipe(
        Effect.map((answer) => answer.trim().toLowerCase() === "yes" || answer.trim().toLowerCase() === "y")
      )
  })

/** Progress of a deployment: redrawn on a terminal, a line per change in CI. */
export const progressPrinter = (platform: typeof CliPlatform.Service, quiet: boolean) => {
  let last = ""
  return (p: DeploymentProgress) => {
    if (quiet) return
    const apps = p.apps.map((a) => `${a.id} ${a.tasksRunning}/${a.instances}`).join(", ")
    const text = `deployment ${p.deploymentId.slice(0, 8)} step ${p.currentStep}/${p.totalSteps}: ${apps}`
    if (text === last) return
    last = text
    platform.writeStderr(platform.stderrIsTerminal ? `\r${text}\u001b[K` : `${text}\n`)
  }
}

/** Writes the report and prints it; the exit code follows the outcome. */
export const finishRun = (result: RunResult, reportPath: string, json: boolean, paint: Paint) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    if (platform.stderrIsTerminal) platform.writeStderr("\r\u001b[K")
    const text = JSON.stringify(result.report, null, 2) + "\n"
    // The fleet has changed already: a report that cannot be written is printed instead.
    const written = yield* writeFileAtomic(reportPath, text).pipe(Effect.as(true), Effect.catch((e) => Effect.sync(() => {
      platform.writeStderr(`fleet-rollback: ${e.message}; the report follows on standard output instead\n`)
      return false
    })))
    if (!written && !json) yield* Console.log(text)
    if (json) yield* Console.log(JSON.stringify(result.report, null, 2))
    else yield* Console.log(`${renderReport(result.report, paint)}\nReport: ${written ? reportPath : "not written (printed above)"}`)
    // The report says everything; the empty message only carries the exit code (1 failed, 2 refused).
    if (!isSuccess(result.report)) return yield* new RollbackError({ kind: result.report.outcome === "refused" ? "Refused" : "Failed", message: "" })
  })

const isSuccess = (report: RollbackReport) => report.outcome === "succeeded" || report.outcome === "nothing-to-do"

/** `run`. */
export const runCommand = Command.make(
  "run",
  {
    ...planFlags,
    registry: Flag.String("registry").pipe(Flag.withDescription("registry to re-check tags against (default: the one in rollback.json)"), Flag.optional),
    yes: Flags.yes,
    user: Flags.user,
    report: Flag.String("report").pipe(Flag.withDescription("where to write the report"), Flag.withDefault("rollback-report.json")),
    allowPartial: Flag.Boolean("allow-partial").pipe(Flag.withDescription("roll back even if some services have no image at the point (they are left as they are)"), Flag.withDefault(false)),
    allowForward: Flag.Boolean("allow-forward").pipe(Flag.withDescription("allow targets newer than what runs"), Flag.withDefault(false)),
    allowMovedTags: Flag.Boolean("allow-moved-tags").pipe(Flag.withDescription("deploy even if a tag now points to another digest than rollback.json recorded"), Flag.withDefault(false)),
    force: Flags.force,
    revertOnFailure: Flags.revertOnFailure,
    timeout: Flags.timeout,
    pollMs: Flags.pollMs,
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("only print the plan (same as `plan`)"), Flag.withDefault(false))
  },
  (flags) =>
    Effect.gen(function*() {
      const platform = yield* CliPlatform
      const fileSystem = yield* FileSystem.FileSystem
      const paint = makePaint(platform.stdoutIsTerminal && platform.env.NO_COLOR === undefined)
      const prepared = yield* preparePlan(flags)
      if (flags.dryRun) {
        const fleet = yield* planFleet(prepared.file, flags.point, prepared.options).pipe(Effect.provide(prepared.marathon.layer))
        yield* Console.log(flags.json ? JSON.stringify(planJson(fleet.plan), null, 2) : renderPlan(fleet.plan, paint))
        return
      }
      yield* checkReportPath(flags.report, "--report")
      const confirm = yield* confirmation(flags.yes, "Roll back")
      const registry = yield* registryLayer({ ...flags, platform: Option.none(), concurrency: Option.none(), cacheDir: Option.none(), cache: false, verifyTags: true }, prepared.config, prepared.file.registry)
      const notifier = yield* notifierLayer(prepared.config)
      const timeoutMs = deploymentTimeoutMs(flags.timeout, prepared.config)
      if (typeof timeoutMs === "string") return yield* badInput(timeoutMs)
      const result = yield* runRollback(prepared.file, flags.point, {
        ...prepared.options,
        allowPartial: flags.allowPartial,
        allowForward: flags.allowForward,
        allowMovedTags: flags.allowMovedTags,
        force: flags.force,
        revertOnFailure: flags.revertOnFailure,
        timeoutMs,
        pollMs: Option.getOrUndefined(flags.pollMs),
        user: resolveUser(flags.user, platform.env),
        environment: prepared.environment,
        marathonUrl: prepared.marathon.url,
        confirm,
        onPlan: (plan) => {
          if (!flags.quiet && !flags.json) console.log(renderPlan(plan, paint))
        },
        onProgress: progressPrinter(platform, flags.quiet),
        onInterrupted: (report) => writeFileAtomic(flags.report, JSON.stringify(report, null, 2) + "\n").pipe(Effect.provideService(FileSystem.FileSystem, fileSystem), Effect.ignore),
        onStep: (line) => {
          if (!flags.quiet) platform.writeStderr(`${platform.stderrIsTerminal ? "\r\u001b[K" : ""}${line}\n`)
        }
      }).pipe(Effect.provide(Layer.mergeAll(prepared.marathon.layer, registry.layer, notifier)))
      yield* finishRun(result, flags.report, flags.json, paint)
    })
).pipe(
  Command.withDescription("Roll the fleet back to a point: plan, check, confirm, one Marathon deployment, wait, verify, report, Slack"),
  Command.withExamples([
    { command: "fleet-rollback run --file rollback.json --point 2026-11-20 --marathon https://marathon.example.com", description: "asks before changing anything" },
    { command: "fleet-rollback run --point \"$POINT\" --yes --user \"$APPROVER\" --revert-on-failure", description: "from a pipeline: no question, revert if unhealthy" }
  ])
)
