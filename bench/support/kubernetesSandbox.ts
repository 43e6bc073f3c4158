/**
 * @module bench/support/kubernetesSandbox — a child process serving the Kubernetes sandbox with a
 * namespace of N Deployments (argv: count, rollout ms), so the bench's client does not share its
 * event loop with the server. Prints `{"url": …}` on one line when ready; stops on SIGTERM or when
 * stdin closes.
 */
import { startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"

const count = Number(process.argv[2] ?? "200")
const rolloutMs = Number(process.argv[3] ?? "2000")

const deployment = (i: number) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: `svc-${i}`, namespace: "bench", labels: { app: `svc-${i}`, fleet: "bench" } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: `svc-${i}` } },
    template: { metadata: { labels: { app: `svc-${i}` } }, spec: { containers: [{ name: "main", image: `registry.example/bench/svc-${i}:2` }] } }
  }
})

startKubernetesSandbox({ rolloutMs, objects: Array.from({ length: count }, (_, i) => deployment(i)) }).then((sandbox) => {
  process.stdout.write(`${JSON.stringify({ url: sandbox.url })}\n`)
  const stop = () => void sandbox.close().then(() => process.exit(0))
  process.on("SIGTERM", stop)
  process.stdin.on("end", stop)
  process.stdin.resume()
})
