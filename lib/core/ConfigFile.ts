/**
 * @module ConfigFile — `fleet-rollback.yaml`: every key optional, flags win. Decoding names the
 * key that is wrong and says what was expected.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { parse as parseYaml } from "yaml"
import { TargetKind } from "./Report.ts"

/** Per-environment settings: which tags belong to it, and where its Marathon apps live. */
export const EnvironmentConfig = Schema.Struct({
  /** The env/branch group of the tag scheme (`prod` → `master`, seed 004). */
  tagFilter: Schema.optionalKey(Schema.String),
  /** Marathon app ids of this environment start with this (`/shop/prod/`). */
  appIdPrefix: Schema.optionalKey(Schema.String),
  /** Marathon label selector of this environment's apps (`env==prod`). */
  labelSelector: Schema.optionalKey(Schema.String)
})

/** A service: its repository and optionally its Marathon app. */
export const ServiceConfig = Schema.Struct({
  repository: Schema.String,
  app: Schema.optionalKey(Schema.String),
  /** The service's source repository URL (GitHub, GitLab, or a template with `{from}`/`{to}`), for the compare link of what a rollback undoes. */
  source: Schema.optionalKey(Schema.String)
})

/** A custom tag scheme. */
export const SchemeConfig = Schema.Union([
  Schema.String,
  Schema.Struct({
    pattern: Schema.String,
    order: Schema.optionalKey(Schema.Literals(["build", "timestamp", "semver", "created"])),
    timestampFormat: Schema.optionalKey(Schema.String)
  })
])

/** `fleet-rollback.yaml`. */
export const ConfigFile = Schema.Struct({
  environment: Schema.optionalKey(Schema.String),
  registry: Schema.optionalKey(
    Schema.Struct({
      url: Schema.optionalKey(Schema.String),
      username: Schema.optionalKey(Schema.String),
      caFile: Schema.optionalKey(Schema.String),
      insecureSkipVerify: Schema.optionalKey(Schema.Boolean),
      platform: Schema.optionalKey(Schema.String),
      concurrency: Schema.optionalKey(Schema.Int),
      /** Seconds one request may take, its whole answer included (`--request-timeout`). */
      requestTimeoutSeconds: Schema.optionalKey(Schema.Int),
      /** Read tags, digests and push times from Docker Hub's web API (`true`, or the API's URL). */
      dockerHubApi: Schema.optionalKey(Schema.Union([Schema.Boolean, Schema.String]))
    })
  ),
  scheme: Schema.optionalKey(SchemeConfig),
  granularity: Schema.optionalKey(Schema.Literals(["instant", "day"])),
  /** `get --last N`: per repository only the N newest tags (the flag wins). */
  last: Schema.optionalKey(Schema.Int),
  timeZone: Schema.optionalKey(Schema.String),
  badTags: Schema.optionalKey(Schema.Array(Schema.String)),
  environments: Schema.optionalKey(Schema.Record(Schema.String, EnvironmentConfig)),
  services: Schema.optionalKey(Schema.Record(Schema.String, ServiceConfig)),
  marathon: Schema.optionalKey(
    Schema.Struct({
      url: Schema.optionalKey(Schema.String),
      caFile: Schema.optionalKey(Schema.String),
      insecureSkipVerify: Schema.optionalKey(Schema.Boolean),
      timeoutSeconds: Schema.optionalKey(Schema.Int)
    })
  ),
  dcos: Schema.optionalKey(
    Schema.Struct({
      url: Schema.optionalKey(Schema.String),
      uid: Schema.optionalKey(Schema.String)
    })
  ),
  slack: Schema.optionalKey(Schema.Struct({ channel: Schema.optionalKey(Schema.String) })),
  /**
   * The deployment target: `target: {kind: swarm, stack: shop}`. `kind` picks it (as `--target`
   * does); every other key is a setting of that target, read by its builder (secrets never here).
   */
  target: Schema.optionalKey(
    Schema.StructWithRest(Schema.Struct({ kind: TargetKind }), [Schema.Record(Schema.String, Schema.Unknown)])
  )
})
/** `fleet-rollback.yaml`. */
export type ConfigFile = typeof ConfigFile.Type

/** The config file could not be read; the message names the key. */
export class ConfigFileError extends Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  message: Schema.String
}) {}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** Parses the YAML text of a config file; unknown keys are errors (a typo must not be ignored mid-incident). */
export const parseConfigFile = (text: string, source: string): Result.Result<ConfigFile, ConfigFileError> => {
  let yaml: unknown
  try {
    yaml = parseYaml(text)
  } catch (error) {
    return Result.fail(new ConfigFileError({ message: `${source} is not valid YAML: ${error instanceof Error ? error.message : String(error)}` }))
  }
  if (yaml === null || yaml === undefined) return Result.succeed({})
  const decoded = Schema.decodeUnknownResult(ConfigFile)(yaml, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(decoded)) {
    return Result.fail(
      new ConfigFileError({
        message: `${source} has a bad key or value:\n${formatIssue(decoded.failure.issue)}\nSee the README section "Config file" for every key.`
      })
    )
  }
  return Result.succeed(decoded.success)
}
