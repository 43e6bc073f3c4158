/**
 * @module ConfigFile — `fleet-rollback.yaml`: every key optional, flags win. Decoding names the
 * key that is wrong and says what was expected.
 */
import { Cause, Result, Schema, SchemaIssue } from "effect"
import { isMap, isScalar, parseDocument, visit } from "yaml"
import { TargetKind } from "./Report.ts"

/** Per-environment settings: which tags belong to it, and where its Marathon apps live. */
export const EnvironmentConfig: Schema.Struct<{
  /** The env/branch group of the tag scheme (`prod` → `master`, seed 004). */
  readonly tagFilter: Schema.optionalKey<Schema.String>
  /** Marathon app ids of this environment start with this (`/shop/prod/`). */
  readonly appIdPrefix: Schema.optionalKey<Schema.String>
  /** Marathon label selector of this environment's apps (`env==prod`). */
  readonly labelSelector: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  /** The env/branch group of the tag scheme (`prod` → `master`, seed 004). */
  tagFilter: Schema.optionalKey(Schema.String),
  /** Marathon app ids of this environment start with this (`/shop/prod/`). */
  appIdPrefix: Schema.optionalKey(Schema.String),
  /** Marathon label selector of this environment's apps (`env==prod`). */
  labelSelector: Schema.optionalKey(Schema.String)
})

/** A service: its repository and optionally its Marathon app. */
export const ServiceConfig: Schema.Struct<{
  readonly repository: Schema.String
  readonly app: Schema.optionalKey<Schema.String>
  /** The service's source repository URL (GitHub, GitLab, or a template with `{from}`/`{to}`), for the compare link of what a rollback undoes. */
  readonly source: Schema.optionalKey<Schema.String>
}> = Schema.Struct({
  repository: Schema.String,
  app: Schema.optionalKey(Schema.String),
  /** The service's source repository URL (GitHub, GitLab, or a template with `{from}`/`{to}`), for the compare link of what a rollback undoes. */
  source: Schema.optionalKey(Schema.String)
})

/** A custom tag scheme. */
export const SchemeConfig: Schema.Union<readonly [Schema.String, Schema.Struct<{
  readonly pattern: Schema.String
  readonly order: Schema.optionalKey<Schema.Literals<readonly ["build", "timestamp", "semver", "created"]>>
  readonly timestampFormat: Schema.optionalKey<Schema.String>
}>]> = Schema.Union([
  Schema.String,
  Schema.Struct({
    pattern: Schema.String,
    order: Schema.optionalKey(Schema.Literals(["build", "timestamp", "semver", "created"])),
    timestampFormat: Schema.optionalKey(Schema.String)
  })
])

/** `fleet-rollback.yaml`. */
export const ConfigFile: Schema.Struct<{
  readonly environment: Schema.optionalKey<Schema.String>
  readonly registry: Schema.optionalKey<Schema.Struct<{
    readonly url: Schema.optionalKey<Schema.String>
    readonly username: Schema.optionalKey<Schema.String>
    readonly caFile: Schema.optionalKey<Schema.String>
    readonly insecureSkipVerify: Schema.optionalKey<Schema.Boolean>
    readonly platform: Schema.optionalKey<Schema.String>
    readonly concurrency: Schema.optionalKey<Schema.Int>
    /** Seconds one request may take, its whole answer included (`--request-timeout`). */
    readonly requestTimeoutSeconds: Schema.optionalKey<Schema.Int>
    /** Read tags, digests and push times from Docker Hub's web API (`true`, or the API's URL). */
    readonly dockerHubApi: Schema.optionalKey<Schema.Union<readonly [Schema.Boolean, Schema.String]>>
  }>>
  readonly scheme: Schema.optionalKey<typeof SchemeConfig>
  readonly granularity: Schema.optionalKey<Schema.Literals<readonly ["instant", "day"]>>
  /** `get --last N`: per repository only the N newest tags (the flag wins). */
  readonly last: Schema.optionalKey<Schema.Int>
  readonly timeZone: Schema.optionalKey<Schema.String>
  readonly badTags: Schema.optionalKey<Schema.$Array<Schema.String>>
  readonly environments: Schema.optionalKey<Schema.$Record<Schema.String, typeof EnvironmentConfig>>
  readonly services: Schema.optionalKey<Schema.$Record<Schema.String, typeof ServiceConfig>>
  readonly marathon: Schema.optionalKey<Schema.Struct<{
    readonly url: Schema.optionalKey<Schema.String>
    readonly caFile: Schema.optionalKey<Schema.String>
    readonly insecureSkipVerify: Schema.optionalKey<Schema.Boolean>
    readonly timeoutSeconds: Schema.optionalKey<Schema.Int>
  }>>
  readonly dcos: Schema.optionalKey<Schema.Struct<{
    readonly url: Schema.optionalKey<Schema.String>
    readonly uid: Schema.optionalKey<Schema.String>
  }>>
  readonly slack: Schema.optionalKey<Schema.Struct<{
    readonly channel: Schema.optionalKey<Schema.String>
  }>>
  /**
   * The deployment target: `target: {kind: swarm, stack: shop}`. `kind` picks it (as `--target`
   * does); every other key is a setting of that target, read by its builder (secrets never here).
   */
  readonly target: Schema.optionalKey<Schema.StructWithRest<Schema.Struct<{
    readonly kind: typeof TargetKind
  }>, readonly [Schema.$Record<Schema.String, Schema.Unknown>]>>
}> = Schema.Struct({
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

/** The base class of {@link ConfigFileError}, declared with its type (JSR: no slow types). */
const ConfigFileError_base: Schema.Class<ConfigFileError, Schema.TaggedStruct<"ConfigFileError", {
  readonly message: Schema.String
}>, Cause.YieldableError> = Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  message: Schema.String
})

/** The config file could not be read; the message names the key. */
export class ConfigFileError extends ConfigFileError_base {}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** The message for a config file over {@link MAX_CONFIG_CHARS}. */
export const tooLargeMessage = (source: string, size: number): string =>
  `${source} is ${(size / (1024 * 1024)).toFixed(1)} MiB; a config file may be at most ${MAX_CONFIG_CHARS / (1024 * 1024)} MiB (about 25,000 services). ` +
  "Split the fleet into one config per environment or team (--config), or name the repositories with --repo"

/**
 * The largest config file read, in characters: 1 MiB holds some 25,000 services, and parsing it
 * takes about two seconds on a busy 2-core machine. A bigger file is refused before parsing.
 */
export const MAX_CONFIG_CHARS = 1024 * 1024

/**
 * The first key that appears twice in one mapping, with its line, or undefined. One pass over the
 * document with a set per mapping: the `yaml` parser's own check (`uniqueKeys`) compares every
 * key with every other and made a config of 20,000 services take 12 s, 60,000 some 40 s.
 */
const firstDuplicateKey = (document: ReturnType<typeof parseDocument>, text: string): { readonly key: string; readonly line: number } | undefined => {
  let found: { key: string; line: number } | undefined
  visit(document, {
    Map: (_, map) => {
      if (!isMap(map)) return undefined
      const seen = new Set<unknown>()
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key
        if (seen.has(key)) {
          const offset = isScalar(pair.key) ? pair.key.range?.[0] ?? 0 : 0
          found = { key: String(key), line: text.slice(0, offset).split("\n").length }
          return visit.BREAK
        }
        seen.add(key)
      }
      return undefined
    }
  })
  return found
}

/** Parses the YAML text of a config file; unknown keys are errors (a typo must not be ignored mid-incident). */
export const parseConfigFile = (text: string, source: string): Result.Result<ConfigFile, ConfigFileError> => {
  if (text.length > MAX_CONFIG_CHARS) {
    return Result.fail(new ConfigFileError({ message: tooLargeMessage(source, text.length) }))
  }
  let yaml: unknown
  try {
    // Duplicate keys are checked below in one pass (the parser's check is quadratic).
    const document = parseDocument(text, { uniqueKeys: false })
    if (document.errors.length > 0) throw document.errors[0]
    const duplicate = firstDuplicateKey(document, text)
    if (duplicate !== undefined) {
      return Result.fail(
        new ConfigFileError({ message: `${source} is not valid YAML: the key ${JSON.stringify(duplicate.key)} appears twice in one mapping (line ${duplicate.line}); keep one` })
      )
    }
    yaml = document.toJS()
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
