/**
 * @module bench/support/kubernetesSandbox — a child process serving the Kubernetes sandbox with a
 * namespace of N Deployments running build 2 (argv: count, rollout ms, registry host), so the bench's client does not share its
 * event loop with the server. Prints `{"url": …}` on one line when ready; stops on SIGTERM or when
 * stdin closes.
 */
import { startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"

const count = Number(process.argv[2] ?? "200")
const rolloutMs = Number(process.argv[3] ?? "2000")
const registry = process.argv[4] ?? "registry.example"
const name = (i: number) => `svc-${String(i).padStart(3, "0")}`

const deployment = (i: number) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: name(i), namespace: "bench", labels: { app: name(i), fleet: "bench" } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: name(i) } },
    template: { metadata: { labels: { app: name(i) } }, spec: { containers: [{ name: "main", image: `${registry}/shop/${name(i)}:2-master` }] } }
  }
})

startKubernetesSandbox({ rolloutMs, objects: Array.from({ length: count }, (_, i) => deployment(i)) }).then((sandbox) => {
  process.stdout.write(`${JSON.stringify({ url: sandbox.url })}\n`)
  const stop = () => void sandbox.close().then(() => process.exit(0))
  process.on("SIGTERM", stop)
  process.stdin.on("end", stop)
  process.stdin.resume()
})
