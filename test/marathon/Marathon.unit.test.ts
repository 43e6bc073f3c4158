/**
 * @module Marathon.unit.test — the client against a scripted in-process transport: what goes on
 * the wire, how every failure status reads to the on-call engineer, retries and the client's own
 * deployment timeout under TestClock. Real-HTTP behaviour is in Marathon.sandbox.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { FetchHttpClient, HttpClient, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { createServer } from "node:net"
import { commonGroup } from "../../lib/targets/marathon/Apps.ts"
import { LOST_ANSWER_CHECK_MS, Marathon } from "../../lib/targets/marathon/Marathon.ts"
import type { MarathonConfig } from "../../lib/targets/marathon/Marathon.ts"
import type { MarathonError } from "../../lib/targets/marathon/MarathonError.ts"

interface Seen {
  readonly method: string
  readonly path: string
  readonly query: Record<string, string>
  readonly body: unknown
  readonly authorization: string | undefined
}

type Answer = { readonly status: number; readonly body?: unknown }

/** A transport that records every request and answers from `handler`. */
const scripted = (handler: (req: Seen, index: number) => Answer) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      const raw = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : undefined
      const req: Seen = {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: raw === undefined ? undefined : JSON.parse(raw),
        authorization: request.headers["authorization"]
      }
      seen.push(req)
      const answer = handler(req, seen.length - 1)
      const response = answer.body === undefined
        ? new Response(null, { status: answer.status })
        : Response.json(answer.body, { status: answer.status })
      return HttpClientResponse.fromWeb(request, response)
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** A loopback port nobody listens on (bound, then closed). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const withMarathon = (config: MarathonConfig, http: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.provide(Marathon.layer(config).pipe(Layer.provide(http)))

const apiApp = {
  id: "/prod/api",
  instances: 2,
  cmd: null,
  container: {
    type: "DOCKER",
    docker: { image: "registry.example.com/shop/api:100-master", forcePullImage: false, parameters: [{ key: "log-driver", value: "journald" }] },
    portMappings: [{ containerPort: 8080, hostPort: 0, name: "http", protocol: "tcp" }],
    volumes: [{ containerPath: "/data", hostPath: "/srv/api", mode: "RW" }]
  },
  healthChecks: [{ protocol: "MESOS_HTTP", path: "/health", portIndex: 0 }],
  labels: { env: "prod" },
  version: "2024-05-01T10:00:00.000Z",
  versionInfo: { lastScalingAt: "2024-05-01T10:00:00.000Z", lastConfigChangeAt: "2024-05-01T10:00:00.000Z" },
  tasksRunning: 2,
  tasksHealthy: 2,
  tasksStaged: 0,
  tasksUnhealthy: 0,
  deployments: [],
  tasks: [],
  lastTaskFailure: { message: "OOM", timestamp: "2024-04-30T09:00:00.000Z", version: "2024-04-29T00:00:00.000Z" }
}

const webApp = {
  ...apiApp,
  id: "/prod/web",
  container: { type: "MESOS", docker: { image: "registry.example.com/shop/web:7" }, volumes: [] },
  healthChecks: [],
  lastTaskFailure: undefined
}

describe("Marathon client on the wire", () => {
  it.effect("one PUT with an array carries each app's whole container, only the image changed, nothing read-only", () => {
    const fake = scripted((req) => {
      // the apps are read in ONE listing of their common group (a third app there is left alone)
      if (req.method === "GET" && req.path === "/v2/apps") return { status: 200, body: { apps: [apiApp, webApp, { ...webApp, id: "/prod/other" }] } }
      if (req.method === "PUT") return { status: 200, body: { deploymentId: "d-1", version: "2024-05-02T00:00:00.000Z" } }
      return { status: 404, body: { message: "no" } }
    })
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const result = yield* marathon.deployImages([
        { appId: "prod/api", image: "registry.example.com/shop/api:99-master" },
        { appId: "/prod/web", image: "registry.example.com/shop/web:6" }
      ])
      assert.deepStrictEqual(result, { deploymentId: "d-1", version: "2024-05-02T00:00:00.000Z" })
      const puts = fake.seen.filter((r) => r.method === "PUT")
      assert.strictEqual(puts.length, 1)
      const reads = fake.seen.filter((r) => r.method === "GET" && r.path.startsWith("/v2/apps"))
      assert.deepStrictEqual(reads.map((r) => [r.path, r.query["id"]]), [["/v2/apps", "/prod"]], "one listing of /prod, no read per app")
      assert.strictEqual(puts[0]!.path, "/v2/apps")
      assert.deepStrictEqual(puts[0]!.query, { partialUpdate: "true" })
      assert.deepStrictEqual(puts[0]!.body, [
        { id: "/prod/api", container: { ...apiApp.container, docker: { ...apiApp.container.docker, image: "registry.example.com/shop/api:99-master" } } },
        { id: "/prod/web", container: { ...webApp.container, docker: { image: "registry.example.com/shop/web:6" } } }
      ])
    }).pipe(withMarathon({ url: "http://marathon.test:8080/" }, fake.layer))
  })

  it.effect("force=true only when asked", () => {
    const fake = scripted((req) =>
      req.method === "GET" ? { status: 200, body: { app: apiApp } } : { status: 200, body: { deploymentId: "d", version: "v" } }
    )
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      yield* marathon.deployImages([{ appId: "/prod/api", image: "x/y:1" }], { force: true })
      assert.deepStrictEqual(fake.seen.find((r) => r.method === "PUT")!.query, { partialUpdate: "true", force: "true" })
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("an app without container.docker is refused before anything is sent", () => {
    const fake = scripted(() => ({ status: 200, body: { app: { id: "/prod/cmd", instances: 1, cmd: "sleep 1", version: "v" } } }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const error = yield* Effect.flip(marathon.deployImages([{ appId: "/prod/cmd", image: "x/y:1" }]))
      assert.strictEqual(error.reason, "Invalid")
      assert.include(error.message, "/prod/cmd has no container.docker")
      assert.isFalse(fake.seen.some((r) => r.method === "PUT"))
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("decodes AppInfo: counts, health checks, last failure, labels, raw kept", () => {
    const fake = scripted(() => ({ status: 200, body: { apps: [apiApp, webApp] } }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const apps = yield* marathon.listApps({ idPrefix: "prod", label: "env==prod" })
      assert.deepStrictEqual(fake.seen[0]!.query, { embed: "apps.lastTaskFailure", id: "/prod", label: "env==prod" })
      assert.strictEqual(apps.length, 2)
      const api = apps[0]!
      assert.strictEqual(api.image, "registry.example.com/shop/api:100-master")
      assert.strictEqual(api.instances, 2)
      assert.isTrue(api.hasHealthChecks)
      assert.isFalse(apps[1]!.hasHealthChecks)
      assert.deepStrictEqual(api.lastTaskFailure, apiApp.lastTaskFailure)
      assert.deepStrictEqual(api.labels, { env: "prod" })
      assert.deepStrictEqual(api.raw, JSON.parse(JSON.stringify(apiApp)))
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("Marathon's id filter is a substring match: only true prefixes are kept", () => {
    const fake = scripted(() => ({ status: 200, body: { apps: [apiApp, { ...webApp, id: "/staging/prod-copy" }] } }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const apps = yield* marathon.listApps({ idPrefix: "/prod" })
      assert.deepStrictEqual(apps.map((a) => a.id), ["/prod/api"])
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("a body that is not an AppInfo is a BadResponse, not a crash", () => {
    const fake = scripted(() => ({ status: 200, body: { app: { id: 42 } } }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Marathon).getApp("/x"))
      assert.strictEqual(error.reason, "BadResponse")
      assert.include(error.message, "AppInfo")
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })
})

describe("Marathon errors read like what to do next", () => {
  const failing = (answer: Answer, config: Partial<MarathonConfig> = {}) => {
    const fake = scripted((req) => (req.method === "GET" ? { status: 200, body: { app: apiApp } } : answer))
    return (f: (error: MarathonError) => void) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip((yield* Marathon).deployImages([{ appId: "/prod/api", image: "x/y:1" }]))
        f(error)
      }).pipe(withMarathon({ url: "http://marathon.test", retries: 0, ...config }, fake.layer))
  }

  it.effect("409: names the blocking deployments and says --force overrides", () =>
    failing({
      status: 409,
      body: {
        message: "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<ID>'.",
        deployments: [{ id: "97c136bf-5a28" }, { id: "0a1b2c3d" }]
      }
    })((error) => {
      assert.strictEqual(error.reason, "Locked")
      assert.deepStrictEqual(error.blockingDeployments, ["97c136bf-5a28", "0a1b2c3d"])
      assert.include(error.message, "97c136bf-5a28, 0a1b2c3d")
      assert.include(error.message, "--force")
    }))

  it.effect("422: shows Marathon's details path by path", () =>
    failing({
      status: 422,
      body: { message: "Object is not valid", details: [{ path: "/apps(0)/container/docker/image", errors: ["must not be empty"] }] }
    })((error) => {
      assert.strictEqual(error.reason, "Invalid")
      assert.deepStrictEqual(error.details, [{ path: "/apps(0)/container/docker/image", errors: ["must not be empty"] }])
      assert.include(error.message, "/apps(0)/container/docker/image: must not be empty")
    }))

  it.effect("400 malformed JSON: details is a string and still shown", () =>
    failing({ status: 400, body: { message: "Invalid JSON", details: "Unexpected end-of-input" } })((error) => {
      assert.strictEqual(error.reason, "Invalid")
      assert.include(error.message, "Unexpected end-of-input")
    }))

  it.effect("401 with MARATHON_TOKEN: names the variable, never the token", () =>
    failing({ status: 401, body: { message: "Unauthorized" } }, { token: Redacted.make("s3cr3t-token") })((error) => {
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, "MARATHON_TOKEN")
      assert.notInclude(error.message, "s3cr3t-token")
    }))

  it.effect("403 with Basic: names MARATHON_USERNAME/MARATHON_PASSWORD, never the password", () =>
    failing({ status: 403, body: { message: "Not Authorized to perform this action!" } }, {
      basic: { username: "ops", password: Redacted.make("hunter2-pw") }
    })((error) => {
      assert.strictEqual(error.reason, "Forbidden")
      assert.include(error.message, "MARATHON_USERNAME")
      assert.include(error.message, "MARATHON_PASSWORD")
      assert.include(error.message, "Not Authorized to perform this action!")
      assert.notInclude(error.message, "hunter2-pw")
    }))

  it.effect("401 without credentials says which variables could be set", () =>
    failing({ status: 401 })((error) => {
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, "MARATHON_TOKEN")
      assert.include(error.message, "DCOS_PASSWORD")
    }))

  it.effect("404 on cancel: the deployment is gone", () => {
    const fake = scripted(() => ({ status: 404, body: { message: "DeploymentPlan d-9 does not exist" } }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Marathon).cancelDeployment("d-9"))
      assert.strictEqual(error.reason, "NotFound")
      assert.include(error.message, "DeploymentPlan d-9 does not exist")
      assert.deepStrictEqual(fake.seen.find((r) => r.method === "DELETE")!.query, { force: "false" })
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("503 is retried with backoff, then Unavailable after the configured retries", () => {
    const fake = scripted(() => ({ status: 503 }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const fiber = yield* Effect.forkChild(Effect.flip(marathon.deployments))
      yield* TestClock.adjust(60_000)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(fake.seen.length, 3)
      assert.include(error.message, "3 attempts")
    }).pipe(withMarathon({ url: "http://marathon.test", retries: 2 }, fake.layer))
  })

  it.effect("503 twice then 200: the caller sees success", () => {
    const fake = scripted((_, i) => (i < 2 ? { status: 503 } : { status: 200, body: [] }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const fiber = yield* Effect.forkChild(marathon.deployments)
      yield* TestClock.adjust(60_000)
      assert.deepStrictEqual(yield* Fiber.join(fiber), [])
      assert.strictEqual(fake.seen.length, 3)
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.live("a refused connection is retried, then Unreachable naming the URL (never its user info)", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const error = yield* Effect.flip(Marathon.use((m) => m.listApps())).pipe(
        withMarathon({ url: `http://u:pw123@127.0.0.1:${port}`, retries: 1 }, FetchHttpClient.layer)
      )
      assert.strictEqual(error.reason, "Unreachable")
      assert.include(error.message, `http://127.0.0.1:${port}/v2/apps`)
      assert.include(error.message, "ECONNREFUSED")
      assert.include(error.message, "tried 2 times")
      assert.notInclude(error.message, "pw123")
    }))
})

describe("DC/OS token handling", () => {
  it.effect("401 even after a fresh login: exactly one re-login, then Unauthorized naming DCOS_PASSWORD", () => {
    let issued = 0
    const fake = scripted((req) =>
      req.path === "/acs/api/v1/auth/login"
        ? { status: 200, body: { token: `t${++issued}` } }
        : { status: 401, body: { title: "Unauthorized", description: "token revoked", code: "ERR_INVALID_AUTH_TOKEN" } }
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Marathon).listApps())
      assert.strictEqual(error.reason, "Unauthorized")
      assert.include(error.message, "DCOS_PASSWORD")
      assert.include(error.message, "fresh DC/OS token")
      assert.notInclude(error.message, "pa55")
      assert.deepStrictEqual(fake.seen.map((r) => `${r.path} ${r.authorization ?? "-"}`), [
        "/acs/api/v1/auth/login -",
        "/service/marathon/v2/apps token=t1",
        "/acs/api/v1/auth/login -",
        "/service/marathon/v2/apps token=t2"
      ])
      assert.deepStrictEqual(fake.seen[0]!.body, { uid: "ops", password: "pa55" })
    }).pipe(withMarathon({ url: "https://dcos.test/", dcos: { uid: "ops", password: Redacted.make("pa55") } }, fake.layer))
  })
})

describe("waitForDeployment keeps its own clock", () => {
  it.effect("a deployment that never finishes fails with DeploymentTimeout after timeoutMs (TestClock)", () => {
    const stuck = { id: "d-stuck", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }
    const fake = scripted((req) =>
      req.path === "/v2/deployments"
        ? { status: 200, body: [stuck] }
        : { status: 200, body: { app: { ...apiApp, tasksRunning: 0, tasksHealthy: 0, lastTaskFailure: { message: "image not found" } } } }
    )
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const progress: Array<number> = []
      const fiber = yield* Effect.forkChild(Effect.flip(
        marathon.waitForDeployment("d-stuck", { timeoutMs: 30_000, pollMs: 1000, onProgress: (p) => progress.push(p.currentStep) })
      ))
      yield* TestClock.adjust(29_000)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(2_000)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "DeploymentTimeout")
      assert.include(error.message, "d-stuck")
      assert.include(error.message, "30 s")
      assert.include(error.message, "/prod/api: 0/2 running")
      assert.include(error.message, "image not found")
      assert.isAtLeast(progress.length, 25)
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("returns once the deployment is gone from /v2/deployments", () => {
    // the listings are counted on their own: the event stream's request (refused here, as without
    // Accept: text/event-stream) comes whenever its fiber runs
    let listed = 0
    const fake = scripted((req) =>
      req.path === "/v2/deployments"
        ? { status: 200, body: listed++ < 3 ? [{ id: "d-1", affectedApps: [], currentStep: 1, totalSteps: 2 }] : [] }
        : { status: 405, body: { message: "HTTP 405 Method Not Allowed" } }
    )
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      const fiber = yield* Effect.forkChild(marathon.waitForDeployment("d-1", { pollMs: 500 }))
      yield* TestClock.adjust(5_000)
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.seen.filter((r) => r.path === "/v2/deployments").length, 4)
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })
})

describe("a deployment request is never repeated blindly", () => {
  /**
   * A small stateful Marathon: one app; `PUT /v2/apps` applies the image under a new version and
   * lists a deployment of that version. `put(n)` says what the n-th PUT does: "apply" answers
   * normally, "apply-then-<status>" applies but answers <status>, a bare status answers it without
   * applying; `reads` can break the reads after the first PUT.
   */
  const fakeMarathon = (options: {
    readonly put: (n: number) => "apply" | `apply-then-${number}` | number
    readonly readsAfterPut?: "fail" | "ok"
    readonly otherDeployment?: { readonly id: string; readonly version: string }
  }) => {
    let image = "registry.example.com/shop/api:100-master"
    let version = "2024-05-01T10:00:00.000Z"
    const deployments: Array<{ id: string; version: string; affectedApps: Array<string>; currentStep: number; totalSteps: number }> = []
    if (options.otherDeployment !== undefined) deployments.push({ ...options.otherDeployment, affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 })
    let puts = 0
    const fake = scripted((req) => {
      if (req.method === "PUT") {
        const what = options.put(puts++)
        if (typeof what === "number") return what === 409
          ? { status: 409, body: { message: "App is locked by one or more deployments.", deployments: deployments.map((d) => ({ id: d.id })) } }
          : { status: what, body: { message: "Could not determine the current leader" } }
        image = ((req.body as Array<{ container: { docker: { image: string } } }>)[0]!).container.docker.image
        version = `2024-05-02T00:00:0${puts}.000Z`
        deployments.push({ id: `d-ours-${puts}`, version, affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 })
        if (what === "apply") return { status: 200, body: { deploymentId: `d-ours-${puts}`, version } }
        return { status: Number(what.slice("apply-then-".length)), body: { message: "Bad gateway" } }
      }
      if (puts > 0 && options.readsAfterPut === "fail") return { status: 503 }
      if (req.path === "/v2/deployments") return { status: 200, body: deployments }
      return { status: 200, body: { app: { ...apiApp, version, container: { ...apiApp.container, docker: { ...apiApp.container.docker, image } }, deployments: deployments.map((d) => ({ id: d.id })) } } }
    })
    return { ...fake, puts: () => puts }
  }
  const target = [{ appId: "/prod/api", image: "registry.example.com/shop/api:99-master" }]
  const deploy = Marathon.use((m) => m.deployImages(target))
  const run = <A, E>(effect: Effect.Effect<A, E, Marathon>, fake: { layer: Layer.Layer<HttpClient.HttpClient> }) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(effect.pipe(withMarathon({ url: "http://marathon.test", retries: 2 }, fake.layer), Effect.result))
      yield* TestClock.adjust(120_000)
      return yield* Fiber.join(fiber)
    })

  it.effect("a 503 on a change that WAS applied: no second PUT, the deployment of the new version is followed", () => {
    const fake = fakeMarathon({ put: () => "apply-then-503" })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(fake.puts(), 1, "the PUT is not sent again")
      assert.strictEqual(result.success.deploymentId, "d-ours-1")
      assert.include(result.success.answerLost!, "503")
      assert.include(result.success.answerLost!, "d-ours-1")
    })
  })

  it.effect("a 503 on a change that was NOT applied (no leader) is retried with backoff, and deploys once", () => {
    const fake = fakeMarathon({ put: (n) => (n === 0 ? 503 : "apply") })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(fake.puts(), 2)
      assert.strictEqual(result.success.deploymentId, "d-ours-2")
      assert.isUndefined(result.success.answerLost)
      const between = fake.seen.slice(fake.seen.findIndex((r) => r.method === "PUT") + 1, fake.seen.findLastIndex((r) => r.method === "PUT"))
      assert.isTrue(between.some((r) => r.method === "GET" && r.path === "/v2/apps/prod/api"), "the app is read before the PUT is sent again")
    })
  })

  it.effect("someone else's deployment on the same apps is not adopted after a lost answer: 409 names it, nothing changed", () => {
    const fake = fakeMarathon({ put: (n) => (n === 0 ? 503 : 409), otherDeployment: { id: "d-theirs", version: "2024-04-30T00:00:00.000Z" } })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Failure")
      if (result._tag !== "Failure") return
      assert.strictEqual(result.failure.reason, "Locked")
      assert.deepStrictEqual(result.failure.blockingDeployments, ["d-theirs"])
      assert.include(result.failure.message, "Nothing was changed")
    })
  })

  it.effect("a 409 on a repeat whose first request was applied after all: our deployment is followed", () => {
    // the first request is lost before the change lands; the repeat lands but is answered 409
    const fake = fakeMarathon({ put: (n) => (n === 0 ? 504 : n === 1 ? "apply-then-409" : "apply") })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(fake.puts(), 2)
      assert.strictEqual(result.success.deploymentId, "d-ours-2")
      assert.include(result.success.answerLost!, "409")
    })
  })

  it.effect("a lost answer and Marathon unreadable afterwards: Indeterminate, naming the apps to check", () => {
    const fake = fakeMarathon({ put: () => "apply-then-502", readsAfterPut: "fail" })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Failure")
      if (result._tag !== "Failure") return
      assert.strictEqual(result.failure.reason, "Indeterminate")
      assert.deepStrictEqual(result.failure.appIds, ["/prod/api"])
      assert.include(result.failure.message, "MAY have started")
      assert.include(result.failure.message, "/prod/api")
      assert.strictEqual(fake.puts(), 1)
    })
  })

  it.effect("a PUT that gets no answer within the request timeout is checked, not sent again: applied, so it is followed", () => {
    let image = apiApp.container.docker.image
    let version = apiApp.version
    let puts = 0
    const client = HttpClient.make((request, url) => {
      if (request.method === "PUT") {
        puts++
        const raw = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : "[]"
        image = (JSON.parse(raw) as Array<{ container: { docker: { image: string } } }>)[0]!.container.docker.image
        version = "2024-05-02T00:00:00.000Z"
        return Effect.never // Marathon took it and hangs
      }
      const body = url.pathname === "/v2/deployments"
        ? [{ id: "d-slow", version, affectedApps: ["/prod/api"] }]
        : { app: { ...apiApp, version, container: { ...apiApp.container, docker: { ...apiApp.container.docker, image } } } }
      return Effect.succeed(HttpClientResponse.fromWeb(request, Response.json(body)))
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Marathon.use((m) => m.deployImages(target)).pipe(
        withMarathon({ url: "http://marathon.test", requestTimeoutMs: 30_000 }, Layer.succeed(HttpClient.HttpClient, client))
      ))
      yield* TestClock.adjust(29_000)
      assert.isUndefined(fiber.pollUnsafe(), "still waiting for the answer")
      yield* TestClock.adjust(2_000)
      const started = yield* Fiber.join(fiber)
      assert.strictEqual(puts, 1)
      assert.strictEqual(started.deploymentId, "d-slow")
      assert.include(started.answerLost!, "no answer within 30 s")
    })
  })

  /**
   * Marathon's GroupManagerImpl.updateRoot lists the deployment (deploy(plan)) before it stores the
   * new app definitions (storeRoot): an answer lost in between finds the apps unchanged. A repeat
   * would then compute from the stored root and get an EMPTY deployment ("d-empty") of its own.
   */
  const listedBeforeStored = (options: { readonly firstAnswer: number; readonly deployment?: { readonly affectedApps: Array<string> } }) => {
    let image = apiApp.container.docker.image
    let version = apiApp.version
    const deployments: Array<{ id: string; version: string; affectedApps: Array<string>; currentStep: number; totalSteps: number }> = []
    let puts = 0
    const fake = scripted((req) => {
      if (req.method === "PUT") {
        puts++
        if (puts === 1) {
          deployments.push({ id: "d-real", version: "2024-05-02T00:00:00.000Z", affectedApps: options.deployment?.affectedApps ?? ["/prod/api"], currentStep: 1, totalSteps: 1 })
          return { status: options.firstAnswer, body: { message: "gateway timeout" } }
        }
        image = ((req.body as Array<{ container: { docker: { image: string } } }>)[0]!).container.docker.image
        version = "2024-05-02T00:00:00.000Z"
        return { status: 200, body: { deploymentId: "d-empty", version: "2024-05-02T00:00:05.000Z" } }
      }
      if (req.path === "/v2/deployments") return { status: 200, body: deployments }
      return { status: 200, body: { app: { ...apiApp, version, container: { ...apiApp.container, docker: { ...apiApp.container.docker, image } }, deployments: deployments.map((d) => ({ id: d.id })) } } }
    })
    return { ...fake, puts: () => puts }
  }

  it.effect("a 504 after Marathon listed the deployment but before it stored the apps: no second PUT, THAT deployment is followed", () => {
    const fake = listedBeforeStored({ firstAnswer: 504 })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(fake.puts(), 1, "the PUT is not sent again")
      assert.strictEqual(result.success.deploymentId, "d-real")
      assert.include(result.success.answerLost!, "lists a new deployment d-real")
      const firstPut = fake.seen.findIndex((r) => r.method === "PUT")
      assert.isTrue(fake.seen.slice(0, firstPut).some((r) => r.path === "/v2/deployments"), "the deployments are listed before the PUT")
    })
  })

  it.effect("a non-retryable 500 in that window is not 'Nothing was changed': the listed deployment is followed", () => {
    const fake = listedBeforeStored({ firstAnswer: 500 })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(fake.puts(), 1)
      assert.strictEqual(result.success.deploymentId, "d-real")
    })
  })

  it.effect("a new deployment that touches these apps and others, while the apps show no change: Indeterminate, never sent again", () => {
    const fake = listedBeforeStored({ firstAnswer: 504, deployment: { affectedApps: ["/prod/api", "/prod/other"] } })
    return Effect.gen(function*() {
      const result = yield* run(deploy, fake)
      assert.isTrue(result._tag === "Failure")
      if (result._tag !== "Failure") return
      assert.strictEqual(result.failure.reason, "Indeterminate")
      assert.include(result.failure.message, "d-real (/prod/api, /prod/other)")
      assert.notInclude(result.failure.message, "Nothing was changed")
      assert.strictEqual(fake.puts(), 1)
    })
  })

  it.effect("Marathon answers nothing after the PUT: Indeterminate (noAnswer) within the request timeout plus the check's budget", () => {
    let put = false
    const client = HttpClient.make((request, url) => {
      if (request.method === "PUT") put = true
      if (put) return Effect.never
      const body = url.pathname === "/v2/deployments" ? [] : { app: apiApp }
      return Effect.succeed(HttpClientResponse.fromWeb(request, Response.json(body)))
    })
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Marathon.use((m) => m.deployImages(target)).pipe(
        withMarathon({ url: "http://marathon.test", requestTimeoutMs: 60_000 }, Layer.succeed(HttpClient.HttpClient, client)),
        Effect.flip
      ))
      yield* TestClock.adjust(60_000 + LOST_ANSWER_CHECK_MS - 1000)
      assert.isUndefined(fiber.pollUnsafe(), "still checking")
      yield* TestClock.adjust(2000)
      assert.isDefined(fiber.pollUnsafe(), "the check gave up within its budget")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "Indeterminate")
      assert.isTrue(error.noAnswer)
      assert.include(error.message, "did not answer the reads within 30 s")
    })
  })

  it.effect("403 Max number of running deployments: TooManyDeployments, not a permissions problem", () => {
    const fake = scripted((req) =>
      req.method === "GET"
        ? { status: 200, body: { app: apiApp } }
        : { status: 403, body: { message: "Max number (2) of running deployments is achieved. Wait for existing deployments to complete or cancel them." } }
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Marathon).deployImages(target))
      assert.strictEqual(error.reason, "TooManyDeployments")
      assert.include(error.message, "Max number (2)")
      assert.include(error.message, "not a permissions problem")
      assert.notInclude(error.message, "permissions of")
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("a cancel whose answer is lost is not sent again when the deployment is gone; its revert is found", () => {
    let deleted = 0
    const fake = scripted((req) => {
      if (req.method === "DELETE") {
        deleted++
        return { status: 503 }
      }
      return {
        status: 200,
        body: deleted === 0
          ? [{ id: "d-1", version: "v1", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }]
          : [{ id: "d-revert", version: "v2", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }]
      }
    })
    return Effect.gen(function*() {
      const result = yield* (yield* Marathon).cancelDeployment("d-1")
      assert.strictEqual(deleted, 1)
      assert.strictEqual(result.revertDeploymentId, "d-revert")
      assert.include(result.answerLost!, "d-1 is gone")
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })

  it.effect("a cancel whose answer is lost and whose deployment is gone with no new deployment listed: no revert is claimed, the answer says so", () => {
    let deleted = 0
    const fake = scripted((req) => {
      if (req.method === "DELETE") {
        deleted++
        return { status: 503 }
      }
      // someone's deployment on the same app was running before the cancel: it is not our revert
      const theirs = { id: "d-theirs", version: "v0", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }
      return { status: 200, body: deleted === 0 ? [theirs, { id: "d-1", version: "v1", affectedApps: ["/prod/api"], currentStep: 1, totalSteps: 1 }] : [theirs] }
    })
    return Effect.gen(function*() {
      const result = yield* (yield* Marathon).cancelDeployment("d-1")
      assert.strictEqual(deleted, 1)
      assert.isUndefined(result.revertDeploymentId)
      assert.include(result.answerLost!, "no revert deployment is listed")
      assert.include(result.answerLost!, "finished before the cancel")
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })
})

describe("an app id prefix is a group path", () => {
  it.effect("/prod holds /prod/api and /prod/eu/api, not /production/api", () => {
    const fake = scripted(() => ({
      status: 200,
      body: { apps: [apiApp, { ...webApp, id: "/production/web" }, { ...webApp, id: "/prod/eu/web" }] }
    }))
    return Effect.gen(function*() {
      const marathon = yield* Marathon
      assert.deepStrictEqual((yield* marathon.listApps({ idPrefix: "/prod" })).map((a) => a.id), ["/prod/api", "/prod/eu/web"])
      assert.deepStrictEqual((yield* marathon.listApps({ idPrefix: "prod/" })).map((a) => a.id), ["/prod/api", "/prod/eu/web"])
      assert.strictEqual(fake.seen[0]!.query["id"], "/prod")
    }).pipe(withMarathon({ url: "http://marathon.test" }, fake.layer))
  })
})

describe("commonGroup: the group one listing reads several apps from", () => {
  const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
    [["/prod/api", "/prod/web"], "/prod"],
    [["prod/eu/api", "/prod/eu/web", "/prod/us/db"], "/prod"],
    [["/prod/eu/api", "/prod/eu/web"], "/prod/eu"],
    [["/prod/api", "/production/api"], "/"],
    [["/api", "/web"], "/"],
    [["/prod/eu/api"], "/prod/eu"]
  ]
  for (const [ids, group] of cases) {
    it(`${ids.join(" + ")} → ${group}`, () => {
      assert.strictEqual(commonGroup(ids), group)
    })
  }
})

