/**
 * @module kubernetes — the builder of the `kubernetes` target: the cluster, credentials and
 * namespace as kubectl finds them (`KUBECONFIG`, else `~/.kube/config`, else the pod's service
 * account; `--context` or the current context), `--namespace` (repeatable) or the config's
 * `target.namespaces`, `--label-selector` or `target.labelSelector`. Nothing is sent to the
 * cluster while building: only the kubeconfig files are read (an exec plugin runs at the first
 * request).
 */
import { Effect, Layer, Option } from "effect"
import { Target } from "../../target/Target.ts"
import { type ClusterAccess, loadClusterAccess } from "../../targets/kubernetes/Kubeconfig.ts"
import { makeKubernetesTarget } from "../../targets/kubernetes/KubernetesTarget.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import type { TargetBuilder } from "./Builder.ts"

const text = (value: unknown): string | undefined => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined)

/** `target.namespaces` as a list: a YAML list or one comma-separated string. */
const namespacesSetting = (value: unknown): ReadonlyArray<string> | string => {
  if (value === undefined) return []
  if (typeof value === "string") return value.split(",").map((n) => n.trim()).filter((n) => n !== "")
  if (Array.isArray(value) && value.every((n) => typeof n === "string")) return value.map((n) => n.trim()).filter((n) => n !== "")
  return `target.namespaces: expected a list of namespace names (namespaces: [shop, payments]), got ${JSON.stringify(value)}`
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Whether requests carry credentials (a token, a token file, an exec plugin, a client certificate). */
const sendsCredentials = (access: ClusterAccess): boolean =>
  access.token !== undefined || access.tokenFile !== undefined || access.exec !== undefined || access.clientCertPem !== undefined

/** Builds the Kubernetes target. */
export const buildKubernetesTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const { flags, settings, fromReport } = input
    // --ca-file and --insecure-skip-verify are the registry's (run re-checks tags there): the
    // cluster's TLS comes from the kubeconfig alone, verification off only where it says so.
    const fromSettings = namespacesSetting(settings["namespaces"])
    if (typeof fromSettings === "string") return yield* badInput(fromSettings)
    const reported = fromReport?.settings
    const namespaces = reported?.namespaces !== undefined
      ? reported.namespaces.split(",").filter((n) => n !== "")
      : flags.namespace.length > 0 ? flags.namespace : fromSettings
    const bad = namespaces.find((n) => !DNS_LABEL.test(n))
    if (bad !== undefined) return yield* badInput(`--namespace ${JSON.stringify(bad)}: a namespace is a DNS label (lower-case letters, digits, '-')`)
    const context = Option.getOrUndefined(flags.context) ?? reported?.context ?? text(settings["context"])
    const labelSelector = Option.getOrUndefined(flags.labelSelector) ?? reported?.labelSelector ?? text(settings["labelSelector"])
    const kubeconfig = text(settings["kubeconfig"]) ?? platform.env.KUBECONFIG
    const access = yield* loadClusterAccess({
      kubeconfig,
      context,
      home: platform.homeDir,
      serviceHost: platform.env.KUBERNETES_SERVICE_HOST,
      servicePort: platform.env.KUBERNETES_SERVICE_PORT
    }).pipe(Effect.mapError((e) => badInput(e.message)))
    if (fromReport !== undefined && fromReport.url.replace(/\/+$/, "") !== access.server) {
      return yield* badInput(
        `the report's Kubernetes cluster is ${fromReport.url}, but context "${access.context}" points at ${access.server}: pass --context with the report's context (${reported?.context ?? "see the report"})`
      )
    }
    const resolved = namespaces.length > 0 ? namespaces : [access.namespace ?? "default"]
    const description = {
      kind: "kubernetes" as const,
      url: access.server,
      settings: { context: access.context, namespaces: resolved.join(","), ...(labelSelector === undefined ? {} : { labelSelector }) }
    }
    const layer = Layer.effect(Target, makeKubernetesTarget(access, { namespaces: resolved, labelSelector }))
    return { layer, description, sendsCredentials: sendsCredentials(access) }
  })
