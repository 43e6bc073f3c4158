/**
 * @module Credentials — where registry credentials come from: `REGISTRY_USERNAME` /
 * `REGISTRY_PASSWORD` (or their `_FILE` variants) in the environment, else the `auths` entry for
 * the registry's host in the Docker client config (`$DOCKER_CONFIG/config.json`, default
 * `~/.docker/config.json`). Never from flags; the password stays `Redacted`.
 */
import { Effect, Option, Redacted, Schema } from "effect"
import { FileSystem } from "effect"
import type { Credentials } from "./Auth.ts"
import { RegistryError } from "./RegistryError.ts"

/**
 * Parses a registry URL as given by a user; no scheme means https. Undefined when it is not an
 * http(s) URL.
 */
export const parseRegistryUrl = (url: string): URL | undefined => {
  const trimmed = url.trim()
  const parsed = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`)
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.host === "") return undefined
  return parsed
}

const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"])

/** The host an `auths` key of a Docker config names (`https://index.docker.io/v1/` → `index.docker.io`). */
const authsKeyHost = (key: string): string => {
  const withoutScheme = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
  return withoutScheme.split("/")[0]!.toLowerCase()
}

const sameRegistry = (keyHost: string, registryHost: string): boolean =>
  keyHost === registryHost || (DOCKER_HUB_HOSTS.has(keyHost) && DOCKER_HUB_HOSTS.has(registryHost))

const DockerConfig = Schema.fromJsonString(Schema.Struct({
  auths: Schema.optional(Schema.NullOr(Schema.Record(
    Schema.String,
    Schema.Struct({
      auth: Schema.optional(Schema.NullOr(Schema.String)),
      username: Schema.optional(Schema.NullOr(Schema.String)),
      password: Schema.optional(Schema.NullOr(Schema.String))
    })
  )))
}))

/** Decodes standard base64 to UTF-8 text; undefined when it is not base64. */
const decodeBase64 = (value: string): string | undefined => {
  const clean = value.trim()
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined
  const binary = atob(clean)
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes)
}

/** Strips the line ending a secrets file usually ends with (`echo pw > file`). */
const stripLineEnd = (value: string): string => value.replace(/\r?\n$/, "")

const credentialsError = (message: string, cause?: unknown) =>
  new RegistryError({ reason: "Unauthorized", message, ...(cause === undefined ? {} : { cause }) })

/**
 * Reads REGISTRY_USERNAME / REGISTRY_PASSWORD (or REGISTRY_PASSWORD_FILE, REGISTRY_USERNAME_FILE)
 * from the given env, else `~/.docker/config.json` `auths[host].auth` (base64 user:pass) — returns
 * undefined when none. Only one of username and password set is an error (reason `Unauthorized`)
 * naming the missing variable; a file that cannot be read names the variable and the path.
 */
export const resolveRegistryCredentials = (
  registryUrl: string,
  env: Record<string, string | undefined>,
  homeDir: string
): Effect.Effect<Credentials | undefined, RegistryError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fromEnv = (name: string): Effect.Effect<string | undefined, RegistryError> => {
      const direct = env[name]
      if (direct !== undefined && direct !== "") return Effect.succeed(direct)
      const file = env[`${name}_FILE`]
      if (file === undefined || file === "") return Effect.succeed(undefined)
      return fs.readFileString(file).pipe(
        Effect.map(stripLineEnd),
        Effect.mapError((cause) =>
          credentialsError(`cannot read ${name}_FILE (${file}): ${cause.reason._tag}; check the path and its permissions`, cause)
        )
      )
    }
    const username = yield* fromEnv("REGISTRY_USERNAME")
    const password = yield* fromEnv("REGISTRY_PASSWORD")
    if (username !== undefined && password !== undefined) {
      return { username, password: Redacted.make(password) }
    }
    if (username !== undefined) {
      return yield* credentialsError(
        "REGISTRY_USERNAME is set but no password: set REGISTRY_PASSWORD or REGISTRY_PASSWORD_FILE as well"
      )
    }
    if (password !== undefined) {
      return yield* credentialsError(
        "REGISTRY_PASSWORD is set but no username: set REGISTRY_USERNAME (or REGISTRY_USERNAME_FILE) as well"
      )
    }
    const url = parseRegistryUrl(registryUrl)
    if (url === undefined) return undefined
    const configDir = env["DOCKER_CONFIG"] !== undefined && env["DOCKER_CONFIG"] !== ""
      ? env["DOCKER_CONFIG"]
      : `${homeDir.replace(/\/+$/, "")}/.docker`
    const configFile = `${configDir}/config.json`
    const text = yield* fs.readFileString(configFile).pipe(Effect.option)
    if (Option.isNone(text)) return undefined
    const config = yield* Schema.decodeUnknownEffect(DockerConfig)(text.value).pipe(Effect.option)
    if (Option.isNone(config)) {
      yield* Effect.logWarning(`ignoring ${configFile}: it is not a Docker client config ({"auths": {...}})`)
      return undefined
    }
    const host = url.host.toLowerCase()
    for (const [key, entry] of Object.entries(config.value.auths ?? {})) {
      if (!sameRegistry(authsKeyHost(key), host)) continue
      if (entry.auth !== undefined && entry.auth !== null && entry.auth !== "") {
        const decoded = decodeBase64(entry.auth)
        const colon = decoded?.indexOf(":") ?? -1
        if (decoded === undefined || colon <= 0) {
          return yield* credentialsError(
            `the auths entry "${key}" in ${configFile} is not base64 of user:password; run docker login again`
          )
        }
        return { username: decoded.slice(0, colon), password: Redacted.make(decoded.slice(colon + 1)) }
      }
      if (entry.username && entry.password) {
        return { username: entry.username, password: Redacted.make(entry.password) }
      }
    }
    return undefined
  })
