/**
 * @module fixtures — workloads for the Kubernetes sandbox and target tests: a shop namespace of
 * mixed kinds as the seeds run them (Deployments, a StatefulSet, a DaemonSet, a CronJob, a bare
 * Pod), and a kubeconfig writer.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"

/** A Deployment with one container (and optional init container). */
export const deployment = (namespace: string, name: string, image: string, extra: { replicas?: number; labels?: Record<string, string>; init?: string; sidecar?: string } = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace, labels: { app: name, ...(extra.labels ?? {}) } },
  spec: {
    replicas: extra.replicas ?? 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        ...(extra.init === undefined ? {} : { initContainers: [{ name: "migrate", image: extra.init }] }),
        containers: [{ name, image }, ...(extra.sidecar === undefined ? [] : [{ name: "proxy", image: extra.sidecar }])]
      }
    }
  }
})

/** A StatefulSet (RollingUpdate unless `strategy` says otherwise). */
export const statefulSet = (namespace: string, name: string, image: string, strategy?: Record<string, unknown>) => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas: 2,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    ...(strategy === undefined ? {} : { updateStrategy: strategy }),
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } }
  }
})

/** A DaemonSet. */
export const daemonSet = (namespace: string, name: string, image: string, strategy?: Record<string, unknown>) => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    selector: { matchLabels: { app: name } },
    ...(strategy === undefined ? {} : { updateStrategy: strategy }),
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } }
  }
})

/** A CronJob. */
export const cronJob = (namespace: string, name: string, image: string) => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name, namespace, labels: { app: name } },
  spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name, image }] } } } } }
})

/** A bare Pod. */
export const barePod = (namespace: string, name: string, image: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels: { app: name } },
  spec: { containers: [{ name, image }] }
})

/** Options of {@link writeKubeconfig}. */
export interface KubeconfigSpec {
  readonly server: string
  readonly caData?: string
  readonly token?: string
  readonly clientCert?: string
  readonly clientKey?: string
  readonly namespace?: string
  readonly exec?: Record<string, unknown>
}

const b64 = (pem: string) => Buffer.from(pem).toString("base64")

/** Writes a one-context kubeconfig (`sandbox`) into `dir` and returns its path. */
export const writeKubeconfig = (dir: string, spec: KubeconfigSpec, file = "kubeconfig"): string => {
  const user: Record<string, unknown> = {}
  if (spec.token !== undefined) user.token = spec.token
  if (spec.clientCert !== undefined) user["client-certificate-data"] = b64(spec.clientCert)
  if (spec.clientKey !== undefined) user["client-key-data"] = b64(spec.clientKey)
  if (spec.exec !== undefined) user.exec = spec.exec
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "sandbox", cluster: { server: spec.server, ...(spec.caData === undefined ? {} : { "certificate-authority-data": b64(spec.caData) }) } }],
    users: [{ name: "sandbox-user", user }],
    contexts: [{ name: "sandbox", context: { cluster: "sandbox", user: "sandbox-user", ...(spec.namespace === undefined ? {} : { namespace: spec.namespace }) } }],
    "current-context": "sandbox"
  }
  const path = join(dir, file)
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 })
  return path
}
