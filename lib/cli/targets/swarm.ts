/**
 * @module swarm — the builder of the `swarm` target: the Docker Engine at `DOCKER_HOST` (a unix
 * socket by default; `tcp://` with `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH`; `DOCKER_API_VERSION`
 * pins the API), the services of a stack (`--stack NAME`) and/or a Docker label selector
 * (`--label-selector k=v,k2`); config `target: {kind: swarm, stack, labelSelector, host}`.
 * Registry credentials for `X-Registry-Auth` come from where `get` reads them: `REGISTRY_USERNAME`
 * + `REGISTRY_PASSWORD` (or `_FILE`) for the configured registry's host only, else the host's
 * `auths` entry in `~/.docker/config.json`.
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { registryHostOf } from "../../core/ImageReference.ts"
import { resolveRegistryCredentials } from "../../registry/Credentials.ts"
import { TargetError } from "../../target/TargetError.ts"
import { Target } from "../../target/Target.ts"
import { describeSwarm, openSwarmTarget } from "../../targets/swarm/SwarmTarget.ts"
import type { SwarmConfig } from "../../targets/swarm/SwarmTarget.ts"
import { describeEndpoint, dockerHostFromEnv, parseDockerHost } from "../../targets/swarm/Transport.ts"
import { SwarmError } from "../../targets/swarm/SwarmError.ts"
import { badInput, failed } from "../../workflow/RollbackError.ts"
import type { RollbackError } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import type { TargetBuilder } from "./Builder.ts"

const SETTINGS = ["stack", "labelSelector", "host"] as const

/** The config's `target:` settings for swarm, checked: strings only, known keys only. */
const settingsOf = (settings: Readonly<Record<string, unknown>>) => {
  const unknown = Object.keys(settings).filter((k) => !(SETTINGS as ReadonlyArray<string>).includes(k))
  if (unknown.length > 0) return Effect.fail(badInput(`target (kind swarm) in the config: unknown key(s) ${unknown.join(", ")}; expected ${SETTINGS.join(", ")}`))
  const text: Record<string, string> = {}
  for (const key of SETTINGS) {
    const value = settings[key]
    if (value === undefined || value === null) continue
    if (typeof value !== "string" || value.trim() === "") return Effect.fail(badInput(`target.${key} (kind swarm) in the config: expected a non-empty string, got ${JSON.stringify(value)}`))
    text[key] = value.trim()
  }
  return Effect.succeed(text as Partial<Record<(typeof SETTINGS)[number], string>>)
}

/** An error opening the engine as the command line's error: settings that cannot work exit 2, an engine that fails exits 1. */
const openError = (error: TargetError): RollbackError =>
  error.reason === "Invalid" || error.reason === "Unsupported" ? badInput(`${error.message}. Nothing was changed`) : failed(`Docker Swarm: ${error.message}. Nothing was changed`)

/** Builds the Swarm target. */
export const buildSwarmTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const fs = yield* FileSystem.FileSystem
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const configured = yield* settingsOf(input.settings)
    const fromReport = input.fromReport
    const env = dockerHostFromEnv(platform.env)
    const stack = Option.getOrUndefined(input.flags.stack) ?? (fromReport !== undefined ? fromReport.settings?.["stack"] : configured.stack)
    const labelSelector = Option.getOrUndefined(input.flags.labelSelector) ?? (fromReport !== undefined ? fromReport.settings?.["labelSelector"] : configured.labelSelector)
    const host = fromReport !== undefined ? fromReport.url : env.host ?? configured.host
    // --insecure-skip-verify (TLS without checking the engine's certificate) belongs to tcp:// hosts
    // only, and is in the settings before they are parsed: the report and the connection see one endpoint
    const tcp = host !== undefined && /^(?:tcp|https?):\/\//.test(host.trim())
    const docker = { ...env, host, ...(input.flags.insecureSkipVerify && tcp ? { insecureSkipVerify: true } : {}) }
    const endpoint = parseDockerHost(docker, platform.homeDir)
    if (endpoint instanceof SwarmError) return yield* badInput(`${endpoint.message}. Nothing was changed`)
    const registryUrl = input.config.registry?.url
    const registryCredentials: SwarmConfig["registryCredentials"] = (host) => {
      // REGISTRY_USERNAME/PASSWORD belong to the registry `get` reads; other hosts only get their docker config entry
      const same = registryUrl !== undefined && registryHostOf(registryUrl) === host
      // (and their credential helpers, which need the PATH): everything but REGISTRY_USERNAME/PASSWORD(_FILE)
      const vars = same ? platform.env : Object.fromEntries(Object.entries(platform.env).filter(([name]) => !/^REGISTRY_(USERNAME|PASSWORD)(_FILE)?$/.test(name)))
      return resolveRegistryCredentials(same ? registryUrl : `https://${host}`, vars, platform.homeDir).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
        Effect.mapError((e) => new TargetError({ reason: "Unauthorized", message: e.message }))
      )
    }
    const config: SwarmConfig = {
      docker,
      ...(stack !== undefined ? { stack } : {}),
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      registryCredentials,
      homeDir: platform.homeDir
    }
    const description = describeSwarm(describeEndpoint(endpoint), config)
    const dockerConfig = `${platform.env["DOCKER_CONFIG"] || `${platform.homeDir}/.docker`}/config.json`
    const hasDockerConfig = yield* fs.exists(dockerConfig).pipe(Effect.orElseSucceed(() => false))
    const sendsCredentials = hasDockerConfig || (platform.env["REGISTRY_PASSWORD"] ?? platform.env["REGISTRY_PASSWORD_FILE"] ?? "") !== "" ||
      (endpoint._tag === "Tcp" && endpoint.tls !== undefined)
    return { layer: Layer.effect(Target, openSwarmTarget(config).pipe(Effect.mapError(openError))), description, sendsCredentials }
  })
