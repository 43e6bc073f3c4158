/**
 * @module Cli — the `fleet-rollback` command tree and how it presents itself: its version (from
 * package.json), examples, and where help, errors and logs go. The runtime edge
 * (`scripts/cli-node.ts`) provides `CliPlatform`, the platform services and {@link cliOutput},
 * and runs it.
 */
import { Console, Effect, Layer, Logger } from "effect"
import { CliConfig, CliError, CliOutput, Command, Flag, GlobalFlag } from "effect/cli"
import packageJson from "../../package.json" with { type: "json" }
import { choicesCommand } from "./commands/Choices.ts"
import { demoCommand } from "./commands/Demo.ts"
import { getCommand } from "./commands/Get.ts"
import { planCommand } from "./commands/Plan.ts"
import { runCommand } from "./commands/Run.ts"
import { reTrackCommand } from "./commands/ReTrack.ts"
import { undoCommand } from "./commands/Undo.ts"

/**
 * `--wizard` (effect/cli's interactive mode, which builds a command line by asking and then runs
 * it) only on the commands that change no fleet: `run` and `undo` are not built by a
 * questionnaire, and there `--wizard` is an unknown flag (exit 2).
 */
const withWizard = Command.withGlobalFlags([GlobalFlag.Wizard])

/** `fleet-rollback` with its subcommands. */
export const cli = Command.make("fleet-rollback").pipe(
  Command.withDescription("Roll a whole fleet of container services back to one consistent point in time"),
  Command.withSubcommands([withWizard(getCommand), withWizard(choicesCommand), withWizard(planCommand), runCommand, undoCommand, withWizard(demoCommand), reTrackCommand]),
  Command.withExamples([
    { command: "fleet-rollback demo", description: "the whole flow against a built-in sandbox, no cluster needed" },
    { command: "fleet-rollback get --registry https://registry.example.com --repo shop/api,shop/web --env master", description: "read the registry, write ./rollback.json" },
    { command: "fleet-rollback choices", description: "the points of ./rollback.json, newest first" },
    { command: "fleet-rollback plan --marathon https://marathon.example.com --point 2026-11-18", description: "what run would do; changes nothing" },
    { command: "fleet-rollback run --marathon https://marathon.example.com --point 2026-11-18", description: "roll back, write ./rollback-report.json" },
    { command: "fleet-rollback undo", description: "put back what ran before, from ./rollback-report.json" }
  ])
)

/** The tool's version: package.json's, the one source (deno.json names the same, a test checks it). */
export const VERSION: string = packageJson.version

/**
 * Help and `--version` go to stdout; a mistyped command line gets its errors, the usage line
 * and where to find the rest on stderr, not 30 lines of usage on stdout (where a script reading
 * `--json` output would take them for the answer). `-v` is no flag (see {@link versionFlag}): its
 * error names what was probably meant.
 */
export const cliPresenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const formatter = yield* CliOutput.Formatter
        const command = event.commandPath.join(" ")
        const errors = event.errors.map((e) =>
          e._tag === "UnrecognizedOption" && e.option === "-v"
            ? new CliError.UnrecognizedOption({
              option: "-v",
              ...(e.command !== undefined ? { command: e.command } : {}),
              suggestions: ["--verbose  (more detail; -v is not short for it)", "--version  (the version, alone: fleet-rollback --version)"]
            })
            : e
        )
        yield* Console.error(
          [formatter.formatErrors(errors).replace(/^\n/, ""), "", `Usage: ${event.helpDoc.usage}`, `Run \`${command} --help\` for its flags and examples.`].join("\n")
        )
      })
      : CliOutput.defaultPresenter.present(event)
}

/**
 * `--version` without effect/cli's `-v` alias. effect/cli's built-in `--version / -v` is a global
 * action: anywhere on the line it prints the version and exits 0 without running the command, so
 * `run --point P --yes -v` (meant: verbose) would do no rollback and still turn a Jenkins build
 * green. Without the alias, `-v` is an unknown flag: exit 2, and the error names --verbose.
 */
export const versionFlag: GlobalFlag.Action<boolean> = GlobalFlag.Action({
  flag: Flag.Boolean("version").pipe(Flag.withDescription("Show version information"), Flag.withDefault(false)),
  run: GlobalFlag.Version.run
})

/**
 * effect/cli's built-in global flags, with {@link versionFlag} in place of its `--version / -v`,
 * and without `--wizard`, which only the commands that change no fleet declare ({@link cli}).
 */
export const cliConfig: Layer.Layer<never> = CliConfig.layer({
  builtIns: GlobalFlag.BuiltIns.filter((flag) => flag !== GlobalFlag.Wizard).map((flag) => (flag === GlobalFlag.Version ? versionFlag : flag))
})

/**
 * Where the command line writes and which global flags it knows: {@link cliPresenter},
 * {@link cliConfig}, and every log line to stderr (never stdout).
 */
export const cliOutput: Layer.Layer<never> = Layer.mergeAll(CliOutput.layerPresenter(cliPresenter), cliConfig, Layer.succeed(Logger.LogToStderr, true))
