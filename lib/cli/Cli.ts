/**
 * @module Cli — the `fleet-rollback` command tree. The runtime edge (`scripts/fleet-rollback.ts`)
 * provides `CliPlatform` and the platform services and runs it.
 */
import { Command } from "effect/cli"
import { choicesCommand } from "./commands/Choices.ts"
import { demoCommand } from "./commands/Demo.ts"
import { getCommand } from "./commands/Get.ts"
import { planCommand } from "./commands/Plan.ts"
import { runCommand } from "./commands/Run.ts"
import { undoCommand } from "./commands/Undo.ts"

/** `fleet-rollback` with its subcommands. */
export const cli = Command.make("fleet-rollback").pipe(
  Command.withDescription("Roll a whole fleet of container services back to one consistent point in time"),
  Command.withSubcommands([getCommand, choicesCommand, planCommand, runCommand, undoCommand, demoCommand])
)

/** The tool's version (package.json). */
export const VERSION = "0.1.0"
