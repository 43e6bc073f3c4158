/**
 * @module kubectl.test — the real `kubectl` (the one on PATH) against the Kubernetes sandbox over
 * HTTPS, through a kubeconfig the test writes: where kubectl disagrees, the sandbox is wrong.
 * Discovery, `get deploy`, `set image`, `rollout status` (done, and failed on a broken image),
 * `rollout undo` for Deployments, StatefulSets and DaemonSets, client certificates, bearer tokens,
 * 401 and RBAC 403.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { type KubernetesSandbox, startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import { clusterPki } from "../support/KubernetesPki.ts"
import { daemonSet, deployment, statefulSet, writeKubeconfig } from "./fixtures.ts"

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs kubectl asynchronously (the sandbox answers from this process). */
const kubectl = (kubeconfig: string, cacheDir: string, args: ReadonlyArray<string>): Promise<Result> =>
  new Promise((resolve) => {
    execFile("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args], { timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: cacheDir } }, (error, stdout, stderr) => {
      if (error !== null && typeof (error as { code?: unknown }).code === "string") {
        resolve({ code: 127, stdout, stderr: `kubectl could not start (${(error as Error).message}): install kubectl (Debian kubernetes-client)` })
      } else resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout, stderr })
    })
  })

describe("the real kubectl against the Kubernetes sandbox", () => {
  const pki = clusterPki()
  let dir: string
  let sb: KubernetesSandbox
  let asAlice: string
  const run = (args: ReadonlyArray<string>, config = asAlice) => kubectl(config, join(dir, "cache"), args)
  const ok = async (args: ReadonlyArray<string>, config = asAlice) => {
    const r = await run(args, config)
    assert.strictEqual(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}${r.stdout}`)
    return r.stdout
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-rollback-kubectl-"))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  beforeEach(async () => {
    sb = await startKubernetesSandbox({
      rolloutMs: 600,
      progressDeadlineMs: 1200,
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert },
      tokens: { "token-of-carol": "carol" },
      objects: [
        deployment("shop", "web", "registry.example/shop/web:17", { replicas: 3 }),
        deployment("shop", "api", "registry.example/shop/api:41"),
        statefulSet("shop", "db", "registry.example/shop/db:5"),
        daemonSet("shop", "agent", "registry.example/ops/agent:2")
      ]
    })
    const alice = pki.clients.alice!
    asAlice = writeKubeconfig(dir, { server: sb.url, caData: pki.caCert, clientCert: alice.cert, clientKey: alice.key, namespace: "shop" })
  })
  afterEach(() => sb.close())

  it("kubectl get deploy lists the namespace's Deployments with kubectl's columns, as the client certificate's user", async () => {
    const out = await ok(["get", "deploy"])
    const lines = out.trim().split("\n")
    assert.match(lines[0]!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/)
    assert.match(lines[1]!, /^api\s+2\/2\s+2\s+2\s+\d+s$/)
    assert.match(lines[2]!, /^web\s+3\/3\s+3\s+3\s+\d+s$/)
    assert.ok(sb.requests.some((r) => r.path === "/apis/apps/v1/namespaces/shop/deployments" && r.user === "alice"))
    assert.include(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]), "registry.example/shop/web:17")
  })

  it("kubectl set image, rollout status and rollout undo on a Deployment: history by ReplicaSets, change-cause shown", async () => {
    assert.include(await ok(["set", "image", "deploy/web", "web=registry.example/shop/web:18"]), "image updated")
    assert.strictEqual(sb.object("Deployment", "shop", "web")!.spec.template.spec.containers[0].image, "registry.example/shop/web:18")
    assert.ok(sb.object("Deployment", "shop", "web")!.metadata.managedFields.some((m: { manager: string }) => m.manager === "kubectl-set"))
    assert.include(await ok(["rollout", "status", "deploy/web", "--timeout=30s"]), `deployment "web" successfully rolled out`)
    assert.include(await ok(["rollout", "undo", "deploy/web"]), "rolled back")
    assert.include(await ok(["rollout", "status", "deploy/web", "--timeout=30s"]), "successfully rolled out")
    assert.strictEqual(sb.object("Deployment", "shop", "web")!.spec.template.spec.containers[0].image, "registry.example/shop/web:17")
    await ok(["annotate", "deploy/web", "kubernetes.io/change-cause=back to 17 during the incident"])
    const history = await ok(["rollout", "history", "deploy/web"])
    assert.match(history, /^2\s+<none>$/m, JSON.stringify(history))
    assert.match(history, /^3\s+back to 17 during the incident$/m, "going back to revision 1's template reuses its ReplicaSet as revision 3, with the Deployment's change-cause")
    const sets = await ok(["get", "rs", "-o", "name"])
    assert.strictEqual(sets.trim().split("\n").filter((l) => l.includes("web-")).length, 2, "two ReplicaSets of web: the old template's was reused")
  })

  it("kubectl rollout status fails when the new image never pulls: the Deployment exceeds its progress deadline", async () => {
    sb.markBroken("registry.example/shop/api:99")
    await ok(["set", "image", "deploy/api", "api=registry.example/shop/api:99"])
    const status = await run(["rollout", "status", "deploy/api", "--timeout=30s"])
    assert.notStrictEqual(status.code, 0)
    assert.include(status.stderr, `deployment "api" exceeded its progress deadline`)
    const pods = await ok(["get", "pods", "-l", "app=api"])
    assert.include(pods, "ImagePullBackOff")
  })

  it("kubectl set image, rollout status and rollout undo on a StatefulSet and a DaemonSet (ControllerRevisions)", async () => {
    await ok(["set", "image", "sts/db", "db=registry.example/shop/db:6"])
    assert.include(await ok(["rollout", "status", "sts/db", "--timeout=30s"]), "roll out complete")
    await ok(["set", "image", "ds/agent", "agent=registry.example/ops/agent:3"])
    assert.include(await ok(["rollout", "status", "ds/agent", "--timeout=30s"]), `daemon set "agent" successfully rolled out`)
    assert.include(await ok(["rollout", "undo", "sts/db"]), "rolled back")
    assert.include(await ok(["rollout", "undo", "ds/agent"]), "rolled back")
    assert.include(await ok(["rollout", "status", "sts/db", "--timeout=30s"]), "roll out complete")
    assert.include(await ok(["rollout", "status", "ds/agent", "--timeout=30s"]), "successfully rolled out")
    assert.strictEqual(sb.object("StatefulSet", "shop", "db")!.spec.template.spec.containers[0].image, "registry.example/shop/db:5")
    assert.strictEqual(sb.object("DaemonSet", "shop", "agent")!.spec.template.spec.containers[0].image, "registry.example/ops/agent:2")
  })

  it("a bearer token authenticates; a wrong one is 401 and RBAC denials are 403 naming the verb and resource", async () => {
    const asCarol = writeKubeconfig(dir, { server: sb.url, caData: pki.caCert, token: "token-of-carol", namespace: "shop" }, "carol")
    assert.include(await ok(["get", "deploy", "web", "-o", "name"], asCarol), "deployment.apps/web")
    const wrong = writeKubeconfig(dir, { server: sb.url, caData: pki.caCert, token: "not-a-token", namespace: "shop" }, "wrong")
    const denied = await run(["get", "deploy"], wrong)
    assert.notStrictEqual(denied.code, 0)
    assert.include(denied.stderr, "Unauthorized")
    sb.forbid({ user: "carol", verb: "patch", resource: "deployments", namespace: "shop" })
    const forbidden = await run(["set", "image", "deploy/web", "web=registry.example/shop/web:18"], asCarol)
    assert.notStrictEqual(forbidden.code, 0)
    assert.include(forbidden.stderr, `User "carol" cannot patch resource "deployments" in API group "apps" in the namespace "shop"`)
    assert.strictEqual(sb.object("Deployment", "shop", "web")!.spec.template.spec.containers[0].image, "registry.example/shop/web:17")
  })

  it("kubectl verifies the server's certificate: a kubeconfig without the cluster CA is refused", async () => {
    const alice = pki.clients.alice!
    const noCa = writeKubeconfig(dir, { server: sb.url, clientCert: alice.cert, clientKey: alice.key }, "no-ca")
    const r = await run(["get", "deploy"], noCa)
    assert.notStrictEqual(r.code, 0)
    assert.match(r.stderr, /certificate/i)
  })
})
