/**
 * @module gitops.test — the command line on the GitOps and Pulumi targets, end to end: the real
 * `fleet-rollback` bin, the sandbox registry, and REAL git (a bare repository on disk, reached as
 * `https://github.com/shop/deploy.git` through the operator's own `url.insteadOf`, so the pull
 * request URL is GitHub's). plan shows the file and line and the Flux automation; run commits,
 * pushes `rollback/<point>` and prints the pull request URL; the report says it ends at committed
 * and pushed; undo restores the lines byte for byte; Pulumi's shared key picks one tag for all.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { git, makeRemote } from "../support/GitRemote.ts"
import type { TestRemote } from "../support/GitRemote.ts"
import { STANDIN } from "../support/PulumiStandIn.ts"
import { startTestCluster } from "../kubernetes/support.ts"
import { deployment } from "../sandbox-kubernetes/fixtures.ts"
import type { CliResult } from "./runCli.ts"
import { runCli } from "./runCli.ts"

const execFileAsync = promisify(execFile)
let dir: string
let registry: SandboxRegistry
let remote: TestRemote
let host: string
let env: Record<string, string>

const GITHUB = "https://github.com/shop/deploy.git"
const all = (r: CliResult) => r.stdout + r.stderr
const KUSTOMIZATION = (api: string, web: string) => `resources:
- deployment.yaml
images:
- name: HOST/shop/api
  newTag: ${api} # {"$imagepolicy": "flux-system:api:tag"}
- name: HOST/shop/web
  newTag: ${web}
`
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
      - {name: api, image: HOST/shop/api}
      - {name: web, image: HOST/shop/web}
`

const start = async (images: Parameters<typeof startSandboxRegistry>[0]["images"], scheme: ReadonlyArray<string>) => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-gitops-cli-"))
  registry = await startSandboxRegistry({ images })
  host = new URL(registry.url).host
  remote = makeRemote()
  // the operator's git: an identity, and the GitHub URL mapped onto the bare repository
  writeFileSync(join(dir, ".gitconfig"), `[user]\n\tname = On Call\n\temail = oncall@example.com\n[url "${remote.bare}"]\n\tinsteadOf = ${GITHUB}\n`)
  env = { GIT_CONFIG_GLOBAL: join(dir, ".gitconfig"), GIT_CONFIG_NOSYSTEM: "1" }
  const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api,shop/web", ...scheme, "--no-cache"], { cwd: dir })
  assert.strictEqual(got.code, 0, all(got))
}
afterEach(async () => {
  await registry?.stop()
  remote?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("--target gitops on the command line", () => {
  beforeEach(async () => {
    await start([
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" },
      { repository: "shop/web", tag: "3-master", created: "2026-11-09T10:00:00Z" },
      { repository: "shop/web", tag: "4-master", created: "2026-11-21T10:00:00Z" }
    ], ["--env", "master"])
    remote.commit({ "app/kustomization.yaml": KUSTOMIZATION("8-master", "4-master").replaceAll("HOST", host), "app/deployment.yaml": DEPLOYMENT.replaceAll("HOST", host) }, "shop")
  })
  const flags = () => ["--target", "gitops", "--repo-url", GITHUB, "--point", "2026-11-15"]

  it("plan names the file and line and the automation not held; run --hold commits once, pushes rollback/<point>, prints the pull request URL; the report ends at committed and pushed", async () => {
    const plan = await runCli(["plan", ...flags()], { cwd: dir, env })
    assert.strictEqual(plan.code, 0, all(plan))
    assert.include(plan.stdout, "api: changes app/kustomization.yaml:5 — Flux image automation flux-system:api:tag is on this line and NOT held")
    assert.include(plan.stdout, "web: changes app/kustomization.yaml:7")
    assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [], "plan changes nothing")

    const run = await runCli(["run", ...flags(), "--yes", "--hold", "--user", "mike"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, all(run))
    const branch = "rollback/2026-11-15T23-59-59.999Z"
    assert.include(all(run), `open the pull request: https://github.com/shop/deploy/compare/main...${branch}?expand=1`)
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8")) as Record<string, unknown> & { services: Array<Record<string, unknown>> }
    assert.strictEqual(report["outcome"], "succeeded")
    assert.deepStrictEqual(report["target"], { kind: "gitops", url: GITHUB, settings: { branch: "main", strategy: "set" } })
    assert.strictEqual(report["deploymentId"], remote.head(branch))
    assert.match(String(report["message"]), /does not wait for the fleet to run them: the run ends here/)
    assert.include(String(report["message"]), "open the pull request: https://github.com/")
    assert.deepStrictEqual(report.services.map((s) => [s["service"], s["outcome"]]), [["api", "rolled-back"], ["web", "rolled-back"]])
    const after = remote.show(branch, "app/kustomization.yaml")!
    assert.strictEqual(after, KUSTOMIZATION("7-master", "3-master").replaceAll("HOST", host).replace('"$imagepolicy"', '"$imagepolicy (held by fleet-rollback)"'))
    const message = git(remote.bare, ["log", "-1", "--format=%an%n%B", branch])
    assert.match(message, /^On Call\nRoll back 2 service\(s\) to 2026-11-15T23:59:59.999Z/)
    assert.match(message, /\nRun by: fleet-rollback run to 2026-11-15T23:59:59.999Z by mike\n/)
  })

  it("--push-to-branch then undo: the tracked branch gets the rollback, then the previous lines back byte for byte", async () => {
    const original = remote.show("main", "app/kustomization.yaml")!
    const run = await runCli(["run", ...flags(), "--yes", "--push-to-branch", "--hold"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, all(run))
    assert.include(remote.show("main", "app/kustomization.yaml")!, "newTag: 7-master")
    const undo = await runCli(["undo", "--yes", "--target", "gitops", "--repo-url", GITHUB, "--push-to-branch"], { cwd: dir, env })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.strictEqual(remote.show("main", "app/kustomization.yaml"), original)
    assert.match(git(remote.bare, ["log", "-1", "--format=%B", "main"]), /^Undo rollback[\s\S]*turned back on: flux-system:api:tag/)
  })

  it("--strategy revert: Flux's Auto-release commits since the point are reverted in one commit (seed 001's way)", async () => {
    remote.commit({ "app/kustomization.yaml": KUSTOMIZATION("7-master", "3-master").replaceAll("HOST", host) }, "shop: back to the builds of the 10th")
    const release = (api: string, web: string, what: string) =>
      remote.commit({ "app/kustomization.yaml": KUSTOMIZATION(api, web).replaceAll("HOST", host) }, `Auto-release ${host}/shop/${what}\n\n[ci skip]`, { who: { name: "fluxcd", email: "fluxcd@users.noreply.github.com" } })
    const first = release("8-master", "3-master", "api:8-master")
    const second = release("8-master", "4-master", "web:4-master")
    const run = await runCli(["run", ...flags(), "--yes", "--strategy", "revert"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, all(run))
    const branch = "rollback/2026-11-15T23-59-59.999Z"
    assert.strictEqual(remote.show(branch, "app/kustomization.yaml"), KUSTOMIZATION("7-master", "3-master").replaceAll("HOST", host))
    const message = git(remote.bare, ["log", "-1", "--format=%B", branch])
    assert.match(message, /^Revert 2 image updates: roll back 2 service\(s\) to 2026-11-15T23:59:59.999Z/)
    assert.include(message, `This reverts commit ${second} (Auto-release ${host}/shop/web:4-master).`)
    assert.include(message, `This reverts commit ${first} (Auto-release ${host}/shop/api:8-master).`)
  })

  it("--wait-on kubernetes: the run waits until the cluster (the Kubernetes sandbox, synced by kubectl set image once main has the commit) runs the committed images", async () => {
    const cluster = await startTestCluster({ objects: [deployment("shop", "api", `${host}/shop/api:8-master`), deployment("shop", "web", `${host}/shop/web:4-master`)] })
    try {
      // what Flux would do: once main declares the rollback, the cluster gets it
      let synced = false
      const sync = (async () => {
        const deadline = Date.now() + 60_000
        while (Date.now() < deadline) {
          if (remote.show("main", "app/kustomization.yaml")?.includes("newTag: 7-master") === true) {
            for (const [name, tag] of [["api", "7-master"], ["web", "3-master"]] as const) {
              // asynchronously: the sandbox answers from this very process
              await execFileAsync("kubectl", ["--kubeconfig", cluster.kubeconfig, "-n", "shop", "set", "image", `deployment/${name}`, `${name}=${host}/shop/${name}:${tag}`])
            }
            synced = true
            return
          }
          await new Promise((r) => setTimeout(r, 100))
        }
      })()
      const run = await runCli(["run", ...flags(), "--yes", "--push-to-branch", "--wait-on", "kubernetes", "--timeout", "60", "--poll-ms", "200"], {
        cwd: dir,
        env: { ...env, KUBECONFIG: cluster.kubeconfig }
      })
      await sync
      assert.isTrue(synced)
      assert.strictEqual(run.code, 0, all(run))
      assert.include(run.stderr, "Kubernetes workload(s) run the committed images")
      const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8")) as Record<string, unknown>
      assert.strictEqual(report["outcome"], "succeeded")
      assert.match(String(report["message"]), /all healthy on their target images/)
    } finally {
      await cluster.close()
    }
  })

  it("bad input is refused with exit 2 and nothing pushed: a password in --repo-url, an unknown strategy", async () => {
    const secret = await runCli(["plan", "--target", "gitops", "--repo-url", "https://deploy:s3cr3t@github.com/shop/deploy.git", "--point", "2026-11-15"], { cwd: dir, env })
    assert.strictEqual(secret.code, 2)
    assert.include(all(secret), "must not carry a password")
    assert.notInclude(all(secret), "s3cr3t")
    const strategy = await runCli(["run", ...flags(), "--yes", "--strategy", "rebase"], { cwd: dir, env })
    assert.strictEqual(strategy.code, 2)
    assert.include(all(strategy), "expected set")
    assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])
  })
})

describe("--target pulumi on the command line", () => {
  const STACK = "secretsprovider: passphrase\nencryptionsalt: v1:ZZpKmdQ2ZgY=:v1:d5wOCr6Pqg0Zw9xl:3Rr0ZWrFQbbF6v+0Qn0fsg==\nconfig:\n  platform:image-tag: git-ccccccc\n  platform:db-password:\n    secure: v1:8C0ZgEdHMpJy0F3z:XUNzFuqXDyMbbexqvY+Pz5b0Nw==\n"
  beforeEach(async () => {
    await start([
      { repository: "shop/api", tag: "git-aaaaaaa", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "git-bbbbbbb", created: "2026-11-12T10:00:00Z" },
      { repository: "shop/api", tag: "git-ccccccc", created: "2026-11-20T10:00:00Z" },
      // web's build of git-bbbbbbb never happened
      { repository: "shop/web", tag: "git-aaaaaaa", created: "2026-11-10T10:05:00Z" },
      { repository: "shop/web", tag: "git-ccccccc", created: "2026-11-20T10:05:00Z" }
    ], ["--scheme", "git-sha"])
    remote.commit({ "infra/platform/Pulumi.yaml": "name: platform\nruntime: nodejs\n", "infra/platform/Pulumi.prod.yaml": STACK }, "platform")
    writeFileSync(join(dir, "fleet-rollback.yaml"), `registry: {url: "${registry.url}"}\nservices:\n  api: {repository: shop/api}\n  web: {repository: shop/web}\ntarget:\n  kind: pulumi\n  projectDir: infra/platform\n`)
  })

  it("one shared image-tag: the plan gives every service the newest tag they ALL have (git-aaaaaaa, not api's git-bbbbbbb); run commits only that line", async () => {
    const args = ["--config", "fleet-rollback.yaml", "--stack", "prod", "--repo-url", GITHUB, "--point", "2026-11-15"]
    const plan = await runCli(["plan", ...args, "--json"], { cwd: dir, env })
    assert.strictEqual(plan.code, 0, all(plan))
    const json = JSON.parse(plan.stdout) as { services: Array<{ service: string; target: string; action: string }> }
    assert.deepStrictEqual(json.services.map((s) => [s.service, s.target.split(":").pop(), s.action]), [["api", "git-aaaaaaa", "rollback"], ["web", "git-aaaaaaa", "rollback"]])
    const run = await runCli(["run", ...args, "--yes"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, all(run))
    assert.strictEqual(remote.show("rollback/2026-11-15T23-59-59.999Z", "infra/platform/Pulumi.prod.yaml"), STACK.replace("git-ccccccc", "git-aaaaaaa"))
    assert.include(all(run), "open the pull request: https://github.com/shop/deploy/compare/main...rollback/2026-11-15T23-59-59.999Z?expand=1")
  })

  it("--repo-path (a local clone) with --push-to-branch, then undo from the report alone: the undo commit goes through the same clone to its remote's branch", async () => {
    const clone = join(dir, "deploy")
    git(dir, ["clone", "--quiet", GITHUB, clone], env)
    const args = ["--config", "fleet-rollback.yaml", "--stack", "prod", "--repo-path", clone, "--push-to-branch", "--point", "2026-11-15"]
    const run = await runCli(["run", ...args, "--yes"], { cwd: dir, env })
    assert.strictEqual(run.code, 0, all(run))
    assert.strictEqual(remote.show("main", "infra/platform/Pulumi.prod.yaml"), STACK.replace("git-ccccccc", "git-aaaaaaa"))
    writeFileSync(join(dir, "fleet-rollback.yaml"), `registry: {url: "${registry.url}"}\nservices:\n  api: {repository: shop/api}\n  web: {repository: shop/web}\n`)
    const undo = await runCli(["undo", "--config", "fleet-rollback.yaml", "--yes", "--target-from-report"], { cwd: dir, env })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.strictEqual(remote.show("main", "infra/platform/Pulumi.prod.yaml"), STACK, "the remote's main has the stack file back")
  })

  it("with a STAND-IN pulumi script on the PATH that records its arguments: plan shows pulumi preview and changes nothing; run previews before it goes on, sets the tag and runs up --yes, its output streamed", async () => {
    const bin = join(dir, "bin")
    mkdirSync(bin)
    writeFileSync(join(bin, "pulumi"), STANDIN)
    chmodSync(join(bin, "pulumi"), 0o755)
    const project = join(dir, "platform")
    mkdirSync(project)
    writeFileSync(join(project, "Pulumi.yaml"), "name: platform\nruntime: nodejs\n")
    writeFileSync(join(project, "Pulumi.prod.yaml"), STACK)
    writeFileSync(join(dir, "fleet-rollback.yaml"), `registry: {url: "${registry.url}"}\nservices:\n  api: {repository: shop/api}\n  web: {repository: shop/web}\ntarget:\n  kind: pulumi\n  mode: cli\n  projectDir: platform\n`)
    const withStandIn = { ...env, PATH: `${bin}:${process.env.PATH ?? ""}` }
    const args = ["--config", "fleet-rollback.yaml", "--stack", "prod", "--point", "2026-11-15"]
    const plan = await runCli(["plan", ...args], { cwd: dir, env: withStandIn })
    assert.strictEqual(plan.code, 0, all(plan))
    assert.include(plan.stderr, "Previewing update (prod)")
    assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK)
    const run = await runCli(["run", ...args, "--yes"], { cwd: dir, env: withStandIn })
    assert.strictEqual(run.code, 0, all(run))
    assert.include(run.stderr, "Updating (prod)")
    assert.isBelow(run.stderr.indexOf("Previewing update (prod)"), run.stderr.indexOf("Updating (prod)"), "the preview comes before the update")
    const calls = readFileSync(join(bin, "calls.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { args: Array<string> }).args.join(" "))
    assert.includeMembers(calls, ["preview --diff --stack prod --non-interactive", "config set platform:image-tag git-aaaaaaa --stack prod --non-interactive", "up --yes --stack prod --non-interactive"])
    assert.isBelow(calls.indexOf("config set platform:image-tag git-aaaaaaa --stack prod --non-interactive", calls.indexOf("preview --diff --stack prod --non-interactive") + 1), calls.indexOf("up --yes --stack prod --non-interactive"))
    assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK.replace("git-ccccccc", "git-aaaaaaa"))
    const report = JSON.parse(readFileSync(join(dir, "rollback-report.json"), "utf8")) as Record<string, unknown>
    assert.strictEqual(report["outcome"], "succeeded")
    assert.match(String(report["message"]), /all healthy on their target images/)
    // undo from the report alone (the config names no target): the stack on disk, no repository
    writeFileSync(join(dir, "fleet-rollback.yaml"), `registry: {url: "${registry.url}"}\nservices:\n  api: {repository: shop/api}\n  web: {repository: shop/web}\n`)
    const undo = await runCli(["undo", "--config", "fleet-rollback.yaml", "--yes", "--target-from-report"], { cwd: dir, env: withStandIn })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK)
    const undone = readFileSync(join(bin, "calls.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { args: Array<string> }).args.join(" "))
    assert.include(undone.slice(calls.length), "config set platform:image-tag git-ccccccc --stack prod --non-interactive")
  })
})
