/**
 * @module openshift — the builder of the `openshift` target: the cluster, credentials and project
 * as `oc` and kubectl find them (`KUBECONFIG`, else `~/.kube/config` — `oc login` writes its
 * token there — else the pod's service account; `--context` or the current context),
 * `--namespace` (repeatable) or the config's `target.namespaces`; and the registry client of the
 * config's `registry.url` (credentials as `get` reads them) to check, by a HEAD of the manifest,
 * that every digest still exists before any tag changes. Nothing is sent while building.
 */
import { Effect, FileSystem, Layer, Option } from "effect"
import { registryHostOf } from "../../core/ImageReference.ts"
import { Registry } from "../../registry/Registry.ts"
import { Target } from "../../target/Target.ts"
import { makeOpenShiftTarget } from "../../targets/openshift/OpenShiftTarget.ts"
import { registryDigestCheck } from "../../targets/openshift/RegistryCheck.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { registryLayer } from "../Settings.ts"
import type { TargetBuilder } from "./Builder.ts"
import { resolveClusterAccess, sendsCredentials } from "./ClusterAccess.ts"


/** Builds the OpenShift target. */
export const buildOpenShiftTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const { flags, config } = input
    // --ca-file and --insecure-skip-verify are the registry's (its digest check uses them): the
    // cluster's TLS comes from the kubeconfig alone (oc login --certificate-authority).
    const { access, namespaces: resolved } = yield* resolveClusterAccess(input, { cluster: "OpenShift", namespace: "project", example: "packit-prod" })
    const registryUrl = config.registry?.url
    if (registryUrl === undefined) return yield* badInput("--target openshift checks that every digest is still in the registry before a tag changes: give registry.url in the config file (the registry the ImageStreams import from)")
    const registry = yield* registryLayer({ registry: Option.none(), caFile: flags.caFile, insecureSkipVerify: flags.insecureSkipVerify, platform: Option.none(), concurrency: Option.none(), cacheDir: Option.none(), cache: false, verifyTags: false }, config)
    const registryHost = registryHostOf(registryUrl)
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
