/**
 * @module test/core/Printable — text from registries and Marathon made safe for a terminal:
 * controls, escape sequences, line separators and bidirectional overrides are shown, not run;
 * and the command line's progress lines use it for what Marathon sends (app ids, steps).
 */
import { assert, describe, it } from "@effect/vitest"
import { printable, printableLines } from "../../lib/core/Printable.ts"
import { progressPrinter, stepPrinter } from "../../lib/cli/commands/Run.ts"
import type { CliPlatform } from "../../lib/cli/CliPlatform.ts"

describe("printable", () => {
  const table: ReadonlyArray<readonly [string, string, string]> = [
    ["plain text is unchanged", "shop/api:1-master", "shop/api:1-master"],
    ["a newline", "bad tag\n", "bad tag\\n"],
    ["an escape sequence that clears the screen", "\u001b[2Jx", "\\u001b[2Jx"],
    ["a title-setting OSC ended by BEL", "\u001b]0;owned\u0007", "\\u001b]0;owned\\u0007"],
    ["a C1 control (CSI)", "a\u009bb", "a\\u009bb"],
    ["a carriage return and a tab", "a\rb\tc", "a\\rb\\tc"],
    ["a right-to-left override (text shown reversed)", "evil\u202Egpj.exe", "evil\\u202egpj.exe"],
    ["a line separator", "a\u2028b", "a\\u2028b"]
  ]
  for (const [what, input, expected] of table) it(what, () => assert.strictEqual(printable(input), expected))

  it("printableLines keeps the line breaks between lines and escapes the rest", () => {
    assert.strictEqual(printableLines("first\nsecond \u001b[31mred"), "first\nsecond \\u001b[31mred")
  })
})

describe("the progress lines of run and undo", () => {
  const platform = (written: Array<string>) => ({ stderrIsTerminal: false, writeStderr: (text: string) => void written.push(text) }) as unknown as typeof CliPlatform.Service

  it("workload ids from the target (Marathon app ids) are escaped in the progress", () => {
    const written: Array<string> = []
    progressPrinter(platform(written), false)({ summary: "deployment 01234567 step 1/1", workloads: [{ id: "/shop/\u001b[2Japi", running: 1, healthy: 1, desired: 1 }] })
    assert.deepStrictEqual(written, ["deployment 01234567 step 1/1: /shop/\\u001b[2Japi 1/1\n"])
  })

  it("step lines are escaped too", () => {
    const written: Array<string> = []
    stepPrinter(platform(written), false)("Marathon said: \u001b]0;owned\u0007")
    assert.deepStrictEqual(written, ["Marathon said: \\u001b]0;owned\\u0007\n"])
  })
})
