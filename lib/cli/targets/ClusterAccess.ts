/**
 * @module ClusterAccess — what the `kubernetes` and `openshift` builders share: the namespaces
 * (from the report being undone, else `--namespace`, else the config's `target.namespaces`), each
 * a DNS label; the cluster, credentials and default namespace as kubectl and `oc` find them
 * (`KUBECONFIG` or `target.kubeconfig`, else `~/.kube/config`, else the pod's service account;
 * `--context`, the report's, `target.context` or the current context); and, when undoing, that the
 * context points at the report's cluster. Only the kubeconfig files are read.
 */
import { Effect, Option } from "effect"
import { type ClusterAccess, loadClusterAccess } from "../../targets/kubernetes/Kubeconfig.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { settingText } from "./Builder.ts"
import type { TargetBuildInput } from "./Builder.ts"

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** How the target's messages name things: "Kubernetes" and "namespace", or "OpenShift" and "project". */
export interface ClusterWords {
  readonly cluster: string
  readonly namespace: string
  /** Example names for `namespaces: [...]`. */
  readonly example: string
}

/** `target.namespaces` as a list: a YAML list or one comma-separated string (or the error). */
const namespacesSetting = (value: unknown, words: ClusterWords): ReadonlyArray<string> | string => {
  if (value === undefined) return []
  if (typeof value === "string") return value.split(",").map((n) => n.trim()).filter((n) => n !== "")
  if (Array.isArray(value) && value.every((n) => typeof n === "string")) return value.map((n) => n.trim()).filter((n) => n !== "")
  return `target.namespaces: expected a list of ${words.namespace} names (namespaces: [${words.example}]), got ${JSON.stringify(value)}`
}

/** Whether requests carry credentials (a token, a token file, an exec plugin, a client certificate). */
export const sendsCredentials = (access: ClusterAccess): boolean =>
  access.token !== undefined || access.tokenFile !== undefined || access.exec !== undefined || access.clientCertPem !== undefined

/** What {@link resolveClusterAccess} reads of a build: the namespace and context flags, the `target:` settings, the report being undone. */
export type ClusterAccessInput = Pick<TargetBuildInput, "settings" | "fromReport"> & { readonly flags: Pick<TargetBuildInput["flags"], "namespace" | "context"> }

/**
 * The cluster access and the namespaces to work in (the context's namespace, else "default", when
 * none is given). The targets' builders and the OpenShift commands (`re-track`, `get --from
 * imagestreams`) all find the cluster this one way.
 */
export const resolveClusterAccess = (input: ClusterAccessInput, words: ClusterWords) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const { flags, settings, fromReport } = input
    const fromSettings = namespacesSetting(settings["namespaces"], words)
    if (typeof fromSettings === "string") return yield* badInput(fromSettings)
    const reported = fromReport?.settings
    const namespaces = reported?.namespaces !== undefined
      ? reported.namespaces.split(",").filter((n) => n !== "")
      : flags.namespace.length > 0 ? flags.namespace : fromSettings
    const bad = namespaces.find((n) => !DNS_LABEL.test(n))
    if (bad !== undefined) return yield* badInput(`--namespace ${JSON.stringify(bad)}: a ${words.namespace} is a DNS label (lower-case letters, digits, '-')`)
    const context = Option.getOrUndefined(flags.context) ?? reported?.context ?? settingText(settings["context"])
    const access = yield* loadClusterAccess({
      kubeconfig: settingText(settings["kubeconfig"]) ?? platform.env.KUBECONFIG,
      context,
      home: platform.homeDir,
      serviceHost: platform.env.KUBERNETES_SERVICE_HOST,
      servicePort: platform.env.KUBERNETES_SERVICE_PORT
    }).pipe(Effect.mapError((e) => badInput(e.message)))
    if (fromReport !== undefined && fromReport.url.replace(/\/+$/, "") !== access.server) {
      return yield* badInput(
        `the report's ${words.cluster} cluster is ${fromReport.url}, but context "${access.context}" points at ${access.server}: pass --context with the report's context (${reported?.context ?? "see the report"})`
      )
    }
    return { access, namespaces: namespaces.length > 0 ? namespaces : [access.namespace ?? "default"] }
  })
