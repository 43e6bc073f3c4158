/**
 * @module PulumiTarget.test — seed 002's stack through the Target contract: the stack file edited
 * in a commit on real git (a bare remote on disk; secure values, secretsprovider and
 * encryptionsalt byte for byte), mutable and differing tags refused, and the `pulumi` way driven
 * through a STAND-IN `pulumi` script put on the PATH that records its arguments (not the real
 * Pulumi CLI, which is not installable here).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import type { ImageChange } from "../../lib/target/Target.ts"
import type { PulumiSettings } from "../../lib/targets/pulumi/PulumiTarget.ts"
import { makePulumiTarget } from "../../lib/targets/pulumi/PulumiTarget.ts"
import { git, makeRemote, OPERATOR } from "../support/GitRemote.ts"
import { STANDIN } from "../support/PulumiStandIn.ts"
import type { TestRemote } from "../support/GitRemote.ts"

let home: string
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "fleet-rollback-home-"))
  writeFileSync(join(home, ".gitconfig"), `[user]\n\tname = ${OPERATOR.name}\n\temail = ${OPERATOR.email}\n`)
  process.env.GIT_CONFIG_GLOBAL = join(home, ".gitconfig")
  process.env.GIT_CONFIG_NOSYSTEM = "1"
})
afterAll(() => rmSync(home, { recursive: true, force: true }))

/** Seed 002's prod stack: one image-tag for the platform, next to secrets that must not move. */
const STACK = `secretsprovider: passphrase
encryptionsalt: v1:ZZpKmdQ2ZgY=:v1:d5wOCr6Pqg0Zw9xl:3Rr0ZWrFQbbF6v+0Qn0fsg==
config:
  platform:image-namespace: sprocketbot
  platform:image-tag: git-ccccccc   # every Sprocket service (see docs/ROLLBACK.md)
  platform:database-password:
    secure: v1:8C0ZgEdHMpJy0F3z:XUNzFuqXDyMbbexqvY+Pz5b0Nw==
  aws:region: us-west-2
`
const PROJECT = "name: platform\nruntime: nodejs\n"
const SERVICES = [
  { name: "core", repository: "ghcr.io/sprocketbot/core" },
  { name: "web", repository: "ghcr.io/sprocketbot/web" },
  { name: "discord-bot", repository: "ghcr.io/sprocketbot/discord-bot" }
]
const change = (service: string, tag: string): ImageChange => ({ workload: `Pulumi.prod.yaml#platform:image-tag/${service}`, image: `ghcr.io/sprocketbot/${service}:${tag}` })
const POINT = "2024-05-02T23:00:00.000Z"

const withRemote = <A, E>(body: (remote: TestRemote, cacheDir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => ({ remote: makeRemote(), cacheDir: mkdtempSync(join(tmpdir(), "fleet-rollback-cache-")) })),
    ({ remote, cacheDir }) => body(remote, cacheDir),
    ({ remote, cacheDir }) => Effect.sync(() => (remote.close(), rmSync(cacheDir, { recursive: true, force: true })))
  )

const commitSettings = (remote: TestRemote, cacheDir: string, extra: Partial<PulumiSettings> = {}): PulumiSettings => ({
  stack: "prod",
  mode: "commit",
  projectDir: "infra/platform",
  repository: { url: remote.bare, cacheDir },
  services: SERVICES,
  ...extra
})

describe("Pulumi stack file as a commit (real git)", () => {
  it.effect("one shared key: every service is a workload of platform:image-tag; the rollback edits only that value, secrets byte for byte", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        remote.commit({ "infra/platform/Pulumi.yaml": PROJECT, "infra/platform/Pulumi.prod.yaml": STACK }, "platform stack")
        const target = yield* makePulumiTarget(commitSettings(remote, cacheDir))
        const workloads = yield* target.listWorkloads({})
        assert.deepStrictEqual(workloads.map((w) => [w.id, w.image]), SERVICES.map((s) => [`Pulumi.prod.yaml#platform:image-tag/${s.name}`, `${s.repository}:git-ccccccc`]))
        const applied = yield* target.apply(SERVICES.map((s) => change(s.name, "git-aaaaaaa")), { force: false, cause: "run by mike", point: POINT })
        const branch = "rollback/2024-05-02T23-00-00Z"
        assert.strictEqual(remote.head(branch), applied.changeIds[0])
        assert.strictEqual(remote.show(branch, "infra/platform/Pulumi.prod.yaml"), STACK.replace("image-tag: git-ccccccc", "image-tag: git-aaaaaaa"))
        assert.strictEqual(remote.show("main", "infra/platform/Pulumi.prod.yaml"), STACK)
        assert.include(git(remote.bare, ["log", "-1", "--format=%B", branch]), "- platform:image-tag: git-ccccccc -> git-aaaaaaa")
        const verified = yield* target.verify([change("web", "git-aaaaaaa")], new Map())
        assert.isTrue(verified[0]!.ok)
      })
    ))

  it.effect("a mutable tag (main) is refused, nothing pushed", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        remote.commit({ "infra/platform/Pulumi.yaml": PROJECT, "infra/platform/Pulumi.prod.yaml": STACK }, "platform stack")
        const target = yield* makePulumiTarget(commitSettings(remote, cacheDir))
        yield* target.listWorkloads({})
        const refused = yield* target.apply(SERVICES.map((s) => change(s.name, "main")), { force: false, point: POINT }).pipe(Effect.flip)
        assert.strictEqual(refused.reason, "Invalid")
        assert.match(refused.message, /the tag main is mutable/)
        assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])
      })
    ))

  it.effect("one key cannot hold two tags: differing targets for the shared key are refused, naming them", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        remote.commit({ "infra/platform/Pulumi.yaml": PROJECT, "infra/platform/Pulumi.prod.yaml": STACK }, "platform stack")
        const target = yield* makePulumiTarget(commitSettings(remote, cacheDir))
        yield* target.listWorkloads({})
        const refused = yield* target.apply([change("core", "git-aaaaaaa"), change("web", "git-bbbbbbb")], { force: false, point: POINT }).pipe(Effect.flip)
        assert.match(refused.message, /holds ONE tag for core, web, but the targets differ \(core: git-aaaaaaa; web: git-bbbbbbb\)/)
        assert.deepStrictEqual(remote.refs().filter((r) => r.includes("rollback")), [])
      })
    ))

  it.effect("a key per service in Pulumi's own test stack file: the secure value next to it stays byte for byte", () =>
    withRemote((remote, cacheDir) =>
      Effect.gen(function*() {
        const original = readFileSync(new URL("../../../shared/gitops/pulumi/testdata/python-testproj-Pulumi.int_test_983828.yaml", import.meta.url), "utf8")
        remote.commit({ "Pulumi.yaml": "name: testproj\nruntime: python\n", "Pulumi.int_test_983828.yaml": original }, "testproj")
        const target = yield* makePulumiTarget({
          stack: "int_test_983828",
          mode: "commit",
          projectDir: "",
          repository: { url: remote.bare, cacheDir },
          pushToBranch: true,
          services: [{ name: "bar", repository: "registry.example.com/bar", key: "testproj:bar" }]
        })
        const [w] = yield* target.listWorkloads({})
        assert.strictEqual(w!.image, "registry.example.com/bar:abc")
        yield* target.apply([{ workload: "Pulumi.int_test_983828.yaml#testproj:bar", image: "registry.example.com/bar:1.10" }], { force: false, point: POINT })
        assert.strictEqual(remote.show("main", "Pulumi.int_test_983828.yaml"), original.replace("testproj:bar: abc", 'testproj:bar: "1.10"'))
      })
    ))
})

describe("the pulumi way, with a STAND-IN pulumi script on the PATH that records its arguments", () => {
  const withStandIn = <A, E>(body: (dir: string, project: string) => Effect.Effect<A, E>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-pulumi-"))
        writeFileSync(join(dir, "pulumi"), STANDIN)
        chmodSync(join(dir, "pulumi"), 0o755)
        const project = join(dir, "project")
        git(dir, ["init", "--quiet", project])
        writeFileSync(join(project, "Pulumi.yaml"), PROJECT)
        writeFileSync(join(project, "Pulumi.prod.yaml"), STACK)
        return { dir, project, path: process.env.PATH }
      }),
      ({ dir, project }) => Effect.sync(() => (process.env.PATH = `${dir}:${process.env.PATH ?? ""}`)).pipe(Effect.andThen(body(dir, project))),
      ({ dir, path }) => Effect.sync(() => (process.env.PATH = path, rmSync(dir, { recursive: true, force: true })))
    )
  const calls = (dir: string) => readFileSync(join(dir, "calls.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { args: Array<string> }).args)

  it.effect("stand-in pulumi: config set, then up --yes with its output streamed; the dry run is preview and leaves the stack file as it was", () =>
    withStandIn((dir, project) =>
      Effect.gen(function*() {
        const streamed: Array<string> = []
        const target = yield* makePulumiTarget({ stack: "prod", mode: "cli", projectDir: project, services: SERVICES, onOutput: (t) => streamed.push(t) })
        assert.isTrue(target.capabilities.serverDryRun)
        const workloads = yield* target.listWorkloads({})
        assert.strictEqual(workloads[0]!.image, "ghcr.io/sprocketbot/core:git-ccccccc")
        const preview = yield* target.apply(SERVICES.map((s) => change(s.name, "git-aaaaaaa")), { force: false, dryRun: true })
        assert.match(preview.note ?? "", /pulumi preview:\nPreviewing update \(prod\)/)
        assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK)
        yield* target.apply(SERVICES.map((s) => change(s.name, "git-aaaaaaa")), { force: false, point: POINT })
        assert.deepStrictEqual(calls(dir), [
          // list, then the dry run's read of what to put back; apply reads the config no more
          ["config", "--json", "--stack", "prod", "--non-interactive"],
          ["config", "--json", "--stack", "prod", "--non-interactive"],
          ["config", "set", "platform:image-tag", "git-aaaaaaa", "--stack", "prod", "--non-interactive"],
          ["preview", "--diff", "--stack", "prod", "--non-interactive"],
          ["config", "set", "platform:image-tag", "git-ccccccc", "--stack", "prod", "--non-interactive"],
          ["config", "set", "platform:image-tag", "git-aaaaaaa", "--stack", "prod", "--non-interactive"],
          ["up", "--yes", "--stack", "prod", "--non-interactive"]
        ])
        assert.match(streamed.join(""), /Updating \(prod\):[\s\S]*3 updated/)
        assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK.replace("git-ccccccc", "git-aaaaaaa"))
        const verified = yield* target.verify([change("core", "git-aaaaaaa")], new Map())
        assert.isTrue(verified[0]!.ok)
      })
    ))

  it.effect("stand-in pulumi: a dry run whose config set fails half-way still puts the stack's config back as it was", () =>
    withStandIn((_dir, project) =>
      Effect.gen(function*() {
        process.env.PULUMI_STANDIN_FAIL_SET = "git-aaaaaaa"
        const target = yield* makePulumiTarget({ stack: "prod", mode: "cli", projectDir: project, services: SERVICES })
        const failed = yield* target.apply(SERVICES.map((s) => change(s.name, "git-aaaaaaa")), { force: false, dryRun: true }).pipe(Effect.flip)
        delete process.env.PULUMI_STANDIN_FAIL_SET
        assert.isDefined(failed.message)
        assert.strictEqual(readFileSync(join(project, "Pulumi.prod.yaml"), "utf8"), STACK, "plan changed nothing")
      })
    ))

  it.effect("stand-in pulumi: a failed up leaves every service unknown and verify says why", () =>
    withStandIn((_dir, project) =>
      Effect.gen(function*() {
        process.env.PULUMI_STANDIN_FAIL_UP = "1"
        const target = yield* makePulumiTarget({ stack: "prod", mode: "cli", projectDir: project, services: SERVICES })
        const applied = yield* target.apply([change("core", "git-aaaaaaa"), change("web", "git-aaaaaaa"), change("discord-bot", "git-aaaaaaa")], { force: false })
        delete process.env.PULUMI_STANDIN_FAIL_UP
        assert.deepStrictEqual(applied.workloads.map((w) => w.state), ["unknown", "unknown", "unknown"])
        const verified = yield* target.verify([change("core", "git-aaaaaaa")], new Map())
        assert.isFalse(verified[0]!.ok)
        assert.match(verified[0]!.problem ?? "", /pulumi up failed \(exit 255\): error: update failed/)
      })
    ))

  it.effect("without pulumi on the PATH the cli way is refused with what to install; nothing changed", () =>
    Effect.gen(function*() {
      const saved = process.env.PATH
      process.env.PATH = "/nonexistent"
      const target = yield* makePulumiTarget({ stack: "prod", mode: "cli", projectDir: tmpdir(), services: SERVICES })
      process.env.PATH = saved
      const refused = yield* target.listWorkloads({}).pipe(Effect.flip)
      assert.match(refused.message, /pulumi command is not on the PATH[\s\S]*get\.pulumi\.com/)
    }))
})
