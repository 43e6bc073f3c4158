/**
 * @module Parsing.test — table tests of the pure parsers: Link headers, WWW-Authenticate challenges,
 * Retry-After, platform choice in an index, digests in tag lists.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseChallenges } from "../../lib/registry/Auth.ts"
import { nextLinkTarget, parseLinkHeader, resolveLink } from "../../lib/registry/Link.ts"
import {
  isAttestation,
  isValidTag,
  looksLikeDigest,
  manifestKind,
  parsePlatform,
  selectPlatform
} from "../../lib/registry/Manifest.ts"
import type { Descriptor } from "../../lib/registry/Manifest.ts"
import { registryRepositoryName } from "../../lib/registry/Registry.ts"
import { describeRateLimit, isRateLimitLow, parseRateLimit } from "../../lib/registry/RateLimit.ts"
import { parseRetryAfter, parseUnixRetryAfter } from "../../lib/registry/Transport.ts"
import { scrubHeaderValues } from "../../lib/registry/Wire.ts"

describe("Link header", () => {
  const nextCases: ReadonlyArray<readonly [string, string | undefined, string | undefined]> = [
    ["distribution 3", "</v2/shop/api/tags/list?last=b&n=2>; rel=\"next\"", "/v2/shop/api/tags/list?last=b&n=2"],
    ["unquoted rel", "</v2/a/tags/list?last=x>; rel=next", "/v2/a/tags/list?last=x"],
    ["absent", undefined, undefined],
    ["empty", "", undefined],
    ["only prev", "</v2/a/tags/list?last=a>; rel=\"prev\"", undefined],
    ["prev then next", "</p>; rel=\"prev\", </n>; rel=\"next\"", "/n"],
    ["rel list", "</n>; rel=\"last next\"", "/n"],
    ["upper-case REL and NEXT", "</n>; REL=\"NEXT\"", "/n"],
    ["comma inside the URL", "</v2/a/tags/list?last=a,b>; rel=\"next\"", "/v2/a/tags/list?last=a,b"],
    ["Quay opaque next_page", "</v2/a/tags/list?n=50&next_page=gAAAAABk>; rel=\"next\"", "/v2/a/tags/list?n=50&next_page=gAAAAABk"],
    ["other params first", "</n>; title=\"x, y\"; rel=\"next\"", "/n"],
    ["garbage", "not a link header", undefined],
    ["unclosed bracket", "</n; rel=\"next\"", undefined],
    ["absolute", "<https://r.example.com/v2/a/tags/list?last=z>; rel=\"next\"", "https://r.example.com/v2/a/tags/list?last=z"]
  ]
  for (const [name, header, expected] of nextCases) {
    it(`next link: ${name}`, () => {
      assert.strictEqual(nextLinkTarget(header), expected)
    })
  }

  it("parses every link and its parameters", () => {
    assert.deepStrictEqual(parseLinkHeader("<a>; rel=\"next\"; type=\"json\", <b>; rel=prev"), [
      { target: "a", params: { rel: "next", type: "json" } },
      { target: "b", params: { rel: "prev" } }
    ])
  })

  const resolveCases: ReadonlyArray<readonly [string, string, string, "Same" | "Foreign", string]> = [
    ["relative path", "http://127.0.0.1:5000/v2/a/tags/list?n=1000", "/v2/a/tags/list?last=x", "Same", "http://127.0.0.1:5000/v2/a/tags/list?last=x"],
    ["relative query-only", "https://r.io/v2/a/tags/list?n=1000", "?last=x", "Same", "https://r.io/v2/a/tags/list?last=x"],
    ["absolute same host", "https://r.io/v2/a/tags/list", "https://r.io/v2/a/tags/list?last=x", "Same", "https://r.io/v2/a/tags/list?last=x"],
    ["another host", "https://r.io/v2/a/tags/list", "https://evil.io/v2/a/tags/list", "Foreign", "https://evil.io/v2/a/tags/list"],
    ["another port", "http://127.0.0.1:5000/v2/a/tags/list", "http://127.0.0.1:5001/v2/a/tags/list", "Foreign", "http://127.0.0.1:5001/v2/a/tags/list"],
    ["https to http", "https://r.io/v2/a/tags/list", "http://r.io/v2/a/tags/list", "Foreign", "http://r.io/v2/a/tags/list"],
    ["protocol-relative to another host", "https://r.io/v2/a/tags/list", "//evil.io/x", "Foreign", "https://evil.io/x"]
  ]
  for (const [name, base, target, tag, url] of resolveCases) {
    it(`resolve: ${name}`, () => {
      const resolved = resolveLink(base, target)
      assert.strictEqual(resolved._tag, tag)
      assert.strictEqual(resolved._tag === "Same" ? resolved.url.href : resolved.url, url)
    })
  }
})

describe("WWW-Authenticate", () => {
  it("Docker Hub's bearer challenge", () => {
    assert.deepStrictEqual(
      parseChallenges(
        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\""
      ),
      [{
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" }
      }]
    )
  })
  it("distribution's htpasswd basic challenge", () => {
    assert.deepStrictEqual(parseChallenges("Basic realm=\"Registry Realm\""), [{ scheme: "basic", params: { realm: "Registry Realm" } }])
  })
  it("two challenges, a scope with several actions and an error param", () => {
    assert.deepStrictEqual(
      parseChallenges("Basic realm=\"x\", Bearer realm=\"https://a/t\", scope=\"repository:a:pull,push\", error=\"invalid_token\""),
      [
        { scheme: "basic", params: { realm: "x" } },
        { scheme: "bearer", params: { realm: "https://a/t", scope: "repository:a:pull,push", error: "invalid_token" } }
      ]
    )
  })
  it("an empty header has no challenge", () => {
    assert.deepStrictEqual(parseChallenges(""), [])
  })
})

describe("Retry-After", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0)
  const cases: ReadonlyArray<readonly [string | undefined, number | undefined]> = [
    ["1", 1000],
    ["0", 0],
    [" 120 ", 120_000],
    ["Thu, 01 Jan 2026 12:00:30 GMT", 30_000],
    ["Thu, 01 Jan 2026 11:00:00 GMT", 0],
    ["soon", undefined],
    [undefined, undefined]
  ]
  for (const [header, expected] of cases) {
    it(`Retry-After ${JSON.stringify(header)} waits ${expected} ms`, () => {
      assert.strictEqual(parseRetryAfter(header, now), expected)
    })
  }
})

describe("X-Retry-After (Docker Hub web API: a unix time)", () => {
  const now = Date.UTC(2026, 0, 1)
  it("a unix time is the wait until then", () => assert.strictEqual(parseUnixRetryAfter(String(now / 1000 + 30), now), 30_000))
  it("a time already past is no wait", () => assert.strictEqual(parseUnixRetryAfter(String(now / 1000 - 30), now), 0))
  it("absent or garbage is unknown", () => {
    assert.isUndefined(parseUnixRetryAfter(undefined, now))
    assert.isUndefined(parseUnixRetryAfter("soon", now))
  })
})

describe("rate-limit headers", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, ReturnType<typeof parseRateLimit>]> = [
    ["Docker Hub pull limit", { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600" }, { limit: 100, remaining: 76, windowSeconds: 21600 }],
    ["window only on remaining", { "ratelimit-limit": "200", "ratelimit-remaining": "3;w=3600" }, { limit: 200, remaining: 3, windowSeconds: 3600 }],
    ["Hub web API", { "x-ratelimit-limit": "180", "x-ratelimit-remaining": "179", "x-ratelimit-reset": "1767225660" }, { limit: 180, remaining: 179, resetAt: 1767225660000 }],
    ["registry headers win", { "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "9;w=21600", "x-ratelimit-limit": "180", "x-ratelimit-remaining": "1" }, { limit: 100, remaining: 9, windowSeconds: 21600 }],
    ["none", { "content-type": "application/json" }, undefined],
    ["limit without remaining", { "ratelimit-limit": "100;w=21600" }, undefined],
    ["garbage", { "ratelimit-limit": "lots", "ratelimit-remaining": "some" }, undefined]
  ]
  for (const [name, headers, expected] of cases) {
    it(name, () => assert.deepStrictEqual(parseRateLimit(headers), expected))
  }
  it("low means at most a tenth (and at least 5) left", () => {
    assert.isTrue(isRateLimitLow({ limit: 100, remaining: 10 }))
    assert.isFalse(isRateLimitLow({ limit: 100, remaining: 11 }))
    assert.isTrue(isRateLimitLow({ limit: 20, remaining: 5 }))
  })
  it("reads as an operator says it", () => {
    assert.strictEqual(describeRateLimit({ limit: 100, remaining: 76, windowSeconds: 21600 }), "76 of 100 requests left per 6 h")
    assert.strictEqual(describeRateLimit({ limit: 180, remaining: 0, resetAt: Date.UTC(2026, 0, 1, 0, 1) }), "0 of 180 requests left, resets at 2026-01-01T00:01:00.000Z")
  })
})

describe("header values scrubbed from failure descriptions", () => {
  it("the whole value, trimmed, and its long parts are removed; short words stay", () => {
    const text = scrubHeaderValues("Headers.append: \"Bearer abc\ntoken-0123456789\" is an invalid header value; token-0123456789 again; Bearer", {
      authorization: "Bearer abc\ntoken-0123456789 ",
      accept: "application/json"
    })
    assert.notInclude(text, "token-0123456789")
    assert.include(text, "is an invalid header value")
    assert.include(text, "again; Bearer")
  })
})

describe("platform choice", () => {
  const d = (digest: string, platform?: string, annotations?: Record<string, string>): Descriptor => {
    const p = platform === undefined ? undefined : parsePlatform(platform)!
    return {
      digest,
      ...(p === undefined ? {} : { platform: { os: p.os, architecture: p.architecture, ...(p.variant === undefined ? {} : { variant: p.variant }) } }),
      ...(annotations === undefined ? {} : { annotations })
    }
  }
  const buildx = [
    d("att", "unknown/unknown", { "vnd.docker.reference.type": "attestation-manifest" }),
    d("armv7", "linux/arm/v7"),
    d("arm64", "linux/arm64/v8"),
    d("amd64", "linux/amd64")
  ]
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<Descriptor>, string, string | undefined]> = [
    ["amd64 past an attestation", buildx, "linux/amd64", "amd64"],
    ["arm64 asked without variant finds v8", buildx, "linux/arm64", "arm64"],
    ["arm/v7 by variant", buildx, "linux/arm/v7", "armv7"],
    ["arm/v6 absent", buildx, "linux/arm/v6", undefined],
    ["windows absent", buildx, "windows/amd64", undefined],
    ["arm64/v8 asked, listed without variant", [d("a", "linux/arm64")], "linux/arm64/v8", "a"],
    ["attestation only", [d("att", "unknown/unknown")], "linux/amd64", undefined],
    ["attestation marked by annotation only", [d("att", "linux/amd64", { "vnd.docker.reference.type": "attestation-manifest" }), d("real", "linux/amd64")], "linux/amd64", "real"]
  ]
  for (const [name, manifests, wanted, expected] of cases) {
    it(name, () => {
      assert.strictEqual(selectPlatform(manifests, parsePlatform(wanted)!)?.digest, expected)
    })
  }
  it("attestations are recognised", () => {
    assert.isTrue(isAttestation(buildx[0]!))
    assert.isFalse(isAttestation(buildx[3]!))
  })
  it("platform strings", () => {
    assert.deepStrictEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64", variant: "v8" })
    assert.isUndefined(parsePlatform("amd64"))
    assert.isUndefined(parsePlatform("linux//"))
  })
})

describe("tag-list entries and manifest kinds", () => {
  const entries: ReadonlyArray<readonly [string, boolean, boolean]> = [
    ["sha256:" + "a".repeat(64), true, false],
    ["1-master", false, true],
    ["latest", false, true],
    ["production-20210929025643-3f2a1bc", false, true],
    ["sha256-" + "b".repeat(64) + ".sig", false, true],
    [".hidden", false, false],
    ["a".repeat(129), false, false]
  ]
  for (const [entry, digest, valid] of entries) {
    it(`${entry.slice(0, 40)}: digest=${digest} validTag=${valid}`, () => {
      assert.strictEqual(looksLikeDigest(entry), digest)
      assert.strictEqual(isValidTag(entry), valid)
    })
  }
  it("kinds by media type and shape", () => {
    assert.strictEqual(manifestKind("application/vnd.oci.image.manifest.v1+json", { schemaVersion: 2, config: { digest: "x" } }), "image")
    assert.strictEqual(manifestKind(undefined, { schemaVersion: 2, manifests: [] }), "index")
    assert.strictEqual(manifestKind("application/vnd.docker.distribution.manifest.list.v2+json", { schemaVersion: 2 }), "index")
    assert.strictEqual(manifestKind("application/vnd.docker.distribution.manifest.v1+prettyjws", { schemaVersion: 1 }), "schema1")
    assert.strictEqual(manifestKind("application/json", { schemaVersion: 2 }), "unknown")
  })
})

describe("names", () => {
  it("Docker Hub official images live under library/, other registries keep the name", () => {
    assert.strictEqual(registryRepositoryName(new URL("https://registry-1.docker.io"), "nginx"), "library/nginx")
    assert.strictEqual(registryRepositoryName(new URL("https://registry-1.docker.io"), "bitnami/nginx"), "bitnami/nginx")
    assert.strictEqual(registryRepositoryName(new URL("http://127.0.0.1:5000"), "nginx"), "nginx")
  })
})
