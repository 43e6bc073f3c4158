/**
 * @module Cache — what the client remembers between runs, per registry and repository:
 * tag → digest as last seen, and (platform, digest) → what was read from it (dates, revision,
 * platform, or why it was skipped), which never changes because a digest is immutable.
 *
 * Under `<cacheDir>/registry-v1/<host>/`, per repository: a main file `<repo>.json`, and what
 * runs added since as delta files `<repo>#<time>-<random>.json`. A run writes only its own new
 * delta (temporary file, then rename) — or, for a repository the cache has never seen, creates
 * the main file if no other run did first (temporary file, then a hard link, which never
 * replaces) — so two runs sharing the directory never overwrite each other's file: neither
 * loses what the other wrote, and no reader sees a torn file. A run that finds
 * deltas folds them into the main file (written the same way, then the deltas it read are
 * removed) under a lock directory `<repo>.lock` that one run at a time can create; a run that
 * cannot take the lock reads the deltas as they are. Deltas are read before the main file, so
 * a delta folded and removed meanwhile is found in the main file. Cache trouble never fails a
 * run: it is logged and the run goes on without it.
 */
import { Clock, Deferred, Effect, Random, Schema } from "effect"
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

/** Entries in memory: Maps (thousands of string keys; plain objects turn slow as dictionaries). */
type Entries = { readonly tags: Map<string, string>; readonly images: Map<string, CachedImage> }

const emptyEntries = (): Entries => ({ tags: new Map(), images: new Map() })

/** A store that remembers only for the lifetime of the client. */
export const memoryCacheStore = (): CacheStore => {
  const repositories = new Map<string, RepositoryCache>()
  return {
    repository: (repository) =>
      Effect.sync(() => {
        let cache = repositories.get(repository)
        if (cache === undefined) {
          const data = emptyEntries()
          cache = {
            tagDigest: (tag) => data.tags.get(tag),
            image: (key) => data.images.get(key),
            setTagDigest: (tag, digest) => {
              data.tags.set(tag, digest)
            },
            setImage: (key, image) => {
              data.images.set(key, image)
            },
            flush: Effect.void
          }
          repositories.set(repository, cache)
        }
        return cache
      })
  }
}

/** A file-system-safe name for a registry host or repository (never contains `#`). */
const safeName = (value: string): string => encodeURIComponent(value).replace(/\*/g, "%2A").replace(/^\.+/, (dots) => "%2E".repeat(dots.length))

/** A lock left by a run that died is taken over after this long (folding takes milliseconds). */
const STALE_LOCK_MS = 10 * 60_000

/** Runs `effect` once; later (and concurrent) runs get its result. Interrupted, it runs again next time. */
const once = <A>(effect: Effect.Effect<A>): Effect.Effect<A> => {
  let result: Deferred.Deferred<A> | undefined
  return Effect.suspend(() => {
    if (result !== undefined) return Deferred.await(result)
    const deferred = Deferred.makeUnsafe<A>()
    result = deferred
    return effect.pipe(
      Effect.onExit((exit) =>
        Effect.andThen(
          Effect.sync(() => {
            if (exit._tag === "Failure") result = undefined
          }),
          Deferred.done(deferred, exit)
        )
      )
    )
  })
}

/** A store persisted under `cacheDir` for the registry at `registryUrl`. */
export const diskCacheStore = (fs: FileSystem.FileSystem, cacheDir: string, registryUrl: URL): CacheStore => {
  const dir = `${cacheDir.replace(/\/+$/, "")}/registry-v1/${safeName(`${registryUrl.protocol.replace(":", "")}_${registryUrl.host}`)}`
  const repositories = new Map<string, Effect.Effect<RepositoryCache>>()

  const read = (file: string): Effect.Effect<CacheFile | undefined> =>
    fs.readFileString(file).pipe(
      Effect.flatMap(Schema.decodeUnknownEffect(CacheFileJson)),
      Effect.catch((error) =>
        error._tag === "PlatformError" && error.reason._tag === "NotFound"
          ? Effect.succeed(undefined)
          : Effect.as(Effect.logWarning(`ignoring unreadable registry cache file ${file}: ${error.message}`), undefined)
      )
    )

  /** Writes `entries` as `file`: a temporary file in the same directory, then renamed over it. */
  const writeAtomically = (file: string, entries: Entries) =>
    Effect.gen(function*() {
      const suffix = (yield* Random.nextInt).toString(36)
      const temp = `${file}.${suffix}.tmp`
      yield* fs.makeDirectory(dir, { recursive: true })
      const content: CacheFile = { schemaVersion: 1, tags: Object.fromEntries(entries.tags), images: Object.fromEntries(entries.images) }
      yield* fs.writeFileString(temp, JSON.stringify(content))
      yield* fs.rename(temp, file).pipe(Effect.onError(() => Effect.ignore(fs.remove(temp))))
    })

  /**
   * Creates `file` with `entries` only if it does not exist: written whole under a temporary
   * name, then hard-linked to its name (which fails when another run created it first). False
   * when it exists, or the file system has no hard links: then the entries go to a delta.
   */
  const createExclusively = (file: string, entries: Entries): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      const suffix = (yield* Random.nextInt).toString(36)
      const temp = `${file}.${suffix}.tmp`
      yield* fs.makeDirectory(dir, { recursive: true })
      const content: CacheFile = { schemaVersion: 1, tags: Object.fromEntries(entries.tags), images: Object.fromEntries(entries.images) }
      yield* fs.writeFileString(temp, JSON.stringify(content))
      const created = yield* fs.link(temp, file).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      yield* Effect.ignore(fs.remove(temp))
      return created
    }).pipe(Effect.orElseSucceed(() => false))

  /** The directory's file names, read once per run (a missing directory has none). */
  const listing = once(fs.readDirectory(dir).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => [])))

  /** Folds the deltas read into the main file, under the lock; skipped when another run holds it. */
  const fold = (main: string, lock: string, data: Entries, deltas: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const taken = yield* fs.makeDirectory(lock).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (!taken) {
        const info = yield* fs.stat(lock).pipe(Effect.option)
        const now = yield* Clock.currentTimeMillis
        const since = info._tag === "Some" && info.value.mtime._tag === "Some" ? now - info.value.mtime.value.getTime() : 0
        // A run that died holding the lock: free it for the next run.
        if (since > STALE_LOCK_MS) yield* Effect.ignore(fs.remove(lock, { recursive: true }))
        return
      }
      yield* Effect.gen(function*() {
        yield* writeAtomically(main, data)
        for (const delta of deltas) yield* Effect.ignore(fs.remove(delta))
      }).pipe(Effect.ensuring(Effect.ignore(fs.remove(lock, { recursive: true }))))
    }).pipe(
      Effect.catch((error) => Effect.logWarning(`could not fold the registry cache under ${dir}: ${error.message}`))
    )

  const open = (repository: string): Effect.Effect<RepositoryCache> =>
    Effect.gen(function*() {
      const name = safeName(repository)
      const main = `${dir}/${name}.json`
      const prefix = `${name}#`
      const deltaNames = (yield* listing).filter((file) => file.startsWith(prefix) && file.endsWith(".json")).sort()
      const data = emptyEntries()
      const readDeltas: Array<string> = []
      const deltaContents: Array<CacheFile> = []
      // Deltas first, then the main file: a delta folded and removed meanwhile is in the main file.
      for (const file of deltaNames) {
        const content = yield* read(`${dir}/${file}`)
        if (content !== undefined) {
          deltaContents.push(content)
          readDeltas.push(`${dir}/${file}`)
        }
      }
      const loaded = yield* read(main)
      for (const content of [...(loaded === undefined ? [] : [loaded]), ...deltaContents]) {
        for (const tag in content.tags) data.tags.set(tag, content.tags[tag]!)
        for (const key in content.images) data.images.set(key, content.images[key]!)
      }
      if (readDeltas.length > 0) yield* fold(main, `${dir}/${name}.lock`, data, readDeltas)
      let changed = emptyEntries()
      let dirty = false
      // A repository the cache has never seen: its first write may create the main file itself.
      let mayCreateMain = loaded === undefined && readDeltas.length === 0
      const flush = Effect.gen(function*() {
        if (!dirty) return
        const entries = changed
        changed = emptyEntries()
        dirty = false
        if (mayCreateMain) {
          mayCreateMain = false
          if (yield* createExclusively(main, entries)) return
        }
        const now = yield* Clock.currentTimeMillis
        const id = `${now.toString(36).padStart(9, "0")}-${(yield* Random.nextInt).toString(36)}`
        yield* writeAtomically(`${dir}/${prefix}${id}.json`, entries)
      }).pipe(
        Effect.catch((error) => Effect.logWarning(`could not write the registry cache under ${dir}: ${error.message}`))
      )
      const cache: RepositoryCache = {
        tagDigest: (tag) => data.tags.get(tag),
        image: (key) => data.images.get(key),
        setTagDigest: (tag, digest) => {
          if (data.tags.get(tag) === digest) return
          data.tags.set(tag, digest)
          changed.tags.set(tag, digest)
          dirty = true
        },
        setImage: (key, image) => {
          if (data.images.has(key)) return
          data.images.set(key, image)
          changed.images.set(key, image)
          dirty = true
        },
        flush
      }
      return cache
    })

  return {
    repository: (repository) =>
      Effect.suspend(() => {
        let opened = repositories.get(repository)
        if (opened === undefined) {
          // Opened once per run, also when several fibers ask at once, so changes are not split.
          opened = once(open(repository))
          repositories.set(repository, opened)
        }
        return opened
      })
  }
}
