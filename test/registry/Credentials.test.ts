/**
 * @module Credentials.test — where the registry password comes from (never a flag) and what is
 * said when it is half-configured; the auth files in their order (REGISTRY_AUTH_FILE, the Docker
 * config, containers' auth.json). Credential helpers against a real registry:
 * test/registry-real/credential-helpers.test.ts.
 */
import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { resolveRegistryCredentials } from "../../lib/registry/Registry.ts"

/** Every temporary directory these tests make, under one parent removed after the file. */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-creds-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let made = 0
const tmp = () => {
  const dir = path.join(root, String(made++))
  fs.mkdirSync(dir)
  return dir
}

const resolve = (url: string, env: Record<string, string | undefined>, home: string) =>
  resolveRegistryCredentials(url, env, home).pipe(Effect.provide(NodeServices.layer))

const plain = (credentials: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined) =>
  credentials === undefined ? undefined : { username: credentials.username, password: Redacted.value(credentials.password) }

const dockerConfig = (home: string, auths: Record<string, unknown>) => {
  fs.mkdirSync(path.join(home, ".docker"), { recursive: true })
  fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ auths }))
}

describe("registry credentials", () => {
  it.effect("REGISTRY_USERNAME and REGISTRY_PASSWORD from the environment win over the Docker config", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, { "registry.example.com": { auth: btoa("docker:fromconfig") } })
      const creds = yield* resolve("https://registry.example.com", { REGISTRY_USERNAME: "ci", REGISTRY_PASSWORD: "pw" }, home)
      assert.deepStrictEqual(plain(creds), { username: "ci", password: "pw" })
      assert.notInclude(String(creds?.password), "pw")
    }))

  it.effect("REGISTRY_PASSWORD_FILE and REGISTRY_USERNAME_FILE are read, the trailing newline dropped", () =>
    Effect.gen(function*() {
      const dir = tmp()
      fs.writeFileSync(path.join(dir, "user"), "ci\n")
      fs.writeFileSync(path.join(dir, "pw"), "s3cret with spaces \n")
      const creds = yield* resolve(
        "https://registry.example.com",
        { REGISTRY_USERNAME_FILE: path.join(dir, "user"), REGISTRY_PASSWORD_FILE: path.join(dir, "pw") },
        dir
      )
      assert.deepStrictEqual(plain(creds), { username: "ci", password: "s3cret with spaces " })
    }))

  it.effect("an unreadable REGISTRY_PASSWORD_FILE names the variable and the path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve(
        "https://r.io",
        { REGISTRY_USERNAME: "ci", REGISTRY_PASSWORD_FILE: "/nonexistent/pw" },
        tmp()
      ))
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, "REGISTRY_PASSWORD_FILE")
      assert.include(error.message, "/nonexistent/pw")
    }))

  it.effect("a username without a password is an error that names what is missing", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve("https://r.io", { REGISTRY_USERNAME: "ci" }, tmp()))
      assert.include(error.message, "REGISTRY_PASSWORD")
    }))

  it.effect("~/.docker/config.json auths[host].auth (base64 user:pass) is used for the registry's host:port", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, {
        "other.example.com": { auth: btoa("nope:nope") },
        "127.0.0.1:5000": { auth: btoa("local:pa:ss") }
      })
      const creds = yield* resolve("http://127.0.0.1:5000", {}, home)
      assert.deepStrictEqual(plain(creds), { username: "local", password: "pa:ss" })
    }))

  it.effect("Docker Hub's https://index.docker.io/v1/ entry serves registry-1.docker.io", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, { "https://index.docker.io/v1/": { auth: btoa("hubuser:hubtoken") } })
      const creds = yield* resolve("https://registry-1.docker.io", {}, home)
      assert.deepStrictEqual(plain(creds), { username: "hubuser", password: "hubtoken" })
    }))

  it.effect("DOCKER_CONFIG points to another config directory", () =>
    Effect.gen(function*() {
      const dir = tmp()
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths: { "r.io": { auth: btoa("a:b") } } }))
      const creds = yield* resolve("r.io", { DOCKER_CONFIG: dir }, tmp())
      assert.deepStrictEqual(plain(creds), { username: "a", password: "b" })
    }))

  it.effect("no variables and no Docker config means anonymous (undefined)", () =>
    Effect.gen(function*() {
      assert.isUndefined(yield* resolve("https://r.io", {}, tmp()))
    }))

  it.effect("a Docker config entry for another registry is not sent to this one", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, { "registry.example.com": { auth: btoa("u:p") } })
      assert.isUndefined(yield* resolve("https://registry.example.com:5000", {}, home))
    }))

  it.effect("identitytoken in an auths entry is kept as the identity token (and the user, when given)", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, { "r.io": { username: "ci", identitytoken: "refresh-123" } })
      const creds = yield* resolve("https://r.io", {}, home)
      assert.strictEqual(creds?.username, "ci")
      assert.strictEqual(creds?.identityToken === undefined ? undefined : Redacted.value(creds.identityToken), "refresh-123")
      assert.notInclude(String(creds?.identityToken), "refresh-123")
    }))

  it.effect("REGISTRY_AUTH_FILE comes before the Docker config", () =>
    Effect.gen(function*() {
      const home = tmp()
      dockerConfig(home, { "r.io": { auth: btoa("docker:d") } })
      const file = path.join(tmp(), "auth.json")
      fs.writeFileSync(file, JSON.stringify({ auths: { "r.io": { auth: btoa("podman:p") } } }))
      const creds = yield* resolve("https://r.io", { REGISTRY_AUTH_FILE: file }, home)
      assert.deepStrictEqual(plain(creds), { username: "podman", password: "p" })
      assert.include(creds?.source, file)
    }))

  it.effect("a REGISTRY_AUTH_FILE that cannot be read is an error naming it; one without this registry falls through", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve("https://r.io", { REGISTRY_AUTH_FILE: "/nonexistent/auth.json" }, tmp()))
      assert.include(error.message, "REGISTRY_AUTH_FILE (/nonexistent/auth.json)")
      const home = tmp()
      dockerConfig(home, { "r.io": { auth: btoa("docker:d") } })
      const other = path.join(tmp(), "auth.json")
      fs.writeFileSync(other, JSON.stringify({ auths: { "elsewhere.io": { auth: btoa("x:y") } } }))
      assert.deepStrictEqual(plain(yield* resolve("https://r.io", { REGISTRY_AUTH_FILE: other }, home)), { username: "docker", password: "d" })
    }))

  it.effect("containers' auth.json: $XDG_RUNTIME_DIR/containers/auth.json, then $XDG_CONFIG_HOME/containers/auth.json, after the Docker config", () =>
    Effect.gen(function*() {
      const home = tmp()
      const runtime = tmp()
      const config = tmp()
      const write = (dir: string, user: string) => {
        fs.mkdirSync(path.join(dir, "containers"), { recursive: true })
        fs.writeFileSync(path.join(dir, "containers", "auth.json"), JSON.stringify({ auths: { "r.io": { auth: btoa(`${user}:pw`) } } }))
      }
      write(config, "from-config-home")
      const env = { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: config }
      assert.strictEqual((yield* resolve("https://r.io", env, home))?.username, "from-config-home")
      write(runtime, "from-runtime-dir")
      assert.strictEqual((yield* resolve("https://r.io", env, home))?.username, "from-runtime-dir")
      dockerConfig(home, { "r.io": { auth: btoa("from-docker:pw") } })
      assert.strictEqual((yield* resolve("https://r.io", env, home))?.username, "from-docker")
    }))

  it.effect("without XDG_CONFIG_HOME, containers' auth.json is read from ~/.config/containers/auth.json", () =>
    Effect.gen(function*() {
      const home = tmp()
      fs.mkdirSync(path.join(home, ".config", "containers"), { recursive: true })
      fs.writeFileSync(path.join(home, ".config", "containers", "auth.json"), JSON.stringify({ auths: { "r.io/team": { auth: btoa("podman:pw") } } }))
      assert.deepStrictEqual(plain(yield* resolve("https://r.io", {}, home)), { username: "podman", password: "pw" })
    }))
})
