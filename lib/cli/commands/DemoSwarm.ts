/**
 * @module DemoSwarm — `fleet-rollback demo --target swarm`: the demo's story on a real Docker
 * Engine. The sandbox registry serves the sample fleet as images the engine can run offline (a
 * tiny static program that waits), a stack `fleet-rollback-demo` runs the broken release, and the
 * same commands as the Marathon demo roll it back with `--target swarm` and undo it. The stack and
 * the sandbox are removed afterwards. When no engine is reachable, or it is no swarm manager, it
 * says plainly what it needs (exit 2) and changes nothing.
 */
import { Clock, Console, Effect } from "effect"
import type { Scope } from "effect"
import type { SampleFleet } from "../../sandbox/SampleFleet.ts"
import { sampleFleet } from "../../sandbox/SampleFleet.ts"
import { makeSwarmApi } from "../../targets/swarm/Api.ts"
import type { SwarmApi } from "../../targets/swarm/Api.ts"
import { STACK_LABEL } from "../../targets/swarm/Services.ts"
import { describeEndpoint, dockerHostFromEnv, makeTransport, parseDockerHost } from "../../targets/swarm/Transport.ts"
import { SwarmError } from "../../targets/swarm/SwarmError.ts"
import { badInput, failed } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { colourWanted, makePaint } from "../Output.ts"
import { demoDirectory, demoStory, startDemoRegistry, writeDemoConfig } from "./DemoStory.ts"

/** The stack the demo creates (and removes). */
const DEMO_STACK = "fleet-rollback-demo"

/** What the demo needs, said plainly, with what went wrong. */
const needs = (address: string, problem: string) =>
  badInput(
    [
      `demo --target swarm needs a Docker Engine that is a swarm manager on this machine, at DOCKER_HOST (now ${address}): ${problem}.`,
      "Start one and make it a swarm (`sudo dockerd &`, then `docker swarm init --advertise-addr 127.0.0.1`), or point DOCKER_HOST at one",
      "(unix:///path/docker.sock). The demo creates the stack fleet-rollback-demo, pulls its images from a sandbox registry on 127.0.0.1,",
      "and removes both afterwards; its images hold an x86-64 program. Nothing was changed. `fleet-rollback demo` shows the story on the built-in Marathon sandbox."
    ].join("\n")
  )

/** Opens the engine and checks the demo can run there. */
const openEngine = Effect.gen(function*() {
  const platform = yield* CliPlatform
  const settings = dockerHostFromEnv(platform.env)
  const endpoint = parseDockerHost(settings, platform.homeDir)
  const address = endpoint instanceof SwarmError ? settings.host ?? "unix:///var/run/docker.sock" : describeEndpoint(endpoint)
  if (endpoint instanceof SwarmError) return yield* needs(address, endpoint.message)
  if (endpoint._tag === "Tcp" && !/^(127\.|localhost$|::1$)/.test(endpoint.host)) {
    return yield* needs(address, "it is on another machine, which cannot pull from the demo's registry on this machine's loopback")
  }
  const transport = yield* makeTransport(settings, { requestTimeoutMs: 15_000, readRetries: 1 }, platform.homeDir).pipe(
    Effect.mapError((e) => needs(address, e.message))
  )
  const api = makeSwarmApi(transport)
  const info = yield* api.info.pipe(Effect.mapError((e) => needs(address, e.message)))
  if (info.Swarm?.ControlAvailable !== true) {
    return yield* needs(address, `it is not a swarm manager (swarm state: ${info.Swarm?.LocalNodeState || "inactive"}); run \`docker swarm init --advertise-addr 127.0.0.1\``)
  }
  if (info.Architecture !== undefined && !/^(x86_64|amd64)$/.test(info.Architecture)) {
    return yield* needs(address, `it runs on ${info.Architecture}, and the demo's images hold an x86-64 program`)
  }
  const existing = yield* api.listServices({ label: [`${STACK_LABEL}=${DEMO_STACK}`] }).pipe(Effect.mapError((e) => needs(address, e.message)))
  if (existing.length > 0) {
    return yield* needs(address, `the stack ${DEMO_STACK} exists already (${existing.map((s) => s.name).join(", ")}); remove it first: docker stack rm ${DEMO_STACK}`)
  }
  return { api, address }
})

/** The stack's service spec for one sample service. */
const serviceSpec = (name: string, image: string) => ({
  Name: `${DEMO_STACK}_${name}`,
  Labels: { [STACK_LABEL]: DEMO_STACK },
  TaskTemplate: {
    ContainerSpec: { Image: image, StopGracePeriod: 1_000_000_000 },
    RestartPolicy: { Condition: "any", Delay: 1_000_000_000 }
  },
  Mode: { Replicated: { Replicas: 2 } },
  UpdateConfig: { Parallelism: 2, Delay: 0, FailureAction: "pause", Monitor: 1_000_000_000, Order: "stop-first" },
  RollbackConfig: { Parallelism: 2, Delay: 0, FailureAction: "pause", Monitor: 1_000_000_000, Order: "stop-first" }
})

/**
 * Creates the stack on the broken release (images pinned as the docker CLI would). Whatever of it
 * exists is removed with the scope — also when creating failed half-way (the removal is in place
 * before the first service is created).
 */
const createStack = (api: SwarmApi, host: string, fleet: SampleFleet): Effect.Effect<ReadonlyArray<string>, ReturnType<typeof failed>, Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const left = yield* api.listServices({ label: [`${STACK_LABEL}=${DEMO_STACK}`] }).pipe(Effect.orElseSucceed(() => []))
        yield* Effect.forEach(left, (s) => Effect.ignore(api.removeService(s.id)), { discard: true })
      })
    )
    return yield* Effect.forEach(fleet.services, (s) =>
      Effect.gen(function*() {
        const image = `${host}/${s.repository}:${fleet.running[s.name]}`
        const digest = yield* api.distributionDigest(image, undefined)
        yield* api.createService(serviceSpec(s.name, `${image}@${digest}`))
        return `${DEMO_STACK}_${s.name}`
      })).pipe(Effect.mapError((e) => failed(`creating the demo stack: ${e.message}`)))
  })

/** Waits until every service of the stack runs all its replicas (generous deadline). */
const waitForStack = (api: SwarmApi, names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    for (;;) {
      const tasks = yield* api.listTasks({ service: [...names], "desired-state": ["running"] }).pipe(Effect.orElseSucceed(() => []))
      const running = tasks.filter((t) => t.Status.State === "running").length
      if (running >= names.length * 2) return
      if ((yield* Clock.currentTimeMillis) - started > 120_000) return yield* failed(`the demo stack did not start within 120 s (${running}/${names.length * 2} tasks running): see docker service ps`)
      yield* Effect.sleep("500 millis")
    }
  })

/** The demo's story on the engine at DOCKER_HOST; `tool` runs the commands as an operator types them. */
export const swarmDemo = <E, R>(tool: (args: ReadonlyArray<string>) => Effect.Effect<void, E, R>) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const paint = makePaint(colourWanted(platform.stdoutIsTerminal, platform.env))
    const { api, address } = yield* openEngine
    const fleet = sampleFleet(yield* Clock.currentTimeMillis)
    const dir = yield* demoDirectory
    const registry = yield* startDemoRegistry(fleet, true)
    const host = new URL(registry.url).host
    yield* Console.log(paint.bold("fleet-rollback demo on Docker Swarm: the shop's release two hours ago is broken; roll the whole stack back."))
    yield* Console.log(`Engine ${address}; sandbox registry ${registry.url} (4 repositories, a week of builds). Creating the stack ${DEMO_STACK} on the broken release…`)
    const names = yield* createStack(api, host, fleet)
    yield* waitForStack(api, names)
    const config = writeDemoConfig(dir, {
      about: "the sample shop as a Swarm stack",
      registryUrl: registry.url,
      fleet,
      targetLine: `target: { kind: swarm, stack: ${DEMO_STACK} }`
    })
    yield* demoStory({
      dir, config, fleet, paint, tool,
      planTitle: "The plan for that point (changes nothing): payments did not change all week, so it stays",
      runTitle: "Roll back: one service update per changed service, all sent before waiting; wait, verify, report",
      whatRunsNow: Effect.gen(function*() {
        yield* Console.log(`\n${paint.bold("── 5. What runs now")} ${paint.dim("(docker service ls)")}`)
        for (const s of yield* api.listServices({ label: [`${STACK_LABEL}=${DEMO_STACK}`] }).pipe(Effect.orElseSucceed(() => []))) {
          yield* Console.log(`  ${s.name.padEnd(30)} ${(s.image ?? "").replace(`${host}/`, "").replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1…")}  version ${s.version}`)
        }
      }),
      undoTitle: "Undo: put back what ran before (one update per service again, the same checks)"
    })
    yield* Console.log(`\n${paint.green(`Demo finished: rolled back and undone on ${address}; the stack ${DEMO_STACK} and the sandbox are removed.`)}`)
  }).pipe(Effect.scoped)
