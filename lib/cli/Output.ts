/**
 * @module Output — what the operator reads: aligned tables, colour only on a terminal (never with
 * a non-empty `NO_COLOR`), progress lines that redraw on a terminal and are plain lines in CI.
 */
import { withoutRanFor } from "../core/History.ts"
import type { PlanAction, PlanEntry, RollbackPlan } from "../core/Plan.ts"
import { planSummary } from "../core/Plan.ts"
import { printable } from "../core/Printable.ts"
import type { RollbackReport } from "../core/Report.ts"

/** Colour helpers that are no-ops when colour is off. */
export interface Paint {
  readonly bold: (s: string) => string
  readonly red: (s: string) => string
  readonly green: (s: string) => string
  readonly yellow: (s: string) => string
  readonly dim: (s: string) => string
}

/**
 * Whether to colour a stream: only a terminal, and not when `NO_COLOR` is set to a value — an
 * empty `NO_COLOR` does not count (https://no-color.org: "when present and not an empty string").
 */
export const colourWanted = (isTerminal: boolean, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTerminal && (env["NO_COLOR"] === undefined || env["NO_COLOR"] === "")

/** Colour helpers; `enabled` from {@link colourWanted}. */
export const makePaint = (enabled: boolean): Paint => {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s)
  return { bold: wrap(1, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22) }
}

/** Visible width of a string (ANSI colour codes do not count). */
const width = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length

/** Renders rows as an aligned table with a header row. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - width(c)))).join("  ").trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

const ACTION_COLOUR: Record<PlanAction, keyof Paint> = { rollback: "yellow", unchanged: "dim", forward: "red", unresolved: "red" }

/** Shortens `registry.example.com:5000/shop/api:1234-master` to `api:1234-master` for tables. */
const short = (image: string | undefined) => (image === undefined ? "-" : printable(image.slice(image.lastIndexOf("/") + 1)))

/** The plan's table alone (`--quiet`): one row per service. */
export const renderPlanTable = (plan: RollbackPlan, paint: Paint): string =>
  table(["SERVICE", "APP", "RUNNING", "TARGET", "BUILT AT (UTC)", "ACTION"], planRows(plan, paint))

const planRows = (plan: RollbackPlan, paint: Paint) =>
  plan.services.map((s: PlanEntry) => [
    printable(s.service),
    printable(s.app ?? "-"),
    short(s.current),
    short(s.target),
    s.builtAt !== undefined ? s.builtAt.slice(0, 16).replace("T", " ") : "-",
    paint[ACTION_COLOUR[s.action]](s.action)
  ])

/** The plan as a table plus a summary line and the notes. */
export const renderPlan = (plan: RollbackPlan, paint: Paint): string => {
  const counts = planSummary(plan)
  const notes = [
    ...plan.services.filter((s) => s.reason !== undefined).map((s) => `  ${printable(s.service)}: ${printable(s.reason!)}`),
    ...plan.services.filter((s) => s.where !== undefined).map((s) => `  ${printable(s.service)}: changes ${printable(s.where!)}`)
  ]
  return [
    paint.bold(`Plan for ${printable(plan.label ?? plan.point)}${plan.label !== undefined ? ` (${plan.point})` : ""}`),
    renderPlanTable(plan, paint),
    `${counts.rollback} to roll back, ${counts.unchanged} unchanged, ${counts.forward} forward, ${counts.unresolved} unresolved`,
    ...(notes.length > 0 ? ["Notes:", ...notes] : []),
    ...undoneLines(plan),
    ...(plan.knownGood !== undefined ? [`Known good: ${withoutRanFor(plan.knownGood.label)} (ran ${plan.knownGood.ranFor}; the newest earlier set that ran at least --known-good)`] : [])
  ].join("\n")
}

/** What the rollback takes away, per service: the revisions after the target, and the compare link. */
const undoneLines = (plan: RollbackPlan): ReadonlyArray<string> => {
  const lines = plan.services.flatMap((s) =>
    s.undoes === undefined ? [] : [`  ${s.service}: ${s.undoes.revisions.join(" ")}${s.undoes.compareUrl !== undefined ? `  ${s.undoes.compareUrl}` : ""}`]
  )
  return lines.length > 0 ? ["Takes away (revisions after the target, up to what runs):", ...lines] : []
}

/** The report as a table and its one-line verdict. */
export const renderReport = (report: RollbackReport, paint: Paint): string => {
  const colour = report.outcome === "succeeded" || report.outcome === "nothing-to-do" ? paint.green : paint.red
  const rows = report.services.map((s) => [printable(s.service), printable(s.app ?? "-"), short(s.before ?? undefined), short(s.after ?? undefined), s.outcome, printable(s.problem ?? "")])
  return [table(["SERVICE", "APP", "BEFORE", "AFTER", "OUTCOME", "PROBLEM"], rows), colour(`${report.outcome.toUpperCase()}: ${printable(report.message)}`)].join("\n")
}
