/**
 * @module fixtures — the images every real-registry test pushes, what the client must report
 * for each, and the layer that gives the client a real HTTP stack (undici) and file system.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Layer, Redacted } from "effect"
import type { RegistryImage } from "../../lib/core/Image.ts"
import { nodeHttpClientLayer } from "../../lib/node/NodeHttp.ts"
import { Registry } from "../../lib/registry/Registry.ts"
import type { RegistryConfig } from "../../lib/registry/Registry.ts"
import type { RegistryUser } from "../support/DockerRegistry.ts"
import { Annotation, Pusher, pushDockerImage, pushMultiArchIndex, pushOciImage } from "../support/pushImage.ts"
import type { PushTarget } from "../support/pushImage.ts"

/** The registry client over the Node wire (undici) and file system, as the CLI builds it. */
export const registryLayer = (config: RegistryConfig) =>
  Registry.layer(config).pipe(Layer.provide(Layer.mergeAll(nodeHttpClientLayer(), NodeFileSystem.layer)))

/** Client credentials from a harness user (the password wrapped as the CLI wraps it). */
export const clientCredentials = (user: RegistryUser) => ({
  username: user.username,
  password: Redacted.make(user.password)
})

/** A random password per run: it must never show up in an error message. */
export const randomPassword = (): string => `pw-${crypto.randomUUID()}`

/** Sorts images by tag so comparisons do not depend on the registry's (meaningless) order. */
export const byTag = (images: ReadonlyArray<RegistryImage>): Array<RegistryImage> =>
  [...images].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))

/** What was pushed and what the client must report for it. */
export interface PushedFixtures {
  /** Expected images per repository, sorted by tag. */
  readonly expected: Readonly<Record<string, ReadonlyArray<RegistryImage>>>
  /** Config date of the arm64 image of the multi-arch index, for the platform test. */
  readonly arm64: RegistryImage
  /** Distinct config blobs per repository (a cold read fetches each once). */
  readonly distinctConfigs: Readonly<Record<string, number>>
  /** Manifest GETs a cold read of each repository needs (tags + index children). */
  readonly manifestGets: Readonly<Record<string, number>>
}

/**
 * Pushes the standard fixtures:
 * - `shop/api` (OCI): builds of master and develop, a reproducible build with a 1970 config date
 *   and a real `created` annotation, and `latest` pointing at the newest master build;
 * - `shop/legacy` (Docker schema2): a build with Go-style nanosecond dates and a revision label,
 *   and a stage build whose config has no `created` at all;
 * - `shop/web` (multi-arch OCI index, amd64 + arm64 + a BuildKit attestation).
 */
export const pushStandardFixtures = async (target: PushTarget): Promise<PushedFixtures> => {
  const pusher = new Pusher(target)
  const api41 = await pushOciImage(pusher, {
    repository: "shop/api",
    tag: "41-master",
    config: { created: "2026-03-01T10:00:00Z", labels: { [Annotation.revision]: "a41a41a" } }
  })
  const api42 = await pushOciImage(pusher, {
    repository: "shop/api",
    tag: "42-master",
    config: { created: "1970-01-01T00:00:00Z" },
    annotations: { created: "2026-03-02T11:00:00Z", revision: "b42b42b" }
  })
  // `latest` is the same manifest bytes as 42-master: same digest, as after `docker tag`.
  const latest = await pusher.pushManifest("shop/api", "latest", api42.mediaType, api42.body)
  const api12 = await pushOciImage(pusher, {
    repository: "shop/api",
    tag: "12-develop",
    config: { created: "2026-02-20T09:00:00Z" }
  })
  const api13 = await pushOciImage(pusher, {
    repository: "shop/api",
    tag: "13-master",
    config: { created: "2026-02-21T09:30:00+01:00" }
  })
  const legacy7 = await pushDockerImage(pusher, {
    repository: "shop/legacy",
    tag: "7-master",
    config: { created: "2025-12-24T18:30:00.123456789Z", labels: { [Annotation.revision]: "c7c7c7c" } }
  })
  const legacy8 = await pushDockerImage(pusher, {
    repository: "shop/legacy",
    tag: "8-stage",
    config: {}
  })
  const web = await pushMultiArchIndex(pusher, {
    repository: "shop/web",
    tag: "5-master",
    platforms: {
      "linux/amd64": { created: "2026-03-05T08:00:00Z" },
      "linux/arm64": { created: "2026-03-05T08:07:00Z" }
    },
    annotations: { revision: "d5d5d5d" }
  })
  const apiImages: Array<RegistryImage> = [
    { repository: "shop/api", tag: "41-master", digest: api41.digest, dates: { config: "2026-03-01T10:00:00Z" }, revision: "a41a41a" },
    {
      repository: "shop/api",
      tag: "42-master",
      digest: api42.digest,
      // the annotation is a real date, so the (1970) config blob is not read at all
      dates: { annotation: "2026-03-02T11:00:00Z" },
      revision: "b42b42b"
    },
    { repository: "shop/api", tag: "12-develop", digest: api12.digest, dates: { config: "2026-02-20T09:00:00Z" } },
    { repository: "shop/api", tag: "13-master", digest: api13.digest, dates: { config: "2026-02-21T09:30:00+01:00" } },
    {
      repository: "shop/api",
      tag: "latest",
      digest: latest.digest,
      // the annotation is a real date, so the (1970) config blob is not read at all
      dates: { annotation: "2026-03-02T11:00:00Z" },
      revision: "b42b42b"
    }
  ]
  return {
    expected: {
      "shop/api": byTag(apiImages),
      "shop/legacy": byTag([
        {
          repository: "shop/legacy",
          tag: "7-master",
          digest: legacy7.digest,
          dates: { config: "2025-12-24T18:30:00.123456789Z" },
          revision: "c7c7c7c"
        },
        { repository: "shop/legacy", tag: "8-stage", digest: legacy8.digest, dates: {} }
      ]),
      "shop/web": [
        {
          repository: "shop/web",
          tag: "5-master",
          digest: web.digest,
          dates: { config: "2026-03-05T08:00:00Z" },
          revision: "d5d5d5d",
          platform: "linux/amd64"
        }
      ]
    },
    arm64: {
      repository: "shop/web",
      tag: "5-master",
      digest: web.digest,
      dates: { config: "2026-03-05T08:07:00Z" },
      revision: "d5d5d5d",
      platform: "linux/arm64"
    },
    // shop/api: 42-master (= latest) has a real annotation, so its config is never fetched
    distinctConfigs: { "shop/api": 3, "shop/legacy": 2, "shop/web": 1 },
    manifestGets: { "shop/api": 5, "shop/legacy": 2, "shop/web": 2 }
  }
}
