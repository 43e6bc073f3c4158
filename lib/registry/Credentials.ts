/**
 * @module Credentials — where registry credentials come from, first match wins:
 * 1. `REGISTRY_USERNAME` / `REGISTRY_PASSWORD` (or their `_FILE` variants) in the environment;
 * 2. `REGISTRY_AUTH_FILE` (a containers auth.json, as podman and skopeo read it);
 * 3. the Docker client config (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`) in
 *    Docker's order: `credHelpers[host]`, else `credsStore`, else `auths[host]` (`auth` or
 *    `username`/`password`, and `identitytoken`) — a helper or store that is configured decides
 *    for that file, as in Docker, even when it has nothing;
 * 4. containers' auth.json: `$XDG_RUNTIME_DIR/containers/auth.json`, then
 *    `$XDG_CONFIG_HOME/containers/auth.json` (default `~/.config/containers/auth.json`).
 * Never from flags; secrets stay `Redacted`, and say where they came from (`source`).
 */
import { Effect, Option, Redacted, Schema } from "effect"
import { FileSystem } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import type { Credentials } from "./Auth.ts"
import { credentialsFromHelper } from "./CredentialHelper.ts"
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

const AuthFile = Schema.fromJsonString(Schema.Struct({
  auths: Schema.optional(Schema.NullOr(Schema.Record(
    Schema.String,
    Schema.Struct({
      auth: Schema.optional(Schema.NullOr(Schema.String)),
      username: Schema.optional(Schema.NullOr(Schema.String)),
      password: Schema.optional(Schema.NullOr(Schema.String)),
      identitytoken: Schema.optional(Schema.NullOr(Schema.String))
    })
  ))),
  credHelpers: Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.String))),
  credsStore: Schema.optional(Schema.NullOr(Schema.String))
}))
type AuthFile = typeof AuthFile.Type

/** The server address Docker gives a credential helper: Docker Hub's index URL, else host[:port]. */
const helperServer = (host: string): string => (DOCKER_HUB_HOSTS.has(host) ? "https://index.docker.io/v1/" : host)

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
 * The registry's credentials from `env` and the user's auth files, in the order of the module
 * comment; undefined when none. Only one of username and password set is an error (reason
 * `Unauthorized`) naming the missing variable; a file that cannot be read names the variable and
 * the path; a credential helper that fails names the helper (never its output). Helpers run with
 * `env` as their environment.
 */
export const resolveRegistryCredentials = (
  registryUrl: string,
  env: Record<string, string | undefined>,
  homeDir: string
): Effect.Effect<Credentials | undefined, RegistryError, FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner> =>
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
      return { username, password: Redacted.make(password), source: "REGISTRY_USERNAME and REGISTRY_PASSWORD" }
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
    return yield* fromAuthFiles(url.host.toLowerCase(), env, homeDir)
  })

/** The auth files in their order (module comment): the first with credentials for `host` wins. */
const fromAuthFiles = (
  host: string,
  env: Record<string, string | undefined>,
  homeDir: string
): Effect.Effect<Credentials | undefined, RegistryError, FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const home = homeDir.replace(/\/+$/, "")
    const set = (name: string): string | undefined => (env[name] !== undefined && env[name] !== "" ? env[name] : undefined)
    const explicit = set("REGISTRY_AUTH_FILE")
    if (explicit !== undefined) {
      const found = yield* fromAuthFile(explicit, "REGISTRY_AUTH_FILE", host, env, true)
      if (found !== undefined) return found
    }
    const docker = yield* fromAuthFile(`${set("DOCKER_CONFIG") ?? `${home}/.docker`}/config.json`, "Docker client config", host, env, false)
    if (docker !== undefined) return docker
    const runtimeDir = set("XDG_RUNTIME_DIR")
    for (const file of [...(runtimeDir === undefined ? [] : [`${runtimeDir}/containers/auth.json`]), `${set("XDG_CONFIG_HOME") ?? `${home}/.config`}/containers/auth.json`]) {
      const found = yield* fromAuthFile(file, "containers auth.json", host, env, false)
      if (found !== undefined) return found
    }
    return undefined
  })

/**
 * The credentials one auth file (Docker config or containers auth.json) has for `host`, in
 * Docker's order: `credHelpers[host]`, else `credsStore`, else `auths[host]`. A missing file has
 * none (unless `required`: REGISTRY_AUTH_FILE names a file that must be there); one that is not
 * an auth file is skipped with a warning.
 */
const fromAuthFile = (
  file: string,
  kind: string,
  host: string,
  env: Record<string, string | undefined>,
  required: boolean
): Effect.Effect<Credentials | undefined, RegistryError, FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(Effect.option)
    if (Option.isNone(text)) {
      if (!required) return undefined
      return yield* credentialsError(`cannot read REGISTRY_AUTH_FILE (${file}): check the path and its permissions, or unset REGISTRY_AUTH_FILE`)
    }
    const config = yield* Schema.decodeUnknownEffect(AuthFile)(text.value).pipe(Effect.option)
    if (Option.isNone(config)) {
      if (required) return yield* credentialsError(`REGISTRY_AUTH_FILE (${file}) is not an auth file ({"auths": {...}}); fix it or unset REGISTRY_AUTH_FILE`)
      yield* Effect.logWarning(`ignoring ${file}: it is not a ${kind} ({"auths": {...}})`)
      return undefined
    }
    const helper = Object.entries(config.value.credHelpers ?? {}).find(([key]) => sameRegistry(authsKeyHost(key), host))
    if (helper !== undefined) return yield* credentialsFromHelper(helper[1], helperServer(host), { field: "credHelpers", file }, env)
    const store = config.value.credsStore
    if (store !== undefined && store !== null && store !== "") {
      return yield* credentialsFromHelper(store, helperServer(host), { field: "credsStore", file }, env)
    }
    return yield* fromAuths(config.value, file, host)
  })

/** The `auths` entry of a file for `host`: `auth` (base64 user:password), `username`/`password`, and `identitytoken`. */
const fromAuths = (config: AuthFile, file: string, host: string): Effect.Effect<Credentials | undefined, RegistryError> =>
  Effect.gen(function*() {
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (!sameRegistry(authsKeyHost(key), host)) continue
      const source = `the auths entry "${key}" in ${file}`
      let username = entry.username ?? undefined
      let password = entry.password ?? undefined
      if (entry.auth !== undefined && entry.auth !== null && entry.auth !== "") {
        const decoded = decodeBase64(entry.auth)
        const colon = decoded?.indexOf(":") ?? -1
        if (decoded === undefined || colon <= 0) {
          return yield* credentialsError(`${source} is not base64 of user:password; run docker login again`)
        }
        username = decoded.slice(0, colon)
        password = decoded.slice(colon + 1)
      }
      const token = entry.identitytoken ?? undefined
      if (token !== undefined && token !== "") {
        return { username: username ?? "<token>", password: Redacted.make(password ?? ""), identityToken: Redacted.make(token), source }
      }
      if (username && password) return { username, password: Redacted.make(password), source }
    }
    return undefined
  })
