/**
 * @module DockerHub — the Docker Hub web API (not the registry API), optional: every tag of a
 * repository with its current digest (the index's, and each platform image's) and its push
 * time, in pages of 100 (`GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100`,
 * following `next`). Its answers go through the same {@link Transport} as registry requests, so
 * `X-RateLimit-*` is read and a 429 with `X-Retry-After` (unix time) is waited out.
 *
 * What it does not give — annotations and config dates — still comes from the registry API, by
 * digest, cached forever.
 */
import { Effect, Schema } from "effect"
import { formatPlatform, isAttestation } from "./Manifest.ts"
import type { Platform } from "./Manifest.ts"
import { RegistryError } from "./RegistryError.ts"
import { displayUrl } from "./Transport.ts"
import type { Transport } from "./Transport.ts"

/** Where Docker Hub's web API lives. */
export const DOCKER_HUB_API_URL = "https://hub.docker.com"

/** Tags per page asked for (the API's maximum). */
export const HUB_PAGE_SIZE = 100

const NullableString = Schema.optional(Schema.NullOr(Schema.String))

const HubImage = Schema.Struct({
  architecture: NullableString,
  os: NullableString,
  variant: NullableString,
  digest: NullableString,
  last_pushed: NullableString
})

const HubTagsPage = Schema.fromJsonString(Schema.Struct({
  count: Schema.optional(Schema.NullOr(Schema.Number)),
  next: NullableString,
  results: Schema.Array(Schema.Struct({
    name: Schema.String,
    digest: NullableString,
    tag_last_pushed: NullableString,
    last_updated: NullableString,
    images: Schema.optional(Schema.NullOr(Schema.Array(HubImage)))
  }))
}))

const decodeHubTagsPage = Schema.decodeUnknownEffect(HubTagsPage)

/** One platform image of a tag, as the Hub lists it. */
export interface HubImage {
  readonly platform: Platform
  readonly digest: string | undefined
}

/** One tag as the Hub lists it. */
export interface HubTag {
  readonly name: string
  /** The tag's current digest: the index's for multi-platform tags (absent for very old pushes). */
  readonly digest: string | undefined
  /** `tag_last_pushed`: the registry's push time, the fourth date source. */
  readonly lastPushed: string | undefined
  /** The platform images (attestation entries left out). */
  readonly images: ReadonlyArray<HubImage>
}

/** The web API of one Docker Hub (or a stand-in at another URL). */
export interface DockerHubApi {
  /** Every tag of `repository` (`namespace/name`, official images under `library/`). */
  readonly listTags: (repository: string) => Effect.Effect<ReadonlyArray<HubTag>, RegistryError>
}

/** `namespace/name` → the tags URL; undefined when the repository is not two path segments. */
export const hubTagsUrl = (base: URL, repository: string): URL | undefined => {
  const parts = repository.split("/")
  if (parts.length !== 2) return undefined
  const url = new URL(
    `${base.pathname.replace(/\/+$/, "")}/v2/namespaces/${encodeURIComponent(parts[0]!)}/repositories/${encodeURIComponent(parts[1]!)}/tags`,
    base
  )
  url.searchParams.set("page_size", String(HUB_PAGE_SIZE))
  return url
}

/** The platform images of a Hub tag, attestations (`unknown/unknown`) left out. */
const platformImages = (images: ReadonlyArray<typeof HubImage.Type> | null | undefined): ReadonlyArray<HubImage> => {
  const out: Array<HubImage> = []
  for (const image of images ?? []) {
    if (image.os == null || image.architecture == null) continue
    const platform: Platform = {
      os: image.os,
      architecture: image.architecture,
      ...(image.variant == null || image.variant === "" ? {} : { variant: image.variant })
    }
    if (isAttestation({ digest: image.digest ?? "", platform })) continue
    out.push({ platform, digest: image.digest ?? undefined })
  }
  return out
}

/** Builds the web API client at `base` over a transport. */
export const makeDockerHubApi = (base: URL, transport: Transport): DockerHubApi => {
  const utf8 = new TextDecoder()

  const listTags = (repository: string): Effect.Effect<ReadonlyArray<HubTag>, RegistryError> =>
    Effect.gen(function*() {
      const first = hubTagsUrl(base, repository)
      if (first === undefined) {
        return yield* new RegistryError({
          reason: "InvalidInput",
          repository,
          message: `"${repository}" is not a Docker Hub repository (namespace/name, official images as library/name)`
        })
      }
      const tags: Array<HubTag> = []
      const seen = new Set<string>()
      let url: URL | undefined = first
      while (url !== undefined) {
        seen.add(url.href)
        const response = yield* transport.send({ kind: "hub", method: "GET", url, headers: { accept: "application/json" }, repository })
        if (response.status === 404 || response.status === 401 || response.status === 403) {
          return yield* new RegistryError({
            reason: response.status === 404 ? "NotFound" : "Unauthorized",
            repository,
            status: response.status,
            message: `Docker Hub's web API (${displayUrl(url)}) answered ${response.status} for ${repository}: it shows public repositories only`
          })
        }
        if (response.status !== 200) {
          return yield* new RegistryError({
            reason: "BadResponse",
            repository,
            status: response.status,
            message: `GET ${displayUrl(url)} answered ${response.status}, expected 200 with a page of tags`
          })
        }
        const page = yield* decodeHubTagsPage(utf8.decode(response.body)).pipe(Effect.mapError((cause) =>
          new RegistryError({
            reason: "BadResponse",
            repository,
            message: `GET ${displayUrl(url!)} answered something that is not a page of Docker Hub tags ({"next", "results": [{"name", "digest", "images"}]}): ${cause.message}`
          })
        ))
        for (const result of page.results) {
          tags.push({
            name: result.name,
            digest: result.digest ?? undefined,
            lastPushed: result.tag_last_pushed ?? undefined,
            images: platformImages(result.images)
          })
        }
        if (page.next == null || page.next === "") break
        const next = URL.parse(page.next, url)
        if (next === null || next.origin !== base.origin) {
          return yield* new RegistryError({
            reason: "InsecureLink",
            repository,
            message: `Docker Hub's web API links the next page of ${repository}'s tags to ${next === null ? "something that is not a URL" : displayUrl(next)}, not to ${base.origin}; refused`
          })
        }
        url = seen.has(next.href) ? undefined : next
      }
      return tags
    })

  return { listTags }
}

/** The Hub's platform images of a tag, as `os/arch[/variant]` (for messages). */
export const hubPlatforms = (tag: HubTag): ReadonlyArray<string> => tag.images.map((image) => formatPlatform(image.platform))
