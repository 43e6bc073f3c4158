/**
 * @module DemoKubernetes — `fleet-rollback demo --target kubernetes`: today's story on the
 * built-in Kubernetes sandbox: the shop's namespace (Deployments, a StatefulSet, and a DaemonSet,
 * a CronJob and a Pod fleet-rollback leaves alone) runs the broken release; get, choices, plan
 * with the API server's dry run, run (one guarded JSON patch per workload, waited together),
 * what runs now with its change-cause, undo. No cluster needed; leaves nothing behind. With
 * `keep` the sandbox keeps serving (the real kubectl works against it) until Ctrl-C.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Console, Effect } from "effect"
import { sampleClusterObjects } from "../../sandbox/kubernetes/SampleCluster.ts"
import { type KubernetesSandbox, startKubernetesSandbox } from "../../sandbox/kubernetes/Server.ts"
import { sampleFleet } from "../../sandbox/SampleFleet.ts"
import { failed } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { colourWanted, makePaint } from "../Output.ts"
import { demoDirectory, demoStory, runDemoCommand, startDemoRegistry, writeDemoConfig } from "./DemoStory.ts"

/** The demo's sandboxes, files and config. */
const startSandboxes = (rolloutMs: number) =>
  Effect.gen(function*() {
    const fleet = sampleFleet(yield* Clock.currentTimeMillis)
    const dir = yield* demoDirectory
    const registry = yield* startDemoRegistry(fleet)
    const host = new URL(registry.url).host
    const cluster: KubernetesSandbox = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startKubernetesSandbox({ rolloutMs, progressDeadlineMs: rolloutMs * 4, objects: sampleClusterObjects(fleet, host) }),
        catch: (e) => failed(`cannot start the Kubernetes sandbox: ${String(e)}`)
      }),
      (c) => Effect.promise(() => c.close())
    )
    const kubeconfig = path.join(dir, "kubeconfig")
    fs.writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Config", "current-context": "demo",
      clusters: [{ name: "sandbox", cluster: { server: cluster.url } }],
      users: [{ name: "demo", user: {} }],
      contexts: [{ name: "demo", context: { cluster: "sandbox", user: "demo", namespace: "shop" } }]
    }, null, 2))
    const config = writeDemoConfig(dir, {
      about: "the sample shop on the Kubernetes sandbox",
      registryUrl: registry.url,
      fleet,
      targetLine: `target: { kind: kubernetes, namespaces: [shop], kubeconfig: "${kubeconfig}" }`
    })
    return { fleet, dir, registry, host, cluster, config }
  })

/** The demo on the Kubernetes sandbox; `keep`: then serve it until Ctrl-C, with commands to try (kubectl too). */
export const kubernetesDemo = (options: { readonly rolloutMs: number; readonly keep?: boolean | undefined }) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
    const { fleet, dir, registry, host, cluster, config } = yield* startSandboxes(options.rolloutMs)
    yield* Console.log(paint.bold("fleet-rollback demo on Kubernetes: the shop's release two hours ago is broken; roll namespace shop back."))
    yield* Console.log(`Sandbox registry ${registry.url}, Kubernetes API ${cluster.url} (namespace shop: Deployments api, orders, web; StatefulSet payments; and a DaemonSet, a CronJob and a Pod to leave alone). Files in ${dir}.`)
    const pointLabel = yield* demoStory({
      dir, config, fleet, paint, tool: runDemoCommand,
      planTitle: "The plan, and the API server's own dry run of the patches (dryRun=All, nothing stored)",
      planFlags: ["--server-dry-run"],
      runTitle: "Roll back: one guarded JSON patch per workload, all sent, then waited for together",
      whatRunsNow: Effect.gen(function*() {
        yield* Console.log(`\n${paint.bold("── 5. What runs now (kubectl get deploy,sts -o wide; kubectl rollout history)")}`)
        for (const [kind, name] of [["Deployment", "api"], ["Deployment", "orders"], ["StatefulSet", "payments"], ["Deployment", "web"]] as const) {
          const object = cluster.object(kind, "shop", name)
          const image = String(object?.spec.template.spec.containers[0].image ?? "").replace(`${host}/`, "")
          const cause = object?.metadata.annotations?.["kubernetes.io/change-cause"] ?? "<none>"
          yield* Console.log(`  ${`${kind}/${name}`.padEnd(22)} ${image.padEnd(24)} change-cause: ${cause}`)
        }
      }),
      undoTitle: "Undo: patch back what ran before (guarded the same way)"
    })
    if (options.keep === true) {
      yield* Console.log(
        [
          "",
          paint.bold("The sandbox keeps running (Ctrl-C stops it and removes $DEMO). Try:"),
          `  export DEMO=${dir} KUBECONFIG=${dir}/kubeconfig`,
          `  kubectl get deploy,sts,ds -n shop -o wide   # the real kubectl against the sandbox`,
          `  npx fleet-rollback plan --config $DEMO/fleet-rollback.yaml --file $DEMO/rollback.json --point "${pointLabel}" --server-dry-run`,
          `  npx fleet-rollback run --config $DEMO/fleet-rollback.yaml --file $DEMO/rollback.json --point "${pointLabel}"`,
          `  kubectl rollout history deploy/api -n shop   # the change-cause names the point and the user`,
          `  curl ${registry.url}/v2/shop/api/tags/list   # the registry sandbox`
        ].join("\n")
      )
      return yield* Effect.never
    }
    yield* Console.log(`\n${paint.green("Demo finished: rolled back and undone on the Kubernetes sandbox; the sandbox is stopped and its files removed.")}`)
  }).pipe(Effect.scoped)
