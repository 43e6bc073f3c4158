/**
 * @module Registry — the container-registry service: every tag of a repository with its digest,
 * build dates (by source) and revision, read with as few requests as possible.
 *
 * Layers: {@link RegistryWire} (one request out, its answer in) → {@link Transport} (retries,
 * timeout, concurrency) → {@link Authorizer} (Basic/Bearer) → {@link Api} (one function per
 * operation) → this service (memoization by digest, the persistent cache, platform choice, dates).
 * The wire is injected; `FileSystem` is needed for the persistent cache.
 */
import { Context, Effect, FileSystem, Layer, Result, Schema } from "effect"
import type { Redacted } from "effect"
import type { RegistryImage } from "../core/Image.ts"
import { makeApi } from "./Api.ts"
import type { Api, FetchedManifest } from "./Api.ts"
import { makeAuthorizer } from "./Auth.ts"
import { diskCacheStore, imageKey, memoryCacheStore } from "./Cache.ts"
import type { CachedImage, CacheStore, RepositoryCache } from "./Cache.ts"
import { parseRegistryUrl } from "./Credentials.ts"
import { DOCKER_HUB_API_URL, hubPlatforms, makeDockerHubApi } from "./DockerHub.ts"
import type { DockerHubApi, HubImage, HubTag } from "./DockerHub.ts"
import {
  ConfigBody,
  CREATED_ANNOTATION,
  DIGEST_PATTERN,
  formatPlatform,
  isValidTag,
  looksLikeDigest,
  manifestKind,
  offeredPlatforms,
  parsePlatform,
  REVISION_ANNOTATION,
  schema1Created,
  selectPlatform
} from "./Manifest.ts"
import type { ManifestBody, Platform } from "./Manifest.ts"
import type { RateLimit } from "./RateLimit.ts"
import { RegistryError } from "./RegistryError.ts"
import { makeLimiter } from "./Limiter.ts"
import { makeSingleFlight } from "./SingleFlight.ts"
import { makeCounters, makeTransport, withClientSettings } from "./Transport.ts"
import { RegistryWire } from "./Wire.ts"
import { parseKnownInstant } from "../core/Image.ts"
import { stripCredentials } from "../core/RollbackFile.ts"

export { resolveRegistryCredentials } from "./Credentials.ts"
export { RegistryError } from "./RegistryError.ts"
export { RegistryWire } from "./Wire.ts"
export type { RateLimit } from "./RateLimit.ts"

/** One UTF-8 decoder for all bodies (decoding without `stream` keeps no state between calls). */
const utf8 = new TextDecoder()

/** Decodes a config blob's JSON synchronously to a `Result`; built once (a decoder per blob costs CPU on big fleets). */
const decodeConfigBody = Schema.decodeUnknownResult(Schema.fromJsonString(ConfigBody))

/** How to reach a registry and how hard to work it. */
export interface RegistryConfig {
  /** e.g. "http://127.0.0.1:5000" or "https://registry.example.com"; plain http only when the URL says so. */
  readonly url: string
  readonly credentials?: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined
  /** The platform read from multi-arch indexes; default "linux/amd64". */
  readonly platform?: string
  /** Concurrent requests per host; default 8. */
  readonly concurrency?: number
  /** Per-request timeout; default 30_000 ms. */
  readonly requestTimeoutMs?: number
  /** Retries on 429/5xx/connection reset (backoff + jitter, `Retry-After` honoured); default 4. */
  readonly retries?: number
  /** Persistent cache directory; undefined = no cache between runs. */
  readonly cacheDir?: string | undefined
  /** Re-check cached tag → digest with one HEAD each. */
  readonly verifyTags?: boolean
  /**
   * Which tags may move between runs: their cached digest is re-checked with one HEAD on warm
   * runs even without `verifyTags`. Whoever knows the tag scheme decides (`get` does: tags whose
   * scheme part carries a build number, a sha or a timestamp are immutable by convention);
   * `readRepository`'s own `isMutableTag` wins. Default: every tag may move (one HEAD per cached
   * tag, which Docker Hub does not count against its pull limit).
   */
  readonly isMutableTag?: ((tag: string) => boolean) | undefined
  /**
   * Use Docker Hub's web API for tag names, current digests and push times (pages of 100),
   * instead of `tags/list` and a manifest request per tag; dates still come from the registry
   * API by digest. `url` (default https://hub.docker.com) may point elsewhere, e.g. a test's
   * stand-in; without it the registry must be Docker Hub.
   */
  readonly dockerHubApi?: { readonly url?: string | undefined } | undefined
}

const DOCKER_HUB_REGISTRY_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"])

/** True when the registry URL is Docker Hub's (any of its host names). */
export const isDockerHub = (url: URL): boolean => DOCKER_HUB_REGISTRY_HOSTS.has(url.hostname)

/**
 * The repository as the registry names it: on Docker Hub an official image `nginx` is
 * `library/nginx`; elsewhere the name is unchanged.
 */
export const registryRepositoryName = (url: URL, repository: string): string =>
  isDockerHub(url) && !repository.includes("/") ? `library/${repository}` : repository

/**
 * Why a tag-list entry gave no image. Before any request: `digest-in-tag-list`, `invalid-tag`,
 * `signature` (cosign artifacts), `filtered` (`keepTag` said no). After reading it:
 * `no-platform` (an index without the wanted platform, or a schema1 image of another
 * architecture), `schema1-conversion` (a schema1 manifest the registry made up from a schema2
 * image for a client that accepts no schema2 type: its digest is stored nowhere, so it is never
 * deployed from), `artifact` (a Helm chart, an SBOM…), `not-an-image` (another manifest type),
 * `vanished` (404: deleted since the listing), `unreadable` (an answer that is not a manifest or
 * config). `schema1` is what versions before schema1 support cached for schema1 images: such
 * cache entries are read again.
 */
export type SkipKind =
  | "digest-in-tag-list"
  | "invalid-tag"
  | "signature"
  | "filtered"
  | "no-platform"
  | "schema1"
  | "schema1-conversion"
  | "artifact"
  | "not-an-image"
  | "vanished"
  | "unreadable"

/** One tag-list entry that gave no image. */
export interface SkippedTag {
  readonly tag: string
  readonly kind: SkipKind
  /** A sentence for people: what was found instead. */
  readonly reason: string
}

/** Everything read from one repository. */
export interface RepositoryRead {
  readonly repository: string
  readonly images: ReadonlyArray<RegistryImage>
  /** Tag-list entries not read, and why (digests in the tag list, filtered tags, no such platform…). */
  readonly skipped: ReadonlyArray<SkippedTag>
  /** With `last`: kept tags left unread because `count` newer ones gave images. */
  readonly beyondLast?: number | undefined
}

/** Options of `readRepository`. */
export interface ReadRepositoryOptions {
  /** Which tags to read (the others are `filtered`); default all. */
  readonly keepTag?: ((tag: string) => boolean) | undefined
  /** Which of the read tags may move (see {@link RegistryConfig.isMutableTag}). */
  readonly isMutableTag?: ((tag: string) => boolean) | undefined
  /** Called once, when the tag list is read, with the number of tags to read. */
  readonly onTags?: ((count: number) => void) | undefined
  /** Called after each tag read. */
  readonly onImage?: (() => void) | undefined
  /**
   * Read only the `count` newest tags (`get --last N`): `newestFirst` orders the kept tags
   * newest first (from the tags alone); they are read in that order, in rounds, until `count`
   * of them gave an image that `counts` accepts (dated, not marked bad) or none are left. The
   * tags not read are counted in {@link RepositoryRead.beyondLast}, not listed.
   */
  readonly last?: {
    readonly count: number
    readonly newestFirst: (tags: ReadonlyArray<string>) => ReadonlyArray<string>
    readonly counts: (image: RegistryImage) => boolean
  } | undefined
  /** Called when a later `last` round adds tags to read, with how many. */
  readonly onMoreTags?: ((count: number) => void) | undefined
}

/** Request counters of one client since it was built. */
export interface RegistryStats {
  /** HTTP requests sent, retries included. */
  readonly requests: number
  /** Requests by kind: `tags`, `manifest`, `manifest-head`, `blob`, `token`. */
  readonly requestsByKind: Record<string, number>
  /** Tags answered from the persistent cache (no manifest GET). */
  readonly cacheHits: number
  /**
   * The rate limit each host announced (Docker Hub's pull limit `ratelimit-*`, its web API's
   * `X-RateLimit-*`), the lowest `remaining` seen this run; hosts that announce none are absent.
   */
  readonly rateLimits: Readonly<Record<string, RateLimit>>
}

/** What the {@link Registry} client does. */
export interface RegistryShape {
  /** All tags of a repository as the registry lists them (all pages). */
  readonly listTags: (repository: string) => Effect.Effect<ReadonlyArray<string>, RegistryError>
  /** The current digest of a tag (or digest) with one HEAD. */
  readonly headDigest: (repository: string, reference: string) => Effect.Effect<string, RegistryError>
  /** One tag's image: digest, dates by source, revision, platform. */
  readonly readImage: (repository: string, tag: string) => Effect.Effect<RegistryImage, RegistryError>
  /** Every tag of a repository (those `keepTag` accepts), `onImage` called after each tag read. */
  readonly readRepository: (repository: string, options?: ReadRepositoryOptions) => Effect.Effect<RepositoryRead, RegistryError>
  /** Requests made so far. */
  readonly stats: Effect.Effect<RegistryStats>
}

/** The base class of {@link Registry}, declared with its type (JSR: no slow types). */
const Registry_base: Context.ServiceClass<Registry, "fleet-rollback/registry/Registry", RegistryShape> = Context.Service<Registry, RegistryShape>()("fleet-rollback/registry/Registry")

/** The registry client. */
export class Registry extends Registry_base {
  /**
   * The client for one registry; needs a {@link RegistryWire} (`RegistryWire.layerHttpClient` over
   * any `HttpClient`, or `nodeHttpClientLayer` on Node) and a `FileSystem` (cache).
   */
  static readonly layer = (
    config: RegistryConfig
  ): Layer.Layer<Registry, never, RegistryWire | FileSystem.FileSystem> =>
    Layer.effect(Registry, makeRegistry(config))
}

/** A repository name per the distribution spec (lower-case path components). */
const REPOSITORY_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/

/** A tag-list entry that is a cosign signature/attestation/SBOM artifact, not an image. */
const SIGNATURE_TAG = /^sha256-[0-9a-f]{64}(?:\.[a-z]+)?$/

/** Config media types of container images; other configs are artifacts (Helm charts, signatures…). */
const IMAGE_CONFIG_TYPES = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json"
])

/** Outcome of reading one tag. */
type TagOutcome =
  | { readonly _tag: "Image"; readonly image: RegistryImage }
  | { readonly _tag: "Skip"; readonly kind: SkipKind; readonly reason: string }

/** What is known of a tag before reading it: its name, and from Docker Hub's web API its digest and push time. */
interface ListedTag {
  readonly tag: string
  readonly hub?: HubTag | undefined
}

const SKIP_KINDS: ReadonlySet<string> = new Set<SkipKind>([
  "digest-in-tag-list", "invalid-tag", "signature", "filtered", "no-platform", "schema1", "schema1-conversion", "artifact", "not-an-image", "vanished", "unreadable"
])

/** The skip kind of a cached description (caches written before kinds existed say `not-an-image`). */
const cachedSkipKind = (image: CachedImage): SkipKind =>
  image.skipKind !== undefined && SKIP_KINDS.has(image.skipKind) ? image.skipKind as SkipKind : "not-an-image"

/**
 * A cached description, unless it is one versions without schema1 support wrote for a schema1
 * image (`skipKind` "schema1", no date): those are read again, once.
 */
const usableCached = (image: CachedImage | undefined): CachedImage | undefined =>
  image?.skipKind === "schema1" ? undefined : image

/** Why an index gave no image: the platform asked for and those it has. */
const noPlatformReason = (platform: Platform, offered: ReadonlyArray<string>): string =>
  `no ${formatPlatform(platform)} image in the index (it has ${offered.length === 0 ? "none" : offered.join(", ")}); choose another with --platform`

/** A Hub platform image as an index descriptor, for {@link selectPlatform}. */
const hubDescriptor = (image: HubImage) => ({
  digest: image.digest ?? "",
  platform: {
    os: image.platform.os,
    architecture: image.platform.architecture,
    ...(image.platform.variant === undefined ? {} : { variant: image.platform.variant })
  }
})

/** What a config blob gives the timeline: its `created` and the revision label (the rest is not kept). */
interface ConfigFacts {
  readonly created: string | undefined
  readonly revision: string | undefined
}

const makeRegistry = (config: RegistryConfig) =>
  Effect.gen(function*() {
    const wire = yield* RegistryWire
    const fs = yield* FileSystem.FileSystem
    const platformText = config.platform ?? "linux/amd64"
    const givenUrl = parseRegistryUrl(config.url)
    // docker.io and index.docker.io are names of Docker Hub; its registry API lives on registry-1.
    const parsedUrl = givenUrl !== undefined && isDockerHub(givenUrl) ? new URL("https://registry-1.docker.io") : givenUrl
    const defaultIsMutableTag = config.isMutableTag ?? (() => true)
    const wantedPlatform = parsePlatform(platformText)
    const counters = makeCounters()
    const transport = makeTransport(wire, {
      concurrency: config.concurrency ?? 8,
      requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
      retries: config.retries ?? 4
    }, counters)

    const badUrl = new RegistryError({
      reason: "InvalidInput",
      message: `the registry URL "${config.url}" is not an http:// or https:// URL; give e.g. https://registry.example.com`
    })
    // Settings of the whole client: these errors name no repository (getRollbacks reports them once).
    const badPlatform = new RegistryError({
      reason: "InvalidInput",
      message: `the platform "${platformText}" (--platform, registry.platform in the config) is not os/architecture[/variant]; give e.g. linux/amd64 or linux/arm64/v8`
    })

    const registryUrl = parsedUrl ?? new URL("https://invalid.invalid")
    const api: Api = makeApi(registryUrl, makeAuthorizer(transport, config.credentials, registryUrl), transport)
    const hubBase = config.dockerHubApi === undefined
      ? undefined
      : config.dockerHubApi.url === undefined || config.dockerHubApi.url === ""
      ? isDockerHub(registryUrl) ? new URL(DOCKER_HUB_API_URL) : undefined
      : parseRegistryUrl(config.dockerHubApi.url)
    const hubUrlText = config.dockerHubApi?.url
    const badHubApi = config.dockerHubApi === undefined
      ? undefined
      : hubBase === undefined
      ? new RegistryError({
        reason: "InvalidInput",
        message: hubUrlText === undefined || hubUrlText === ""
          ? `Docker Hub's web API (--docker-hub-api, registry.dockerHubApi in the config) describes Docker Hub repositories only, and ${registryUrl.origin} is not Docker Hub: leave it off for this registry, or name the API's URL`
          : `the Docker Hub web API URL "${stripCredentials(hubUrlText)}" (registry.dockerHubApi in the config) is not an http:// or https:// URL; give e.g. https://hub.docker.com`
      })
      : hubBase.username !== "" || hubBase.password !== ""
      ? new RegistryError({
        reason: "InvalidInput",
        message: `the Docker Hub web API URL (registry.dockerHubApi in the config) must not carry credentials; put them in REGISTRY_USERNAME and REGISTRY_PASSWORD (or REGISTRY_PASSWORD_FILE)`
      })
      : undefined
    const hubApi: DockerHubApi | undefined = hubBase === undefined ? undefined : makeDockerHubApi(hubBase, transport)
    const store: CacheStore = config.cacheDir === undefined || config.cacheDir === ""
      ? memoryCacheStore()
      : diskCacheStore(fs, config.cacheDir, registryUrl)

    /**
     * Tag reads in progress across all repositories: twice the requests a host serves at once,
     * so the transport always has the next request ready. `get` reads every repository at once;
     * without this bound each repository's reads would all start and wait in the transport,
     * each holding its half-done state — memory that grew with the fleet (bench/).
     */
    const tagReads = makeLimiter(Math.max(1, config.concurrency ?? 8) * 2)
    // For the lifetime of the client the same request is never made twice.
    const manifests = makeSingleFlight<string, FetchedManifest, RegistryError>("outcome")
    const configs = makeSingleFlight<string, ConfigFacts, RegistryError>("outcome")
    // Descriptions go into the image cache, which answers later tags: the memo keeps only failures.
    const descriptions = makeSingleFlight<string, CachedImage, RegistryError>("failure")

    /** Checks the inputs; the platform and the repository's name on the registry (Docker Hub: library/…). */
    const guard = (repository: string): Effect.Effect<{ readonly platform: Platform; readonly name: string }, RegistryError> => {
      if (parsedUrl === undefined) return Effect.fail(badUrl)
      if (wantedPlatform === undefined) return Effect.fail(badPlatform)
      if (badHubApi !== undefined) return Effect.fail(badHubApi)
      if (!REPOSITORY_PATTERN.test(repository) || repository.length > 255) {
        return Effect.fail(
          new RegistryError({
            reason: "InvalidInput",
            repository,
            message: `"${repository}" is not a valid repository name (lower-case path like shop/api) at registry ${registryUrl.origin}`
          })
        )
      }
      return Effect.succeed({ platform: wantedPlatform, name: registryRepositoryName(registryUrl, repository) })
    }

    const manifestByDigest = (repository: string, digest: string) =>
      manifests.run(`${repository}@${digest}`, () => api.getManifest(repository, digest))

    // Only the decoded fields are kept (not the blob), so memory stays small on big fleets.
    const configOf = (repository: string, digest: string) =>
      configs.run(`${repository}@${digest}`, () =>
        Effect.flatMap(api.getBlob(repository, digest), (bytes) => {
          const decoded = decodeConfigBody(utf8.decode(bytes))
          return Result.isSuccess(decoded)
            ? Effect.succeed<ConfigFacts>({
              created: decoded.success.created ?? undefined,
              revision: decoded.success.config?.Labels?.[REVISION_ANNOTATION]
            })
            : Effect.fail(
              new RegistryError({
                reason: "BadResponse",
                repository,
                message: `the config blob ${digest} of ${repository} is not an image config (JSON with "created"): ${decoded.failure.message}`
              })
            )
        }))

    /**
     * What one manifest (or index, for the wanted platform) says about its image. Written with
     * combinators, not a generator: it runs once per image, thousands of times per run.
     */
    const describe = (
      repository: string,
      platform: Platform,
      top: FetchedManifest,
      cache: RepositoryCache,
      byTag: boolean
    ): Effect.Effect<CachedImage, RegistryError> =>
      descriptions.run(`${repository}|${imageKey(formatPlatform(platform), top.digest)}`, () =>
        Effect.tap(describeUncached(repository, platform, top, byTag), (description) =>
          // Into the image cache before the memo forgets it: every later tag on this digest finds it there.
          Effect.sync(() => cache.setImage(imageKey(formatPlatform(platform), top.digest), description))))

    const describeUncached = (repository: string, platform: Platform, top: FetchedManifest, byTag: boolean): Effect.Effect<CachedImage, RegistryError> =>
      Effect.suspend(() => {
        const kind = manifestKind(top.contentType, top.manifest)
        if (kind === "schema1") return describeSchema1(repository, platform, top, byTag)
        if (kind === "index") {
          const index = top.manifest
          const child = selectPlatform(index.manifests ?? [], platform)
          if (child === undefined) {
            return Effect.succeed<CachedImage>({ dates: {}, skipKind: "no-platform", skip: noPlatformReason(platform, offeredPlatforms(index.manifests ?? [])) })
          }
          const chosen = formatPlatform(child.platform!)
          return Effect.flatMap(manifestByDigest(repository, child.digest), (childManifest) =>
            manifestKind(childManifest.contentType, childManifest.manifest) !== "image"
              ? Effect.succeed<CachedImage>({ dates: {}, skipKind: "not-an-image", skip: `the ${chosen} entry ${child.digest} of the index is not an image manifest` })
              : describeImage(repository, childManifest.manifest, index, chosen))
        }
        if (kind !== "image") {
          return Effect.succeed<CachedImage>({ dates: {}, skipKind: "not-an-image", skip: `not an image manifest (media type ${top.manifest.mediaType ?? top.contentType ?? "unknown"})` })
        }
        return describeImage(repository, top.manifest, undefined, undefined)
      })

    /**
     * A schema1 image: its date from the first history entry. Fetched by tag, it must be stored
     * under its digest (one HEAD by digest): a registry answers a client that accepts no schema2
     * type with a schema1 conversion of a schema2 image, whose digest it stores nowhere. `get`
     * always accepts schema2 and OCI, so only a proxy that drops `Accept` brings one; it is
     * refused, never dated (its date is the conversion's, its digest not deployable).
     */
    const describeSchema1 = (repository: string, platform: Platform, top: FetchedManifest, byTag: boolean): Effect.Effect<CachedImage, RegistryError> => {
      const architecture = top.manifest.architecture
      if (architecture !== undefined && architecture !== "" && architecture !== platform.architecture) {
        return Effect.succeed<CachedImage>({
          dates: {},
          skipKind: "no-platform",
          skip: `a schema1 image for ${architecture}, not ${formatPlatform(platform)}; choose another with --platform`
        })
      }
      const created = schema1Created(top.manifest)
      const described: CachedImage = { dates: created === undefined ? {} : { schema1: created } }
      if (!byTag) return Effect.succeed(described)
      return api.headManifest(repository, top.digest).pipe(
        Effect.as(described),
        Effect.catch((error): Effect.Effect<CachedImage, RegistryError> =>
          error.reason === "NotFound"
            ? Effect.succeed({
              dates: {},
              skipKind: "schema1-conversion",
              skip: `the registry answered with a schema1 conversion (digest ${top.digest}, stored nowhere) instead of the stored schema2 image: something between here and the registry drops the Accept header; fix that proxy`
            })
            : Effect.fail(error)
        )
      )
    }

    /** The dates and revision of an image manifest (the index's annotations as a fallback). */
    const describeImage = (
      repository: string,
      image: ManifestBody,
      index: ManifestBody | undefined,
      chosen: string | undefined
    ): Effect.Effect<CachedImage, RegistryError> => {
      const configDescriptor = image.config!
      if (configDescriptor.mediaType !== undefined && !IMAGE_CONFIG_TYPES.has(configDescriptor.mediaType)) {
        return Effect.succeed({ dates: {}, skipKind: "artifact", skip: `not a container image (an artifact with config type ${configDescriptor.mediaType})` })
      }
      const annotation = image.annotations?.[CREATED_ANNOTATION] ?? index?.annotations?.[CREATED_ANNOTATION]
      const annotatedRevision = image.annotations?.[REVISION_ANNOTATION] ?? index?.annotations?.[REVISION_ANNOTATION]
      const described = (facts: ConfigFacts | undefined): CachedImage => {
        const revision = annotatedRevision ?? facts?.revision
        return {
          dates: {
            ...(annotation === undefined ? {} : { annotation }),
            ...(facts?.created === undefined ? {} : { config: facts.created })
          },
          ...(revision === undefined ? {} : { revision }),
          ...(chosen === undefined ? {} : { platform: chosen })
        }
      }
      // The annotation is the first date source: when it holds a real date (not a 1970
      // placeholder) the config blob adds nothing the timeline uses, so it is not read —
      // one request per image instead of two.
      return parseKnownInstant(annotation) !== undefined
        ? Effect.succeed(described(undefined))
        : Effect.map(configOf(repository, configDescriptor.digest), described)
    }

    const toOutcome = (repository: string, tag: string, digest: string, described: CachedImage, push: string | undefined): TagOutcome =>
      described.skip !== undefined
        ? { _tag: "Skip", kind: cachedSkipKind(described), reason: described.skip }
        : {
          _tag: "Image",
          image: {
            repository,
            tag,
            digest,
            dates: {
              ...(described.dates.annotation === undefined ? {} : { annotation: described.dates.annotation }),
              ...(described.dates.config === undefined ? {} : { config: described.dates.config }),
              ...(described.dates.schema1 === undefined ? {} : { schema1: described.dates.schema1 }),
              ...(push === undefined ? {} : { push })
            },
            ...(described.revision === undefined ? {} : { revision: described.revision }),
            ...(described.platform === undefined ? {} : { platform: described.platform })
          }
        }

    /**
     * Reads one tag, using the persistent cache first. A digest from Docker Hub's web API is
     * current: no HEAD, no GET by tag; an index the Hub lists without the wanted platform is
     * skipped without a request.
     */
    const readTag = (
      repository: string,
      listed: ListedTag,
      platform: Platform,
      cache: RepositoryCache,
      isMutableTag: (tag: string) => boolean
    ): Effect.Effect<TagOutcome, RegistryError> =>
      Effect.suspend(() => {
        const tag = listed.tag
        const hub = listed.hub
        const platformKey = formatPlatform(platform)
        const push = hub?.lastPushed
        /** The tag's digest is known (and `top` fetched, for a new tag): the cache or one description finishes it. */
        const withDigest = (digest: string, top: FetchedManifest | undefined): Effect.Effect<TagOutcome, RegistryError> => {
          cache.setTagDigest(tag, digest)
          const key = imageKey(platformKey, digest)
          const cached = usableCached(cache.image(key))
          if (cached !== undefined) {
            if (top === undefined) counters.cacheHits++
            return Effect.succeed(toOutcome(repository, tag, digest, cached, push))
          }
          const described = top === undefined
            ? Effect.flatMap(manifestByDigest(repository, digest), (manifest) => describe(repository, platform, manifest, cache, false))
            : describe(repository, platform, top, cache, true)
          return Effect.map(described, (description) => toOutcome(repository, tag, digest, description, push))
        }
        if (hub?.digest !== undefined && DIGEST_PATTERN.test(hub.digest)) {
          const digest = hub.digest
          const isIndex = hub.images.length > 0 && hub.images.every((image) => image.digest !== digest)
          if (isIndex && selectPlatform(hub.images.map(hubDescriptor), platform) === undefined && usableCached(cache.image(imageKey(platformKey, digest))) === undefined) {
            cache.setTagDigest(tag, digest)
            return Effect.succeed<TagOutcome>({ _tag: "Skip", kind: "no-platform", reason: noPlatformReason(platform, hubPlatforms(hub)) })
          }
          return withDigest(digest, undefined)
        }
        const cachedDigest = cache.tagDigest(tag)
        if (cachedDigest !== undefined) {
          return config.verifyTags === true || isMutableTag(tag)
            ? Effect.flatMap(api.headManifest(repository, tag), (digest) => withDigest(digest, undefined))
            : withDigest(cachedDigest, undefined)
        }
        return Effect.flatMap(api.getManifest(repository, tag), (top) => withDigest(top.digest, top))
      })

    /** The tags of a repository: from Docker Hub's web API when asked (falling back to the registry's list), else `tags/list`. */
    const listRepository = (name: string): Effect.Effect<ReadonlyArray<ListedTag>, RegistryError> => {
      if (hubApi === undefined) return Effect.map(api.listTags(name), (tags) => tags.map((tag) => ({ tag })))
      return hubApi.listTags(name).pipe(
        Effect.map((tags): ReadonlyArray<ListedTag> => tags.map((hub) => ({ tag: hub.name, hub }))),
        Effect.catch((error) =>
          error.reason === "NotFound" || error.reason === "Unauthorized"
            // Private (or unknown) repositories: the registry API, with credentials, says which.
            ? Effect.logWarning(`${error.message}; reading ${name} through the registry API instead`).pipe(
              Effect.andThen(Effect.map(api.listTags(name), (tags) => tags.map((tag) => ({ tag }))))
            )
            : Effect.fail(error)
        )
      )
    }
    const listTags = Effect.fn("Registry.listTags")(function*(repository: string) {
      const { name } = yield* guard(repository)
      return yield* api.listTags(name)
    }, withClientSettings)

    const headDigest = Effect.fn("Registry.headDigest")(function*(repository: string, reference: string) {
      const { name } = yield* guard(repository)
      const digest = yield* api.headManifest(name, reference)
      if (isValidTag(reference)) {
        const cache = yield* store.repository(name)
        cache.setTagDigest(reference, digest)
        yield* cache.flush
      }
      return digest
    }, withClientSettings)

    const readImage = Effect.fn("Registry.readImage")(function*(repository: string, tag: string) {
      const { name, platform } = yield* guard(repository)
      const cache = yield* store.repository(name)
      const outcome = yield* readTag(name, { tag }, platform, cache, defaultIsMutableTag).pipe(Effect.ensuring(cache.flush))
      if (outcome._tag === "Skip") {
        return yield* new RegistryError({
          reason: "NotFound",
          repository,
          message: `${repository}:${tag} at ${registryUrl.origin} has no readable image: ${outcome.reason}`
        })
      }
      return { ...outcome.image, repository }
    }, withClientSettings)

    const readRepository = Effect.fn("Registry.readRepository")(function*(repository: string, options?: ReadRepositoryOptions) {
      const { name, platform } = yield* guard(repository)
      const listed = yield* listRepository(name)
      const isMutableTag = options?.isMutableTag ?? defaultIsMutableTag
      const skipped: Array<SkippedTag> = []
      const wanted: Array<ListedTag> = []
      const seen = new Set<string>()
      for (const entry of listed) {
        const tag = entry.tag
        if (seen.has(tag)) continue
        seen.add(tag)
        if (looksLikeDigest(tag)) skipped.push({ tag, kind: "digest-in-tag-list", reason: "a digest in the tag list, not a tag" })
        else if (!isValidTag(tag)) skipped.push({ tag, kind: "invalid-tag", reason: "not a valid tag name" })
        else if (SIGNATURE_TAG.test(tag)) skipped.push({ tag, kind: "signature", reason: "a signature/attestation artifact, not an image" })
        else if (options?.keepTag !== undefined && !options.keepTag(tag)) {
          skipped.push({ tag, kind: "filtered", reason: "filtered out (not of the chosen environment or scheme)" })
        } else wanted.push(entry)
      }
      const cache = yield* store.repository(name)
      const readOne = (entry: ListedTag) =>
        tagReads.withPermit(readTag(name, entry, platform, cache, isMutableTag)).pipe(
          Effect.catch((error): Effect.Effect<TagOutcome, RegistryError> =>
            // The tag vanished between list and read, or one manifest is unreadable: skip that
            // tag only, and say so (the summary and rollback.json count it).
            error.reason === "NotFound"
              ? Effect.succeed({ _tag: "Skip", kind: "vanished", reason: error.message })
              : error.reason === "BadResponse"
              ? Effect.succeed({ _tag: "Skip", kind: "unreadable", reason: error.message })
              : Effect.fail(error)
          ),
          Effect.tap(() => Effect.sync(() => options?.onImage?.()))
        )
      const concurrency = Math.max(1, config.concurrency ?? 8) * 2
      const byTag = new Map<string, TagOutcome>()
      // New tags first (GET by tag), then known ones (cache or HEAD): a moved tag whose new digest
      // came with a new tag then finds that manifest already fetched instead of fetching it again.
      const readAll = (entries: ReadonlyArray<ListedTag>) =>
        Effect.forEach(
          [entries.filter((entry) => cache.tagDigest(entry.tag) === undefined), entries.filter((entry) => cache.tagDigest(entry.tag) !== undefined)],
          (group) =>
            Effect.forEach(group, (entry) => Effect.map(readOne(entry), (outcome) => byTag.set(entry.tag, outcome)), {
              concurrency,
              discard: true
            }),
          { discard: true }
        )
      const last = options?.last
      let read: ReadonlyArray<ListedTag> = wanted
      let beyondLast: number | undefined
      if (last === undefined) {
        options?.onTags?.(wanted.length)
        yield* readAll(wanted).pipe(Effect.ensuring(cache.flush))
      } else {
        // Newest first, in rounds: each round reads as many tags as images are still missing.
        const byName = new Map(wanted.map((entry) => [entry.tag, entry]))
        const order = last.newestFirst(wanted.map((entry) => entry.tag))
        const done: Array<ListedTag> = []
        let counted = 0
        options?.onTags?.(Math.min(Math.max(0, last.count), order.length))
        yield* Effect.gen(function*() {
          while (counted < last.count && done.length < order.length) {
            const round = order.slice(done.length, done.length + last.count - counted).map((tag) => byName.get(tag)!)
            if (done.length > 0) options?.onMoreTags?.(round.length)
            yield* readAll(round)
            for (const entry of round) {
              done.push(entry)
              const outcome = byTag.get(entry.tag)!
              if (outcome._tag === "Image" && last.counts({ ...outcome.image, repository })) counted++
            }
          }
        }).pipe(Effect.ensuring(cache.flush))
        read = done
        beyondLast = order.length - done.length
      }
      const images: Array<RegistryImage> = []
      for (const entry of read) {
        const outcome = byTag.get(entry.tag)!
        if (outcome._tag === "Image") images.push({ ...outcome.image, repository })
        else skipped.push({ tag: entry.tag, kind: outcome.kind, reason: outcome.reason })
      }
      const result: RepositoryRead = { repository, images, skipped, ...(beyondLast === undefined ? {} : { beyondLast }) }
      return result
    }, withClientSettings)

    const stats = Effect.sync((): RegistryStats => ({
      requests: counters.requests,
      requestsByKind: { ...counters.byKind },
      cacheHits: counters.cacheHits,
      rateLimits: { ...counters.rateLimits }
    }))

    return { listTags, headDigest, readImage, readRepository, stats }
  })

/** Re-exported so callers need one import. */
export type { Credentials } from "./Auth.ts"
