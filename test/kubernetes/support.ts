/**
 * @module support — a Kubernetes sandbox over HTTPS (CA and certificates from openssl) with a
 * shop namespace of mixed kinds, and the Kubernetes target built on it through a kubeconfig the
 * test writes, as an operator's would be.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"
import type { KubernetesSandbox, KubernetesSandboxOptions } from "../../lib/sandbox/kubernetes/Server.ts"
import { startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import type { TargetShape } from "../../lib/target/Target.ts"
import type { TargetError } from "../../lib/target/TargetError.ts"
import { loadClusterAccess } from "../../lib/targets/kubernetes/Kubeconfig.ts"
import { type KubernetesTargetSettings, makeKubernetesTarget } from "../../lib/targets/kubernetes/KubernetesTarget.ts"
import { clusterPki } from "../support/KubernetesPki.ts"
import { barePod, cronJob, daemonSet, deployment, type KubeconfigSpec, statefulSet, writeKubeconfig } from "../sandbox-kubernetes/fixtures.ts"

/** Registry prefix of the shop's images. */
export const R = "registry.example/shop"

/** The shop namespace: Deployments (one with an init container and a sidecar), a StatefulSet, a DaemonSet, a CronJob, a bare Pod; and one Deployment elsewhere. */
export const shopObjects = () => [
  deployment("shop", "web", `${R}/web:18`, { init: `${R}/web-migrate:18`, sidecar: `${R}/proxy:3`, labels: { tier: "front" } }),
  deployment("shop", "api", `${R}/api:42`, { labels: { tier: "back" } }),
  deployment("shop", "cart", `${R}/cart:7`, { labels: { tier: "back" } }),
  statefulSet("shop", "db", `${R}/db:5`),
  daemonSet("shop", "agent", `${R}/agent:2`),
  cronJob("shop", "report", `${R}/report:1`),
  barePod("shop", "debug", `${R}/debug:1`),
  deployment("other", "web", `${R}/web:18`)
]

/** A test cluster: the sandbox, a temp dir and a kubeconfig for alice (client certificate). */
export interface TestCluster {
  readonly sandbox: KubernetesSandbox
  readonly dir: string
  readonly kubeconfig: string
  /** Writes another kubeconfig for the same server (a token, an exec plugin). */
  readonly writeConfig: (spec: Omit<KubeconfigSpec, "server" | "caData">, file: string) => string
  readonly close: () => Promise<void>
}

/** Starts a sandbox over HTTPS and writes alice's kubeconfig. */
export const startTestCluster = async (options: KubernetesSandboxOptions = {}): Promise<TestCluster> => {
  const pki = clusterPki()
  const sandbox = await startKubernetesSandbox({
    rolloutMs: 300,
    progressDeadlineMs: 800,
    objects: shopObjects(),
    ...options,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert }
  })
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-k8s-target-"))
  const alice = pki.clients.alice!
  const writeConfig = (spec: Omit<KubeconfigSpec, "server" | "caData">, file: string) => writeKubeconfig(dir, { server: sandbox.url, caData: pki.caCert, ...spec }, file)
  const kubeconfig = writeConfig({ clientCert: alice.cert, clientKey: alice.key, namespace: "shop" }, "kubeconfig")
  return {
    sandbox,
    dir,
    kubeconfig,
    writeConfig,
    close: async () => {
      await sandbox.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The Kubernetes target through a kubeconfig, as the command line builds it. */
export const targetFor = (kubeconfig: string, settings: KubernetesTargetSettings = {}): Effect.Effect<TargetShape, TargetError, Scope.Scope> =>
  Effect.flatMap(loadClusterAccess({ kubeconfig, home: "/nonexistent" }), (access) => makeKubernetesTarget(access, settings))

/** The image of a workload's container in the sandbox. */
export const imageIn = (sandbox: KubernetesSandbox, kind: string, namespace: string, name: string, container = name): string | undefined => {
  const spec = sandbox.object(kind, namespace, name)?.spec.template.spec
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].find((c: { name: string }) => c.name === container)?.image
}
