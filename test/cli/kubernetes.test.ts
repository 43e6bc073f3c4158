/**
 * @module kubernetes.test — the command line with `--target kubernetes` end to end: the real
 * bin in a child process, the sandbox registry and the Kubernetes sandbox over HTTPS (a client
 * certificate in the kubeconfig the test writes, found through KUBECONFIG): run and undo with the
 * report, the config's `target:` section, `plan --server-dry-run`, a broken image with and without
 * `--revert-on-failure`, Ctrl-C after the patches (the report is written), and bad input (exit 2,
 * nothing changed).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { KubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import { startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { deployment, statefulSet, writeKubeconfig } from "../sandbox-kubernetes/fixtures.ts"
import { clusterPki } from "../support/KubernetesPki.ts"
import type { CliResult } from "./runCli.ts"
import { bin, runCli } from "./runCli.ts"

let dir: string
let registry: SandboxRegistry
let cluster: KubernetesSandbox
let host: string
let kubeconfig: string

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-cli-k8s-"))
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" },
      { repository: "shop/db", tag: "3-master", created: "2026-11-09T10:00:00Z" },
      { repository: "shop/db", tag: "4-master", created: "2026-11-21T10:00:00Z" }
    ]
  })
  host = new URL(registry.url).host
  const pki = clusterPki()
  cluster = await startKubernetesSandbox({
    rolloutMs: 200,
    progressDeadlineMs: 600,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert },
    objects: [deployment("shop", "api", `${host}/shop/api:8-master`), statefulSet("shop", "db", `${host}/shop/db:4-master`)]
  })
  const alice = pki.clients.alice!
  kubeconfig = writeKubeconfig(dir, { server: cluster.url, caData: pki.caCert, clientCert: alice.cert, clientKey: alice.key, namespace: "shop" })
  const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api,shop/db", "--env", "master", "--no-cache"], { cwd: dir })
  assert.strictEqual(got.code, 0, got.stderr)
})
afterEach(async () => {
  await Promise.allSettled([registry?.stop(), cluster?.close()])
  rmSync(dir, { recursive: true, force: true })
})

const env = () => ({ KUBECONFIG: kubeconfig })
const cli = (args: ReadonlyArray<string>) => runCli(args, { cwd: dir, env: env() })
const K8S = ["--target", "kubernetes", "--namespace", "shop"]
const image = (kind: string, name: string) => cluster.object(kind, "shop", name)!.spec.template.spec.containers[0].image as string
const report = () => JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8"))
const all = (r: CliResult) => r.stdout + r.stderr

describe("fleet-rollback --target kubernetes", () => {
  it("run rolls the namespace back to the point (a Deployment and a StatefulSet), writes the report; undo puts it back", async () => {
    const run = await cli(["run", ...K8S, "--point", "2026-11-15", "--yes", "--poll-ms", "100"])
    assert.strictEqual(run.code, 0, JSON.stringify(all(run)))
    assert.strictEqual(image("Deployment", "api"), `${host}/shop/api:7-master`)
    assert.strictEqual(image("StatefulSet", "db"), `${host}/shop/db:3-master`)
    const r = report()
    assert.strictEqual(r.outcome, "succeeded")
    assert.strictEqual(r.target.kind, "kubernetes")
    assert.strictEqual(r.target.url, cluster.url)
    assert.strictEqual(r.target.settings.namespaces, "shop")
    assert.deepStrictEqual(r.services.map((s: { app: string }) => s.app).sort(), ["shop/Deployment/api", "shop/StatefulSet/db"])
    assert.match(cluster.object("Deployment", "shop", "api")!.metadata.annotations["kubernetes.io/change-cause"], /^fleet-rollback run to .+ by oncall$/, "names the point and the user")
    const undo = await cli(["undo", ...K8S, "--yes", "--poll-ms", "100"])
    assert.strictEqual(undo.code, 0, all(undo))
    assert.strictEqual(image("Deployment", "api"), `${host}/shop/api:8-master`)
    assert.strictEqual(image("StatefulSet", "db"), `${host}/shop/db:4-master`)
  })

  it("the config's target section instead of flags; plan --server-dry-run shows what the API server said and changes nothing", async () => {
    writeFileSync(join(dir, "fleet-rollback.yaml"), "target:\n  kind: kubernetes\n  namespaces: [shop]\n")
    const before = cluster.snapshot()
    const plan = await cli(["plan", "--point", "2026-11-15", "--server-dry-run"])
    assert.strictEqual(plan.code, 0, all(plan))
    assert.include(all(plan), "dryRun=All")
    assert.ok(cluster.requests.some((r) => r.method === "PATCH" && r.query.includes("dryRun=All")))
    assert.deepStrictEqual(cluster.snapshot(), before)
  })

  it("a broken image: run fails (exit 1) with the pods' waiting reason; with --revert-on-failure the previous images come back", async () => {
    cluster.markBroken(`${host}/shop/api:7-master`)
    const failed = await cli(["run", ...K8S, "--point", "2026-11-15", "--yes", "--poll-ms", "100"])
    assert.strictEqual(failed.code, 1, all(failed))
    assert.include(all(failed), "ImagePullBackOff")
    assert.strictEqual(image("Deployment", "api"), `${host}/shop/api:7-master`)
    const undo = await cli(["undo", ...K8S, "--yes", "--poll-ms", "100"])
    assert.strictEqual(undo.code, 0, all(undo))
    const reverted = await cli(["run", ...K8S, "--point", "2026-11-15", "--yes", "--poll-ms", "100", "--revert-on-failure"])
    assert.strictEqual(reverted.code, 1, all(reverted))
    assert.strictEqual(image("Deployment", "api"), `${host}/shop/api:8-master`)
    assert.include(report().message, "revert")
  })

  it("Ctrl-C after the patches were sent: the report is written and says what was applied", async () => {
    cluster.markBroken(`${host}/shop/api:7-master`)
    const child = spawn(process.execPath, [bin, "run", ...K8S, "--point", "2026-11-15", "--yes", "--poll-ms", "100"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1", ...env() }
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.on("exit", (c) => done(c)))
    for (let i = 0; i < 300 && cluster.requests.filter((r) => r.method === "PATCH").length < 2; i++) await new Promise((r) => setTimeout(r, 50))
    assert.strictEqual(cluster.requests.filter((r) => r.method === "PATCH").length, 2, stderr)
    child.kill("SIGINT")
    assert.notStrictEqual(await exited, 0)
    const r = report()
    assert.strictEqual(r.outcome, "failed")
    assert.include(r.message, "interrupted")
  })

  it("bad input: an unknown context, a bad namespace: exit 2, nothing sent", async () => {
    const context = await cli(["run", ...K8S, "--context", "prod", "--point", "2026-11-15", "--yes"])
    assert.strictEqual(context.code, 2, all(context))
    assert.include(context.stderr, `context "prod" is not in`)
    const namespace = await cli(["run", "--target", "kubernetes", "--namespace", "Shop_Prod", "--point", "2026-11-15", "--yes"])
    assert.strictEqual(namespace.code, 2, all(namespace))
    assert.include(namespace.stderr, "a namespace is a DNS label")
    assert.strictEqual(cluster.requests.length, 0)
  })
})
