/**
 * @module bearer-auth real-registry tests — docker-registry 2.8.2 with `auth.token`, trusting a
 * certificate made by the real `openssl`; the test's token server signs RS256 JWTs carrying that
 * certificate in `x5c`. The client answers the Bearer challenge, reuses one token for many
 * manifests, and turns refused credentials into a clear Unauthorized error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { Registry } from "../../lib/registry/Registry.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry, RegistryUser } from "../support/DockerRegistry.ts"
import { Pusher, pushOciImage } from "../support/pushImage.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { byTag, clientCredentials, pushStandardFixtures, randomPassword, registryLayer } from "./fixtures.ts"
import type { PushedFixtures } from "./fixtures.ts"

const user: RegistryUser = { username: "deployer", password: randomPassword() }
const MANY = 30
let tokens: TokenServer
let registry: DockerRegistry
let fixtures: PushedFixtures

beforeAll(async () => {
  tokens = await startTokenServer({ users: [user] })
  registry = await startDockerRegistry({ auth: "token", token: tokens.registryAuth })
  const target = { url: registry.url, credentials: user }
  fixtures = await pushStandardFixtures(target)
  const pusher = new Pusher(target)
  await Promise.all(Array.from({ length: MANY }, (_, i) =>
    pushOciImage(pusher, {
      repository: "shop/many",
      tag: `${100 + i}-master`,
      config: { created: new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString() }
    })))
})

afterAll(async () => {
  await registry?.stop()
  await tokens?.stop()
})

const withCredentials = <A, E>(effect: Effect.Effect<A, E, Registry>, credentials?: RegistryUser) =>
  Effect.suspend(() => {
    tokens.reset()
    return effect.pipe(Effect.provide(registryLayer({
      url: registry.url,
      retries: 1,
      ...(credentials === undefined ? {} : { credentials: clientCredentials(credentials) })
    })))
  })

describe("Bearer auth (auth.token, JWT with x5c) on docker-registry 2.8.2", () => {
  it.live("the registry refuses an anonymous request with a Bearer challenge naming the token server", () =>
    Effect.promise(async () => {
      const response = await fetch(`${registry.url}/v2/shop/api/tags/list`)
      await response.arrayBuffer()
      assert.strictEqual(response.status, 401)
      assert.strictEqual(
        response.headers.get("www-authenticate"),
        `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:shop/api:pull"`
      )
    }))

  it.live("reads every fixture with the right credentials", () =>
    withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        for (const repository of ["shop/api", "shop/legacy", "shop/web"]) {
          const read = yield* registryClient.readRepository(repository)
          assert.deepStrictEqual(byTag(read.images), fixtures.expected[repository])
        }
        // One token per repository scope, each granted to the user whose credentials were sent.
        const granted = tokens.requests.filter((request) => request.status === 200)
        assert.isAtMost(granted.length, 3 + 1)
        for (const request of granted) assert.strictEqual(request.username, user.username)
      }),
      user
    ))

  it.live("one token serves many manifests and configs of a repository", () =>
    withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        const read = yield* registryClient.readRepository("shop/many")
        assert.strictEqual(read.images.length, MANY)
        const stats = yield* registryClient.stats
        assert.strictEqual(stats.requestsByKind["manifest"], MANY)
        assert.strictEqual(stats.requestsByKind["blob"], MANY)
        const forRepository = tokens.requests.filter((request) => request.scopes.some((scope) => scope.startsWith("repository:shop/many:")))
        assert.strictEqual(forRepository.length, 1, `token requests: ${JSON.stringify(tokens.requests)}`)
        assert.isAtMost(tokens.requests.length, 2, "at most one more token (a scope-less ping) besides the repository's")
        assert.strictEqual(stats.requestsByKind["token"] ?? 0, tokens.requests.length)
      }),
      user
    ))

  it.live("a wrong password is refused by the token server: Unauthorized, password not in the message", () => {
    const wrong: RegistryUser = { username: "deployer", password: randomPassword() }
    return withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        const error = yield* Effect.flip(registryClient.readRepository("shop/api"))
        assert.strictEqual(error._tag, "RegistryError")
        assert.strictEqual(error.reason, "Unauthorized")
        assert.notInclude(error.message, wrong.password)
        assert.notInclude(JSON.stringify(error), wrong.password)
        assert.isTrue(tokens.requests.some((request) => request.status === 401), "the token server saw and refused the request")
      }),
      wrong
    )
  })

  it.live("no credentials: the token server grants nothing, Unauthorized", () =>
    withCredentials(Effect.gen(function*() {
      const registryClient = yield* Registry
      const error = yield* Effect.flip(registryClient.listTags("shop/api"))
      assert.strictEqual(error.reason, "Unauthorized")
    })))
})
