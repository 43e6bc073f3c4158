/**
 * @module Demo — placeholder replaced below.
 */
import { Console } from "effect"
import { Command } from "effect/cli"

/** `demo`. */
export const demoCommand = Command.make("demo", {}, () => Console.log("demo"))
