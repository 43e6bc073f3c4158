/**
 * @module DemoStory — what the three demos (Marathon, Docker Swarm, Kubernetes) share: the
 * temporary directory, the sandbox registry of the sample fleet, the config file, the in-process
 * commands, and the story's six steps (get, choices, plan, run, what runs now, undo) with their
 * printing. Each demo brings its own cluster, its titles and its "what runs now".
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { parseRollbackFile } from "../../core/RollbackFile.ts"
import type { SampleFleet } from "../../sandbox/SampleFleet.ts"
import { failed } from "../../workflow/RollbackError.ts"
import type { makePaint } from "../Output.ts"
import { choicesCommand } from "./Choices.ts"
import { getCommand } from "./Get.ts"
import { planCommand } from "./Plan.ts"
import { runCommand } from "./Run.ts"
import { undoCommand } from "./Undo.ts"

/** The commands a demo runs, in-process, exactly as an operator would type them. */
const tool = Command.make("fleet-rollback").pipe(Command.withSubcommands([getCommand, choicesCommand, planCommand, runCommand, undoCommand]))

/** Runs one command line (without `fleet-rollback`) in-process. */
export const runDemoCommand = Command.runWith(tool, { version: "demo" })

/** The demo's temporary directory, removed with the scope. */
export const demoDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-demo-"))),
  (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
)

/** The sandbox registry serving the sample fleet (`runnable`: images a Docker Engine can run), stopped with the scope. */
export const startDemoRegistry = (fleet: SampleFleet, runnable = false) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      // Loaded here: importing the sandbox's `node:http` costs every other command at start.
      try: () =>
        import("../../sandbox/Registry.ts").then(({ startSandboxRegistry }) => startSandboxRegistry({
          ...(runnable ? { runnable: true } : {}),
          images: fleet.images.map((i) => ({ repository: i.repository, tag: i.tag, created: i.created, annotationCreated: i.created, revision: i.revision }))
        })),
      catch: (e) => failed(`cannot start the sandbox registry: ${String(e)}`)
    }),
    (r) => Effect.promise(() => r.stop())
  )

/** Writes the demo's fleet-rollback.yaml in `dir` and returns its path. */
export const writeDemoConfig = (dir: string, options: {
  /** What the config is, after "fleet-rollback demo config: ". */
  readonly about: string
  readonly registryUrl: string
  /** Extra settings of the prod environment after `tagFilter: master`, e.g. `appIdPrefix: /shop/prod/`. */
  readonly prodExtra?: string
  readonly fleet: SampleFleet
  /** The line that says where the fleet runs (`target: …` or `marathon: …`). */
  readonly targetLine: string
}) => {
  const config = path.join(dir, "fleet-rollback.yaml")
  fs.writeFileSync(
    config,
    [
      `# fleet-rollback demo config: ${options.about}`,
      "environment: prod",
      `registry: { url: "${options.registryUrl}" }`,
      "environments:",
      `  prod: { tagFilter: master${options.prodExtra === undefined ? "" : `, ${options.prodExtra}`} }`,
      "  dev: { tagFilter: develop }",
      "services:",
      ...options.fleet.services.map((s) => `  ${s.name}: { repository: ${s.repository} }`),
      options.targetLine,
      ""
    ].join("\n")
  )
  return config
}

/** What differs between the demos' stories. */
export interface DemoStoryOptions<E, R> {
  readonly dir: string
  readonly config: string
  readonly fleet: SampleFleet
  readonly paint: ReturnType<typeof makePaint>
  /** Runs one command line as an operator types it. */
  readonly tool: (args: ReadonlyArray<string>) => Effect.Effect<void, E, R>
  readonly planTitle: string
  /** Extra flags of the plan step (e.g. `--server-dry-run`). */
  readonly planFlags?: ReadonlyArray<string>
  readonly runTitle: string
  /** Step 5: prints its heading and what runs now. */
  readonly whatRunsNow: Effect.Effect<void, E, R>
  readonly undoTitle: string
}

/**
 * The story's six steps, printed as the operator would type them ($DEMO for the directory):
 * get, choices, plan and run for the last point before the release, what runs now, undo.
 * Returns that point's label.
 */
export const demoStory = <E, R>(o: DemoStoryOptions<E, R>) =>
  Effect.gen(function*() {
    const rollbackFile = path.join(o.dir, "rollback.json")
    const report = path.join(o.dir, "rollback-report.json")
    const step = (n: number, title: string, command: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const shown = command.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ").replaceAll(o.dir, "$DEMO")
        yield* Console.log(`\n${o.paint.bold(`── ${n}. ${title}`)}\n${o.paint.dim(`$ fleet-rollback ${shown}`)}`)
        yield* o.tool(command)
      })
    yield* step(1, "Read every service's tags and build dates from the registry", ["get", "--config", o.config, "--out", rollbackFile, "--no-cache"])
    yield* step(2, "The points you can roll back to (a Jenkins dropdown)", ["choices", "--file", rollbackFile])
    const file = parseRollbackFile(fs.readFileSync(rollbackFile, "utf8"))
    if (file._tag === "Failure") return yield* failed(file.failure.message)
    const beforeRelease = file.success.points.find((p) => Date.parse(p.id) < o.fleet.releasedAt)
    if (beforeRelease === undefined) return yield* failed("the sample fleet has no point before the release")
    yield* Console.log(`\nThe last point before the release is "${beforeRelease.label}".`)
    yield* step(3, o.planTitle, ["plan", "--config", o.config, "--file", rollbackFile, "--point", beforeRelease.label, ...(o.planFlags ?? [])])
    yield* step(4, o.runTitle, [
      "run", "--config", o.config, "--file", rollbackFile, "--point", beforeRelease.label, "--yes", "--user", "demo", "--report", report, "--poll-ms", "250"
    ])
    yield* o.whatRunsNow
    yield* step(6, o.undoTitle, ["undo", "--config", o.config, "--report", report, "--out", path.join(o.dir, "undo-report.json"), "--yes", "--user", "demo", "--poll-ms", "250"])
    return beforeRelease.label
  })
