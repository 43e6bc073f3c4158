#!/usr/bin/env node
// The `fleet-rollback` bin: runs the TypeScript entry point through tsx, so the installed
// package needs no build step (Node >= 22.19; Node refuses to strip types under node_modules).
import { register } from "tsx/esm/api"

register()
await import("./fleet-rollback.ts")
