/**
 * @module Demo — `fleet-rollback demo`: the whole story against the built-in sandbox (a small
 * registry and a Marathon-compatible server, both on loopback): get, choices, plan, run, the
 * healthy result, undo. No cluster needed; leaves nothing behind. With `--keep` the sandbox keeps
 * running to explore until Ctrl-C, which stops it and removes its files too.
 */
import { Clock, Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { MarathonSandbox } from "../../sandbox/Marathon.ts"
import { badInput, failed } from "../../workflow/RollbackError.ts"
import { builderOf, parseTargetKind } from "../targets/index.ts"
import { CliPlatform } from "../CliPlatform.ts"
import * as Flags from "../Flags.ts"
import { colourWanted, makePaint } from "../Output.ts"
import { demoDirectory, demoStory, runDemoCommand, startDemoRegistry, writeDemoConfig } from "./DemoStory.ts"
import { swarmDemo } from "./DemoSwarm.ts"
import { kubernetesDemo } from "./DemoKubernetes.ts"

/**
 * The sandbox servers, loaded when the demo runs: importing `node:http` alone costs every other
 * command ~30 ms at start (Node loads its internal undici for the module's exports).
 */
const loadSandbox = () =>
  Effect.all([
    Effect.promise(() => import("../../sandbox/Marathon.ts")),
    Effect.promise(() => import("../../sandbox/SampleFleet.ts"))
  ]).pipe(Effect.map(([marathon, fleet]) => ({ ...marathon, ...fleet })))

/** `demo`. */
export const demoCommand = Command.make(
  "demo",
  {
    keep: Flag.Boolean("keep").pipe(Flag.withDescription("keep the sandbox running afterwards and print its URLs and commands to try (Ctrl-C stops it and removes its files)"), Flag.withDefault(false)),
    deploymentMs: Flag.Int("deployment-ms").pipe(Flags.describedWithDefault("how long a sandbox deployment takes, milliseconds", 1500)),
    target: Flags.target
  },
  (flags) =>
    Effect.gen(function*() {
      // The demo's story runs on the Marathon sandbox; another target tells it only where its builder says so.
      const kind = Option.getOrUndefined(flags.target)?.trim().toLowerCase() ?? "marathon"
      // On a real Docker Engine (DOCKER_HOST) when one is reachable; else it says what it needs.
      if (kind === "swarm") {
        if (flags.keep) return yield* badInput("demo --target swarm has no --keep: the demo removes its stack fleet-rollback-demo from your engine when it ends. Nothing was changed")
        return yield* swarmDemo(runDemoCommand)
      }
      if (kind === "kubernetes") {
        return yield* kubernetesDemo({ rolloutMs: flags.deploymentMs, keep: flags.keep })
      }
      if (kind !== "marathon" && kind !== "dcos") {
        const checked = yield* parseTargetKind(kind)
        yield* builderOf(checked)
        return yield* badInput(`demo --target ${checked}: the demo of this target is not available in this version; \`fleet-rollback demo\` shows the story on the built-in Marathon sandbox`)
      }
      const platform = yield* CliPlatform
      const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
      const now = yield* Clock.currentTimeMillis
      const { sampleApp, sampleFleet, startMarathonSandbox } = yield* loadSandbox()
      const fleet = sampleFleet(now)
      // Removed also after --keep: once Ctrl-C stopped the sandbox, its files point at nothing.
      const dir = yield* demoDirectory
      const registry = yield* startDemoRegistry(fleet)
      const host = new URL(registry.url).host
      const marathon: MarathonSandbox = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () =>
            startMarathonSandbox({
              deploymentMs: flags.deploymentMs,
              apps: fleet.services.map((s) => sampleApp(s.app, `${host}/${s.repository}:${fleet.running[s.name]}`))
            }),
          catch: (e) => failed(`cannot start the Marathon sandbox: ${String(e)}`)
        }),
        (m) => Effect.promise(() => m.stop())
      )
      const config = writeDemoConfig(dir, {
        about: "the sample shop in the sandbox",
        registryUrl: registry.url,
        prodExtra: "appIdPrefix: /shop/prod/",
        fleet,
        targetLine: `marathon: { url: "${marathon.url}" }`
      })

      yield* Console.log(paint.bold("fleet-rollback demo: the shop's release two hours ago is broken; roll the whole fleet back."))
      yield* Console.log(`Sandbox registry ${registry.url} (4 repositories, a week of builds), Marathon ${marathon.url} (4 apps on the broken release). Files in ${dir}.`)
      const pointLabel = yield* demoStory({
        dir, config, fleet, paint, tool: runDemoCommand,
        planTitle: "The plan for that point (changes nothing): payments did not change all week, so it stays",
        runTitle: "Roll back: one Marathon deployment for the whole set, wait, verify, report",
        whatRunsNow: Effect.gen(function*() {
          yield* Console.log(`\n${paint.bold("── 5. What runs now")}`)
          for (const app of marathon.apps()) {
            const info = marathon.app(String(app["id"])) ?? {}
            yield* Console.log(`  ${String(app["id"]).padEnd(20)} ${String((app["container"] as { docker?: { image?: string } } | undefined)?.docker?.image ?? "").replace(`${host}/`, "")}  ${String(info["tasksHealthy"])}/${String(info["instances"])} healthy`)
          }
        }),
        undoTitle: "Undo: put back what ran before (the same checks)"
      })
      if (flags.keep) {
        yield* Console.log(
          [
            "",
            paint.bold("The sandbox keeps running (Ctrl-C stops it and removes $DEMO). Try:"),
            `  export DEMO=${dir}`,
            `  npx fleet-rollback choices --file $DEMO/rollback.json   # in this checkout; plain fleet-rollback when installed`,
            `  npx fleet-rollback plan --config $DEMO/fleet-rollback.yaml --file $DEMO/rollback.json --point "${pointLabel}"`,
            `  npx fleet-rollback run --config $DEMO/fleet-rollback.yaml --file $DEMO/rollback.json --point "${pointLabel}"`,
            `  curl ${marathon.url}/v2/apps   # the Marathon sandbox`,
            `  curl ${registry.url}/v2/shop/api/tags/list   # the registry sandbox`
          ].join("\n")
        )
        return yield* Effect.never
      }
      yield* Console.log(`\n${paint.green("Demo finished: rolled back and undone; the sandbox is stopped and its files removed.")}`)
    }).pipe(Effect.scoped)
).pipe(
  Command.withDescription("The whole flow against the built-in sandbox (registry + Marathon on loopback), no cluster needed"),
  Command.withExamples([
    { command: "fleet-rollback demo", description: "runs in seconds, leaves nothing behind" },
    { command: "fleet-rollback demo --target swarm", description: "the same story on the Docker Engine at DOCKER_HOST (a swarm manager on this machine)" },
    { command: "fleet-rollback demo --keep", description: "keep the sandbox to explore" },
    { command: "fleet-rollback demo --target kubernetes --keep", description: "keep the Kubernetes sandbox to explore with kubectl" }
  ])
)
