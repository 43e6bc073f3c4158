/**
 * @module SampleCluster — the demo's shop on the Kubernetes sandbox: the sample fleet's services
 * as workloads of mixed kinds in namespace `shop` (api, orders and web as Deployments, payments
 * as a StatefulSet), each running the image of the broken release, plus what a real namespace
 * also holds and fleet-rollback leaves alone: a log-shipping DaemonSet, a nightly CronJob and a
 * debugging Pod.
 */
import type { SampleFleet } from "../SampleFleet.ts"
import type { KubeObject } from "./Store.ts"

const template = (name: string, image: string) => ({
  metadata: { labels: { app: name, team: "shop" } },
  spec: { containers: [{ name, image }] }
})

/** The objects of the demo's namespace; `host` is the sandbox registry's `host:port`. */
export const sampleClusterObjects = (fleet: SampleFleet, host: string): ReadonlyArray<KubeObject> => {
  const workloads = fleet.services.map((s) => {
    const image = `${host}/${s.repository}:${fleet.running[s.name]}`
    const kind = s.name === "payments" ? "StatefulSet" : "Deployment"
    return {
      apiVersion: "apps/v1",
      kind,
      metadata: { name: s.name, namespace: "shop", labels: { app: s.name, team: "shop" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: s.name } },
        ...(kind === "StatefulSet" ? { serviceName: s.name } : {}),
        template: template(s.name, image)
      }
    }
  })
  return [
    ...workloads,
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "log-shipper", namespace: "shop", labels: { app: "log-shipper" } },
      spec: { selector: { matchLabels: { app: "log-shipper" } }, template: template("log-shipper", "docker.io/fluent/fluent-bit:3.1") }
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly-report", namespace: "shop", labels: { app: "nightly-report" } },
      spec: { schedule: "0 2 * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "report", image: `${host}/shop/api:${fleet.running.api}` }] } } } } }
    },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "debug-shell", namespace: "shop", labels: { app: "debug" } }, spec: { containers: [{ name: "shell", image: "docker.io/library/busybox:1.36" }] } }
  ]
}
