/**
 * @module GitOpsTarget.test — the GitOps target through the Target contract against REAL git: a
 * bare repository on disk as the remote (and one served by `git daemon` on 127.0.0.1), seed 001's
 * kustomization and its Flux "Auto-release …" history, and the real `kubectl kustomize`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import type { ImageChange, TargetShape } from "../../lib/target/Target.ts"
import type { Workload } from "../../lib/target/Workload.ts"
import { findImageEntries } from "../../lib/targets/gitops/ImageFiles.ts"
import { findOnPath } from "../../lib/targets/gitops/Process.ts"
import type { GitOpsSettings } from "../../lib/targets/gitops/GitOpsTarget.ts"
import { makeGitOpsTarget } from "../../lib/targets/gitops/GitOpsTarget.ts"
import { FLUX, git, makeRemote, OPERATOR, readText, startGitDaemon } from "../support/GitRemote.ts"
import type { TestRemote } from "../support/GitRemote.ts"

// The target runs git with the process's environment: give it this test's identity and no machine config.
let home: string
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "fleet-rollback-home-"))
  writeFileSync(join(home, ".gitconfig"), `[user]\n\tname = ${OPERATOR.name}\n\temail = ${OPERATOR.email}\n[init]\n\tdefaultBranch = main\n`)
  process.env.GIT_CONFIG_GLOBAL = join(home, ".gitconfig")
  process.env.GIT_CONFIG_NOSYSTEM = "1"
})
afterAll(() => rmSync(home, { recursive: true, force: true }))

/** Seed 001's app/bases/kustomization.yaml before the bad Auto-release (lines 4-10 of its diff, around them the rest). */
const KUSTOMIZATION = (apiJs: string, autoscan = "master-0000000", marker = "") => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
images:
- name: gcr.io/track-compliance/api
  newTag: master-4003aac
- name: gcr.io/track-compliance/api-js
  newTag: ${apiJs}${marker}
- name: gcr.io/track-compliance/autoscan
  newTag: ${autoscan}
- name: gcr.io/track-compliance/db-migration
  newTag: "1.10" # quoted: a YAML reader would make 1.10 the number 1.1
`
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-js
spec:
  selector:
    matchLabels: {app: api-js}
  template:
    metadata:
      labels: {app: api-js}
    spec:
      containers:
      - name: api-js
        image: gcr.io/track-compliance/api-js:latest
      - name: autoscan
        image: gcr.io/track-compliance/autoscan:latest
`
const FILE = "app/bases/kustomization.yaml"
const id = (name: string) => `${FILE}#gcr.io/track-compliance/${name}`
const change = (name: string, tag: string): ImageChange => ({ workload: id(name), image: `gcr.io/track-compliance/${name}:${tag}` })
const POINT = "2021-01-11T14:00:00.000Z"

const withRemote = <A, E>(body: (remote: TestRemote, cacheDir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => ({ remote: makeRemote(), cacheDir: mkdtempSync(join(tmpdir(), "fleet-rollback-cache-")) })),
    ({ remote, cacheDir }) => body(remote, cacheDir),
    ({ remote, cacheDir }) => Effect.sync(() => (remote.close(), rmSync(cacheDir, { recursive: true, force: true })))
  )

const settingsFor = (remote: TestRemote, cacheDir: string, extra: Partial<GitOpsSettings> = {}): GitOpsSettings => ({
  repository: { url: remote.bare, cacheDir },
  branch: "main",
  ...extra
})

/** Lines that differ between two texts (same number of lines expected), 1-based. */
const changedLines = (a: string, b: string): Array<number> => {
  const x = a.split("\n")
  const y = b.split("\n")
  assert.strictEqual(x.length, y.length, "the edit must not add or remove lines")
  return x.flatMap((line, i) => (line === y[i] ? [] : [i + 1]))
}

/** Seed 001's history: the kustomization, then Flux's two Auto-release commits. */
const seedHistory = (remote: TestRemote, marker = "") => {
  remote.commit({ [FILE]: KUSTOMIZATION("master-f01225d", "master-0000000", marker), "app/bases/deployment.yaml": DEPLOYMENT }, "app: kustomize base", { date: "2021-01-10T12:00:00Z" })
  const d4cc490 = remote.commit({ [FILE]: KUSTOMIZATION("master-26a4b87", "master-0000000", marker) }, "Auto-release gcr.io/track-compliance/api-js:master-26a4b87\n\n[ci skip]", {
    who: FLUX,
    date: "2021-01-11T15:07:07Z"
  })
  return d4cc490
}

describe("GitOps history: each image line's git log", () => {
  it.effect("seed 001's history gives api-js master-f01225d from the base commit and master-26a4b87 from the Auto-release, dated when committed", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        const release = seedHistory(remote)
        remote.commit({ "README.md": "unrelated\n" }, "docs", { date: "2021-01-12T09:00:00Z" })
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir))
        const memory = yield* target.history!([{ workload: id("api-js") }, { workload: id("autoscan") }])
        const of = (name: string) => memory.entries.filter((e) => e.workload === id(name)).map((e) => [e.image, new Date(e.at).toISOString()])
        assert.deepStrictEqual(of("api-js"), [
          ["gcr.io/track-compliance/api-js:master-f01225d", "2021-01-10T12:00:00.000Z"],
          ["gcr.io/track-compliance/api-js:master-26a4b87", "2021-01-11T15:07:07.000Z"]
        ])
        assert.deepStrictEqual(of("autoscan"), [["gcr.io/track-compliance/autoscan:master-0000000", "2021-01-10T12:00:00.000Z"]], "a commit that left the line as it was adds nothing")
        const auto = memory.entries.find((e) => e.revision === release)!
        assert.match(auto.cause ?? "", /^Auto-release gcr.io\/track-compliance\/api-js:master-26a4b87/)
        assert.include(memory.note ?? "", "git log")
      })
    ))
})

describe("GitOps target on a real git remote", () => {
  it.effect("rolls several services back to a point in ONE commit on a new branch rollback/<point>; every byte outside the changed values stays", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const before = remote.show("main", FILE)!
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir))
        const workloads = yield* target.listWorkloads({})
        const apiJs = workloads.find((w) => w.id === id("api-js"))!
        assert.strictEqual(apiJs.image, "gcr.io/track-compliance/api-js:master-26a4b87")
        assert.strictEqual(apiJs.labels["line"], "9")
        assert.strictEqual(workloads.find((w) => w.id === id("db-migration"))!.image, "gcr.io/track-compliance/db-migration:1.10")
        // the base manifest's images are rewritten by the kustomization: not workloads of their own
        assert.match(workloads.find((w) => w.id === "app/bases/deployment.yaml#api-js/api-js")!.notHandled ?? "", /kustomization entry/)

        const applied = yield* target.apply([change("api-js", "master-f01225d"), change("autoscan", "master-ffff000"), change("db-migration", "1.9")], {
          force: false,
          cause: "run by mike",
          point: POINT
        })
        assert.strictEqual(applied.changeIds.length, 1)
        assert.match(applied.note ?? "", /rollback\/2021-01-11T14-00-00Z/)
        assert.include(remote.refs(), "refs/heads/rollback/2021-01-11T14-00-00Z")
        assert.strictEqual(remote.head("rollback/2021-01-11T14-00-00Z"), applied.changeIds[0])
        assert.strictEqual(remote.show("main", FILE), before, "the tracked branch is not touched")
        const after = remote.show("rollback/2021-01-11T14-00-00Z", FILE)!
        assert.deepStrictEqual(changedLines(before, after), [9, 11, 13])
        assert.include(after, "  newTag: master-f01225d\n")
        assert.include(after, '  newTag: "1.9" # quoted: a YAML reader would make 1.10 the number 1.1\n')
        const message = git(remote.bare, ["log", "-1", "--format=%B%n%an <%ae>", "rollback/2021-01-11T14-00-00Z"])
        assert.match(message, /^Roll back 3 service\(s\) to 2021-01-11T14:00:00.000Z/)
        assert.include(message, "Run by: run by mike")
        assert.include(message, `${id("api-js")} (line 9): gcr.io/track-compliance/api-js:master-26a4b87 -> gcr.io/track-compliance/api-js:master-f01225d`)
        assert.include(message, `${OPERATOR.name} <${OPERATOR.email}>`)
        const verified = yield* target.verify([change("api-js", "master-f01225d")], new Map())
        assert.isTrue(verified[0]!.ok)
        // a second run for the same point does not overwrite the branch under review
        const again = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT }).pipe(Effect.flip)
        assert.strictEqual(again.reason, "Conflict")
        assert.match(again.message, /already exists/)
      })
    ))

  it.effect("--push-to-branch commits to the tracked branch; refused when the remote moved since the plan, nothing pushed", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { pushToBranch: true }))
        yield* target.listWorkloads({})
        const moved = remote.commit({ "README.md": "someone else\n" }, "docs: someone else pushed")
        const refused = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT }).pipe(Effect.flip)
        assert.strictEqual(refused.reason, "Conflict")
        assert.match(refused.message, new RegExp(`main on .* moved since the plan \\(planned at [0-9a-f]{7}, now ${moved.slice(0, 7)}\\); nothing was committed or pushed`))
        assert.strictEqual(remote.head("main"), moved, "nothing pushed")
        assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])

        // re-plan, then it goes through on top of the new head
        yield* target.listWorkloads({})
        const applied = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        assert.strictEqual(remote.head("main"), applied.changeIds[0])
        assert.strictEqual(git(remote.bare, ["rev-parse", "main^"]).trim(), moved)
        assert.include(remote.show("main", FILE)!, "newTag: master-f01225d")
      })
    ))

  it.effect("--strategy revert on seed 001's Auto-release history: git revert of d4cc490, one line back to master-f01225d", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        const d4cc490 = seedHistory(remote)
        const before = remote.show("main", FILE)!
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { strategy: "revert" }))
        yield* target.listWorkloads({})
        const applied = yield* target.apply([change("api-js", "master-f01225d")], { force: false, cause: "run by mike", point: POINT })
        const branch = "rollback/2021-01-11T14-00-00Z"
        const after = remote.show(branch, FILE)!
        assert.deepStrictEqual(changedLines(before, after), [9])
        assert.include(after, "  newTag: master-f01225d\n")
        const message = git(remote.bare, ["log", "-1", "--format=%B", branch])
        assert.match(message, /^Revert "Auto-release gcr.io\/track-compliance\/api-js:master-26a4b87"/)
        assert.include(message, `This reverts commit ${d4cc490}`)
        assert.strictEqual(git(remote.bare, ["rev-parse", `${branch}^`]).trim(), d4cc490)
        assert.strictEqual(applied.changeIds[0], remote.head(branch))
      })
    ))

  it.effect("undo with --strategy revert reverts the rollback commit itself", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const original = remote.show("main", FILE)!
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { strategy: "revert", pushToBranch: true }))
        yield* target.listWorkloads({})
        const rolledBack = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        const undoer = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { strategy: "revert", pushToBranch: true }))
        yield* undoer.listWorkloads({})
        const undone = yield* undoer.apply([change("api-js", "master-26a4b87")], { force: false, purpose: "undo", point: POINT })
        assert.strictEqual(remote.show("main", FILE), original)
        assert.include(git(remote.bare, ["log", "-1", "--format=%B", "main"]), `This reverts commit ${rolledBack.changeIds[0]}`)
        assert.strictEqual(remote.head("main"), undone.changeIds[0])
      })
    ))

  it.effect("--strategy revert: a revert that conflicts is refused and nothing is pushed", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        // a later commit changes the line right below: reverting the Auto-release commit conflicts
        const renamed = KUSTOMIZATION("master-26a4b87").replace("- name: gcr.io/track-compliance/autoscan\n", "- name: gcr.io/track-compliance/autoscan-v2\n")
        remote.commit({ [FILE]: renamed }, "autoscan: the v2 image", { who: OPERATOR })
        const head = remote.head("main")
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { strategy: "revert" }))
        yield* target.listWorkloads({})
        const refused = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT }).pipe(Effect.flip)
        assert.strictEqual(refused.reason, "Conflict")
        assert.match(refused.message, /conflicts in app\/bases\/kustomization.yaml/)
        assert.strictEqual(remote.head("main"), head)
        assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])
      })
    ))

  it.effect("--hold turns Flux's setter markers off in the same commit; undo turns them back on (the file byte for byte as before)", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote, ' # {"$imagepolicy": "flux-system:api-js:tag"}')
        const original = remote.show("main", FILE)!
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { hold: true, pushToBranch: true }))
        const listed = yield* target.listWorkloads({})
        const apiJs = listed.find((w) => w.id === id("api-js"))!
        assert.strictEqual(apiJs.labels["automation"], "flux-system:api-js:tag")
        assert.match(apiJs.health.summary, /would set it back unless held/)
        yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        const held = remote.show("main", FILE)!
        assert.include(held, '  newTag: master-f01225d # {"$imagepolicy (held by fleet-rollback)": "flux-system:api-js:tag"}\n')
        assert.notInclude(held, '"$imagepolicy"', "Flux reads only files with this literal")
        assert.deepStrictEqual(changedLines(original, held), [9])
        assert.include(git(remote.bare, ["log", "-1", "--format=%B", "main"]), "held (markers turned off")

        // undo: the previous image back and the automation on again
        const undoer = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { pushToBranch: true }))
        const relisted = yield* undoer.listWorkloads({})
        assert.strictEqual(relisted.find((w) => w.id === id("api-js"))!.labels["held"], "flux-system:api-js:tag")
        yield* undoer.apply([change("api-js", "master-26a4b87")], { force: false, purpose: "undo", cause: "undo by mike", point: POINT })
        assert.strictEqual(remote.show("main", FILE), original)
        assert.match(git(remote.bare, ["log", "-1", "--format=%B", "main"]), /^Undo rollback[\s\S]*turned back on: flux-system:api-js:tag/)
      })
    ))

  it.effect("a kustomization that kubectl kustomize cannot render refuses the run: nothing committed or pushed", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        // the overlay names a resource that is not there
        remote.commit({ "app/overlays/prod/kustomization.yaml": "resources:\n- ../../bases\n- missing.yaml\nimages:\n- name: gcr.io/track-compliance/api-js\n  newTag: master-26a4b87\n" }, "prod overlay")
        const head = remote.head("main")
        const kubectl = findOnPath("kubectl")
        assert.isDefined(kubectl, "kubectl must be on the PATH (CI installs it): the render check needs the real kubectl kustomize")
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { kubectl: kubectl! }))
        yield* target.listWorkloads({})
        const refused = yield* target.apply([{ workload: "app/overlays/prod/kustomization.yaml#gcr.io/track-compliance/api-js", image: "gcr.io/track-compliance/api-js:master-f01225d" }], {
          force: false,
          point: POINT
        }).pipe(Effect.flip)
        assert.strictEqual(refused.reason, "Invalid")
        assert.match(refused.message, /kubectl kustomize app\/overlays\/prod fails after the change, so nothing was committed or pushed: .*missing\.yaml/s)
        assert.strictEqual(remote.head("main"), head)
        assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])
        // the base alone renders: the same target commits a change there
        const ok = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        assert.strictEqual(ok.changeIds.length, 1)
      })
    ))

  it.effect("undo after --push-to-branch: a commit that restores the previous lines exactly", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const original = remote.show("main", FILE)!
        const target = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { pushToBranch: true }))
        yield* target.listWorkloads({})
        yield* target.apply([change("api-js", "master-f01225d"), change("db-migration", "1.9")], { force: false, point: POINT })
        assert.notStrictEqual(remote.show("main", FILE), original)
        const undoer = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { pushToBranch: true }))
        yield* undoer.listWorkloads({})
        yield* undoer.apply([change("api-js", "master-26a4b87"), change("db-migration", "1.10")], { force: false, purpose: "undo", point: POINT })
        assert.strictEqual(remote.show("main", FILE), original)
      })
    ))

  it.effect("over git daemon on 127.0.0.1: cloned into the cache, the rollback branch pushed through receive-pack", () =>
    Effect.gen(function*() {
      const remote = makeRemote()
      const cacheDir = mkdtempSync(join(tmpdir(), "fleet-rollback-cache-"))
      const daemon = yield* Effect.promise(() => startGitDaemon(remote.root))
      yield* Effect.gen(function*() {
        seedHistory(remote)
        const target = yield* makeGitOpsTarget({ repository: { url: `${daemon.url}remote.git`, cacheDir }, branch: "main" })
        const workloads = yield* target.listWorkloads({})
        assert.strictEqual(workloads.find((w) => w.id === id("api-js"))!.image, "gcr.io/track-compliance/api-js:master-26a4b87")
        const applied = yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        assert.strictEqual(remote.head("rollback/2021-01-11T14-00-00Z"), applied.changeIds[0])
        assert.strictEqual(target.description.url, `${daemon.url}remote.git`)
      }).pipe(Effect.ensuring(Effect.promise(() => daemon.stop()).pipe(Effect.andThen(Effect.sync(() => (remote.close(), rmSync(cacheDir, { recursive: true, force: true })))))))
    }))

  it.live("--wait-on a cluster: watch waits until the cluster that syncs the branch runs the committed image; a commit never merged times out", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        // a cluster that syncs main (as Flux would), seen through the Target contract
        const declared = () => findImageEntries(FILE, remote.show("main", FILE)!).find((e) => e.id === id("api-js"))!.image
        const workload = (): Workload => ({
          id: "prod/Deployment/api-js",
          kind: "Deployment",
          labels: {},
          containers: [{ name: "api-js", image: declared() }],
          image: declared(),
          health: { desired: 1, running: 1, healthy: 1, summary: "1/1" },
          revision: "1",
          inScope: true
        })
        const cluster: TargetShape = {
          description: { kind: "kubernetes", url: "https://cluster.invalid" },
          displayName: "Kubernetes",
          changeNoun: "patch",
          capabilities: { force: false, revert: true, serverDryRun: true, watch: true, pinDigest: true },
          listWorkloads: () => Effect.sync(() => [workload()]),
          getWorkload: () => Effect.sync(workload),
          apply: () => Effect.die("the cluster is not changed directly"),
          watch: () => Effect.void,
          inProgress: () => Effect.succeed(false),
          verify: (changes) => Effect.sync(() => changes.map((c) => ({ workload: c.workload, image: declared(), expectedImage: c.image, ok: declared() === c.image }))),
          revert: () => Effect.die("not used")
        }
        const pushing = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { pushToBranch: true, waitOn: cluster }))
        assert.isTrue(pushing.capabilities.watch)
        yield* pushing.listWorkloads({})
        const applied = yield* pushing.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        const seen: Array<string> = []
        yield* pushing.watch(applied, { timeoutMs: 30_000, pollMs: 100, onProgress: (p) => seen.push(p.summary) })
        assert.include(seen, "1 of 1 Kubernetes workload(s) run the committed images")
        const verified = yield* pushing.verify([change("api-js", "master-f01225d")], new Map())
        assert.isTrue(verified[0]!.ok)

        // on a review branch nothing syncs it: our timeout, and the commit stays
        const reviewing = yield* makeGitOpsTarget(settingsFor(remote, cacheDir, { waitOn: cluster }))
        yield* reviewing.listWorkloads({})
        const onBranch = yield* reviewing.apply([change("api-js", "master-0000001")], { force: false, point: POINT })
        const timedOut = yield* reviewing.watch(onBranch, { timeoutMs: 300, pollMs: 100 }).pipe(Effect.flip)
        assert.strictEqual(timedOut.reason, "Timeout")
        assert.match(timedOut.message, /does not run the committed images .* is the pull request merged and synced\?/)
      })
    ))

  it.effect("a GitHub remote (mapped onto the bare repository by the operator's url.insteadOf): the note carries the pull request URL", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const config = process.env.GIT_CONFIG_GLOBAL!
        const saved = readText(config)
        writeFileSync(config, `${saved}[url "${remote.bare}"]\n\tinsteadOf = https://github.com/canada-ca/tracker.git\n`)
        const applied = yield* Effect.gen(function*() {
          const target = yield* makeGitOpsTarget({ repository: { url: "https://github.com/canada-ca/tracker.git", cacheDir }, branch: "main" })
          yield* target.listWorkloads({})
          return yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        }).pipe(Effect.ensuring(Effect.sync(() => writeFileSync(config, saved))))
        assert.include(applied.note ?? "", "open the pull request: https://github.com/canada-ca/tracker/compare/main...rollback/2021-01-11T14-00-00Z?expand=1")
        assert.strictEqual(remote.head("rollback/2021-01-11T14-00-00Z"), applied.changeIds[0])
      })
    ))

  it.effect("--repo-path: the operator's own clone is used without touching its work tree, index or branch", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        seedHistory(remote)
        const mine = join(cacheDir, "mine")
        git(cacheDir, ["clone", "--quiet", remote.bare, mine])
        mkdirSync(join(mine, "notes"))
        writeFileSync(join(mine, "notes", "wip.txt"), "uncommitted work\n")
        const status = git(mine, ["status", "--porcelain"])
        const headBefore = git(mine, ["rev-parse", "HEAD"])
        const target = yield* makeGitOpsTarget({ repository: { path: mine }, branch: "main" })
        yield* target.listWorkloads({})
        yield* target.apply([change("api-js", "master-f01225d")], { force: false, point: POINT })
        assert.strictEqual(git(mine, ["status", "--porcelain"]), status)
        assert.strictEqual(git(mine, ["rev-parse", "HEAD"]), headBefore)
        assert.include(remote.show("rollback/2021-01-11T14-00-00Z", FILE)!, "newTag: master-f01225d")
      })
    ))

  it.effect("a remote URL with user info never appears in an error", () =>
    Effect.gen(function*() {
      const cacheDir = mkdtempSync(join(tmpdir(), "fleet-rollback-cache-"))
      const target = yield* makeGitOpsTarget({ repository: { url: "http://deploy:s3cr3t-token@127.0.0.1:9/nothing.git", cacheDir }, branch: "main" })
      const error = yield* target.listWorkloads({}).pipe(Effect.flip)
      rmSync(cacheDir, { recursive: true, force: true })
      assert.notInclude(error.message, "s3cr3t-token")
      assert.include(error.message, "http://127.0.0.1:9/nothing.git")
      assert.notInclude(target.description.url, "s3cr3t")
    }))
})
