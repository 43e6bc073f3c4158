/**
 * @module test/registry/Cache — the persistent cache shared by runs at once: a fold reads the
 * deltas and the main file again under its lock, so a fold by another run in between loses
 * nothing; many runs (fibers, and processes) folding and writing at once lose no entry; a lock
 * left by a run that died is taken over, a live one is left alone, and a fold that fails or is
 * interrupted releases its lock.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FileSystem } from "effect"
import { execFile } from "node:child_process"
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { diskCacheStore, STALE_LOCK_MS } from "../../lib/registry/Cache.ts"

const registryUrl = new URL("http://127.0.0.1:5000")
const repository = "shop/api"
const fileName = "shop%2Fapi"

/** A fresh cache directory, removed when the test ends (also when it fails). */
const cacheDirectory = Effect.acquireRelease(
  Effect.sync(() => {
    const cacheDir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-cache-"))
    const dir = path.join(cacheDir, "registry-v1", "http_127.0.0.1%3A5000")
    nodeFs.mkdirSync(dir, { recursive: true })
    return { cacheDir, dir }
  }),
  ({ cacheDir }) => Effect.sync(() => nodeFs.rmSync(cacheDir, { recursive: true, force: true }))
)

/** A cache file's text with these tags. */
const cacheFile = (tags: Record<string, string>) => JSON.stringify({ schemaVersion: 1, tags, images: {} })

/** What the main file holds now. */
const mainTags = (dir: string): Record<string, string> =>
  JSON.parse(nodeFs.readFileSync(path.join(dir, `${fileName}.json`), "utf8")).tags

/** A new run's view of the repository's tags. */
const openedBy = (fs: FileSystem.FileSystem, cacheDir: string) => diskCacheStore(fs, cacheDir, registryUrl).repository(repository)

const withFs = <A, E>(f: (fs: FileSystem.FileSystem) => Effect.Effect<A, E, never>) =>
  Effect.flatMap(FileSystem.FileSystem, f).pipe(Effect.provide(NodeFileSystem.layer))

describe("folding the deltas", () => {
  it.live("another run's fold between this run's first read and its lock loses nothing: the fold reads again under the lock", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      nodeFs.writeFileSync(path.join(dir, `${fileName}.json`), cacheFile({ t0: "sha256:0" }))
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      yield* withFs((fs) =>
        Effect.gen(function*() {
          let meddled = false
          // Run A has read the files and is about to take the lock: meanwhile another run writes
          // delta t2, and run B folds both deltas into the main file and removes them.
          const late: FileSystem.FileSystem = {
            ...fs,
            makeDirectory: (target, options) =>
              Effect.gen(function*() {
                if (!meddled && target.endsWith(".lock")) {
                  meddled = true
                  nodeFs.writeFileSync(path.join(dir, `${fileName}#000000002-b.json`), cacheFile({ t2: "sha256:2" }))
                  const b = yield* openedBy(fs, cacheDir)
                  assert.strictEqual(b.tagDigest("t2"), "sha256:2")
                  assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
                }
                return yield* fs.makeDirectory(target, options)
              })
          }
          const a = yield* openedBy(late, cacheDir)
          assert.isTrue(meddled)
          assert.deepStrictEqual(["t0", "t1", "t2"].map((t) => a.tagDigest(t)), ["sha256:0", "sha256:1", "sha256:2"])
          assert.deepStrictEqual(mainTags(dir), { t0: "sha256:0", t1: "sha256:1", t2: "sha256:2" })
          assert.strictEqual((yield* openedBy(fs, cacheDir)).tagDigest("t2"), "sha256:2")
        })
      )
    }).pipe(Effect.scoped))

  it.live("a delta written after the fold listed is not removed: the next run finds it", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      yield* withFs((fs) =>
        Effect.gen(function*() {
          let meddled = false
          const late: FileSystem.FileSystem = {
            ...fs,
            // the fold has listed and read under its lock; now another run writes its delta
            writeFileString: (target, data, options) =>
              Effect.andThen(
                Effect.sync(() => {
                  if (!meddled && target.includes(`${fileName}.json.`)) {
                    meddled = true
                    nodeFs.writeFileSync(path.join(dir, `${fileName}#000000002-b.json`), cacheFile({ t2: "sha256:2" }))
                  }
                }),
                fs.writeFileString(target, data, options)
              )
          }
          yield* openedBy(late, cacheDir)
          assert.isTrue(meddled)
          assert.deepStrictEqual(nodeFs.readdirSync(dir).sort(), [`${fileName}#000000002-b.json`, `${fileName}.json`])
          const next = yield* openedBy(fs, cacheDir)
          assert.deepStrictEqual([next.tagDigest("t1"), next.tagDigest("t2")], ["sha256:1", "sha256:2"])
          assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
        })
      )
    }).pipe(Effect.scoped))

  it.live("twelve runs in a loop at once, each folding and adding entries of its own thirty times: no entry is lost", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      const runs = 12
      const rounds = 30
      yield* withFs((fs) =>
        Effect.gen(function*() {
          yield* Effect.forEach(
            Array.from({ length: runs }, (_, run) => run),
            (run) =>
              Effect.gen(function*() {
                for (let round = 0; round < rounds; round++) {
                  // a new store: a new run of the client, which folds what it finds
                  const cache = yield* openedBy(fs, cacheDir)
                  cache.setTagDigest(`r${run}-${round}`, `sha256:${run}-${round}`)
                  yield* cache.flush
                }
              }),
            { concurrency: "unbounded" }
          )
          const last = yield* openedBy(fs, cacheDir)
          const expected = Array.from({ length: runs * rounds }, (_, i) => `r${Math.floor(i / rounds)}-${i % rounds}`)
          assert.deepStrictEqual(expected.filter((t) => last.tagDigest(t) === undefined), [], "entries were lost")
          assert.deepStrictEqual(nodeFs.readdirSync(dir).filter((f) => f.endsWith(".tmp") || f.endsWith(".lock")), [])
        })
      )
    }).pipe(Effect.scoped))

  it.live("four processes, each thirty runs in a row writing entries and folding: every entry survives", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      const tsxCli = path.resolve(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs")
      const folder = path.resolve(import.meta.dirname, "cacheFolder.ts")
      const writers = ["a", "b", "c", "d"]
      const rounds = 30
      const perRound = 3
      const results = yield* Effect.promise(() =>
        Promise.all(writers.map((writer) =>
          new Promise<{ code: number; stderr: string }>((done) =>
            execFile(
              process.execPath,
              [tsxCli, folder, JSON.stringify({ cacheDir, registryUrl: registryUrl.href, repository, writer, rounds, perRound })],
              { timeout: 60_000 },
              (error, _stdout, stderr) => done({ code: error === null ? 0 : 1, stderr })
            )
          )
        ))
      )
      for (const result of results) assert.strictEqual(result.code, 0, result.stderr)
      const expected = writers.flatMap((w) => Array.from({ length: rounds * perRound }, (_, i) => `${w}-${Math.floor(i / perRound)}-${i % perRound}`))
      yield* withFs((fs) =>
        Effect.gen(function*() {
          const last = yield* openedBy(fs, cacheDir)
          assert.deepStrictEqual(expected.filter((t) => last.tagDigest(t) === undefined), [], "entries were lost")
        })
      )
      assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
      assert.strictEqual(Object.keys(mainTags(dir)).length, expected.length)
    }).pipe(Effect.scoped), 90_000)
})

describe("the fold's lock", () => {
  it.live("a lock left by a run that died is taken over: this run folds, and no lock is left for later runs", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      const lock = path.join(dir, `${fileName}.lock`)
      nodeFs.mkdirSync(lock)
      const longAgo = new Date(Date.now() - STALE_LOCK_MS - 60_000)
      nodeFs.utimesSync(lock, longAgo, longAgo)
      nodeFs.writeFileSync(path.join(dir, `${fileName}.json`), cacheFile({ t0: "sha256:0" }))
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      yield* withFs((fs) => openedBy(fs, cacheDir))
      assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
      assert.deepStrictEqual(mainTags(dir), { t0: "sha256:0", t1: "sha256:1" })
      // and the next run's delta is folded by the run after it, as usual
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000002-b.json`), cacheFile({ t2: "sha256:2" }))
      yield* withFs((fs) => openedBy(fs, cacheDir))
      assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
    }).pipe(Effect.scoped))

  it.live("a lock another run holds now is left alone: this run reads the deltas as they are and leaves them", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      nodeFs.mkdirSync(path.join(dir, `${fileName}.lock`))
      nodeFs.writeFileSync(path.join(dir, `${fileName}.json`), cacheFile({ t0: "sha256:0" }))
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      const cache = yield* withFs((fs) => openedBy(fs, cacheDir))
      assert.deepStrictEqual([cache.tagDigest("t0"), cache.tagDigest("t1")], ["sha256:0", "sha256:1"])
      assert.deepStrictEqual(nodeFs.readdirSync(dir).sort(), [`${fileName}#000000001-a.json`, `${fileName}.json`, `${fileName}.lock`])
    }).pipe(Effect.scoped))

  it.live("a fold that cannot write the main file releases its lock and keeps the deltas: the next run folds them", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      yield* withFs((fs) =>
        Effect.gen(function*() {
          const full: FileSystem.FileSystem = {
            ...fs,
            rename: (from, to) => (to.endsWith(`${fileName}.json`) ? fs.rename(from, `${dir}/no/such/dir/x`) : fs.rename(from, to))
          }
          const cache = yield* openedBy(full, cacheDir)
          assert.strictEqual(cache.tagDigest("t1"), "sha256:1")
          assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}#000000001-a.json`])
          yield* openedBy(fs, cacheDir)
          assert.deepStrictEqual(mainTags(dir), { t1: "sha256:1" })
          assert.deepStrictEqual(nodeFs.readdirSync(dir), [`${fileName}.json`])
        })
      )
    }).pipe(Effect.scoped))

  it.live("a run interrupted while it folds releases the lock", () =>
    Effect.gen(function*() {
      const { cacheDir, dir } = yield* cacheDirectory
      nodeFs.writeFileSync(path.join(dir, `${fileName}#000000001-a.json`), cacheFile({ t1: "sha256:1" }))
      yield* withFs((fs) =>
        Effect.gen(function*() {
          const folding = yield* Deferred.make<void>()
          const stuck: FileSystem.FileSystem = {
            ...fs,
            writeFileString: (target, data, options) =>
              target.includes(`${fileName}.json.`) ? Effect.andThen(Deferred.succeed(folding, undefined), Effect.never) : fs.writeFileString(target, data, options)
          }
          const run = yield* Effect.forkChild(openedBy(stuck, cacheDir))
          yield* Deferred.await(folding)
          assert.isTrue(nodeFs.existsSync(path.join(dir, `${fileName}.lock`)))
          yield* Fiber.interrupt(run)
          assert.isFalse(nodeFs.existsSync(path.join(dir, `${fileName}.lock`)))
          yield* openedBy(fs, cacheDir)
          assert.deepStrictEqual(mainTags(dir), { t1: "sha256:1" })
        })
      )
    }).pipe(Effect.scoped))
})
