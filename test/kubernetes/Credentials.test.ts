/**
 * @module Credentials.test — credentials as kubectl finds them, against the sandbox over HTTPS:
 * an `exec` plugin (a small script the test writes) whose ExecCredential expires is run again
 * after its expirationTimestamp; a token the server revokes (401) makes the plugin run again and
 * the request succeed (the sandbox refuses a token it does not know); a token file is re-read after a 401; a bearer token; a plugin printing the
 * wrong apiVersion is refused with a message naming the plugin and never the token.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startTestCluster, targetFor, type TestCluster } from "./support.ts"

/** A plugin that issues token-1, token-2, … expiring $TTL seconds from now (negative: already expired), and logs its KUBERNETES_EXEC_INFO. */
const PLUGIN = `#!/bin/sh
dir="$(dirname "$0")"
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
expiry=$(date -u -d "$TTL seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":"%s"}}\\n' "$ANSWER_VERSION" "$n" "$expiry"
`

describe("Kubernetes credentials as kubectl finds them", () => {
  let c: TestCluster
  beforeEach(async () => {
    c = await startTestCluster()
    for (let i = 1; i <= 6; i++) c.sandbox.setToken(`token-${i}`, { user: `robot-${i}` })
  })
  afterEach(() => c.close())

  const pluginConfig = (ttlSeconds: string, answerVersion = "client.authentication.k8s.io/v1") => {
    const plugin = join(c.dir, "credential-plugin.sh")
    writeFileSync(plugin, PLUGIN)
    chmodSync(plugin, 0o755)
    return c.writeConfig({
      namespace: "shop",
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "./credential-plugin.sh",
        env: [{ name: "TTL", value: ttlSeconds }, { name: "ANSWER_VERSION", value: answerVersion }],
        interactiveMode: "Never"
      }
    }, "exec-kubeconfig")
  }
  const runs = () => Number(readFileSync(join(c.dir, "count"), "utf8").trim())
  const usersSeen = () => [...new Set(c.sandbox.requests.map((r) => r.user).filter((u) => u !== undefined))]

  it.live("an exec credential is cached until its expirationTimestamp", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(pluginConfig("+3600"))
      yield* target.getWorkload("shop/Deployment/api")
      yield* target.getWorkload("shop/Deployment/api")
      assert.strictEqual(runs(), 1, "cached while valid")
      assert.deepStrictEqual(JSON.parse(readFileSync(join(c.dir, "exec-info"), "utf8")), { apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", spec: { interactive: false } })
      assert.deepStrictEqual(usersSeen(), ["robot-1"])
    }))

  it.live("an expired exec credential is renewed: the plugin runs again before the next request", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(pluginConfig("-5"))
      yield* target.getWorkload("shop/Deployment/api")
      yield* target.getWorkload("shop/Deployment/api")
      assert.strictEqual(runs(), 2, "run again after expiry")
      assert.deepStrictEqual(usersSeen(), ["robot-1", "robot-2"])
      assert.deepStrictEqual(c.sandbox.requests.map((r) => r.status), [200, 200], "renewed before sending, not after a 401")
    }))

  it.live("a 401 (token revoked) runs the plugin again and the request succeeds", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(pluginConfig("+3600"))
      yield* target.getWorkload("shop/Deployment/api")
      c.sandbox.revokeToken("token-1")
      const api = yield* target.getWorkload("shop/Deployment/api")
      assert.strictEqual(api.id, "shop/Deployment/api")
      assert.strictEqual(runs(), 2)
      assert.deepStrictEqual(c.sandbox.requests.map((r) => r.status), [200, 401, 200])
    }))

  it.live("a plugin answering with another apiVersion is refused, naming the plugin; no token in the message", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(pluginConfig("+3600", "client.authentication.k8s.io/v1beta1"))
      const error = yield* Effect.flip(target.getWorkload("shop/Deployment/api"))
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, `exec credential plugin "./credential-plugin.sh" answered with apiVersion client.authentication.k8s.io/v1beta1, not the configured client.authentication.k8s.io/v1`)
      assert.notInclude(error.message, "token-1")
      assert.strictEqual(c.sandbox.requests.length, 0, "nothing was sent")
    }))

  it.live("a bearer token, and a token file re-read after a 401 (rotated)", () =>
    Effect.gen(function*() {
      const withToken = yield* targetFor(c.writeConfig({ token: "token-5", namespace: "shop" }, "token-config"))
      yield* withToken.getWorkload("shop/Deployment/api")
      assert.deepStrictEqual(usersSeen(), ["robot-5"])
      const tokenFile = join(c.dir, "token")
      writeFileSync(tokenFile, "token-3\n")
      const config = c.writeConfig({ namespace: "shop" }, "file-config")
      const text = JSON.parse(readFileSync(config, "utf8"))
      text.users[0].user.tokenFile = "token"
      writeFileSync(config, JSON.stringify(text))
      const target = yield* targetFor(config)
      yield* target.getWorkload("shop/Deployment/api")
      c.sandbox.revokeToken("token-3")
      writeFileSync(tokenFile, "token-4\n")
      yield* target.getWorkload("shop/Deployment/api")
      assert.deepStrictEqual(usersSeen(), ["robot-5", "robot-3", "robot-4"])
    }))

  it.live("a wrong token: Unauthorized naming the context and what to do, without the token", () =>
    Effect.gen(function*() {
      const target = yield* targetFor(c.writeConfig({ token: "sekrit-wrong-token", namespace: "shop" }, "wrong"))
      const error = yield* Effect.flip(target.listWorkloads({}))
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, `did not accept the credentials of context "sandbox"`)
      assert.include(error.message, "Renew them")
      assert.notInclude(error.message, "sekrit")
    }))
})
