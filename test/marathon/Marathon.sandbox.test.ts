/**
 * @module Marathon.sandbox.test — the Marathon / DC/OS client over real HTTP (fetch) against the
 * sandbox on loopback: the whole-set deployment that keeps every container intact, waiting and
 * its timeout, revert, the 409/422/503 paths, and both DC/OS logins with a token expiring mid-run.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { generateKeyPairSync } from "node:crypto"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { lastFailureMarker, Marathon } from "../../lib/targets/marathon/Marathon.ts"
import type { DeploymentStarted, MarathonConfig } from "../../lib/targets/marathon/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { MarathonSandbox, MarathonSandboxOptions } from "../../lib/sandbox/Marathon.ts"

const REGISTRY = "registry.example.com:5000"
const img = (name: string, tag: string) => `${REGISTRY}/shop/${name}:${tag}`

/** The fleet as it runs after the bad release (build 100). */
const fleet = (): ReadonlyArray<Record<string, unknown>> => [
  {
    id: "/prod/shop/api",
    instances: 2,
    labels: { env: "prod" },
    container: {
      type: "DOCKER",
      docker: {
        image: img("api", "100-master"),
        forcePullImage: true,
        parameters: [{ key: "log-driver", value: "journald" }, { key: "ulimit", value: "nofile=65536" }]
      },
      portMappings: [{ containerPort: 8080, hostPort: 0, servicePort: 10101, protocol: "tcp", name: "http" }],
      volumes: [{ containerPath: "/var/cache/api", hostPath: "/srv/api-cache", mode: "RW" }]
    },
    healthChecks: [{ protocol: "MESOS_HTTP", path: "/health", portIndex: 0, gracePeriodSeconds: 30 }]
  },
  {
    id: "/prod/shop/web",
    instances: 1,
    labels: { env: "prod" },
    container: {
      type: "MESOS",
      docker: { image: img("web", "100-master") },
      volumes: [{ containerPath: "/etc/web", hostPath: "/srv/web-config", mode: "RO" }]
    }
  },
  {
    id: "/prod/shop/worker",
    instances: 1,
    labels: { env: "prod" },
    container: { type: "DOCKER", docker: { image: img("worker", "99-master") } }
  }
]

const running: Array<MarathonSandbox> = []
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop().catch(() => undefined)))
})

/** Starts a sandbox with the fleet (plus options), runs the test with a client, stops it. */
const withSandbox = <A, E>(
  options: MarathonSandboxOptions,
  config: (sandbox: MarathonSandbox) => MarathonConfig,
  test: (sandbox: MarathonSandbox) => Effect.Effect<A, E, Marathon>
) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const sandbox = await startMarathonSandbox({ apps: fleet(), deploymentMs: 150, ...options })
      running.push(sandbox)
      return sandbox
    }),
    (sandbox) =>
      test(sandbox).pipe(Effect.provide(Marathon.layer(config(sandbox)).pipe(Layer.provide(FetchHttpClient.layer)))),
    (sandbox) => Effect.promise(() => sandbox.stop())
  )

const plain = (sandbox: MarathonSandbox): MarathonConfig => ({ url: sandbox.url })

/** A deployment Marathon answered for: its id is known. */
const withDeploymentId = (d: DeploymentStarted) => ({ ...d, deploymentId: d.deploymentId ?? assert.fail("Marathon answered without a deployment id") })

const rollbackSet = [
  { appId: "/prod/shop/api", image: img("api", "99-master") },
  { appId: "/prod/shop/web", image: img("web", "99-master") }
]

const definition = (sandbox: MarathonSandbox, id: string) => {
  const found = sandbox.apps().find((a) => a["id"] === id)
  assert.isDefined(found, `sandbox has no app ${id}`)
  return found as Record<string, any>
}

describe("rolling a fleet back on Marathon", () => {
  it.live("fields the client does not know (Marathon 1.10's role, networks, tty, secrets, pullConfig, linuxInfo, a future field) are kept: only the image changes", () => {
    // what a newer Marathon answers: top-level and container fields beyond what the client reads
    const extras = {
      role: "slave_public",
      networks: [{ mode: "container/bridge" }],
      tty: false,
      secrets: { dbPassword: { source: "/db/password" } },
      env: { DB_PASSWORD: { secret: "dbPassword" } },
      aFieldFromTheFuture: { nested: [1, 2, 3] }
    }
    const api = fleet()[0] as { container: Record<string, any> }
    const container = {
      ...api.container,
      docker: { ...api.container["docker"], pullConfig: { secret: "dbPassword" }, aDockerFieldFromTheFuture: true },
      linuxInfo: { seccomp: { unconfined: true } }
    }
    const apps = [{ ...api, ...extras, container }, ...fleet().slice(1)]
    return withSandbox({ apps }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const before = definition(sandbox, "/prod/shop/api")
        const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 10_000 })
        assert.deepStrictEqual(definition(sandbox, "/prod/shop/api"), {
          ...before,
          container: { ...before["container"], docker: { ...before["container"]["docker"], image: img("api", "99-master") } }
        })
        const verified = yield* marathon.verifyApps(rollbackSet, { previousFailures: {} })
        assert.deepStrictEqual(verified.map((v) => v.ok), [true, true])
      }))
  })

  it.live("one PUT with an array changes only the images: ports, volumes and docker parameters survive", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const before = sandbox.apps()
        const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 10_000 })

        const puts = sandbox.requests.filter((r) => r.method === "PUT")
        assert.strictEqual(puts.length, 1, "exactly one PUT for the whole set")
        assert.strictEqual(puts[0]!.path, "/v2/apps")
        assert.strictEqual(puts[0]!.query, "partialUpdate=true")
        const body = puts[0]!.body as Array<Record<string, unknown>>
        assert.isArray(body)
        assert.deepStrictEqual(body.map((e) => Object.keys(e).sort()), [["container", "id"], ["container", "id"]])

        const expectAfter = (id: string, image: string) => {
          const old = before.find((a) => a["id"] === id) as Record<string, any>
          assert.deepStrictEqual(definition(sandbox, id), {
            ...old,
            container: { ...old["container"], docker: { ...old["container"]["docker"], image } }
          })
        }
        expectAfter("/prod/shop/api", img("api", "99-master"))
        expectAfter("/prod/shop/web", img("web", "99-master"))
        assert.deepStrictEqual(definition(sandbox, "/prod/shop/worker"), before.find((a) => a["id"] === "/prod/shop/worker"))
        const api = definition(sandbox, "/prod/shop/api")
        assert.deepStrictEqual(api["container"]["portMappings"][0]["containerPort"], 8080)
        assert.deepStrictEqual(api["container"]["volumes"][0]["hostPath"], "/srv/api-cache")
        assert.deepStrictEqual(api["container"]["docker"]["parameters"].length, 2)
        assert.deepStrictEqual(sandbox.deployments(), [])

        const verified = yield* marathon.verifyApps(rollbackSet, { previousFailures: {} })
        assert.deepStrictEqual(verified.map((v) => [v.appId, v.ok, v.image]), [
          ["/prod/shop/api", true, img("api", "99-master")],
          ["/prod/shop/web", true, img("web", "99-master")]
        ])
      })))

  it.live("no read-only field is ever sent back", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        yield* marathon.deployImages(rollbackSet)
        const body = JSON.stringify(sandbox.requests.find((r) => r.method === "PUT")!.body)
        for (
          const field of [
            "version",
            "versionInfo",
            "tasks",
            "tasksRunning",
            "tasksStaged",
            "tasksHealthy",
            "tasksUnhealthy",
            "deployments",
            "readinessCheckResults",
            "lastTaskFailure",
            "taskStats"
          ]
        ) assert.notInclude(body, `"${field}"`, field)
      })))

  it.live("lists apps with counts and labels, restricted by prefix and label selector", () =>
    withSandbox({}, plain, () =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const apps = yield* marathon.listApps({ idPrefix: "/prod/shop", label: "env==prod" })
        assert.deepStrictEqual(apps.map((a) => a.id).sort(), ["/prod/shop/api", "/prod/shop/web", "/prod/shop/worker"])
        const api = apps.find((a) => a.id === "/prod/shop/api")!
        assert.strictEqual(api.instances, 2)
        assert.strictEqual(api.tasksRunning, 2)
        assert.isTrue(api.hasHealthChecks)
        assert.strictEqual(api.image, img("api", "100-master"))
        assert.deepStrictEqual(yield* marathon.listApps({ label: "env==staging" }), [])
        const error = yield* Effect.flip(marathon.getApp("/prod/shop/gone"))
        assert.strictEqual(error.reason, "NotFound")
        assert.include(error.message, "/prod/shop/gone")
      })))

  it.live("several apps are read in ONE listing of their group: a missing one stops the deployment before the PUT, and verification names it", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const withGone = [...rollbackSet, { appId: "/prod/shop/gone", image: img("gone", "1") }]
        const error = yield* Effect.flip(marathon.deployImages(withGone))
        assert.strictEqual(error.reason, "NotFound")
        assert.include(error.message, "/prod/shop/gone does not exist")
        assert.include(error.message, "nothing was deployed")
        assert.isFalse(sandbox.requests.some((r) => r.method === "PUT"))
        const readsBefore = sandbox.requests.length
        // web is asked for the image it runs: verified; api is not on its new image (nothing was deployed)
        const verified = yield* marathon.verifyApps([rollbackSet[0]!, { appId: "/prod/shop/web", image: img("web", "100-master") }, withGone[2]!], { previousFailures: {} })
        const reads = sandbox.requests.slice(readsBefore).filter((r) => r.path.startsWith("/v2/apps"))
        assert.deepStrictEqual(reads.map((r) => r.path), ["/v2/apps"], "one listing, not one read per app")
        assert.deepStrictEqual(verified.map((v) => [v.appId, v.ok, v.problem]), [
          ["/prod/shop/api", false, `runs ${img("api", "100-master")}, expected ${img("api", "99-master")}`],
          ["/prod/shop/web", true, undefined],
          ["/prod/shop/gone", false, "the app does not exist (any more)"]
        ])
      })))

  it.live("progress while waiting: each poll reads the apps' task counts in one listing, not one request per app", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        const from = sandbox.requests.length
        const progress: Array<ReadonlyArray<string>> = []
        yield* marathon.waitForDeployment(deploymentId, { timeoutMs: 10_000, pollMs: 50, onProgress: (p) => progress.push(p.apps.map((a) => a.id).sort()) })
        assert.isAbove(progress.length, 0)
        assert.deepStrictEqual(progress[0], ["/prod/shop/api", "/prod/shop/web"])
        const appReads = sandbox.requests.slice(from).filter((r) => r.method === "GET" && r.path.startsWith("/v2/apps"))
        assert.deepStrictEqual([...new Set(appReads.map((r) => r.path))], ["/v2/apps"])
      })))

  it.live("a broken image never finishes: DeploymentTimeout, a new lastTaskFailure, and cancel reverts to the old image", () =>
    withSandbox({ brokenImages: [img("api", "98-master")] }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const previous = yield* marathon.listApps({ idPrefix: "/prod/shop" })
        const previousFailures = Object.fromEntries(previous.map((a) => [a.id, lastFailureMarker(a)]))
        const change = [{ appId: "/prod/shop/api", image: img("api", "98-master") }]
        const { deploymentId } = yield* marathon.deployImages(change).pipe(Effect.map(withDeploymentId))

        const progress: Array<number> = []
        const error = yield* Effect.flip(
          marathon.waitForDeployment(deploymentId, { timeoutMs: 700, pollMs: 50, onProgress: (p) => progress.push(p.apps.length) })
        )
        assert.strictEqual(error.reason, "DeploymentTimeout")
        assert.include(error.message, deploymentId)
        assert.include(error.message, "/prod/shop/api")
        assert.isAbove(progress.length, 0)
        assert.deepStrictEqual((yield* marathon.deployments).map((d) => d.id), [deploymentId])

        const [verdict] = yield* marathon.verifyApps(change, { previousFailures })
        assert.isFalse(verdict!.ok)
        assert.include(verdict!.problem!, "a task failed since the deployment started")

        const { revertDeploymentId } = yield* marathon.cancelDeployment(deploymentId)
        assert.isString(revertDeploymentId)
        assert.notStrictEqual(revertDeploymentId, deploymentId)
        yield* marathon.waitForDeployment(revertDeploymentId!, { pollMs: 50, timeoutMs: 10_000 })
        assert.strictEqual(definition(sandbox, "/prod/shop/api")["container"]["docker"]["image"], img("api", "100-master"))
        assert.deepStrictEqual(sandbox.deployments(), [])
        assert.include(sandbox.requests.find((r) => r.method === "DELETE")!.query, "force=false")
      })))

  it.live("409: a running deployment locks the app; the error names it and --force overrides", () =>
    withSandbox({ deploymentMs: 5_000 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const first = yield* marathon.deployImages([{ appId: "/prod/shop/api", image: img("api", "99-master") }]).pipe(Effect.map(withDeploymentId))
        const locked = yield* Effect.flip(marathon.deployImages([{ appId: "/prod/shop/api", image: img("api", "98-master") }]))
        assert.strictEqual(locked.reason, "Locked")
        assert.deepStrictEqual(locked.blockingDeployments, [first.deploymentId])
        assert.include(locked.message, first.deploymentId)
        assert.include(locked.message, "--force")
        assert.strictEqual(definition(sandbox, "/prod/shop/api")["container"]["docker"]["image"], img("api", "99-master"))

        const forced = yield* marathon.deployImages([{ appId: "/prod/shop/api", image: img("api", "98-master") }], { force: true }).pipe(Effect.map(withDeploymentId))
        assert.notStrictEqual(forced.deploymentId, first.deploymentId)
        assert.include(sandbox.requests.filter((r) => r.method === "PUT")[2]!.query, "force=true")
        assert.strictEqual(definition(sandbox, "/prod/shop/api")["container"]["docker"]["image"], img("api", "98-master"))
        const cancelled = yield* marathon.cancelDeployment(forced.deploymentId, { revert: false })
        assert.deepStrictEqual(cancelled, {})
      })))

  it.live("422: Marathon's validation details reach the operator, path by path, and nothing changes", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const before = sandbox.apps()
        const error = yield* Effect.flip(marathon.deployImages([
          { appId: "/prod/shop/api", image: img("api", "99-master") },
          { appId: "/prod/shop/web", image: "" }
        ]))
        assert.strictEqual(error.reason, "Invalid")
        assert.deepStrictEqual(error.details, [{ path: "/1/container/docker/image", errors: ["must not be empty"] }])
        assert.include(error.message, "/1/container/docker/image: must not be empty")
        assert.deepStrictEqual(sandbox.apps(), before)
        assert.deepStrictEqual(sandbox.deployments(), [])
      })))

  it.live("503 (no leader) twice, then the deployment goes through: retried with backoff, one deployment", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext(503, 2, { method: "PUT" })
        const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 3)
        yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 10_000 })
        assert.strictEqual(definition(sandbox, "/prod/shop/web")["container"]["docker"]["image"], img("web", "99-master"))
      })))

  it.live("applied, answer lost (503 after applying): ONE PUT, and the deployment it started is the one returned", () =>
    withSandbox({ deploymentMs: 400 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext(503, 1, { method: "PUT", afterApplying: true })
        const started = yield* marathon.deployImages(rollbackSet)
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1, "the PUT is not repeated")
        assert.deepStrictEqual(sandbox.deployments().map((d) => d["id"]), [started.deploymentId])
        assert.include(started.answerLost!, "503")
        yield* marathon.waitForDeployment(started.deploymentId!, { pollMs: 50, timeoutMs: 10_000 })
        assert.strictEqual(definition(sandbox, "/prod/shop/web")["container"]["docker"]["image"], img("web", "99-master"))
      })))

  it.live("a 504 while Marathon lists the deployment but has not stored the new definitions: ONE PUT, that deployment is followed and verified", () =>
    withSandbox({ deploymentMs: 400 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        // the definitions are stored only once the client has seen the deployment listed: the
        // order of events is fixed, not left to a time window
        sandbox.failNext(504, 1, { method: "PUT", storeWhenReleased: true })
        const listed = sandbox.whenDeploymentListed().then((ids) => {
          sandbox.releaseStore()
          return ids
        })
        const started = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1, "the PUT is not repeated")
        assert.deepStrictEqual(yield* Effect.promise(() => listed), [started.deploymentId], "the listed deployment is the one followed")
        assert.include(started.answerLost!, "504")
        assert.include(started.answerLost!, `new deployment ${started.deploymentId}`)
        yield* marathon.waitForDeployment(started.deploymentId, { pollMs: 50, timeoutMs: 10_000 })
        const verified = yield* marathon.verifyApps(rollbackSet, { previousFailures: {} })
        assert.deepStrictEqual(verified.map((v) => v.ok), [true, true])
        assert.strictEqual(definition(sandbox, "/prod/shop/web")["container"]["docker"]["image"], img("web", "99-master"))
      })))

  it.live("a 500 in that window (the store failed on the way) is not 'nothing was changed': the listed deployment is followed", () =>
    withSandbox({ deploymentMs: 400 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext(500, 1, { method: "PUT", storeWhenReleased: true })
        const listed = sandbox.whenDeploymentListed().then((ids) => {
          sandbox.releaseStore()
          return ids
        })
        const started = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1)
        assert.deepStrictEqual(yield* Effect.promise(() => listed), [started.deploymentId])
        assert.include(started.answerLost!, "500")
      })))

  it.live("verifyApps: an app that a deployment still touches is not verified, whatever its image and task counts say", () =>
    withSandbox({ deploymentMs: 5_000 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const started = yield* marathon.deployImages([rollbackSet[0]!]).pipe(Effect.map(withDeploymentId))
        const [api] = yield* marathon.verifyApps([rollbackSet[0]!], { previousFailures: {} })
        assert.isFalse(api!.ok)
        assert.include(api!.problem!, `deployment ${started.deploymentId} still running on it`)
      })))

  it.live("connection reset after applying: ONE PUT, the deployment is found by the apps' new version", () =>
    withSandbox({ deploymentMs: 400 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext("reset", 1, { method: "PUT", afterApplying: true })
        const started = yield* marathon.deployImages(rollbackSet)
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1)
        assert.deepStrictEqual(sandbox.deployments().map((d) => d["id"]), [started.deploymentId])
        assert.strictEqual(started.version, sandbox.app("/prod/shop/api")!["version"])
      })))

  it.live("connection reset BEFORE applying: the apps show nothing changed, so the PUT is sent again, one deployment", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext("reset", 1, { method: "PUT" })
        const started = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 2)
        assert.isUndefined(started.answerLost)
        yield* marathon.waitForDeployment(started.deploymentId, { pollMs: 50, timeoutMs: 10_000 })
        assert.strictEqual(definition(sandbox, "/prod/shop/api")["container"]["docker"]["image"], img("api", "99-master"))
      })))

  it.live("Marathon unreachable right after the PUT: Indeterminate — the deployment MAY have started — naming the apps", () =>
    withSandbox({}, (s) => ({ url: s.url, retries: 1 }), (sandbox) =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        sandbox.failNext("reset", 1, { method: "PUT", afterApplying: true, thenUnreachable: true })
        const error = yield* Effect.flip(marathon.deployImages(rollbackSet))
        assert.strictEqual(error.reason, "Indeterminate")
        assert.deepStrictEqual(error.appIds, ["/prod/shop/api", "/prod/shop/web"])
        assert.include(error.message, "MAY have started")
        assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1)
      })))

  it.live("503 that does not go away: Unavailable after the retries", () =>
    withSandbox({}, (s) => ({ url: s.url, retries: 2 }), (sandbox) =>
      Effect.gen(function*() {
        sandbox.failNext(503, 10, { method: "GET", path: /^\/v2\/deployments$/ })
        const error = yield* Effect.flip((yield* Marathon).deployments)
        assert.strictEqual(error.reason, "Unavailable")
        assert.strictEqual(error.status, 503)
        assert.include(error.message, "Could not determine the current leader")
        assert.strictEqual(sandbox.requests.length, 3)
      })))

  it.live("plain Marathon with MARATHON_TOKEN and Basic; a wrong token is Unauthorized without showing it", () =>
    Effect.gen(function*() {
      yield* withSandbox({ marathonToken: "tok-123" }, (s) => ({ url: s.url, token: Redacted.make("tok-123") }), (sandbox) =>
        Effect.gen(function*() {
          assert.strictEqual((yield* (yield* Marathon).listApps()).length, 3)
          assert.strictEqual(sandbox.requests[0]!.authorization, "token=tok-123")
        }))
      yield* withSandbox({ marathonToken: "tok-123" }, (s) => ({ url: s.url, token: Redacted.make("wrong-tok") }), () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip((yield* Marathon).listApps())
          assert.strictEqual(error.reason, "Unauthorized")
          assert.include(error.message, "MARATHON_TOKEN")
          assert.notInclude(error.message, "wrong-tok")
        }))
      yield* withSandbox(
        { basicAuth: { username: "ops", password: "pw-basic" } },
        (s) => ({ url: s.url, basic: { username: "ops", password: Redacted.make("pw-basic") } }),
        (sandbox) =>
          Effect.gen(function*() {
            assert.strictEqual((yield* (yield* Marathon).listApps()).length, 3)
            assert.match(sandbox.requests[0]!.authorization ?? "", /^Basic /)
          })
      )
    }))
})

describe("DC/OS login", () => {
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
  const publicPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString()
  const dcos = { users: { bootstrapuser: "deleteme" }, serviceAccounts: { "fleet-rollback": publicPem } }
  const logins = (sandbox: MarathonSandbox) => sandbox.requests.filter((r) => r.path === "/acs/api/v1/auth/login")

  it.live("uid + DCOS_PASSWORD: one login, then token=… on every Marathon call under /service/marathon", () =>
    withSandbox(
      { dcos },
      (s) => ({ url: s.clusterUrl, dcos: { uid: "bootstrapuser", password: Redacted.make("deleteme") } }),
      (sandbox) =>
        Effect.gen(function*() {
          const marathon = yield* Marathon
          const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
          yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 10_000 })
          assert.strictEqual(logins(sandbox).length, 1)
          const calls = sandbox.requests.filter((r) => r.path !== "/acs/api/v1/auth/login")
          assert.isTrue(calls.every((r) => r.path.startsWith("/service/marathon/v2/")))
          assert.isTrue(calls.every((r) => /^token=.+/.test(r.authorization ?? "")))
          assert.strictEqual(definition(sandbox, "/prod/shop/api")["container"]["docker"]["image"], img("api", "99-master"))
        })
    ))

  it.live("service account + DCOS_PRIVATE_KEY_FILE: RS256 login token accepted", () =>
    withSandbox(
      { dcos },
      (s) => ({ url: s.clusterUrl, dcos: { uid: "fleet-rollback", privateKeyPem: Redacted.make(privatePem) } }),
      (sandbox) =>
        Effect.gen(function*() {
          const apps = yield* (yield* Marathon).listApps()
          assert.strictEqual(apps.length, 3)
          assert.strictEqual(logins(sandbox).length, 1)
        })
    ))

  it.live("a token expiring mid-run: log in again once and carry on", () =>
    withSandbox(
      { dcos },
      (s) => ({ url: s.clusterUrl, dcos: { uid: "fleet-rollback", privateKeyPem: Redacted.make(privatePem) } }),
      (sandbox) =>
        Effect.gen(function*() {
          const marathon = yield* Marathon
          yield* marathon.listApps()
          sandbox.expireTokens()
          const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
          sandbox.expireTokens()
          yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 10_000 })
          assert.strictEqual(logins(sandbox).length, 3)
          assert.strictEqual(sandbox.requests.filter((r) => r.method === "PUT").length, 1)
          assert.strictEqual(definition(sandbox, "/prod/shop/web")["container"]["docker"]["image"], img("web", "99-master"))
        })
    ))

  it.live("a wrong DCOS_PASSWORD is Unauthorized, says which variable to check, and never shows the password", () =>
    withSandbox(
      { dcos },
      (s) => ({ url: s.clusterUrl, dcos: { uid: "bootstrapuser", password: Redacted.make("not-the-password") } }),
      (sandbox) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip((yield* Marathon).listApps())
          assert.strictEqual(error.reason, "Unauthorized")
          assert.include(error.message, "DCOS_PASSWORD")
          assert.include(error.message, "bootstrapuser")
          assert.notInclude(error.message, "not-the-password")
          assert.notInclude(JSON.stringify(error), "not-the-password")
          assert.strictEqual(logins(sandbox).length, 1)
          assert.isFalse(sandbox.requests.some((r) => r.path.startsWith("/service/marathon")))
        })
    ))

  it.live("a key that is not the account's: Unauthorized naming DCOS_PRIVATE_KEY_FILE", () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()
    return withSandbox(
      { dcos },
      (s) => ({ url: s.clusterUrl, dcos: { uid: "fleet-rollback", privateKeyPem: Redacted.make(other) } }),
      () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip((yield* Marathon).listApps())
          assert.strictEqual(error.reason, "Unauthorized")
          assert.include(error.message, "DCOS_PRIVATE_KEY_FILE")
          assert.include(error.message, "signature is invalid")
        })
    )
  })
})

describe("app versions", () => {
  it.live("a rollback adds a version: the list is newest first and its head is the app's version", () =>
    withSandbox({}, plain, () =>
      Effect.gen(function*() {
        const marathon = yield* Marathon
        const before = yield* marathon.appVersions("/prod/shop/api")
        assert.lengthOf(before, 1)
        const { deploymentId } = yield* marathon.deployImages([{ appId: "/prod/shop/api", image: img("api", "99-master") }]).pipe(Effect.map(withDeploymentId))
        yield* marathon.waitForDeployment(deploymentId, { pollMs: 20 })
        const after = yield* marathon.appVersions("/prod/shop/api")
        assert.lengthOf(after, 2)
        assert.isAbove(Date.parse(after[0]!), Date.parse(after[1]!))
        assert.strictEqual(after[0], (yield* marathon.getApp("/prod/shop/api")).version)
        assert.strictEqual(after[1], before[0])
      })))
})

describe("waiting for a deployment: Marathon's event stream and the polls", () => {
  const listings = (sandbox: MarathonSandbox) => sandbox.requests.filter((r) => r.method === "GET" && r.path === "/v2/deployments").length
  /** Polls a condition of the sandbox every 10 ms (an event of the test's own making, not a clock). */
  const until = (what: string, condition: () => boolean) =>
    Effect.gen(function*() {
      for (let i = 0; !condition(); i++) {
        if (i > 3000) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
        yield* Effect.sleep(10)
      }
    })
  /**
   * Deploys the rollback set and starts waiting for it, polling only every 10 minutes (so it ends
   * within its 30 s only when something wakes it); returns once the wait follows the event stream
   * and has listed the deployments once.
   */
  const waitingLong = (sandbox: MarathonSandbox) =>
    Effect.gen(function*() {
      const marathon = yield* Marathon
      const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
      const before = listings(sandbox)
      const waiting = yield* Effect.forkChild(marathon.waitForDeployment(deploymentId, { pollMs: 600_000, timeoutMs: 30_000 }))
      yield* until("the event stream and the first listing", () => sandbox.eventStreams() > 0 && listings(sandbox) > before)
      return { deploymentId, before, waiting }
    })

  it.live("deployment_failed of its deployment ends the wait when it comes, not at the next poll (a poll every 10 minutes; listed twice)", () =>
    withSandbox({ deploymentMs: 600_000 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const { deploymentId, before, waiting } = yield* waitingLong(sandbox)
        const cancelled = yield* Effect.promise(() => fetch(`${sandbox.url}/v2/deployments/${deploymentId}?force=true`, { method: "DELETE" }))
        assert.strictEqual(cancelled.status, 202)
        yield* Fiber.join(waiting)
        assert.strictEqual(listings(sandbox) - before, 2, "listed while it ran, then gone once the event came")
        const followed = sandbox.requests.find((r) => r.path === "/v2/events")
        assert.strictEqual(followed?.query, "event_type=deployment_success&event_type=deployment_failed", "only the events that end a deployment")
      })))

  it.live("deployment_success published before the deployment leaves the list (Marathon's order): the polls after the wake-up come quickly until it is gone", () =>
    withSandbox({ deploymentMs: 600_000 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const { deploymentId, waiting } = yield* waitingLong(sandbox)
        // the event now, the deployment listed for 2 more seconds
        assert.isTrue(sandbox.finishDeployment(deploymentId, 2_000))
        yield* Fiber.join(waiting)
        assert.deepStrictEqual(sandbox.deployments(), [])
      })))

  it.live("a stream a proxy closes is opened again, and its event still ends the wait", () =>
    withSandbox({ deploymentMs: 600_000 }, plain, (sandbox) =>
      Effect.gen(function*() {
        const { deploymentId, waiting } = yield* waitingLong(sandbox)
        sandbox.closeEventStreams()
        const opened = () => sandbox.requests.filter((r) => r.path === "/v2/events").length
        yield* until("the stream opened again", () => opened() === 2 && sandbox.eventStreams() === 1)
        assert.isTrue(sandbox.finishDeployment(deploymentId))
        yield* Fiber.join(waiting)
        assert.deepStrictEqual(sandbox.deployments(), [])
      })))

  it.live("without the event stream (the proxy answers 403) the polls alone decide, and the wait still ends", () =>
    withSandbox({}, plain, (sandbox) =>
      Effect.gen(function*() {
        sandbox.failNext(403, 1_000, { path: /\/v2\/events$/ })
        const marathon = yield* Marathon
        const { deploymentId } = yield* marathon.deployImages(rollbackSet).pipe(Effect.map(withDeploymentId))
        yield* marathon.waitForDeployment(deploymentId, { pollMs: 50, timeoutMs: 30_000 })
        assert.deepStrictEqual(sandbox.deployments(), [])
        assert.strictEqual(sandbox.requests.filter((r) => r.path === "/v2/events").length, 1, "the stream was asked for once (and refused), not again")
        assert.strictEqual(sandbox.eventStreams(), 0, "no stream was attached")
      })))
})
