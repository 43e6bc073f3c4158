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
import { makeKubernetesTarget } from "../../targets/kubernetes/KubernetesTarget.ts"
import { settingText } from "./Builder.ts"
import type { TargetBuilder } from "./Builder.ts"
import { resolveClusterAccess, sendsCredentials } from "./ClusterAccess.ts"

/** Builds the Kubernetes target. */
export const buildKubernetesTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const { flags, settings, fromReport } = input
    // --ca-file and --insecure-skip-verify are the registry's (run re-checks tags there): the
    // cluster's TLS comes from the kubeconfig alone, verification off only where it says so.
    const labelSelector = Option.getOrUndefined(flags.labelSelector) ?? fromReport?.settings?.labelSelector ?? settingText(settings["labelSelector"])
    const { access, namespaces: resolved } = yield* resolveClusterAccess(input, { cluster: "Kubernetes", namespace: "namespace", example: "shop, payments" })
    const description = {
      kind: "kubernetes" as const,
      url: access.server,
      settings: { context: access.context, namespaces: resolved.join(","), ...(labelSelector === undefined ? {} : { labelSelector }) }
    }
    const layer = Layer.effect(Target, makeKubernetesTarget(access, { namespaces: resolved, labelSelector }))
    return { layer, description, sendsCredentials: sendsCredentials(access) }
  })
