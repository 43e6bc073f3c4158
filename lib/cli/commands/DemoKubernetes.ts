/**
 * @module DemoKubernetes — `fleet-rollback demo --target kubernetes`: today's story on the
 * built-in Kubernetes sandbox: the shop's namespace (Deployments, a StatefulSet, and a DaemonSet,
 * a CronJob and a Pod fleet-rollback leaves alone) runs the broken release; get, choices, plan
 * with the API server's dry run, run (one guarded JSON patch per workload, waited together),
 * what runs now with its change-cause, undo. No cluster needed; leaves nothing behind.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Clock, Console, Effect } from "effect"
import { Command } from "effect/cli"
import { parseRollbackFile } from "../../core/RollbackFile.ts"
import { sampleClusterObjects } from "../../sandbox/kubernetes/SampleCluster.ts"
import { type KubernetesSandbox, startKubernetesSandbox } from "../../sandbox/kubernetes/Server.ts"
import { startSandboxRegistry } from "../../sandbox/Registry.ts"
import { sampleFleet } from "../../sandbox/SampleFleet.ts"
import { failed } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { colourWanted, makePaint } from "../Output.ts"
import { choicesCommand } from "./Choices.ts"
import { getCommand } from "./Get.ts"
import { planCommand } from "./Plan.ts"
import { runCommand } from "./Run.ts"
import { undoCommand } from "./Undo.ts"

/** The demo's sandboxes, files and config. */
const startSandboxes = (rolloutMs: number) =>
  Effect.gen(function*() {
    const fleet = sampleFleet(yield* Clock.currentTimeMillis)
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-demo-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const registry = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startSandboxRegistry({ images: fleet.images.map((i) => ({ repository: i.repository, tag: i.tag, created: i.created, annotationCreated: i.created, revision: i.revision })) }),
        catch: (e) => failed(`cannot start the sandbox registry: ${String(e)}`)
      }),
      (r) => Effect.promise(() => r.stop())
    )
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
    const config = path.join(dir, "fleet-rollback.yaml")
    fs.writeFileSync(config, [
      "# fleet-rollback demo config: the sample shop on the Kubernetes sandbox",
      "environment: prod",
      `registry: { url: "${registry.url}" }`,
      "environments:",
      "  prod: { tagFilter: master }",
      "  dev: { tagFilter: develop }",
      "services:",
      ...fleet.services.map((s) => `  ${s.name}: { repository: ${s.repository} }`),
      `target: { kind: kubernetes, namespaces: [shop], kubeconfig: "${kubeconfig}" }`,
      ""
    ].join("\n"))
    return { fleet, dir, registry, host, cluster, config }
  })

/** The commands the demo runs, in-process, exactly as an operator would type them. */
const tool = Command.make("fleet-rollback").pipe(Command.withSubcommands([getCommand, choicesCommand, planCommand, runCommand, undoCommand]))
const runTool = Command.runWith(tool, { version: "demo" })

/** The demo on the Kubernetes sandbox. */
export const kubernetesDemo = (options: { readonly rolloutMs: number }) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
    const { fleet, dir, registry, host, cluster, config } = yield* startSandboxes(options.rolloutMs)
    const rollbackFile = path.join(dir, "rollback.json")
    const report = path.join(dir, "rollback-report.json")
    const step = (n: number, title: string, command: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const shown = command.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ").replaceAll(dir, "$DEMO")
        yield* Console.log(`\n${paint.bold(`── ${n}. ${title}`)}\n${paint.dim(`$ fleet-rollback ${shown}`)}`)
        yield* runTool(command)
      })
    yield* Console.log(paint.bold("fleet-rollback demo on Kubernetes: the shop's release two hours ago is broken; roll namespace shop back."))
    yield* Console.log(`Sandbox registry ${registry.url}, Kubernetes API ${cluster.url} (namespace shop: Deployments api, orders, web; StatefulSet payments; and a DaemonSet, a CronJob and a Pod to leave alone). Files in ${dir}.`)
    yield* step(1, "Read every service's tags and build dates from the registry", ["get", "--config", config, "--out", rollbackFile, "--no-cache"])
    yield* step(2, "The points you can roll back to (a Jenkins dropdown)", ["choices", "--file", rollbackFile])
    const file = parseRollbackFile(fs.readFileSync(rollbackFile, "utf8"))
    if (file._tag === "Failure") return yield* failed(file.failure.message)
    const point = file.success.points.find((p) => Date.parse(p.id) < fleet.releasedAt)
    if (point === undefined) return yield* failed("the sample fleet has no point before the release")
    yield* Console.log(`\nThe last point before the release is "${point.label}".`)
    yield* step(3, "The plan, and the API server's own dry run of the patches (dryRun=All, nothing stored)", ["plan", "--config", config, "--file", rollbackFile, "--point", point.label, "--server-dry-run"])
    yield* step(4, "Roll back: one guarded JSON patch per workload, all sent, then waited for together", [
      "run", "--config", config, "--file", rollbackFile, "--point", point.label, "--yes", "--user", "demo", "--report", report, "--poll-ms", "250"
    ])
    yield* Console.log(`\n${paint.bold("── 5. What runs now (kubectl get deploy,sts -o wide; kubectl rollout history)")}`)
    for (const [kind, name] of [["Deployment", "api"], ["Deployment", "orders"], ["StatefulSet", "payments"], ["Deployment", "web"]] as const) {
      const object = cluster.object(kind, "shop", name)
      const image = String(object?.spec.template.spec.containers[0].image ?? "").replace(`${host}/`, "")
      const cause = object?.metadata.annotations?.["kubernetes.io/change-cause"] ?? "<none>"
      yield* Console.log(`  ${`${kind}/${name}`.padEnd(22)} ${image.padEnd(24)} change-cause: ${cause}`)
    }
    yield* step(6, "Undo: patch back what ran before (guarded the same way)", ["undo", "--config", config, "--report", report, "--out", path.join(dir, "undo-report.json"), "--yes", "--user", "demo", "--poll-ms", "250"])
    yield* Console.log(`\n${paint.green("Demo finished: rolled back and undone on the Kubernetes sandbox; the sandbox is stopped and its files removed.")}`)
  }).pipe(Effect.scoped)
