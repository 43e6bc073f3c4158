/**
 * @module Kubeconfig.test — finding the cluster as kubectl does: KUBECONFIG files merged in order
 * (first definition wins), `current-context` or `--context`, relative paths against the file
 * naming them, `*-data` and file forms, insecure only when the kubeconfig says so, exec plugins'
 * apiVersion checked, in-cluster service account, and clear errors that never print a secret.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { stringify } from "yaml"
import { loadClusterAccess } from "../../lib/targets/kubernetes/Kubeconfig.ts"

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
const b64 = (s: string) => Buffer.from(s).toString("base64")

describe("kubeconfig as kubectl finds it", () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-rollback-kubeconfig-"))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const write = (name: string, doc: unknown) => {
    const file = join(dir, name)
    mkdirSync(join(file, ".."), { recursive: true })
    writeFileSync(file, stringify(doc))
    return file
  }

  it.effect("merges KUBECONFIG files in order: the first file that sets current-context, a cluster or a user wins", () =>
    Effect.gen(function*() {
      const first = write("a/config", {
        "current-context": "prod",
        clusters: [{ name: "c1", cluster: { server: "https://first:6443", "certificate-authority": "ca.pem" } }],
        users: [{ name: "u1", user: { token: "first-token" } }]
      })
      writeFileSync(join(dir, "a", "ca.pem"), CA)
      const second = write("b/config", {
        "current-context": "staging",
        clusters: [{ name: "c1", cluster: { server: "https://second:6443" } }, { name: "c2", cluster: { server: "https://staging:6443", "insecure-skip-tls-verify": true } }],
        users: [{ name: "u1", user: { token: "second-token" } }],
        contexts: [{ name: "prod", context: { cluster: "c1", user: "u1", namespace: "shop" } }, { name: "staging", context: { cluster: "c2", user: "u1" } }]
      })
      const access = yield* loadClusterAccess({ kubeconfig: `${first}:${second}` })
      assert.strictEqual(access.server, "https://first:6443")
      assert.strictEqual(access.context, "prod")
      assert.strictEqual(access.namespace, "shop")
      assert.strictEqual(access.token, "first-token")
      assert.strictEqual(access.caPem, CA, "certificate-authority resolves against the file naming it")
      assert.strictEqual(access.insecureSkipTlsVerify, false)
      const staging = yield* loadClusterAccess({ kubeconfig: `${first}:${second}`, context: "staging" })
      assert.strictEqual(staging.server, "https://staging:6443")
      assert.strictEqual(staging.insecureSkipTlsVerify, true, "only because the kubeconfig says so")
    }))

  it.effect("client certificate and CA data, exec plugins checked, ~/.kube/config by default", () =>
    Effect.gen(function*() {
      write("home/.kube/config", {
        "current-context": "x",
        clusters: [{ name: "c", cluster: { server: "https://k:443", "certificate-authority-data": b64(CA) } }],
        users: [{ name: "u", user: { "client-certificate-data": b64(CA), "client-key-data": b64("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n") } }, { name: "e", user: { exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "aws" } } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }, { name: "old-exec", context: { cluster: "c", user: "e" } }]
      })
      const access = yield* loadClusterAccess({ home: join(dir, "home") })
      assert.strictEqual(access.caPem, CA)
      assert.strictEqual(access.clientCertPem, CA)
      assert.include(access.clientKeyPem!, "PRIVATE KEY")
      const bad = yield* Effect.flip(loadClusterAccess({ home: join(dir, "home"), context: "old-exec" }))
      assert.include(bad.message, `exec plugin: invalid apiVersion "client.authentication.k8s.io/v1alpha1"`)
    }))

  it.effect("an unknown context, a missing file and no pod: clear errors saying what to do, without secrets", () =>
    Effect.gen(function*() {
      const file = write("config", { clusters: [{ name: "c", cluster: { server: "https://k" } }], users: [{ name: "u", user: { token: "top-secret" } }], contexts: [{ name: "a", context: { cluster: "c", user: "u" } }] })
      const none = yield* Effect.flip(loadClusterAccess({ kubeconfig: file }))
      assert.include(none.message, "sets no current-context. Pass --context NAME (one of: a)")
      const unknown = yield* Effect.flip(loadClusterAccess({ kubeconfig: file, context: "prod" }))
      assert.include(unknown.message, `context "prod" is not in`)
      assert.notInclude(unknown.message, "top-secret")
      const missing = yield* Effect.flip(loadClusterAccess({ kubeconfig: join(dir, "nope") }))
      assert.include(missing.message, "Set KUBECONFIG")
      assert.strictEqual(missing.reason, "Invalid")
    }))

  it.effect("in a pod: the service account's token file, CA and namespace, the server from the service env (IPv6 in brackets)", () =>
    Effect.gen(function*() {
      const sa = join(dir, "sa")
      mkdirSync(sa)
      writeFileSync(join(sa, "token"), "sa-token")
      writeFileSync(join(sa, "ca.crt"), CA)
      writeFileSync(join(sa, "namespace"), "shop\n")
      const access = yield* loadClusterAccess({ kubeconfig: join(dir, "absent"), serviceHost: "fd00::1", servicePort: "443", serviceAccountDir: sa })
      assert.strictEqual(access.server, "https://[fd00::1]:443")
      assert.strictEqual(access.tokenFile, join(sa, "token"))
      assert.strictEqual(access.caPem, CA)
      assert.strictEqual(access.namespace, "shop")
      assert.strictEqual(access.token, undefined, "re-read from the file, never kept from the start")
    }))
})
