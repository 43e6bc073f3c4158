#!/usr/bin/env node
// The `fleet-rollback` bin: runs the TypeScript entry point through tsx, so the installed
// package needs no build step (Node refuses to strip types under node_modules).
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `fleet-rollback needs Node.js 22.19 or newer; this is ${process.version}.\n` +
      "Install a newer Node, or inside this project run it through npm (npx fleet-rollback …), which puts the project's Node 24 first on the PATH.\n"
  )
  process.exit(2)
}
const { register } = await import("tsx/esm/api")
register()
await import("./fleet-rollback.ts")
