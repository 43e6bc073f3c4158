/**
 * @module CliPlatform — what the command line needs from the runtime it runs on: environment
 * variables, terminals, the home directory, and an HTTP client with the user's TLS settings.
 * `scripts/fleet-rollback.ts` provides it (Node: undici); tests and Deno provide their own.
 */
import { Context } from "effect"
import type { Layer } from "effect"
import type { HttpClient } from "effect/http"
import type { RegistryWire } from "../registry/Wire.ts"
import type { RollbackError } from "../workflow/RollbackError.ts"

/** TLS settings for one remote system. */
export interface TlsOptions {
  /** Extra CA certificates (PEM file), added to the system's. */
  readonly caFile?: string | undefined
  /** Skip certificate checks; only when the user opts in explicitly (warns loudly). */
  readonly insecureSkipVerify?: boolean | undefined
}

/** The runtime edge of the command line. */
export class CliPlatform extends Context.Service<CliPlatform, {
  /** Environment variables (secrets are read from here or from `*_FILE` files). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Is standard output a terminal (tables with colour)? */
  readonly stdoutIsTerminal: boolean
  /** Is standard input a terminal (may we ask for confirmation)? */
  readonly stdinIsTerminal: boolean
  /** Is standard error a terminal (progress lines that redraw)? */
  readonly stderrIsTerminal: boolean
  /** The user's home directory (for `~/.docker/config.json` and the cache). */
  readonly homeDir: string
  /** Writes to standard error without a newline (progress). */
  readonly writeStderr: (text: string) => void
  /** Reads one line from the terminal (confirmation). */
  readonly readLine: (prompt: string) => Promise<string>
  /** The HTTP client and the registry wire with these TLS settings (one connection pool). */
  readonly httpClient: (tls: TlsOptions) => Layer.Layer<HttpClient.HttpClient | RegistryWire, RollbackError>
}>()("fleet-rollback/cli/CliPlatform") {}
