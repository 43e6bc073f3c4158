/**
 * @module builder.test — the command line's Swarm builder without an engine (it connects only
 * when the target is used): the endpoint the report records is the one the connection uses. With
 * `--insecure-skip-verify` and a `tcp://` DOCKER_HOST without a port, that is TLS on 2376 (the
 * docker CLI's rule), not 2375; the flag does nothing to a unix socket.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { CliPlatform } from "../../lib/cli/CliPlatform.ts"
import type { TargetFlagValues } from "../../lib/cli/Flags.ts"
import { buildSwarmTarget } from "../../lib/cli/targets/swarm.ts"
import type { ConfigFile } from "../../lib/core/ConfigFile.ts"

/** The builder's description of the target for `DOCKER_HOST` and the flag. */
const described = (dockerHost: string, insecureSkipVerify: boolean) =>
  Effect.gen(function*() {
    const flags = { stack: Option.some("shop"), labelSelector: Option.none(), insecureSkipVerify } as unknown as TargetFlagValues
    const built = yield* buildSwarmTarget({ kind: "swarm", flags, config: {} as ConfigFile, settings: {} })
    return built.description
  }).pipe(
    Effect.provide(Layer.mergeAll(
      NodeServices.layer,
      Layer.succeed(CliPlatform, { env: { DOCKER_HOST: dockerHost }, homeDir: "/nonexistent-home" } as unknown as typeof CliPlatform.Service)
    ))
  )

describe("the Swarm builder's endpoint", () => {
  it.effect("--insecure-skip-verify on tcp://host without a port: the report records TLS's 2376, where the connection goes", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* described("tcp://10.1.2.3", true)).url, "tcp://10.1.2.3:2376")
      assert.strictEqual((yield* described("tcp://10.1.2.3", false)).url, "tcp://10.1.2.3:2375", "without TLS, plain 2375")
      assert.strictEqual((yield* described("tcp://10.1.2.3:4000", true)).url, "tcp://10.1.2.3:4000", "a port given is kept")
    }))

  it.effect("the flag does nothing to a unix socket (it concerns the registry there)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* described("unix:///run/x/docker.sock", true)).url, "unix:///run/x/docker.sock")
    }))
})
