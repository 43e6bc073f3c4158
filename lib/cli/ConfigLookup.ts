/**
 * @module ConfigLookup — which config file the command line reads, first that applies:
 * 1. `--config FILE` (it must exist);
 * 2. `$FLEET_ROLLBACK_CONFIG` when set and not empty (it must exist);
 * 3. `./fleet-rollback.yaml` in the working directory;
 * 4. `$XDG_CONFIG_HOME/fleet-rollback/config.yaml` (default `~/.config/fleet-rollback/config.yaml`);
 * 5. `/etc/fleet-rollback/config.yaml`.
 * None: no config file (flags and environment only). Pure apart from the `exists` check it is given.
 */
import { Effect } from "effect"

/** The system-wide config directory. */
const SYSTEM_CONFIG_DIR = "/etc/fleet-rollback"

/** The file name looked for in the user's and the system's config directory. */
const CONFIG_FILE_NAME = "config.yaml"

/** A config file found, and why it is the one (for the line that says so). */
export interface ConfigFileChoice {
  readonly path: string
  /** `--config`, `FLEET_ROLLBACK_CONFIG`, `working directory`, `XDG_CONFIG_HOME` / `~/.config`, `system`. */
  readonly source: string
  /** Named explicitly (flag or variable): it must be there. */
  readonly explicit: boolean
}

/** Where to look: the environment, the home directory and the system directory (a test's own). */
export interface ConfigLookupContext {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly homeDir: string
  readonly systemDir?: string | undefined
}

/** The candidates in order; explicit ones first, and only those that are set. */
export const configFileCandidates = (flag: string | undefined, context: ConfigLookupContext): ReadonlyArray<ConfigFileChoice> => {
  const set = (name: string): string | undefined => (context.env[name] !== undefined && context.env[name] !== "" ? context.env[name] : undefined)
  const xdg = set("XDG_CONFIG_HOME")
  return [
    ...(flag !== undefined ? [{ path: flag, source: "--config", explicit: true }] : []),
    ...(set("FLEET_ROLLBACK_CONFIG") !== undefined ? [{ path: set("FLEET_ROLLBACK_CONFIG")!, source: "FLEET_ROLLBACK_CONFIG", explicit: true }] : []),
    { path: "fleet-rollback.yaml", source: "working directory", explicit: false },
    {
      path: `${xdg ?? `${context.homeDir.replace(/\/+$/, "")}/.config`}/fleet-rollback/${CONFIG_FILE_NAME}`,
      source: xdg !== undefined ? "XDG_CONFIG_HOME" : "~/.config",
      explicit: false
    },
    { path: `${context.systemDir ?? SYSTEM_CONFIG_DIR}/${CONFIG_FILE_NAME}`, source: "system", explicit: false }
  ]
}

/**
 * The config file to read: the first explicit candidate (whether or not it exists: reading it
 * then says it is missing), else the first that exists; `undefined` when none does.
 */
export const findConfigFile = <E, R>(
  flag: string | undefined,
  context: ConfigLookupContext,
  exists: (path: string) => Effect.Effect<boolean, E, R>
): Effect.Effect<ConfigFileChoice | undefined, E, R> =>
  Effect.gen(function*() {
    for (const candidate of configFileCandidates(flag, context)) {
      if (candidate.explicit || (yield* exists(candidate.path))) return candidate
    }
    return undefined
  })
