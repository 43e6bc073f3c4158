/**
 * @module openshift — the builder of the `openshift` target: the cluster, credentials and project
 * as `oc` and kubectl find them (`KUBECONFIG`, else `~/.kube/config` — `oc login` writes its
 * token there — else the pod's service account; `--context` or the current context),
 * `--namespace` (repeatable) or the config's `target.namespaces`; and the registry client of the
 * config's `registry.url` (credentials as `get` reads them) to check, by a HEAD of the manifest,
 * that every digest still exists before any tag changes. Nothing is sent while building.
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { Registry } from "../../registry/Registry.ts"
import { Target } from "../../target/Target.ts"
import { type ClusterAccess, loadClusterAccess } from "../../targets/kubernetes/Kubeconfig.ts"
import { makeOpenShiftTarget } from "../../targets/openshift/OpenShiftTarget.ts"
import { registryDigestCheck } from "../../targets/openshift/RegistryCheck.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { registryLayer } from "../Settings.ts"
import type { TargetBuilder } from "./Builder.ts"

const text = (value: unknown): string | undefined => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined)

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

const namespacesSetting = (value: unknown): ReadonlyArray<string> | string => {
  if (value === undefined) return []
  if (typeof value === "string") return value.split(",").map((n) => n.trim()).filter((n) => n !== "")
  if (Array.isArray(value) && value.every((n) => typeof n === "string")) return value.map((n) => n.trim()).filter((n) => n !== "")
  return `target.namespaces: expected a list of project names (namespaces: [packit-prod]), got ${JSON.stringify(value)}`
}

const sendsCredentials = (access: ClusterAccess): boolean =>
  access.token !== undefined || access.tokenFile !== undefined || access.exec !== undefined || access.clientCertPem !== undefined

/** The registry host (`quay.io`, `127.0.0.1:5000`) of a registry URL. */
const hostOf = (url: string): string => new URL(url).host

/** Builds the OpenShift target. */
export const buildOpenShiftTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const fs = yield* FileSystem.FileSystem
    const { flags, settings, fromReport, config } = input
    // --ca-file and --insecure-skip-verify are the registry's (its digest check uses them): the
    // cluster's TLS comes from the kubeconfig alone (oc login --certificate-authority).
    const fromSettings = namespacesSetting(settings["namespaces"])
    if (typeof fromSettings === "string") return yield* badInput(fromSettings)
    const reported = fromReport?.settings
    const namespaces = reported?.namespaces !== undefined ? reported.namespaces.split(",").filter((n) => n !== "") : flags.namespace.length > 0 ? flags.namespace : fromSettings
    const bad = namespaces.find((n) => !DNS_LABEL.test(n))
    if (bad !== undefined) return yield* badInput(`--namespace ${JSON.stringify(bad)}: a project is a DNS label (lower-case letters, digits, '-')`)
    const context = Option.getOrUndefined(flags.context) ?? reported?.context ?? text(settings["context"])
    const access = yield* loadClusterAccess({
      kubeconfig: text(settings["kubeconfig"]) ?? platform.env.KUBECONFIG,
      context,
      home: platform.homeDir,
      serviceHost: platform.env.KUBERNETES_SERVICE_HOST,
      servicePort: platform.env.KUBERNETES_SERVICE_PORT
    }).pipe(Effect.mapError((e) => badInput(e.message)))
    if (fromReport !== undefined && fromReport.url.replace(/\/+$/, "") !== access.server) {
      return yield* badInput(`the report's OpenShift cluster is ${fromReport.url}, but context "${access.context}" points at ${access.server}: pass --context with the report's context (${reported?.context ?? "see the report"})`)
    }
    const resolved = namespaces.length > 0 ? namespaces : [access.namespace ?? "default"]
    const registryUrl = config.registry?.url
    if (registryUrl === undefined) return yield* badInput("--target openshift checks that every digest is still in the registry before a tag changes: give registry.url in the config file (the registry the ImageStreams import from)")
    const registry = yield* registryLayer({ registry: Option.none(), caFile: flags.caFile, insecureSkipVerify: flags.insecureSkipVerify, platform: Option.none(), concurrency: Option.none(), cacheDir: Option.none(), cache: false, verifyTags: false }, config)
    const registryHost = hostOf(registryUrl)
    const layer = Layer.effect(Target, Effect.gen(function*() {
      const client = yield* Registry
      return yield* makeOpenShiftTarget(access, {
        namespaces: resolved,
        digestExists: registryDigestCheck((host, repository, reference) => host === registryHost ? client.headDigest(repository, reference) : undefined)
      })
    })).pipe(Layer.provide(registry.layer), Layer.provide(Layer.succeed(FileSystem.FileSystem, fs)))
    const description = { kind: "openshift" as const, url: access.server, settings: { context: access.context, namespaces: resolved.join(",") } }
    return { layer, description, sendsCredentials: sendsCredentials(access) }
  })
