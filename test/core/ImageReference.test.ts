/**
 * @module test/core/ImageReference — image references parsed the way Docker reads them: hosts
 * with ports, localhost, Docker Hub's `library/`, tags, digests, and what is not a reference.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ImageReference } from "../../lib/core/index.ts"
import { formatImageReference, parseImageReference, registryHostOf, sameImage, sameImageText, sameRepository } from "../../lib/core/index.ts"

const D = `sha256:${"7995c5bb".repeat(8)}`
const E = `sha256:${"26a4b87f".repeat(8)}`

describe("parseImageReference", () => {
  const table: ReadonlyArray<readonly [reference: string, parsed: ImageReference | undefined]> = [
    ["registry.example.com:5000/shop/api:1234-master", { host: "registry.example.com:5000", repository: "shop/api", tag: "1234-master", digest: undefined }],
    ["registry.example.com/shop/api", { host: "registry.example.com", repository: "shop/api", tag: undefined, digest: undefined }],
    ["localhost:5000/api:99-master", { host: "localhost:5000", repository: "api", tag: "99-master", digest: undefined }],
    ["localhost/api:1", { host: "localhost", repository: "api", tag: "1", digest: undefined }],
    ["127.0.0.1:5000/shop/web:v1.2.3", { host: "127.0.0.1:5000", repository: "shop/web", tag: "v1.2.3", digest: undefined }],
    ["nginx", { host: "docker.io", repository: "library/nginx", tag: undefined, digest: undefined }],
    ["nginx:1.27", { host: "docker.io", repository: "library/nginx", tag: "1.27", digest: undefined }],
    ["docker.io/nginx:1.27", { host: "docker.io", repository: "library/nginx", tag: "1.27", digest: undefined }],
    ["docker.io/library/nginx:1.27", { host: "docker.io", repository: "library/nginx", tag: "1.27", digest: undefined }],
    ["index.docker.io/library/nginx", { host: "docker.io", repository: "library/nginx", tag: undefined, digest: undefined }],
    ["acme/api:production-20210929025643-7995c5bb", { host: "docker.io", repository: "acme/api", tag: "production-20210929025643-7995c5bb", digest: undefined }],
    [`shop/api@${D}`, { host: "docker.io", repository: "shop/api", tag: undefined, digest: D }],
    [`registry.example.com:5000/shop/api:1234-master@${D}`, { host: "registry.example.com:5000", repository: "shop/api", tag: "1234-master", digest: D }],
    // :443 is HTTPS's default port, as registryHostOf("https://registry.example.com:443") reads it
    ["registry.example.com:443/shop/api:1", { host: "registry.example.com", repository: "shop/api", tag: "1", digest: undefined }],
    ["registry-1.docker.io:443/nginx:1", { host: "docker.io", repository: "library/nginx", tag: "1", digest: undefined }],
    ["registry.example.com:4430/shop/api:1", { host: "registry.example.com:4430", repository: "shop/api", tag: "1", digest: undefined }],
    ["Registry.Example.com/shop/api:1", { host: "registry.example.com", repository: "shop/api", tag: "1", digest: undefined }],
    ["MyRegistry/shop/api:1", { host: "myregistry", repository: "shop/api", tag: "1", digest: undefined }],
    ["  registry.example.com/shop/api:1  ", { host: "registry.example.com", repository: "shop/api", tag: "1", digest: undefined }],
    ["", undefined],
    ["   ", undefined],
    ["shop/api:1 2", undefined],
    ["shop/API:1", undefined],
    ["shop/api:", undefined],
    ["shop/api:-bad", undefined],
    ["shop/api@sha256:short", undefined],
    ["shop/api@", undefined],
    ["registry.example.com:5000/", undefined],
    ["shop//api", undefined],
    [`shop/api:${"x".repeat(129)}`, undefined]
  ]
  for (const [reference, expected] of table) {
    it(`${JSON.stringify(reference)} → ${expected === undefined ? "not a reference" : `${expected.host} ${expected.repository}`}`, () => {
      assert.deepStrictEqual(parseImageReference(reference), expected)
    })
  }
})

describe("formatImageReference and registryHostOf", () => {
  it("formats what it parsed; Docker Hub official images drop host and library/", () => {
    for (const text of ["registry.example.com:5000/shop/api:1234-master", "nginx:1.27", "acme/api:1", `localhost:5000/api:1@${D}`]) {
      assert.strictEqual(formatImageReference(parseImageReference(text)!), text)
    }
    assert.strictEqual(formatImageReference(parseImageReference("docker.io/library/nginx:1")!), "nginx:1")
  })

  const hosts: ReadonlyArray<readonly [url: string, host: string]> = [
    ["https://registry.example.com:5000", "registry.example.com:5000"],
    ["http://127.0.0.1:5000/", "127.0.0.1:5000"],
    ["registry.example.com", "registry.example.com"],
    ["https://REGISTRY.example.com", "registry.example.com"],
    ["https://registry-1.docker.io", "docker.io"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["https://registry.example.com:443", "registry.example.com"],
    ["registry.example.com:443", "registry.example.com"],
    ["http://registry.example.com:443", "registry.example.com"],
    ["https://registry-1.docker.io:443/", "docker.io"]
  ]
  for (const [url, host] of hosts) {
    it(`registryHostOf(${url}) = ${host}, the host parseImageReference gives an image on it`, () => {
      assert.strictEqual(registryHostOf(url), host)
      const written = url.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "")
      assert.strictEqual(parseImageReference(`${written}/shop/api:1`)?.host, host)
    })
  }
})

describe("sameImageText (an image field as text)", () => {
  const table: ReadonlyArray<readonly [string | null | undefined, string | null | undefined, boolean]> = [
    ["nginx:1", "docker.io/library/nginx:1", true],
    [`r.io/shop/api:1-master@${D}`, `r.io/shop/api:2-master@${D}`, true],
    ["r.io/shop/api:1", "r.io/shop/api:2", false],
    [undefined, "r.io/shop/api:1", false],
    ["r.io/shop/api:1", null, false],
    [undefined, undefined, false],
    ["Not An Image!", "Not An Image!", true],
    ["Not An Image!", "not an image!", false]
  ]
  for (const [a, b, same] of table) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${same}`, () => {
      assert.strictEqual(sameImageText(a, b), same)
      assert.strictEqual(sameImageText(b, a), same, "either way round")
    })
  }
})

describe("sameImage", () => {
  const ref = (text: string) => parseImageReference(text)!
  it("same digest is the same image whatever the tags say", () => {
    assert.isTrue(sameImage(ref(`r.io/shop/api:1-master@${D}`), ref(`r.io/shop/api:2-master@${D}`)))
  })
  it("different digests are different images even with the same tag (the tag was moved)", () => {
    assert.isFalse(sameImage(ref(`r.io/shop/api:1-master@${D}`), ref(`r.io/shop/api:1-master@${E}`)))
  })
  it("without a digest on one side the tags decide", () => {
    assert.isTrue(sameImage(ref("r.io/shop/api:1-master"), ref(`r.io/shop/api:1-master@${D}`)))
    assert.isFalse(sameImage(ref("r.io/shop/api:1-master"), ref("r.io/shop/api:2-master")))
    assert.isFalse(sameImage(ref("r.io/shop/api"), ref("r.io/shop/api")), "no tag and no digest names no particular image")
  })
  it("Docker Hub's aliases and library/ name the same image; the default port is the same registry", () => {
    const forms = ["nginx:1", "docker.io/nginx:1", "docker.io/library/nginx:1", "index.docker.io/nginx:1", "registry-1.docker.io/library/nginx:1", "registry-1.docker.io:443/nginx:1", "library/nginx:1"]
    for (const a of forms) for (const b of forms) assert.isTrue(sameImage(ref(a), ref(b)), `${a} = ${b}`)
    assert.isTrue(sameImage(ref("r.io:443/shop/api:1"), ref("r.io/shop/api:1")))
    assert.isFalse(sameImage(ref("nginx:1"), ref("acme/nginx:1")), "acme/nginx is not library/nginx")
  })
  it("another repository or registry is never the same image", () => {
    assert.isFalse(sameImage(ref("r.io/shop/api:1"), ref("r.io/shop/web:1")))
    assert.isFalse(sameImage(ref("r.io/shop/api:1"), ref("mirror.io/shop/api:1")))
    assert.isFalse(sameRepository(ref("r.io/shop/api:1"), ref("r.io:5000/shop/api:1")))
  })
})
