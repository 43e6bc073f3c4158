/**
 * @module credential-helpers real-registry tests — Docker credential helpers and identity tokens
 * against Debian's docker-registry 2.8.2, behind htpasswd (Basic) and behind a token server
 * (Bearer, with OAuth2 refresh tokens). The helpers are shell scripts this test writes into a
 * directory put first on the PATH, `docker-credential-<name>`, speaking the helpers' protocol:
 * `get` with the server address on stdin, `{"ServerURL", "Username", "Secret"}` on stdout.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { Registry, resolveRegistryCredentials } from "../../lib/registry/Registry.ts"
import { runCli } from "../cli/runCli.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry, RegistryUser } from "../support/DockerRegistry.ts"
import { Pusher, pushOciImage } from "../support/pushImage.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { randomPassword, registryLayer } from "./fixtures.ts"

const user: RegistryUser = { username: "jenkins", password: randomPassword() }
const refreshToken = `refresh-${crypto.randomUUID()}`
/** What the failing helper prints: it must never reach a message. */
const HELPER_OUTPUT_SECRET = `helper-output-${crypto.randomUUID()}`

let basic: DockerRegistry
let tokens: TokenServer
let bearer: DockerRegistry
const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-cred-helpers-"))
const binDir = join(dir, "bin")
const stdinLog = join(dir, "helper-stdin.log")

/** Writes `docker-credential-<name>` (a shell script) into the bin directory. */
const writeHelper = (name: string, body: string): void => {
  const file = join(binDir, `docker-credential-${name}`)
  writeFileSync(file, `#!/bin/sh\n[ "$1" = get ] || { echo "unexpected action $1" >&2; exit 9; }\n${body}\n`)
  chmodSync(file, 0o755)
}

/** A Docker config directory holding `config`. */
const dockerConfig = (config: unknown): string => {
  const configDir = mkdtempSync(join(dir, "docker-"))
  writeFileSync(join(configDir, "config.json"), JSON.stringify(config))
  return configDir
}

const envWith = (configDir: string) => ({ PATH: `${binDir}:${process.env["PATH"] ?? ""}`, DOCKER_CONFIG: configDir })

const resolve = (url: string, configDir: string) =>
  resolveRegistryCredentials(url, envWith(configDir), dir).pipe(Effect.provide(NodeServices.layer))

/** Resolves the credentials for the registry as the CLI does, then reads shop/api with them. */
const readWith = (registry: DockerRegistry, configDir: string) =>
  Effect.gen(function*() {
    const credentials = yield* resolve(registry.url, configDir)
    assert.isDefined(credentials, "credentials were found")
    const read = yield* Effect.gen(function*() {
      return yield* (yield* Registry).readRepository("shop/api")
    }).pipe(Effect.provide(registryLayer({ url: registry.url, retries: 1, ...(credentials === undefined ? {} : { credentials }) })))
    return { credentials, tags: read.images.map((i) => i.tag) }
  })

beforeAll(async () => {
  mkdirSync(binDir)
  basic = await startDockerRegistry({ auth: "htpasswd", users: [user] })
  tokens = await startTokenServer({ users: [user], refreshTokens: { [refreshToken]: user.username } })
  bearer = await startDockerRegistry({ auth: "token", token: tokens.registryAuth })
  for (const registry of [basic, bearer]) {
    await pushOciImage(new Pusher({ url: registry.url, credentials: user }), { repository: "shop/api", tag: "41-master", config: { created: "2026-03-01T10:00:00Z" } })
  }
  // The store: the password for the Basic registry, an identity token for the Bearer one, else nothing.
  writeHelper("fleettest", [
    `server=$(cat)`,
    `printf '%s\\n' "$server" >> '${stdinLog}'`,
    `case "$server" in`,
    `  '${basic.host}') printf '{"ServerURL":"%s","Username":"${user.username}","Secret":"${user.password}"}' "$server" ;;`,
    `  '${bearer.host}') printf '{"ServerURL":"%s","Username":"<token>","Secret":"${refreshToken}"}' "$server" ;;`,
    `  *) echo "credentials not found in native keychain"; exit 1 ;;`,
    `esac`
  ].join("\n"))
  writeHelper("broken", `cat >/dev/null\necho "${HELPER_OUTPUT_SECRET}"\necho "${HELPER_OUTPUT_SECRET}" >&2\nexit 3`)
  writeHelper("garbled", `cat >/dev/null\necho "${HELPER_OUTPUT_SECRET} is not JSON"`)
}, 120_000)

afterAll(async () => {
  await Promise.allSettled([basic?.stop(), bearer?.stop(), tokens?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

describe("Docker credential helpers and identity tokens, against the real registry", () => {
  it.live("credHelpers[host] runs docker-credential-<name> get with the host on stdin, and its password reads the Basic registry (the auths entry is not used)", () =>
    Effect.gen(function*() {
      writeFileSync(stdinLog, "")
      const configDir = dockerConfig({
        auths: { [basic.host]: { auth: btoa("jenkins:wrong-password") } },
        credHelpers: { [basic.host]: "fleettest" }
      })
      const { credentials, tags } = yield* readWith(basic, configDir)
      assert.deepStrictEqual(tags, ["41-master"])
      assert.strictEqual(credentials?.username, user.username)
      assert.include(credentials?.source, "docker-credential-fleettest (credHelpers in")
      assert.deepStrictEqual(readFileSync(stdinLog, "utf8").split("\n").filter((l) => l !== ""), [basic.host])
    }))

  it.live("credsStore is asked when no credHelpers entry names the registry", () =>
    Effect.gen(function*() {
      const configDir = dockerConfig({ credsStore: "fleettest", credHelpers: { "elsewhere.example.com": "broken" }, auths: { [basic.host]: {} } })
      const { credentials, tags } = yield* readWith(basic, configDir)
      assert.deepStrictEqual(tags, ["41-master"])
      assert.include(credentials?.source, "docker-credential-fleettest (credsStore in")
    }))

  it.live("a helper's identity token (user <token>) is exchanged at the token server (POST, grant_type=refresh_token) and reads the Bearer registry; the password is never sent", () =>
    Effect.gen(function*() {
      tokens.reset()
      const configDir = dockerConfig({ credHelpers: { [bearer.host]: "fleettest" } })
      const { credentials, tags } = yield* readWith(bearer, configDir)
      assert.deepStrictEqual(tags, ["41-master"])
      assert.strictEqual(credentials?.username, "<token>")
      assert.isAbove(tokens.requests.length, 0)
      for (const request of tokens.requests) {
        assert.deepInclude(request, { status: 200, method: "POST", username: user.username }, JSON.stringify(tokens.requests))
      }
    }))

  it.live("identitytoken in a Docker config auths entry reads the Bearer registry the same way", () =>
    Effect.gen(function*() {
      tokens.reset()
      const configDir = dockerConfig({ auths: { [bearer.host]: { identitytoken: refreshToken } } })
      const { tags } = yield* readWith(bearer, configDir)
      assert.deepStrictEqual(tags, ["41-master"])
      assert.isTrue(tokens.requests.every((r) => r.method === "POST" && r.status === 200), JSON.stringify(tokens.requests))
    }))

  it.live("a wrong identity token is Unauthorized and names where the credentials came from, never the token", () =>
    Effect.gen(function*() {
      const wrong = `refresh-${crypto.randomUUID()}`
      const configDir = dockerConfig({ auths: { [bearer.host]: { identitytoken: wrong } } })
      const credentials = yield* resolve(bearer.url, configDir)
      const error = yield* Effect.flip(Effect.gen(function*() {
        return yield* (yield* Registry).readRepository("shop/api")
      }).pipe(Effect.provide(registryLayer({ url: bearer.url, retries: 1, ...(credentials === undefined ? {} : { credentials }) }))))
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, `the auths entry "${bearer.host}"`)
      assert.notInclude(JSON.stringify(error), wrong)
    }))

  it.live("a helper that has nothing for the registry (\"credentials not found in native keychain\") means no credentials, not an error", () =>
    Effect.gen(function*() {
      const configDir = dockerConfig({ credsStore: "fleettest" })
      assert.isUndefined(yield* resolve("https://registry.example.com", configDir))
    }))

  it.live("a helper that fails is an error naming it and the registry, without its output", () =>
    Effect.gen(function*() {
      for (const helper of ["broken", "garbled"]) {
        const configDir = dockerConfig({ credHelpers: { [basic.host]: helper } })
        const error = yield* Effect.flip(resolve(basic.url, configDir))
        assert.include(error.message, `docker-credential-${helper} (credHelpers in ${join(configDir, "config.json")})`)
        assert.include(error.message, basic.host)
        assert.notInclude(JSON.stringify(error), HELPER_OUTPUT_SECRET, helper)
        assert.notInclude(String(error.cause ?? ""), HELPER_OUTPUT_SECRET, helper)
      }
    }))

  it.live("a helper that is not on the PATH is an error naming it and where it is configured", () =>
    Effect.gen(function*() {
      const configDir = dockerConfig({ credsStore: "not-installed" })
      const error = yield* Effect.flip(resolve(basic.url, configDir))
      assert.include(error.message, "docker-credential-not-installed")
      assert.include(error.message, "is not on the PATH")
      assert.include(error.message, `credsStore in ${join(configDir, "config.json")}`)
    }))

  it("fleet-rollback get finds the helper on the operator's PATH and writes the fleet; a failing helper is bad input (exit 2) naming it", async () => {
    const work = mkdtempSync(join(dir, "cli-"))
    const good = dockerConfig({ credHelpers: { [basic.host]: "fleettest" } })
    const result = await runCli(["get", "--registry", basic.url, "--repo", "shop/api", "--no-cache"], { cwd: work, env: envWith(good) })
    assert.strictEqual(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(work, "rollback.json"), "utf8")) as { images: Record<string, ReadonlyArray<{ tag: string }>> }
    assert.deepStrictEqual(Object.values(file.images).flat().map((i) => i.tag), ["41-master"])
    const bad = dockerConfig({ credHelpers: { [basic.host]: "broken" } })
    const failed = await runCli(["get", "--registry", basic.url, "--repo", "shop/api", "--no-cache"], { cwd: work, env: envWith(bad) })
    assert.strictEqual(failed.code, 2, failed.stderr)
    assert.include(failed.stderr, "docker-credential-broken")
    assert.notInclude(failed.stdout + failed.stderr, HELPER_OUTPUT_SECRET)
  }, 120_000)
})
