/**
 * @module Cli — the `fleet-rollback` command tree and how it presents itself: its version (from
 * package.json), examples, and where help, errors and logs go. The runtime edge
 * (`scripts/cli-node.ts`) provides `CliPlatform`, the platform services and {@link cliOutput},
 * and runs it.
 */
import { Console, Effect, Layer, Logger } from "effect"
import { CliOutput, Command } from "effect/cli"
import packageJson from "../../package.json" with { type: "json" }
import { choicesCommand } from "./commands/Choices.ts"
import { demoCommand } from "./commands/Demo.ts"
import { getCommand } from "./commands/Get.ts"
import { planCommand } from "./commands/Plan.ts"
import { runCommand } from "./commands/Run.ts"
import { undoCommand } from "./commands/Undo.ts"

/** `fleet-rollback` with its subcommands. */
export const cli = Command.make("fleet-rollback").pipe(
  Command.withDescription("Roll a whole fleet of container services back to one consistent point in time"),
  Command.withSubcommands([getCommand, choicesCommand, planCommand, runCommand, undoCommand, demoCommand]),
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
 * `--json` output would take them for the answer).
 */
export const cliPresenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const formatter = yield* CliOutput.Formatter
        const command = event.commandPath.join(" ")
        yield* Console.error(
          [formatter.formatErrors(event.errors).replace(/^\n/, ""), "", `Usage: ${event.helpDoc.usage}`, `Run \`${command} --help\` for its flags and examples.`].join("\n")
        )
      })
      : CliOutput.defaultPresenter.present(event)
}

/** Where the command line writes: {@link cliPresenter}, and every log line to stderr (never stdout). */
export const cliOutput: Layer.Layer<never> = Layer.mergeAll(CliOutput.layerPresenter(cliPresenter), Layer.succeed(Logger.LogToStderr, true))
