/**
 * @module Plan — `fleet-rollback plan`: what `run` would do, changing nothing.
 */
import { Console, Effect, Option } from "effect"
import { printable } from "../../core/Printable.ts"
import { Command } from "effect/cli"
import { refusalLine, type RollbackPlan, type RunRefusal, runRefusals } from "../../core/Plan.ts"
import type { AppliedChange } from "../../target/Target.ts"
import { planFleet } from "../../workflow/PlanFleet.ts"
import { CliPlatform } from "../CliPlatform.ts"
import * as Flags from "../Flags.ts"
import { colourWanted, makePaint, renderPlan, renderPlanTable } from "../Output.ts"
import type { TargetFlagValues } from "../Flags.ts"
import { loadConfig, loadRollbackFile, parseDuration, resolveScope } from "../Settings.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { buildTarget } from "../targets/index.ts"

/** Flags of plan (run has these too). */
export const planFlags = {
  file: Flags.file,
  point: Flags.point,
  config: Flags.config,
  env: Flags.env,
  tz: Flags.tz,
  ...Flags.targetFlags,
  appPrefix: Flags.appPrefix,
  label: Flags.label,
  pinDigest: Flags.pinDigest,
  serverDryRun: Flags.serverDryRun,
  knownGood: Flags.knownGood,
  badTag: Flags.badTag,
  allowPartial: Flags.allowPartial,
  allowForward: Flags.allowForward,
  json: Flags.json,
  quiet: Flags.quiet
}

/** How to print a plan: where, and how much. */
export interface PlanPrintOptions {
  /** On standard error (when standard output carries JSON). */
  readonly toStderr: boolean
  /** `--verbose`: also every full image reference and digest. */
  readonly verbose: boolean
  /** `--quiet`: the table only (no title, summary or notes). */
  readonly quiet: boolean
  /** Why `run` with the same switches would refuse this plan (said after it, unless quiet). */
  readonly refusals?: ReadonlyArray<RunRefusal> | undefined
}

/** `--verbose`: the full references the table shortens, with the digest to deploy. */
export const renderPlanDetails = (plan: RollbackPlan): string =>
  [
    "Images:",
    ...plan.services.map((s) =>
      printable(`  ${s.service} (${s.app ?? "no app"}): running ${s.current ?? "-"}; target ${s.target ?? "-"}${s.targetDigest !== undefined ? ` (${s.targetDigest})` : ""}`)
    )
  ].join("\n")

/** Prints a plan for the operator, colour only when the stream it goes to is a terminal. */
export const printPlan = (plan: RollbackPlan, options: PlanPrintOptions) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const terminal = options.toStderr ? platform.stderrIsTerminal : platform.stdoutIsTerminal
    const paint = makePaint(colourWanted(terminal, platform.env))
    const refusals = options.refusals ?? []
    const text = options.quiet
      ? renderPlanTable(plan, paint)
      : renderPlan(plan, paint) + (options.verbose ? `\n${renderPlanDetails(plan)}` : "") +
        (refusals.length > 0 ? `\n\n${paint.bold("run would REFUSE this plan")} (with the same switches): ${refusals.map((r) => printable(refusalLine(r))).join("; ")}` : "")
    yield* options.toStderr ? Console.error(text) : Console.log(text)
  })

/** Everything plan and run read before talking to the deployment target. */
export const preparePlan = (flags: TargetFlagValues & {
  readonly file: string
  readonly config: Option.Option<string>
  readonly env: Option.Option<string>
  readonly tz: Option.Option<string>
  readonly appPrefix: Option.Option<string>
  readonly label: Option.Option<string>
  readonly pinDigest: boolean
  readonly serverDryRun?: boolean | undefined
  readonly badTag: Option.Option<string>
  readonly knownGood: Option.Option<string>
}) =>
  Effect.gen(function*() {
    const config = yield* loadConfig(flags.config)
    const read = yield* loadRollbackFile(flags.file)
    // The config's services.<name>.app wins over what `get` recorded: naming the app is the fix
    // the error messages give for an unmatched or ambiguous app, and must work without a new `get`.
    const file = {
      ...read,
      services: read.services.map((s) => {
        const app = config.services?.[s.name]?.app
        return app !== undefined ? { ...s, app } : s
      })
    }
    const environment = Option.getOrUndefined(flags.env) ?? file.environment ?? config.environment ?? null
    const target = yield* buildTarget(flags, config)
    const knownGoodMs = Option.isSome(flags.knownGood) ? parseDuration(flags.knownGood.value) : undefined
    if (typeof knownGoodMs === "string") return yield* badInput(`--known-good ${JSON.stringify(flags.knownGood.pipe(Option.getOrElse(() => "")))}: ${knownGoodMs}`)
    const sources = Object.fromEntries(Object.entries(config.services ?? {}).flatMap(([name, s]) => (s.source !== undefined ? [[name, s.source]] : [])))
    const options = {
      timeZone: Option.getOrUndefined(flags.tz),
      scope: resolveScope(config, environment, flags),
      pinDigest: flags.pinDigest,
      serverDryRun: flags.serverDryRun === true || target.previewFirst === true,
      sources,
      knownGoodMs,
      badTags: [...(config.badTags ?? []), ...Option.match(flags.badTag, { onNone: () => [], onSome: (s) => s.split(",").map((t) => t.trim()) })]
    }
    return { config, file, environment, target, options }
  })

/**
 * The documented `plan --json` object (DESIGN.md), plus the label and notes, and `wouldRefuse`:
 * why `run` with the same `--allow-*` switches would refuse it (empty when it would go on).
 */
export const planJson = (plan: RollbackPlan, refusals: ReadonlyArray<RunRefusal>) => ({
  point: plan.point,
  ...(plan.label !== undefined ? { label: plan.label } : {}),
  services: plan.services.map((s) => ({
    service: s.service,
    app: s.app ?? null,
    current: s.current ?? null,
    target: s.target ?? null,
    action: s.action,
    ...(s.builtAt !== undefined ? { builtAt: s.builtAt } : {}),
    ...(s.targetDigest !== undefined ? { digest: s.targetDigest } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.undoes !== undefined ? { undoes: s.undoes } : {}),
    ...(s.where !== undefined ? { where: s.where } : {})
  })),
  ...(plan.knownGood !== undefined ? { knownGood: plan.knownGood } : {}),
  wouldRefuse: refusals.map((r) => ({ rule: r.rule, services: r.services, message: r.message }))
})

/** What the target said in its server-side dry run, for `plan --json`. */
const serverDryRunJson = (dryRun: AppliedChange) => ({
  ...(dryRun.note === undefined ? {} : { note: dryRun.note }),
  workloads: dryRun.workloads.map((w) => ({ workload: w.workload, accepted: w.state === "applied", ...(w.problem === undefined ? {} : { said: w.problem }) }))
})

/** What the target said in its server-side dry run, one line per workload, after the plan. */
const renderServerDryRun = (dryRun: AppliedChange): string =>
  [
    "",
    `Server dry run${dryRun.note === undefined ? "" : ` (${dryRun.note})`}:`,
    ...dryRun.workloads.map((w) => `  ${w.workload}: ${w.state === "applied" ? "accepted" : "REFUSED"}${w.problem === undefined ? "" : ` - ${w.problem}`}`)
  ].join("\n")

/** `plan`. */
export const planCommand = Command.make("plan", { ...planFlags, verbose: Flags.verbose }, (flags) =>
  Effect.gen(function*() {
    const prepared = yield* preparePlan(flags)
    const fleet = yield* planFleet(prepared.file, flags.point, prepared.options).pipe(Effect.provide(prepared.target.layer))
    const dryRun = fleet.serverDryRun
    const refusals = runRefusals(fleet.plan, flags)
    if (flags.json) {
      yield* Console.log(JSON.stringify({ ...planJson(fleet.plan, refusals), ...(dryRun === undefined ? {} : { serverDryRun: serverDryRunJson(dryRun) }) }, null, 2))
    } else {
      yield* printPlan(fleet.plan, { toStderr: false, verbose: flags.verbose, quiet: flags.quiet, refusals })
      if (dryRun !== undefined) yield* Console.log(renderServerDryRun(dryRun))
    }
  })).pipe(
    Command.withDescription("Show what `run` would do for a point: per service the running and target image and the action. Changes nothing."),
    Command.withExamples([
      { command: "fleet-rollback plan --file rollback.json --point 2026-11-20 --marathon https://marathon.example.com", description: "the fleet as of the end of 20 Nov (UTC)" },
      { command: "fleet-rollback plan --point \"$(fleet-rollback choices | sed -n 2p)\" --json", description: "the second-newest point, as JSON" }
    ])
  )

