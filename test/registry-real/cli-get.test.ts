/**
 * @module cli-get real-registry tests — `fleet-rollback get` end to end, as an operator runs it
 * (a child process), against Debian's docker-registry 2.8.2 holding every fixture kind: OCI and
 * Docker schema2 images, a multi-arch index with a BuildKit attestation, a reproducible build
 * with a 1970 config date and a real `created` annotation, config-dated images, an image with
 * no date at all, other environments' builds and `latest`. The rollback.json it writes must
 * match the pushed fleet exactly (images, digests, dates, date sources, revisions, points, what
 * was ignored), `choices` prints one line per point, and with bearer auth wrong credentials are
 * bad input (exit 2) that leaves an existing rollback.json as it was.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import { runCli } from "../cli/runCli.ts"
import { startDockerRegistry } from "../support/DockerRegistry.ts"
import type { DockerRegistry, RegistryUser } from "../support/DockerRegistry.ts"
import { pushDockerImage, Pusher } from "../support/pushImage.ts"
import { startTokenServer } from "../support/TokenServer.ts"
import type { TokenServer } from "../support/TokenServer.ts"
import { pushStandardFixtures, randomPassword } from "./fixtures.ts"
import type { PushedFixtures } from "./fixtures.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-cli-get-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** The fleet as `get --env master` must write it: newest first per service. */
const expectedImages = (fixtures: PushedFixtures, undated: string) => {
  const digest = (repository: string, tag: string) => fixtures.expected[repository]!.find((i) => i.tag === tag)?.digest ?? tag
  return {
    images: {
      api: [
        { tag: "42-master", digest: digest("shop/api", "42-master"), created: "2026-03-02T11:00:00.000Z", dateSource: "annotation", build: 42, revision: "b42b42b" },
        { tag: "41-master", digest: digest("shop/api", "41-master"), created: "2026-03-01T10:00:00.000Z", dateSource: "config", build: 41, revision: "a41a41a" },
        // 09:30+01:00 in the config
        { tag: "13-master", digest: digest("shop/api", "13-master"), created: "2026-02-21T08:30:00.000Z", dateSource: "config", build: 13 }
      ],
      legacy: [
        // Go's nanoseconds, to the millisecond
        { tag: "7-master", digest: digest("shop/legacy", "7-master"), created: "2025-12-24T18:30:00.123Z", dateSource: "config", build: 7, revision: "c7c7c7c" }
      ],
      web: [
        // the index digest; the amd64 child's config date; the index's revision annotation
        { tag: "5-master", digest: digest("shop/web", "5-master"), created: "2026-03-05T08:00:00.000Z", dateSource: "config", build: 5, revision: "d5d5d5d" }
      ]
    },
    points: [
      { id: "2026-03-05T08:00:00.000Z", changes: [{ service: "web", tag: "5-master" }] },
      { id: "2026-03-02T11:00:00.000Z", changes: [{ service: "api", tag: "42-master" }] },
      { id: "2026-03-01T10:00:00.000Z", changes: [{ service: "api", tag: "41-master" }] },
      { id: "2026-02-21T08:30:00.000Z", changes: [{ service: "api", tag: "13-master" }] },
      { id: "2025-12-24T18:30:00.123Z", changes: [{ service: "legacy", tag: "7-master" }] }
    ],
    ignored: {
      api: { noSchemeMatch: 1, otherEnvironment: 1, digestInTagList: 0, markedBad: 0, unknownDate: [], notRead: [] },
      legacy: { noSchemeMatch: 0, otherEnvironment: 1, digestInTagList: 0, markedBad: 0, unknownDate: [undated], notRead: [] },
      web: { noSchemeMatch: 0, otherEnvironment: 0, digestInTagList: 0, markedBad: 0, unknownDate: [], notRead: [] }
    }
  }
}

describe("fleet-rollback get on docker-registry 2.8.2 (anonymous)", () => {
  let registry: DockerRegistry
  let fixtures: PushedFixtures

  beforeAll(async () => {
    registry = await startDockerRegistry()
    fixtures = await pushStandardFixtures({ url: registry.url })
    // A master build whose config has no date at all: listed as an image with an unknown date.
    await pushDockerImage(new Pusher({ url: registry.url }), { repository: "shop/legacy", tag: "9-master", config: {} })
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it("writes the pushed fleet exactly: images, digests, dates and their sources, revisions, points, and what was ignored; choices prints one line per point", async () => {
    const result = await runCli(["get", "--registry", registry.url, "--repo", "shop/api,shop/legacy,shop/web", "--env", "master", "--no-cache"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    const expected = expectedImages(fixtures, "9-master")
    assert.strictEqual(file.schemaVersion, 1)
    assert.strictEqual(file.environment, "master")
    assert.strictEqual(file.registry, registry.url)
    assert.deepStrictEqual(file.services, [
      { name: "api", repository: "shop/api" },
      { name: "legacy", repository: "shop/legacy" },
      { name: "web", repository: "shop/web" }
    ])
    assert.deepStrictEqual(file.images, expected.images)
    assert.deepStrictEqual(file.points.map((p: { id: string; changes: unknown }) => ({ id: p.id, changes: p.changes })), expected.points)
    assert.deepStrictEqual(file.ignored, expected.ignored)
    // The summary says the same.
    assert.match(result.stdout, /^api\s+shop\/api\s+3\s+annotation 1, config 2\s+1 outside scheme, 1 other env\s+-$/m)
    assert.match(result.stdout, /^legacy\s+shop\/legacy\s+1\s+config 1\s+1 other env\s+9-master$/m)
    assert.match(result.stdout, /^web\s+shop\/web\s+1\s+config 1\s+-\s+-$/m)
    const choices = await runCli(["choices"], { cwd: dir })
    assert.strictEqual(choices.code, 0, choices.stderr)
    assert.deepStrictEqual(choices.stdout.trim().split("\n"), file.points.map((p: { label: string }) => p.label))
    assert.strictEqual(file.points.length, 5)
  })
})

describe("fleet-rollback get on docker-registry 2.8.2 with bearer tokens", () => {
  const user: RegistryUser = { username: "deployer", password: randomPassword() }
  let tokens: TokenServer
  let registry: DockerRegistry
  let fixtures: PushedFixtures

  beforeAll(async () => {
    tokens = await startTokenServer({ users: [user] })
    registry = await startDockerRegistry({ auth: "token", token: tokens.registryAuth })
    fixtures = await pushStandardFixtures({ url: registry.url, credentials: user })
    await pushDockerImage(new Pusher({ url: registry.url, credentials: user }), { repository: "shop/legacy", tag: "9-master", config: {} })
  })
  afterAll(async () => {
    await registry?.stop()
    await tokens?.stop()
  })

  const get = (password: string) =>
    runCli(["get", "--registry", registry.url, "--repo", "shop/api,shop/legacy,shop/web", "--env", "master", "--no-cache"], {
      cwd: dir,
      env: { REGISTRY_USERNAME: user.username, REGISTRY_PASSWORD: password }
    })

  it("with the right credentials writes the same fleet as without auth", async () => {
    const result = await get(user.password)
    assert.strictEqual(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    const expected = expectedImages(fixtures, "9-master")
    assert.deepStrictEqual(file.images, expected.images)
    assert.deepStrictEqual(file.ignored, expected.ignored)
    assert.notInclude(result.stdout + result.stderr + readFileSync(join(dir, "rollback.json"), "utf8"), user.password)
  })

  it("wrong credentials: exit 2 with what to check, the password nowhere, and the existing rollback.json left as it was", async () => {
    const existing = "{\"schemaVersion\":1,\"note\":\"the last good file\"}\n"
    writeFileSync(join(dir, "rollback.json"), existing)
    const wrong = randomPassword()
    const result = await get(wrong)
    assert.strictEqual(result.code, 2, result.stderr)
    assert.include(result.stderr, "REGISTRY_USERNAME")
    assert.include(result.stderr, "REGISTRY_PASSWORD")
    assert.include(result.stderr, "rollback.json was not written")
    for (const repository of ["shop/api", "shop/legacy", "shop/web"]) assert.include(result.stderr, repository)
    assert.notInclude(result.stdout + result.stderr, wrong)
    assert.notInclude(result.stdout + result.stderr, Buffer.from(`${user.username}:${wrong}`).toString("base64"))
    assert.strictEqual(readFileSync(join(dir, "rollback.json"), "utf8"), existing)
    assert.isTrue(tokens.requests.some((r) => r.status === 401), "the token server refused them")
  })
})
