/**
 * @module Cache — what the client remembers between runs, per registry and repository:
 * tag → digest as last seen, and (platform, digest) → what was read from it (dates, revision,
 * platform, or why it was skipped), which never changes because a digest is immutable.
 *
 * One JSON file per repository under `<cacheDir>/registry-v1/<host>/`. Writes go to a temporary
 * file that is then renamed over the old one, after merging what another run may have written
 * meanwhile, so two concurrent runs sharing a cache directory never see a torn file (the worst
 * case is a lost entry, which costs one request next time). Cache trouble never fails a run:
 * it is logged and the run goes on without it.
 */
import { Effect, Random, Schema } from "effect"
import type { FileSystem } from "effect"

/** What was read from one digest for one platform. */
export const CachedImage = Schema.Struct({
  dates: Schema.Struct({
    annotation: Schema.optional(Schema.String),
    config: Schema.optional(Schema.String)
  }),
  revision: Schema.optional(Schema.String),
  platform: Schema.optional(Schema.String),
  /** Set when the digest is not a readable image for the platform (the reason), e.g. schema1. */
  skip: Schema.optional(Schema.String),
  /** What kind of skip (see `SkipKind` in Registry.ts); absent in caches written before it existed. */
  skipKind: Schema.optional(Schema.String)
})

/** A cached image description. */
export type CachedImage = typeof CachedImage.Type

const CacheFile = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  tags: Schema.Record(Schema.String, Schema.String),
  images: Schema.Record(Schema.String, CachedImage)
})

type CacheFile = typeof CacheFile.Type

const CacheFileJson = Schema.fromJsonString(CacheFile)

/** The cache of one repository, loaded once per run, written back with {@link RepositoryCache.flush}. */
export interface RepositoryCache {
  readonly tagDigest: (tag: string) => string | undefined
  readonly image: (key: string) => CachedImage | undefined
  readonly setTagDigest: (tag: string, digest: string) => void
  readonly setImage: (key: string, image: CachedImage) => void
  /** Writes changes (if any) atomically; never fails. */
  readonly flush: Effect.Effect<void>
}

/** The key of an image description: the platform asked for and the digest of the tag. */
export const imageKey = (platform: string, digest: string): string => `${platform}|${digest}`

/** Opens repository caches; a store without a directory keeps everything in memory for this run. */
export interface CacheStore {
  readonly repository: (repository: string) => Effect.Effect<RepositoryCache>
}

const emptyFile = (): { tags: Record<string, string>; images: Record<string, CachedImage> } => ({ tags: {}, images: {} })

/** A store that remembers only for the lifetime of the client. */
export const memoryCacheStore = (): CacheStore => {
  const repositories = new Map<string, RepositoryCache>()
  return {
    repository: (repository) =>
      Effect.sync(() => {
        let cache = repositories.get(repository)
        if (cache === undefined) {
          const data = emptyFile()
          cache = {
            tagDigest: (tag) => Object.hasOwn(data.tags, tag) ? data.tags[tag] : undefined,
            image: (key) => Object.hasOwn(data.images, key) ? data.images[key] : undefined,
            setTagDigest: (tag, digest) => {
              data.tags[tag] = digest
            },
            setImage: (key, image) => {
              data.images[key] = image
            },
            flush: Effect.void
          }
          repositories.set(repository, cache)
        }
        return cache
      })
  }
}

/** A file-system-safe name for a registry host or repository. */
const safeName = (value: string): string => encodeURIComponent(value).replace(/\*/g, "%2A").replace(/^\.+/, (dots) => "%2E".repeat(dots.length))

/** A store persisted under `cacheDir` for the registry at `registryUrl`. */
export const diskCacheStore = (fs: FileSystem.FileSystem, cacheDir: string, registryUrl: URL): CacheStore => {
  const dir = `${cacheDir.replace(/\/+$/, "")}/registry-v1/${safeName(`${registryUrl.protocol.replace(":", "")}_${registryUrl.host}`)}`
  const repositories = new Map<string, RepositoryCache>()

  const read = (file: string): Effect.Effect<CacheFile | undefined> =>
    fs.readFileString(file).pipe(
      Effect.flatMap(Schema.decodeUnknownEffect(CacheFileJson)),
      Effect.catch((error) =>
        error._tag === "PlatformError" && error.reason._tag === "NotFound"
          ? Effect.succeed(undefined)
          : Effect.as(Effect.logWarning(`ignoring unreadable registry cache file ${file}: ${error.message}`), undefined)
      )
    )

  const open = (repository: string): Effect.Effect<RepositoryCache> =>
    Effect.gen(function*() {
      const file = `${dir}/${safeName(repository)}.json`
      const loaded = yield* read(file)
      const data = loaded === undefined ? emptyFile() : { tags: { ...loaded.tags }, images: { ...loaded.images } }
      const changedTags: Record<string, string> = {}
      const changedImages: Record<string, CachedImage> = {}
      let dirty = false
      const flush = Effect.gen(function*() {
        if (!dirty) return
        dirty = false
        // Merge with what is on disk now (another run may have written since we loaded).
        const current = yield* read(file)
        const merged: CacheFile = {
          schemaVersion: 1,
          tags: { ...(current?.tags ?? {}), ...changedTags },
          images: { ...(current?.images ?? {}), ...changedImages }
        }
        const suffix = (yield* Random.nextInt).toString(36)
        const temp = `${file}.${suffix}.tmp`
        yield* fs.makeDirectory(dir, { recursive: true })
        yield* fs.writeFileString(temp, JSON.stringify(merged))
        yield* fs.rename(temp, file).pipe(
          Effect.onError(() => Effect.ignore(fs.remove(temp)))
        )
      }).pipe(
        Effect.catch((error) => Effect.logWarning(`could not write the registry cache under ${dir}: ${error.message}`))
      )
      return {
        tagDigest: (tag) => Object.hasOwn(data.tags, tag) ? data.tags[tag] : undefined,
        image: (key) => Object.hasOwn(data.images, key) ? data.images[key] : undefined,
        setTagDigest: (tag, digest) => {
          if (data.tags[tag] === digest) return
          data.tags[tag] = digest
          changedTags[tag] = digest
          dirty = true
        },
        setImage: (key, image) => {
          if (Object.hasOwn(data.images, key)) return
          data.images[key] = image
          changedImages[key] = image
          dirty = true
        },
        flush
      }
    })

  return {
    repository: (repository) =>
      Effect.suspend(() => {
        const existing = repositories.get(repository)
        if (existing !== undefined) return Effect.succeed(existing)
        return Effect.map(open(repository), (cache) => {
          // Two fibers may open concurrently; keep the first so changes are not split.
          const first = repositories.get(repository)
          if (first !== undefined) return first
          repositories.set(repository, cache)
          return cache
        })
      })
  }
}
