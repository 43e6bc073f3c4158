/**
 * @module Run — `fleet-rollback run`: print the plan, check, confirm, deploy the set as one
 * Marathon deployment, wait, verify, write the report (when the fleet changed or may have), tell
 * Slack.
 */
import { Console, Effect, FileSystem, Layer, Option } from "effect"
import { printable, printableLines } from "../../core/Printable.ts"
import { Command, Flag } from "effect/cli"
import { type RollbackPlan, runRefusals } from "../../core/Plan.ts"
import type { RollbackReport } from "../../core/Report.ts"
import { fleetMayHaveChanged } from "../../core/Report.ts"
import type { ChangeProgress } from "../../target/Target.ts"
import { planFleet } from "../../workflow/PlanFleet.ts"
import { badInput, RollbackError } from "../../workflow/RollbackError.ts"
import type { RunResult } from "../../workflow/RunRollback.ts"
import { runRollback } from "../../workflow/RunRollback.ts"
import { CliPlatform } from "../CliPlatform.ts"
import * as Flags from "../Flags.ts"
import type { Paint } from "../Output.ts"
import { colourWanted, makePaint, renderReport } from "../Output.ts"
import { checkReportPath, deploymentTimeoutMs, notifierLayer, registryLayer, writeFileAtomic } from "../Settings.ts"
import { planFlags, planJson, preparePlan, printPlan } from "./Plan.ts"

/** Who runs it: `--user`, else `BUILD_USER_ID` (Jenkins), else `USER`. */
export const resolveUser = (flag: Option.Option<string>, env: Readonly<Record<string, string | undefined>>): string =>
  Option.getOrUndefined(flag) ?? nonEmpty(env.BUILD_USER_ID) ?? nonEmpty(env.USER) ?? nonEmpty(env.USERNAME) ?? "unknown"

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value)

/**
 * The confirmation of a plan that would change something: none with `--yes`; on a terminal the
 * question; without one a refusal (exit 2, nothing changed) — asked only after the plan was shown.
 */
export const confirmation = (yes: boolean, what: string) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    if (yes) return undefined
    return (plan: RollbackPlan): Effect.Effect<boolean, RollbackError> => {
      const count = plan.services.filter((s) => s.action === "rollback" || s.action === "forward").length
      if (!platform.stdinIsTerminal) {
        return Effect.fail(badInput(`not on a terminal, so nobody can confirm the plan above: add --yes to ${what.toLowerCase()} ${count} app(s) without asking (nothing was changed)`))
      }
      return Effect.promise(() => platform.readLine(`${what} ${count} app(s)? Type yes to go on: `)).pipe(
        Effect.map((answer) => answer.trim().toLowerCase() === "yes" || answer.trim().toLowerCase() === "y")
      )
    }
  })

/** What the operator asked to see: `--json` (stdout is for programs), `--quiet`, `--verbose`, `--yes`. */
export interface OutputMode {
  readonly json: boolean
  readonly quiet: boolean
  readonly verbose: boolean
  readonly yes: boolean
}

/**
 * Shows the plan before anything changes: on standard output, or on standard error when standard
 * output carries the JSON result. Only `--quiet` together with `--yes` (nobody is asked) leaves it out.
 */
export const planPrinter = (mode: OutputMode) =>
  Effect.map(CliPlatform, (platform) => (plan: RollbackPlan) =>
    mode.quiet && mode.yes
      ? Effect.void
      : printPlan(plan, { toStderr: mode.json, verbose: mode.verbose, quiet: false }).pipe(Effect.provideService(CliPlatform, platform)))

/** Progress of a change: redrawn on a terminal, a line per change in CI; nothing with `--quiet`. */
export const progressPrinter = (platform: typeof CliPlatform.Service, quiet: boolean) => {
  let last = ""
  return (p: ChangeProgress) => {
    if (quiet) return
    const workloads = p.workloads.map((w) => `${w.id} ${w.running}/${w.desired}`).join(", ")
    // Workload ids and the summary come from the target (Marathon…): escaped, never run by the terminal.
    const text = printable(`${p.summary}: ${workloads}`)
    if (text === last) return
    last = text
    platform.writeStderr(platform.stderrIsTerminal ? `\r${text}\u001b[K` : `${text}\n`)
  }
}

/** The lines of a run as it goes (standard error); nothing with `--quiet`. */
export const stepPrinter = (platform: typeof CliPlatform.Service, quiet: boolean) => (line: string) => {
  if (!quiet) platform.writeStderr(`${platform.stderrIsTerminal ? "\r\u001b[K" : ""}${printableLines(line)}\n`)
}

/** `--verbose`: what every changed app runs now, as Marathon said at the end. */
const renderFinalState = (report: RollbackReport): string =>
  ["Marathon now:", ...report.finalState.map((a) => printable(`  ${a.app}  ${a.image ?? "(unknown)"}  ${a.tasksRunning}/${a.instances} running, ${a.tasksHealthy} healthy`))].join("\n")

/**
 * Writes the report when the fleet changed or may have (a run that changed nothing leaves an
 * existing report — the one `undo` needs — as it was), prints the result, and turns the outcome
 * into the exit code.
 */
export const finishRun = (result: RunResult, reportPath: string, mode: OutputMode, paint: Paint) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    if (platform.stderrIsTerminal && !mode.quiet) platform.writeStderr("\r\u001b[K")
    const keep = fleetMayHaveChanged(result.report)
    // The workflow does not know where its report goes: its advice names the real path.
    const report = withReportPath(result.report, keep ? reportPath : "")
    const text = JSON.stringify(report, null, 2) + "\n"
    // The fleet has changed already: a report that cannot be written is printed instead.
    const written = keep
      ? yield* writeFileAtomic(reportPath, text).pipe(Effect.as(true), Effect.catch((e) =>
        Effect.gen(function*() {
          yield* Console.error(`fleet-rollback: ${e.message}; the report follows on standard output instead`)
          return false
        })
      ))
      : false
    if (keep && !written && !mode.json) yield* Console.log(text)
    if (mode.json) {
      yield* Console.log(JSON.stringify(report, null, 2))
    } else {
      const where = written
        ? reportPath
        : keep
        ? "not written (printed above)"
        : `not written: nothing was changed${reportPath !== "" ? ` (an existing ${reportPath} is left as it was)` : ""}`
      yield* Console.log(`${renderReport(report, paint)}\nReport: ${where}`)
      if (mode.verbose && report.finalState.length > 0) yield* Console.log(renderFinalState(report))
    }
    // The report says everything; the empty message only carries the exit code (1 failed, 2 refused).
    if (!isSuccess(report)) return yield* new RollbackError({ kind: report.outcome === "refused" ? "Refused" : "Failed", message: "" })
  })

/**
 * The report with `<this report>` in its messages replaced by the path it is written to (or by
 * "the report printed above" when it is not written), so "undo --report <this report>" becomes a
 * command the operator can paste.
 */
export const withReportPath = (report: RollbackReport, path: string): RollbackReport => {
  const name = path === "" ? "<the report printed above>" : path
  const fill = (text: string) => text.split("<this report>").join(name)
  return {
    ...report,
    message: fill(report.message),
    services: report.services.map((s) => (s.problem === undefined ? s : { ...s, problem: fill(s.problem) }))
  }
}

const isSuccess = (report: RollbackReport) => report.outcome === "succeeded" || report.outcome === "nothing-to-do"

/** `run`. */
export const runCommand = Command.make(
  "run",
  {
    ...planFlags,
    verbose: Flags.verbose,
    registry: Flag.String("registry").pipe(Flag.withDescription("registry to re-check tags against (default: the one in rollback.json)"), Flag.optional),
    yes: Flags.yes,
    user: Flags.user,
    report: Flag.String("report").pipe(Flags.describedWithDefault("where to write the report (written when the fleet changed or may have)", "rollback-report.json")),
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
      const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
      const prepared = yield* preparePlan(flags)
      if (flags.dryRun) {
        const fleet = yield* planFleet(prepared.file, flags.point, prepared.options).pipe(Effect.provide(prepared.target.layer))
        const refusals = runRefusals(fleet.plan, flags)
        if (flags.json) yield* Console.log(JSON.stringify(planJson(fleet.plan, refusals), null, 2))
        else yield* printPlan(fleet.plan, { toStderr: false, verbose: flags.verbose, quiet: flags.quiet, refusals })
        return
      }
      yield* checkReportPath(flags.report, "--report")
      const mode: OutputMode = { json: flags.json, quiet: flags.quiet, verbose: flags.verbose, yes: flags.yes }
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
        marathonUrl: prepared.target.description.url,
        target: prepared.target.description,
        confirm,
        onPlan: yield* planPrinter(mode),
        onProgress: progressPrinter(platform, flags.quiet),
        onInterrupted: (report) => writeFileAtomic(flags.report, JSON.stringify(withReportPath(report, flags.report), null, 2) + "\n").pipe(Effect.provideService(FileSystem.FileSystem, fileSystem), Effect.ignore),
        onStep: stepPrinter(platform, flags.quiet)
      }).pipe(Effect.provide(Layer.mergeAll(prepared.target.layer, registry.layer, notifier)))
      yield* finishRun(result, flags.report, mode, paint)
    })
).pipe(
  Command.withDescription("Roll the fleet back to a point: plan, check, confirm, one Marathon deployment, wait, verify, report, Slack"),
  Command.withExamples([
    { command: "fleet-rollback run --file rollback.json --point 2026-11-20 --marathon https://marathon.example.com", description: "shows the plan and asks before changing anything" },
    { command: "fleet-rollback run --point \"$POINT\" --yes --user \"$APPROVER\" --revert-on-failure", description: "from a pipeline: no question, revert if unhealthy" }
  ])
)
