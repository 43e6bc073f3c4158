/**
 * @module Settings — turns flags, the config file and environment variables into what the
 * workflows need (flags win over the config). Secrets come only from environment variables or
 * the files their `*_FILE` variants name. Every mistake is BadInput naming the flag or key.
 */
import { Effect, FileSystem, Layer, Option, Redacted, Result } from "effect"
import type { ConfigFile } from "../core/ConfigFile.ts"
import { MAX_CONFIG_CHARS, parseConfigFile, tooLargeMessage } from "../core/ConfigFile.ts"
import { parseRollbackFile, stripCredentials } from "../core/RollbackFile.ts"
import { parseReport } from "../core/Report.ts"
import type { ServiceSpec } from "../core/Timeline.ts"
import type { TargetScope } from "../target/Target.ts"
import { Notifier } from "../notify/Slack.ts"
import { Registry, resolveRegistryCredentials } from "../registry/Registry.ts"
import { badInput, failed } from "../workflow/RollbackError.ts"
import { CliPlatform } from "./CliPlatform.ts"
import { findConfigFile } from "./ConfigLookup.ts"

/** Reads a text file; a missing file is BadInput naming the flag it came from. */
export const readTextFile = (path: string, what: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readFileString(path).pipe(Effect.mapError(() => badInput(`cannot read ${what} ${path}: no such file or not readable`)))
  })

/**
 * Writes a file atomically (temp file in the same directory, then rename): never a partial file.
 * When `path` is a symbolic link, the file it points to is replaced and the link kept.
 */
export const writeFileAtomic = (path: string, content: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    // A symbolic link is written through (the file it points to is replaced), not replaced by a file.
    const target = yield* fs.realPath(path).pipe(Effect.orElseSucceed(() => path))
    const temp = `${target}.tmp-${Math.random().toString(36).slice(2)}`
    yield* fs.writeFileString(temp, content).pipe(
      Effect.flatMap(() => fs.rename(temp, target)),
      Effect.mapError((e) => failed(`cannot write ${path}: ${e.message}`)),
      Effect.onError(() => fs.remove(temp).pipe(Effect.ignore))
    )
  })

/**
 * Loads the config file found as lib/cli/ConfigLookup.ts says (`--config`, `$FLEET_ROLLBACK_CONFIG`,
 * `./fleet-rollback.yaml`, `$XDG_CONFIG_HOME/fleet-rollback/config.yaml`, `/etc/fleet-rollback/config.yaml`)
 * and says on stderr which one it read; `{}` when there is none.
 */
export const loadConfig = (path: Option.Option<string>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const platform = yield* CliPlatform
    const choice = yield* findConfigFile(Option.getOrUndefined(path), platform, (candidate) => fs.exists(candidate).pipe(Effect.orElseSucceed(() => false)))
    if (choice === undefined) return {} as ConfigFile
    const file = choice.path
    // Refused before it is read: a huge file must not fill the memory first.
    const size = yield* fs.stat(file).pipe(Effect.map((info) => Number(info.size)), Effect.orElseSucceed(() => 0))
    if (size > MAX_CONFIG_CHARS * 4) return yield* badInput(tooLargeMessage(file, size))
    const text = yield* readTextFile(file, choice.source === "FLEET_ROLLBACK_CONFIG" ? "the config file named by FLEET_ROLLBACK_CONFIG" : "the config file")
    platform.writeStderr(`fleet-rollback: config file ${file} (${choice.source})\n`)
    return yield* Effect.fromResult(Result.mapError(parseConfigFile(text, file), (e) => badInput(e.message)))
  })

/** Loads and checks `rollback.json`. */
export const loadRollbackFile = (path: string) =>
  Effect.gen(function*() {
    const text = yield* readTextFile(path, "the rollback file (write it with `fleet-rollback get`)")
    return yield* Effect.fromResult(Result.mapError(parseRollbackFile(text, path), (e) => badInput(e.message)))
  })

/** Loads and checks a report. */
export const loadReport = (path: string) =>
  Effect.gen(function*() {
    const text = yield* readTextFile(path, "the report")
    return yield* Effect.fromResult(Result.mapError(parseReport(text, path), (e) => badInput(e.message)))
  })

/** Reads secret `NAME` from the environment, or from the file named by `NAME_FILE`. */
export const readSecret = (name: string) =>
  Effect.gen(function*() {
    const { env } = yield* CliPlatform
    const direct = env[name]
    if (direct !== undefined && direct !== "") return Option.some(Redacted.make(direct))
    const file = env[`${name}_FILE`]
    if (file === undefined || file === "") return Option.none<Redacted.Redacted<string>>()
    const text = yield* readTextFile(file, `the file named by ${name}_FILE`)
    return Option.some(Redacted.make(text.trim()))
  })

/** The services of the fleet: `--repo a,b,c` (named by the last path segment unless the config names them), else the config's map. */
export const resolveServices = (repoFlag: Option.Option<string>, config: ConfigFile): ReadonlyArray<ServiceSpec> | string => {
  const configured = Object.entries(config.services ?? {}).map(([name, s]) => ({ name, repository: s.repository, ...(s.app !== undefined ? { app: s.app } : {}) }))
  if (Option.isNone(repoFlag)) return configured
  const repositories = repoFlag.value.split(",").map((r) => r.trim()).filter((r) => r !== "")
  if (repositories.length === 0) return "--repo is empty: expected repositories separated by commas, e.g. --repo shop/api,shop/web"
  const services = repositories.map((repository) => configured.find((s) => s.repository === repository) ?? { name: repository.slice(repository.lastIndexOf("/") + 1), repository })
  const names = services.map((s) => s.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined) return `two repositories in --repo end in "${dup}": name them in the config file (services: {name: {repository: …}})`
  return services
}

/** The environment's scope on the target (Marathon: app id prefix, label selector) from the config. */
export const resolveScope = (config: ConfigFile, environment: string | null | undefined, flags: { readonly appPrefix: Option.Option<string>; readonly label: Option.Option<string> }): TargetScope => {
  const env = environment != null ? config.environments?.[environment] : undefined
  const idPrefix = Option.getOrUndefined(flags.appPrefix) ?? env?.appIdPrefix
  const labelSelector = Option.getOrUndefined(flags.label) ?? env?.labelSelector
  return { ...(idPrefix !== undefined ? { idPrefix } : {}), ...(labelSelector !== undefined ? { labelSelector } : {}) }
}

/** Flags that say how to read the registry. */
export interface RegistryFlags {
  readonly registry: Option.Option<string>
  readonly caFile: Option.Option<string>
  readonly insecureSkipVerify: boolean
  readonly platform: Option.Option<string>
  readonly concurrency: Option.Option<number>
  readonly cacheDir: Option.Option<string>
  readonly cache: boolean
  readonly verifyTags: boolean
  /** `--request-timeout SECONDS` (absent where the command has no such flag). */
  readonly requestTimeout?: Option.Option<number> | undefined
  /** `--docker-hub-api`: tags, digests and push times from Docker Hub's web API. */
  readonly dockerHubApi?: boolean | undefined
}

/** The registry layer from flags, config, `REGISTRY_USERNAME`/`REGISTRY_PASSWORD` (or `_FILE`) or `~/.docker/config.json`. */
export const registryLayer = (flags: RegistryFlags, config: ConfigFile, fallbackUrl?: string) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const url = Option.getOrUndefined(flags.registry) ?? config.registry?.url ?? fallbackUrl
    if (url === undefined) return yield* badInput("which registry? give --registry URL (https://registry.example.com) or registry.url in the config file")
    yield* checkUrl(
      url,
      Option.isSome(flags.registry) ? "--registry" : config.registry?.url !== undefined ? "registry.url (config file)" : "the registry URL of rollback.json"
    )
    const env = { ...platform.env, ...(config.registry?.username !== undefined && platform.env.REGISTRY_USERNAME === undefined ? { REGISTRY_USERNAME: config.registry.username } : {}) }
    const credentials = yield* resolveRegistryCredentials(url, env, platform.homeDir).pipe(Effect.mapError((e) => badInput(e.message)))
    // The platform and the Docker Hub API are checked by the registry client itself (InvalidInput
    // before any request, which getRollbacks reports once): one check, for the library too.
    const platformText = Option.getOrUndefined(flags.platform) ?? config.registry?.platform
    const concurrency = Option.getOrUndefined(flags.concurrency) ?? config.registry?.concurrency
    if (concurrency !== undefined && (concurrency < 1 || concurrency > 64)) return yield* badInput(`--concurrency ${concurrency}: expected 1 to 64 requests at once per host`)
    const timeoutSeconds = Option.getOrUndefined(flags.requestTimeout ?? Option.none()) ?? config.registry?.requestTimeoutSeconds
    if (timeoutSeconds !== undefined && (timeoutSeconds < 1 || timeoutSeconds > 600)) {
      return yield* badInput(`registry.requestTimeoutSeconds ${timeoutSeconds}: expected 1 to 600 seconds (one registry request, its whole answer included)`)
    }
    const cacheDir = flags.cache ? Option.getOrUndefined(flags.cacheDir) ?? defaultCacheDir(platform.env, platform.homeDir) : undefined
    const hubSetting = config.registry?.dockerHubApi
    const hubUrl = typeof hubSetting === "string" ? hubSetting : undefined
    const useHubApi = flags.dockerHubApi === true || (hubSetting !== undefined && hubSetting !== false)
    const tls = {
      caFile: Option.getOrUndefined(flags.caFile) ?? config.registry?.caFile,
      insecureSkipVerify: flags.insecureSkipVerify || config.registry?.insecureSkipVerify === true
    }
    const layer = Registry.layer({
      url,
      ...(credentials !== undefined ? { credentials } : {}),
      ...(platformText !== undefined ? { platform: platformText } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeoutSeconds !== undefined ? { requestTimeoutMs: timeoutSeconds * 1000 } : {}),
      cacheDir,
      verifyTags: flags.verifyTags,
      ...(useHubApi ? { dockerHubApi: hubUrl === undefined ? {} : { url: hubUrl } } : {})
    }).pipe(Layer.provide(platform.httpClient(tls)))
    return { layer, url: stripCredentials(url) }
  })

/** The Slack notifier from `SLACK_WEBHOOK_URL` (or `_FILE`), or none. */
export const notifierLayer = (config: ConfigFile) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const webhook = yield* readSecret("SLACK_WEBHOOK_URL")
    if (Option.isNone(webhook)) return Notifier.none
    return Notifier.slack({ webhookUrl: webhook.value, channel: config.slack?.channel }).pipe(Layer.provide(platform.httpClient({})))
  })

/** `$XDG_CACHE_HOME/fleet-rollback`, else `~/.cache/fleet-rollback`. */
export const defaultCacheDir = (env: Readonly<Record<string, string | undefined>>, home: string): string =>
  `${env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : `${home}/.cache`}/fleet-rollback`

/** Refuses a URL that is not http(s) or carries credentials (BadInput naming the flag). */
export const checkUrl = (url: string, flag: string) => {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    return Effect.fail(badInput(`${flag} ${JSON.stringify(stripCredentials(url))} is not a URL: expected https://host[:port] (or http:// for a plain-text endpoint)`))
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return Effect.fail(badInput(`${flag} must not carry credentials in the URL; put them in environment variables (see README "Secrets")`))
  }
  return Effect.void
}

/** Parses a duration (`24h`, `3d`, `90m`, `2w`) into milliseconds; a string says what was expected. */
export const parseDuration = (text: string): number | string => {
  const duration = /^(\d+)\s*([mhdw])$/.exec(text.trim())
  if (duration === null) return "expected a duration such as 24h, 3d, 90m or 2w"
  return Number(duration[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[duration[2] as "m" | "h" | "d" | "w"]
}

/** Parses `--since`: a duration (`14d`, `36h`, `2w`, `90m`) before now, or a date/instant. */
export const parseSince = (text: string, now: number): number | string => {
  const duration = parseDuration(text)
  if (typeof duration === "number") return now - duration
  if (/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text.trim())) {
    const millis = Date.parse(text.trim().length === 10 ? `${text.trim()}T00:00:00Z` : text.trim())
    if (Number.isFinite(millis)) return millis
  }
  return `--since ${JSON.stringify(text)}: expected a duration such as 14d, 36h, 2w, or a date YYYY-MM-DD`
}

/** The deployment timeout: `--timeout SECONDS`, else `marathon.timeoutSeconds`, else the default (10 minutes). */
export const deploymentTimeoutMs = (flag: Option.Option<number>, config: ConfigFile): number | string | undefined => {
  const seconds = Option.getOrUndefined(flag) ?? config.marathon?.timeoutSeconds
  if (seconds === undefined) return undefined
  if (seconds < 1) return `${Option.isSome(flag) ? "--timeout" : "marathon.timeoutSeconds"} ${seconds}: expected seconds, at least 1`
  return seconds * 1000
}

/**
 * Refuses, before anything changes, an output path that could not be written afterwards: a
 * directory, a file or directory without write permission, or a directory that does not exist.
 * A symbolic link is checked (and later written) through: the file it points to is what counts.
 */
export const checkReportPath = (path: string, flag: string, what = "the report") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const target = yield* fs.realPath(path).pipe(Effect.orElseSucceed(() => path))
    const refuse = (problem: string) =>
      badInput(`${flag} ${path}: ${problem}, so ${what} could not be written afterwards; nothing was changed`)
    const info = yield* fs.stat(target).pipe(Effect.option)
    if (info._tag === "Some" && info.value.type === "Directory") {
      return yield* refuse(`is a directory (name a file in it, e.g. ${path.replace(/\/+$/, "")}/${what === "the report" ? "rollback-report.json" : "rollback.json"})`)
    }
    const slash = target.lastIndexOf("/")
    const dir = slash > 0 ? target.slice(0, slash) : slash === 0 ? "/" : "."
    const dirInfo = yield* fs.stat(dir).pipe(Effect.option)
    if (dirInfo._tag === "None") return yield* refuse(`the directory ${dir} does not exist`)
    if (dirInfo.value.type !== "Directory") return yield* refuse(`${dir} is not a directory`)
    const writable = yield* fs.access(dir, { writable: true }).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
    if (!writable) return yield* refuse(`the directory ${dir} is not writable by this user`)
    if (info._tag === "Some") {
      const fileWritable = yield* fs.access(target, { writable: true }).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (!fileWritable) return yield* refuse(`the file ${target} is not writable by this user`)
    }
  })
