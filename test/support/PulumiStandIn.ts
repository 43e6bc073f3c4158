/**
 * @module PulumiStandIn — a STAND-IN for the `pulumi` command (NOT the real Pulumi CLI, which is
 * not installable here), put first on the PATH by tests: it records every call's arguments in
 * `calls.jsonl` next to itself, keeps config in `Pulumi.<stack>.yaml` as a DIY backend would
 * (`config set`, `config --json`), and prints a preview / an update (`up` fails with exit 255
 * when `PULUMI_STANDIN_FAIL_UP` is set).
 */

/** A stand-in `pulumi` (NOT the real CLI): records every call's arguments, keeps config in the stack file like a DIY backend. */
export const STANDIN = `#!/usr/bin/env node
const fs = require("node:fs"), path = require("node:path")
const args = process.argv.slice(2)
fs.appendFileSync(path.join(__dirname, "calls.jsonl"), JSON.stringify({ cwd: process.cwd(), args }) + "\\n")
const stack = args[args.indexOf("--stack") + 1]
const file = path.join(process.cwd(), "Pulumi." + stack + ".yaml")
if (args[0] === "config" && args[1] === "set") {
  const text = fs.readFileSync(file, "utf8")
  fs.writeFileSync(file, text.replace(new RegExp("^(  " + args[2] + ": )\\\\S+", "m"), "$1" + args[3]))
  if (process.env.PULUMI_STANDIN_FAIL_SET === args[3]) { process.stderr.write("error: the backend did not answer\\n"); process.exit(255) }
} else if (args[0] === "config" && args[1] === "--json") {
  const out = {}
  for (const m of fs.readFileSync(file, "utf8").matchAll(/^  ([\\w-]+:[\\w-]+): (\\S+)/gm)) out[m[1]] = { value: m[2], secret: false }
  process.stdout.write(JSON.stringify(out))
} else if (args[0] === "preview") {
  process.stdout.write("Previewing update (" + stack + "):\\n ~ docker:index/service:Service core update [diff: ~taskSpec]\\nResources:\\n    ~ 3 to update\\n")
} else if (args[0] === "up") {
  process.stdout.write("Updating (" + stack + "):\\n ~ docker:index/service:Service core updated\\nResources:\\n    ~ 3 updated\\n")
  if (process.env.PULUMI_STANDIN_FAIL_UP) { process.stderr.write("error: update failed\\n"); process.exit(255) }
}
`

