/**
 * @module bench/package — the installed package as Jenkins runs it: `npm pack` (built by
 * `prepack` in a temporary copy of the project), `npm install --omit=dev` into an empty prefix,
 * then the bin executed directly (its shell line starts the `node` on PATH, here the Node 24 of
 * the `node` devDependency) for `fleet-rollback --version` and `fleet-rollback choices` on a
 * rollback.json of 10,000 images (the benchmark fleet's 40 services × 250 tags). Every command
 * runs RUNS times after one cold start (Node's compile cache empty); the median of the warm runs
 * is compared with the goal and, as a ratio, with `node -e 0` measured in the same run, so a
 * busy machine shows as a slow baseline rather than as a slow bin.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { mergeTimeline, resolveTagScheme, toRollbackFile } from "../lib/core/index.ts"
import type { RegistryImage } from "../lib/core/index.ts"
import { packProject } from "../test/support/packedTarball.ts"
import { fleetSize, makeFleet } from "./support/fleet.ts"
import { runChild } from "./support/processes.ts"
import { median, runAsScript } from "./measure.ts"

/** Warm runs per command. */
const RUNS = Number(process.env["BENCH_PACKAGE_RUNS"] ?? 15)

/** One measured command: cold start, warm median, its goal and its ratio to the baseline. */
export interface PackageRow {
  readonly name: string
  readonly coldSeconds: number
  readonly medianSeconds: number
  readonly goalSeconds: number | undefined
  readonly ratioToBaseline: number
}

/** The package benchmark's result. */
export interface PackageBenchReport {
  readonly node: string
  readonly images: number
  readonly baselineSeconds: number
  readonly rows: ReadonlyArray<PackageRow>
}

/** rollback.json of the benchmark fleet, written by the core as `get` writes it. */
const writeRollbackFile = (path: string): number => {
  const fleet = makeFleet(fleetSize())
  const scheme = resolveTagScheme("build-branch")
  if ("_tag" in scheme) throw new Error(scheme.message)
  const services = fleet.repositories.map((r) => ({ name: r.name.split("/").at(-1)!, repository: r.name }))
  const images: Record<string, Array<RegistryImage>> = {}
  fleet.repositories.forEach((repository, r) => {
    images[services[r]!.name] = repository.images.map((image, i) => ({
      repository: repository.name,
      tag: image.tag,
      digest: `sha256:${(r * 100_000 + i).toString(16).padStart(64, "0")}`,
      dates: { config: image.created }
    }))
  })
  const { timeline } = mergeTimeline({ services, images, scheme })
  const file = toRollbackFile(timeline, { generatedAt: "2026-12-01T00:00:00Z", environment: "master", registry: "https://registry.example.com", scheme: "build-branch" })
  writeFileSync(path, JSON.stringify(file))
  return Object.values(file.images).reduce((n, list) => n + list.length, 0)
}

/** Runs a command `1 + RUNS` times; seconds of each run, the first one cold. */
const time = async (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, cwd: string): Promise<Array<number>> => {
  const seconds: Array<number> = []
  for (let i = 0; i <= RUNS; i++) {
    const result = await runChild(command, args, { timeoutMs: 60_000, env, cwd })
    if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.code}):\n${result.stderr.slice(-2000)}`)
    seconds.push(result.millis / 1000)
  }
  return seconds
}

/** Packs, installs and measures; removes everything it made. */
export const runPackageBench = async (): Promise<PackageBenchReport> => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-bench-package-"))
  try {
    const tarball = await packProject(dir)
    const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", join(dir, "host"), tarball], { cwd: dir, encoding: "utf8" })
    if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}${install.stderr}`)
    const bin = join(dir, "host/node_modules/.bin/fleet-rollback")
    const rollbackJson = join(dir, "rollback.json")
    const images = writeRollbackFile(rollbackJson)
    const env = { ...process.env, PATH: `${join(process.execPath, "..")}:${process.env["PATH"] ?? ""}`, XDG_CACHE_HOME: join(dir, "cache"), NO_COLOR: "1" }
    const baseline = await time(process.execPath, ["-e", "0"], env, dir)
    const baselineSeconds = median(baseline.slice(1))
    const row = async (name: string, args: ReadonlyArray<string>, goalSeconds: number | undefined): Promise<PackageRow> => {
      const [cold, ...warm] = await time(bin, args, env, dir)
      const medianSeconds = median(warm)
      return { name, coldSeconds: cold!, medianSeconds, goalSeconds, ratioToBaseline: medianSeconds / baselineSeconds }
    }
    const rows = [
      await row("fleet-rollback --version", ["--version"], 0.25),
      await row(`fleet-rollback choices (${images} images)`, ["choices", "--file", rollbackJson], 0.35)
    ]
    return { node: process.version, images, baselineSeconds, rows }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The report as a table. */
export const formatPackageReport = (report: PackageBenchReport): string => {
  const s = (seconds: number) => `${seconds.toFixed(3)} s`
  const lines = [
    `installed tarball, bin executed directly, Node ${report.node}; median of ${RUNS} warm runs; baseline node -e 0: ${s(report.baselineSeconds)}`,
    "command | cold | warm median | × baseline | goal | met",
    ...report.rows.map((r) =>
      `${r.name} | ${s(r.coldSeconds)} | ${s(r.medianSeconds)} | ${r.ratioToBaseline.toFixed(1)}× | ${r.goalSeconds === undefined ? "-" : `< ${r.goalSeconds} s`} | ${r.goalSeconds === undefined ? "-" : r.medianSeconds < r.goalSeconds ? "yes" : "NO"}`
    )
  ]
  return lines.join("\n")
}

runAsScript(import.meta.url, runPackageBench, formatPackageReport)
