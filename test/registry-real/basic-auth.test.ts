/**
 * @module basic-auth real-registry tests — docker-registry 2.8.2 behind an htpasswd file made by
 * the real `htpasswd -B` (bcrypt): the right password reads the fleet, a wrong or missing one is
 * a clear Unauthorized error that never repeats the password.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { Registry } from "../../lib/registry/Registry.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry, RegistryUser } from "../support/DockerRegistry.ts"
import { byTag, clientCredentials, pushStandardFixtures, randomPassword, registryLayer } from "./fixtures.ts"
import type { PushedFixtures } from "./fixtures.ts"

const user: RegistryUser = { username: "jenkins", password: randomPassword() }
let registry: DockerRegistry
let fixtures: PushedFixtures

beforeAll(async () => {
  registry = await startDockerRegistry({ auth: "htpasswd", users: [user] })
  fixtures = await pushStandardFixtures({ url: registry.url, credentials: user })
})

afterAll(async () => {
  await registry?.stop()
})

const withCredentials = <A, E>(effect: Effect.Effect<A, E, Registry>, credentials?: RegistryUser) =>
  Effect.suspend(() =>
    effect.pipe(Effect.provide(registryLayer({
      url: registry.url,
      retries: 1,
      ...(credentials === undefined ? {} : { credentials: clientCredentials(credentials) })
    })))
  )

describe("Basic auth (htpasswd, bcrypt) on docker-registry 2.8.2", () => {
  it("the htpasswd file holds a bcrypt hash, not the password", () => {
    const file = readFileSync(join(registry.dir, "htpasswd"), "utf8")
    assert.match(file, /^jenkins:\$2y\$/)
    assert.notInclude(file, user.password)
  })

  it.live("reads every repository with the right password", () =>
    withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        for (const repository of ["shop/api", "shop/legacy", "shop/web"]) {
          const read = yield* registryClient.readRepository(repository)
          assert.deepStrictEqual(byTag(read.images), fixtures.expected[repository])
        }
      }),
      user
    ))

  it.live("a wrong password is Unauthorized, and the message names the registry but not the password", () => {
    const wrong: RegistryUser = { username: "jenkins", password: randomPassword() }
    return withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        const error = yield* Effect.flip(registryClient.readRepository("shop/api"))
        assert.strictEqual(error._tag, "RegistryError")
        assert.strictEqual(error.reason, "Unauthorized")
        assert.notInclude(error.message, wrong.password)
        assert.notInclude(error.message, user.password)
        assert.notInclude(String(error), wrong.password)
        assert.notInclude(JSON.stringify(error), wrong.password)
        assert.include(error.message, "127.0.0.1")
      }),
      wrong
    )
  })

  it.live("no credentials at all is Unauthorized too (not NotFound, not a crash)", () =>
    withCredentials(Effect.gen(function*() {
      const registryClient = yield* Registry
      const error = yield* Effect.flip(registryClient.listTags("shop/api"))
      assert.strictEqual(error.reason, "Unauthorized")
    })))

  it.live("an unknown user is Unauthorized", () =>
    withCredentials(
      Effect.gen(function*() {
        const registryClient = yield* Registry
        const error = yield* Effect.flip(registryClient.readImage("shop/api", "41-master"))
        assert.strictEqual(error.reason, "Unauthorized")
      }),
      { username: "nobody", password: user.password }
    ))
})
