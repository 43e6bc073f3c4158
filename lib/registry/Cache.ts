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
 * loses what the other wrote, and no reader sees a torn file.
 *
 * A run that finds deltas folds them into the main file under a lock directory `<repo>.lock`,
 * which one run at a time can create: under the lock it lists the deltas and reads them and the
 * main file again (another run may have folded or written since this one read them), writes the
 * merge as the main file (temporary file, then rename) and removes only the deltas it read under
 * the lock. A run that cannot take the lock reads the deltas as they are and leaves them. A lock
 * is released however the fold ends; one older than {@link STALE_LOCK_MS} (a run that died
 * holding it: a fold takes milliseconds) is put away under a name of its own — of several runs
 * that find it, one succeeds — and then taken, so it never blocks later runs. Outside the lock,
 * deltas are read before the main file, so a delta folded and removed meanwhile is found in the
 * main file. Cache trouble never fails a run: it is logged and the run goes on without it.
 */
import { Clock, Effect, Option, Random, Schema } from "effect"
import type { FileSystem } from "effect"
import { makeSingleFlight } from "./SingleFlight.ts"

/** What was read from one digest for one platform. */
export const CachedImage = Schema.Struct({
  dates: Schema.Struct({
    annotation: Schema.optional(Schema.String),
    config: Schema.optional(Schema.String),
    /** A schema1 manifest's first history entry's `created`. */
    schema1: Schema.optional(Schema.String)
  }),
  revision: Schema.optional(Schema.String),
  platform: Schema.optional(Schema.String),
  /** Set when the digest is not a readable image for the platform (the reason), e.g. an artifact. */
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
export const STALE_LOCK_MS = 10 * 60_000

/** A store persisted under `cacheDir` for the registry at `registryUrl`. */
export const diskCacheStore = (fs: FileSystem.FileSystem, cacheDir: string, registryUrl: URL): CacheStore => {
  const dir = `${cacheDir.replace(/\/+$/, "")}/registry-v1/${safeName(`${registryUrl.protocol.replace(":", "")}_${registryUrl.host}`)}`
  /** Each repository's cache, opened once per run, also when several fibers ask at once, so changes are not split. */
  const repositories = makeSingleFlight<string, RepositoryCache, never>("outcome")

  const read = (file: string): Effect.Effect<CacheFile | undefined> =>
    fs.readFileString(file).pipe(
      Effect.flatMap(Schema.decodeUnknownEffect(CacheFileJson)),
      Effect.catch((error) =>
        error._tag === "PlatformError" && error.reason._tag === "NotFound"
          ? Effect.succeed(undefined)
          : Effect.as(Effect.logWarning(`ignoring unreadable registry cache file ${file}: ${error.message}`), undefined)
      )
    )

  /** Writes `entries` whole under a temporary name beside `file`; returns that name. */
  const writeTemporary = (file: string, entries: Entries) =>
    Effect.gen(function*() {
      const temp = `${file}.${(yield* Random.nextInt).toString(36)}.tmp`
      yield* fs.makeDirectory(dir, { recursive: true })
      const content: CacheFile = { schemaVersion: 1, tags: Object.fromEntries(entries.tags), images: Object.fromEntries(entries.images) }
      yield* fs.writeFileString(temp, JSON.stringify(content))
      return temp
    })

  /** Writes `entries` as `file`: a temporary file, then renamed over it. */
  const writeAtomically = (file: string, entries: Entries) =>
    Effect.flatMap(writeTemporary(file, entries), (temp) => fs.rename(temp, file).pipe(Effect.onError(() => Effect.ignore(fs.remove(temp)))))

  /**
   * Creates `file` with `entries` only if it does not exist: a temporary file, then hard-linked
   * to its name (which fails when another run created it first). False when it exists, or the
   * file system has no hard links: then the entries go to a delta.
   */
  const createExclusively = (file: string, entries: Entries): Effect.Effect<boolean> =>
    Effect.flatMap(writeTemporary(file, entries), (temp) =>
      fs.link(temp, file).pipe(Effect.as(true), Effect.orElseSucceed(() => false), Effect.ensuring(Effect.ignore(fs.remove(temp))))).pipe(
        Effect.orElseSucceed(() => false)
      )

  /** The directory's file names now (a missing directory has none). */
  const listNow = fs.readDirectory(dir).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
  /** The directory's file names, read once per run. */
  const listed = makeSingleFlight<"listing", ReadonlyArray<string>, never>("outcome")
  const listing = listed.run("listing", () => listNow)

  /** The delta files of a repository among file names, oldest first (their names start with the time). */
  const deltasOf = (names: ReadonlyArray<string>, prefix: string): Array<string> =>
    names.filter((file) => file.startsWith(prefix) && file.endsWith(".json")).sort()

  /** Reads the deltas named, then the main file; what they hold, newest last, and the deltas read. */
  const readRepositoryFiles = (main: string, deltaNames: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const deltas: Array<string> = []
      const contents: Array<CacheFile> = []
      // Deltas first, then the main file: a delta folded and removed meanwhile is in the main file.
      for (const file of deltaNames) {
        const content = yield* read(`${dir}/${file}`)
        if (content !== undefined) {
          contents.push(content)
          deltas.push(`${dir}/${file}`)
        }
      }
      const loaded = yield* read(main)
      return { loaded, contents: loaded === undefined ? contents : [loaded, ...contents], deltas }
    })

  /** Puts what `contents` hold into `entries`, later contents winning (a tag moved since). */
  const mergeInto = (entries: Entries, contents: ReadonlyArray<CacheFile>): void => {
    for (const content of contents) {
      for (const tag in content.tags) entries.tags.set(tag, content.tags[tag]!)
      for (const key in content.images) entries.images.set(key, content.images[key]!)
    }
  }

  /** How long ago a path was last modified, if it exists. */
  const ageOf = (path: string) =>
    Effect.gen(function*() {
      const info = yield* fs.stat(path).pipe(Effect.option)
      if (Option.isNone(info) || Option.isNone(info.value.mtime)) return undefined
      return (yield* Clock.currentTimeMillis) - info.value.mtime.value.getTime()
    })

  /**
   * Takes the lock directory; false when another run holds it. A stale lock (a run that died
   * holding it) is renamed away first — of several runs that find it, one succeeds — then
   * checked to be the stale one; if a live run had just taken its place, that lock is put back.
   */
  const takeLock = (lock: string): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      if (yield* fs.makeDirectory(lock).pipe(Effect.as(true), Effect.orElseSucceed(() => false))) return true
      const age = yield* ageOf(lock)
      if (age === undefined || age <= STALE_LOCK_MS) return false
      const away = `${lock}.${(yield* Random.nextInt).toString(36)}.stale`
      if (!(yield* fs.rename(lock, away).pipe(Effect.as(true), Effect.orElseSucceed(() => false)))) return false
      const awayAge = yield* ageOf(away)
      if (awayAge === undefined || awayAge <= STALE_LOCK_MS) {
        // Another run had taken over the stale lock before this one renamed it: give it back.
        yield* Effect.ignore(fs.rename(away, lock))
        return false
      }
      yield* Effect.ignore(fs.remove(away, { recursive: true }))
      yield* Effect.logWarning(`took over the registry cache lock ${lock}, left by a run that stopped more than ${STALE_LOCK_MS / 60_000} minutes ago`)
      return yield* fs.makeDirectory(lock).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
    }).pipe(Effect.orElseSucceed(() => false))

  /**
   * Folds a repository's deltas into its main file under the lock, reading them and the main
   * file again there; puts what it read into `data`. Skipped when another run holds the lock.
   */
  const fold = (main: string, lock: string, prefix: string, data: Entries) =>
    Effect.acquireUseRelease(
      takeLock(lock),
      (taken) =>
        taken
          ? Effect.gen(function*() {
            const now = yield* readRepositoryFiles(main, deltasOf(yield* listNow, prefix))
            mergeInto(data, now.contents)
            // Another run folded them all since this one listed: nothing to write.
            if (now.deltas.length === 0) return
            const merged = emptyEntries()
            mergeInto(merged, now.contents)
            yield* writeAtomically(main, merged)
            for (const delta of now.deltas) yield* Effect.ignore(fs.remove(delta))
          })
          : Effect.void,
      (taken) => (taken ? Effect.ignore(fs.remove(lock, { recursive: true })) : Effect.void)
    ).pipe(
      Effect.catch((error) => Effect.logWarning(`could not fold the registry cache under ${dir}: ${error.message}`))
    )

  const open = (repository: string): Effect.Effect<RepositoryCache> =>
    Effect.gen(function*() {
      const name = safeName(repository)
      const main = `${dir}/${name}.json`
      const prefix = `${name}#`
      const data = emptyEntries()
      const first = yield* readRepositoryFiles(main, deltasOf(yield* listing, prefix))
      mergeInto(data, first.contents)
      if (first.deltas.length > 0) yield* fold(main, `${dir}/${name}.lock`, prefix, data)
      let changed = emptyEntries()
      let dirty = false
      // A repository the cache has never seen: its first write may create the main file itself.
      let mayCreateMain = first.loaded === undefined && first.deltas.length === 0
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
          // A digest's description never changes, except one written before schema1 support.
          const existing = data.images.get(key)
          if (existing !== undefined && existing.skipKind !== "schema1") return
          data.images.set(key, image)
          changed.images.set(key, image)
          dirty = true
        },
        flush
      }
      return cache
    })

  return {
    repository: (repository) => repositories.run(repository, () => open(repository))
  }
}
