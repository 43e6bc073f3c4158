/**
 * @module Credentials.test — where the registry password comes from (never a flag) and what is
 * said when it is half-configured.
 */
import { NodeFileSystem } from "@effect/platform-node"
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
  resolveRegistryCredentials(url, env, home).pipe(Effect.provide(NodeFileSystem.layer))

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
})
