/**
 * @module Choices — `fleet-rollback choices`: one line per point, newest first; exactly the
 * labels `run --point` accepts (for a Jenkins `choice` input).
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import * as Flags from "../Flags.ts"
import { loadRollbackFile } from "../Settings.ts"

/** `choices`. */
export const choicesCommand = Command.make("choices", { file: Flags.file, json: Flags.json }, (flags) =>
  Effect.gen(function*() {
    const file = yield* loadRollbackFile(flags.file)
    if (flags.json) {
      yield* Console.log(JSON.stringify(file.points.map((p) => ({ id: p.id, label: p.label }))))
      return
    }
    if (file.points.length > 0) yield* Console.log(file.points.map((p) => p.label).join("\n"))
  })).pipe(
    Command.withDescription("Print the points of rollback.json, newest first: the labels `run --point` accepts"),
    Command.withExamples([{ command: "fleet-rollback choices --file rollback.json", description: "a Jenkins choice list" }])
  )
