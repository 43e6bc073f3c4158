/**
 * @module AppMatching.test — which running app is a service: image references parsed the way
 * Docker resolves them, scopes by id prefix and label selector, and the ambiguous cases that
 * must stop a rollback instead of guessing.
 */
import { assert, describe, it } from "@effect/vitest"
import { groupPath, inGroup, inScope, labelsMatch, matchServiceToApp, parseLabelSelector } from "../../lib/targets/marathon/AppMatching.ts"
import { parseImageReference, registryHostOf, serviceRepository } from "../../lib/core/ImageReference.ts"

const digest = "sha256:" + "ab".repeat(32)

describe("parseImageReference", () => {
  const table: ReadonlyArray<[string, { host: string; repository: string; tag?: string; digest?: string } | undefined]> = [
    ["nginx", { host: "docker.io", repository: "library/nginx" }],
    ["nginx:1.25", { host: "docker.io", repository: "library/nginx", tag: "1.25" }],
    ["docker.io/nginx:1.25", { host: "docker.io", repository: "library/nginx", tag: "1.25" }],
    ["index.docker.io/library/nginx", { host: "docker.io", repository: "library/nginx" }],
    ["acme/api:42-master", { host: "docker.io", repository: "acme/api", tag: "42-master" }],
    ["registry.example.com:5000/shop/api:99-master", { host: "registry.example.com:5000", repository: "shop/api", tag: "99-master" }],
    ["localhost:5000/api", { host: "localhost:5000", repository: "api" }],
    ["localhost/api", { host: "localhost", repository: "api" }],
    ["REGISTRY.Example.com/shop/api", { host: "registry.example.com", repository: "shop/api" }],
    [`registry.example.com/shop/api@${digest}`, { host: "registry.example.com", repository: "shop/api", digest }],
    [`registry.example.com/shop/api:7@${digest}`, { host: "registry.example.com", repository: "shop/api", tag: "7", digest }],
    ["registry:5000/shop/api", { host: "registry:5000", repository: "shop/api" }],
    ["shop/api", { host: "docker.io", repository: "shop/api" }],
    ["", undefined],
    ["Shop/Api", undefined],
    ["registry.example.com/shop/api:bad tag", undefined],
    ["registry.example.com/shop/api@sha256:short", undefined]
  ]
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected === undefined ? "invalid" : `${expected.host} ${expected.repository}`}`, () => {
      const parsed = parseImageReference(input)
      if (expected === undefined) return assert.isUndefined(parsed)
      assert.deepStrictEqual(parsed, {
        host: expected.host,
        repository: expected.repository,
        tag: expected.tag,
        digest: expected.digest
      })
    })
  }

  it("a port is not mistaken for a tag", () => {
    assert.strictEqual(parseImageReference("registry:5000/api")?.tag, undefined)
    assert.strictEqual(parseImageReference("registry:5000/api:5000")?.tag, "5000")
  })

  it("registry hosts are normalized: scheme, trailing slash, Docker Hub aliases", () => {
    assert.strictEqual(registryHostOf("https://Registry.example.com:5000/"), "registry.example.com:5000")
    assert.strictEqual(registryHostOf("registry-1.docker.io"), "docker.io")
    assert.deepStrictEqual(serviceRepository("nginx", "https://index.docker.io"), { host: "docker.io", repository: "library/nginx" })
    // :443 is HTTPS's default port: the same registry as other.io (registryHostOf agrees)
    assert.deepStrictEqual(serviceRepository("other.io:443/shop/api", "registry.example.com"), {
      host: "other.io",
      repository: "shop/api"
    })
  })
})

describe("parseLabelSelector", () => {
  it("reads Marathon's selector grammar", () => {
    assert.deepStrictEqual(parseLabelSelector("env==prod, team in (a, b),canary!=true,tier notin (x),owner"), [
      { _tag: "Equals", key: "env", value: "prod" },
      { _tag: "In", key: "team", values: ["a", "b"] },
      { _tag: "NotEquals", key: "canary", value: "true" },
      { _tag: "NotIn", key: "tier", values: ["x"] },
      { _tag: "Exists", key: "owner" }
    ])
    assert.deepStrictEqual(parseLabelSelector("path==a\\/b"), [{ _tag: "Equals", key: "path", value: "a/b" }])
  })

  it("rejects malformed selectors instead of matching everything", () => {
    for (const bad of ["", "env==", "a b", "team in (a,b", "x==a/b", ","]) {
      assert.isUndefined(parseLabelSelector(bad), bad)
    }
  })

  it("!= and notin still require the label, as Marathon does", () => {
    assert.isFalse(labelsMatch({}, parseLabelSelector("canary!=true")!))
    assert.isTrue(labelsMatch({ canary: "false" }, parseLabelSelector("canary!=true")!))
    assert.isFalse(labelsMatch({}, parseLabelSelector("tier notin (x)")!))
  })
})

describe("an id prefix is a group path", () => {
  it("/prod holds /prod/api and /prod/eu/api; /production/api and /prod-canary/api are other groups", () => {
    for (const prefix of ["/prod", "/prod/", "prod", "prod/"]) {
      assert.isTrue(inGroup("/prod/api", prefix), prefix)
      assert.isTrue(inGroup("prod/eu/api", prefix), prefix)
      assert.isFalse(inGroup("/production/api", prefix), prefix)
      assert.isFalse(inGroup("/prod-canary/api", prefix), prefix)
      assert.isFalse(inGroup("/prod", prefix), `${prefix}: the group itself is not an app in it`)
    }
    assert.isTrue(inGroup("/anything/api", "/"))
    assert.strictEqual(groupPath("shop/prod//"), "/shop/prod")
    assert.isFalse(inScope({ id: "/production/shop/api", labels: {} }, { idPrefix: "/prod" }))
  })

  it("a service running in /production is not found under the scope /prod", () => {
    const apps = [{ id: "/production/shop/api", image: "registry.example.com:5000/shop/api:99-master", labels: {} }]
    const service = { name: "api", repository: "shop/api", registryHost: "registry.example.com:5000" }
    assert.deepStrictEqual(matchServiceToApp(service, apps, { idPrefix: "/prod" }), { _tag: "NotFound" })
    assert.deepStrictEqual(matchServiceToApp(service, apps, { idPrefix: "/production" }), { _tag: "Found", appId: "/production/shop/api" })
  })
})

describe("matchServiceToApp", () => {
  const registryHost = "registry.example.com:5000"
  const apps = [
    { id: "/prod/shop/api", image: "registry.example.com:5000/shop/api:99-master", labels: { env: "prod" } },
    { id: "/staging/shop/api", image: "registry.example.com:5000/shop/api:100-develop", labels: { env: "staging" } },
    { id: "/prod/shop/api-worker", image: "registry.example.com:5000/shop/api-worker:99-master", labels: { env: "prod" } },
    { id: "/prod/shop/web", image: "registry.example.com:5000/shop/web@" + digest, labels: { env: "prod" } },
    { id: "/prod/mirror-api", image: "mirror.example.com/shop/api:99-master", labels: { env: "prod" } },
    { id: "/prod/nginx", image: "nginx:1.25", labels: { env: "prod" } },
    { id: "/prod/cmd-only", image: undefined, labels: { env: "prod" } }
  ]
  const service = (repository: string, extra: { app?: string; registryHost?: string } = {}) => ({
    name: repository.split("/").pop()!,
    repository,
    registryHost: extra.registryHost ?? registryHost,
    ...(extra.app !== undefined ? { app: extra.app } : {})
  })

  const table: ReadonlyArray<{
    readonly title: string
    readonly service: ReturnType<typeof service>
    readonly scope: { idPrefix?: string; labelSelector?: string }
    readonly expected: ReturnType<typeof matchServiceToApp>
  }> = [
    {
      title: "the same repository in prod and staging is ambiguous without a scope",
      service: service("shop/api"),
      scope: {},
      expected: { _tag: "Ambiguous", candidates: ["/prod/shop/api", "/staging/shop/api"] }
    },
    {
      title: "an id prefix picks the environment",
      service: service("shop/api"),
      scope: { idPrefix: "/prod/" },
      expected: { _tag: "Found", appId: "/prod/shop/api" }
    },
    {
      title: "an id prefix without the leading slash works too",
      service: service("shop/api"),
      scope: { idPrefix: "staging" },
      expected: { _tag: "Found", appId: "/staging/shop/api" }
    },
    {
      title: "a label selector picks the environment",
      service: service("shop/api"),
      scope: { labelSelector: "env==staging" },
      expected: { _tag: "Found", appId: "/staging/shop/api" }
    },
    {
      title: "shop/api does not match shop/api-worker (whole path, not a prefix of it)",
      service: service("shop/api-worker"),
      scope: {},
      expected: { _tag: "Found", appId: "/prod/shop/api-worker" }
    },
    {
      title: "the same path on another registry host is another repository",
      service: service("shop/api", { registryHost: "mirror.example.com" }),
      scope: {},
      expected: { _tag: "Found", appId: "/prod/mirror-api" }
    },
    {
      title: "an image pinned by digest still matches by repository",
      service: service("shop/web"),
      scope: { labelSelector: "env in (prod)" },
      expected: { _tag: "Found", appId: "/prod/shop/web" }
    },
    {
      title: "a Docker Hub single name matches library/<name>",
      service: service("library/nginx", { registryHost: "docker.io" }),
      scope: {},
      expected: { _tag: "Found", appId: "/prod/nginx" }
    },
    {
      title: "nothing runs the repository",
      service: service("shop/cart"),
      scope: {},
      expected: { _tag: "NotFound" }
    },
    {
      title: "a scope that excludes the only candidate",
      service: service("shop/api-worker"),
      scope: { labelSelector: "env==staging" },
      expected: { _tag: "NotFound" }
    },
    {
      title: "a malformed label selector matches nothing rather than everything",
      service: service("shop/api-worker"),
      scope: { labelSelector: "env==" },
      expected: { _tag: "NotFound" }
    },
    {
      title: "the config's app wins over image matching",
      service: service("shop/cart", { app: "prod/shop/web" }),
      scope: {},
      expected: { _tag: "Found", appId: "/prod/shop/web" }
    },
    {
      title: "a configured app that does not run is NotFound",
      service: service("shop/api", { app: "/prod/shop/gone" }),
      scope: {},
      expected: { _tag: "NotFound" }
    }
  ]
  for (const row of table) {
    it(row.title, () => {
      assert.deepStrictEqual(matchServiceToApp(row.service, apps, row.scope), row.expected)
    })
  }
})
