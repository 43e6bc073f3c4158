/**
 * @module cli-node — the command line's runtime edge on Node (loaded by scripts/fleet-rollback.ts
 * once the Node version is known to be good): provides the platform (environment, terminals,
 * undici HTTP client with the user's TLS settings) and the output layer (help, errors and logs
 * on stderr) and runs the command tree. Exit codes: 0 done, 1 failed, 2 bad input or refused
 * (nothing changed).
 */
import * as os from "node:os"
import * as readline from "node:readline/promises"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Exit, Layer } from "effect"
import { Command } from "effect/cli"
import { cli, cliOutput, VERSION } from "../lib/cli/Cli.ts"
import { printableLines } from "../lib/core/Printable.ts"
import { CliPlatform } from "../lib/cli/CliPlatform.ts"
import { badInput } from "../lib/workflow/RollbackError.ts"

const platform = Layer.succeed(
  CliPlatform,
  CliPlatform.of({
    env: process.env,
    stdoutIsTerminal: process.stdout.isTTY === true,
    stdinIsTerminal: process.stdin.isTTY === true,
    stderrIsTerminal: process.stderr.isTTY === true,
    homeDir: os.homedir(),
    writeStderr: (text) => void process.stderr.write(text),
    readLine: async (prompt) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
      try {
        return await rl.question(prompt)
      } finally {
        rl.close()
      }
    },
    // undici and the HTTP stack load only for commands that talk to a server (not --help, choices).
    httpClient: (tls) =>
      Layer.unwrap(Effect.promise(() => import("../lib/node/NodeHttp.ts")).pipe(Effect.map(({ nodeHttpClientLayer }) => nodeHttpClientLayer(tls)))).pipe(
        Layer.catchTag("RegistryError", (e) => Layer.effectContext(Effect.fail(badInput(e.message))))
      )
  })
)

/**
 * `--json` promises one JSON object on stdout, also when the command fails. Whether the command
 * printed its own (a report, a plan) is known by watching stdout; when it did not, the failure
 * is printed as `{"ok": false, "exitCode", "kind", "error"}` (the same text is on stderr).
 */
const jsonWanted = process.argv.slice(2).some((arg) => arg === "--json" || arg === "--json=true")
let stdoutWritten = false
const writeStdout = process.stdout.write.bind(process.stdout)
process.stdout.write = ((...args: Parameters<typeof process.stdout.write>) => {
  stdoutWritten = true
  return writeStdout(...args)
}) as typeof process.stdout.write

/** Prints the failure as the one JSON object of `--json`, unless the command printed its own. */
const failureAsJson = (exitCode: number, kind: string, message: string): void => {
  if (!jsonWanted || stdoutWritten) return
  writeStdout(`${JSON.stringify({ ok: false, exitCode, kind, error: message })}\n`)
}

const CLI_ERRORS = new Set(["UnrecognizedOption", "DuplicateOption", "MissingOption", "MissingArgument", "UnexpectedArgument", "InvalidValue", "UnknownSubcommand", "ValidationError", "UserError"])

const program = Command.run(cli, { version: VERSION }).pipe(
  Effect.as(0),
  Effect.catch((error: unknown) =>
    Effect.sync(() => {
      if (typeof error === "object" && error !== null && "_tag" in error) {
        if (error._tag === "RollbackError" && "exitCode" in error && "message" in error) {
          // Messages quote registries and Marathon: their control characters are shown, not run.
          if (error.message !== "") process.stderr.write(`fleet-rollback: ${printableLines(String(error.message))}\n`)
          failureAsJson(error.exitCode as number, "kind" in error ? String(error.kind) : "Failed", String(error.message))
          return error.exitCode as number
        }
        // Help asked for: 0; help shown because of flag errors (already printed with the usage): 2.
        if (error._tag === "ShowHelp") {
          const flagErrors = "errors" in error && Array.isArray(error.errors) && error.errors.length > 0
          if (flagErrors) failureAsJson(2, "BadInput", "the command line is not valid: see standard error")
          return flagErrors ? 2 : 0
        }
        // Flag errors were already printed by effect/cli with the usage.
        if (CLI_ERRORS.has(String(error._tag))) {
          failureAsJson(2, "BadInput", "message" in error ? String(error.message) : "the command line is not valid: see standard error")
          return 2
        }
      }
      const message = error instanceof Error ? error.message : String(error)
      process.stderr.write(`fleet-rollback: unexpected error: ${printableLines(message)}\n`)
      failureAsJson(1, "Failed", message)
      return 1
    })
  ),
  // A defect is a bug of ours: say so plainly, with what to report, and exit 1.
  Effect.catchDefect((defect) =>
    Effect.sync(() => {
      process.stderr.write(`fleet-rollback: internal error (please report it): ${defect instanceof Error ? defect.stack ?? defect.message : String(defect)}\n`)
      failureAsJson(1, "Failed", `internal error (please report it): ${defect instanceof Error ? defect.message : String(defect)}`)
      return 1
    })
  ),
  Effect.provide(Layer.mergeAll(NodeServices.layer, platform, cliOutput))
)

NodeRuntime.runMain(program, {
  disableErrorReporting: false,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (exit.value as number) : 1)
})
