/**
 * @module bench/run — `npm run bench`: the registry benchmark (`bench/registry.ts`: a real
 * `docker-registry`, 10,000 images, `get` cold/warm/--verify-tags against the floor and a
 * `skopeo inspect` loop), the `--last` benchmark (`bench/last.ts`: 20,000 tags, in memory), the
 * `run` overhead on the Marathon sandbox (`bench/overhead.ts`: 50 services) and on a real Docker
 * Engine (`bench/overhead-swarm.ts`: 50 Swarm services, needs Debian's docker.io), `run` on the
 * Kubernetes sandbox (`bench/kubernetes.ts`: 200 Deployments), the installed-package benchmark
 * (`bench/package.ts`: the packed tarball's bin, `--version` and `choices` on 10,000 images,
 * against `node -e 0`), then the core benchmark (`bench/core.ts`, merge + select over a million
 * images) as a child process. Prints each benchmark's table and JSON line. Not a test; not run in CI.
 * Every process it starts is stopped before it exits.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { formatLastReport, runLastBench } from "./last.ts"
import { formatKubernetesReport, runKubernetesBench } from "./kubernetes.ts"
import { formatOverheadReport, runOverheadBench } from "./overhead.ts"
import { formatSwarmOverheadReport, runSwarmOverheadBench } from "./overhead-swarm.ts"
import { formatPackageReport, runPackageBench } from "./package.ts"
import { formatRegistryReport, runRegistryBench } from "./registry.ts"
import { runChild } from "./support/processes.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))

const main = async (): Promise<number> => {
  let failed = false
  console.log("== registry benchmark (bench/registry.ts) ==")
  try {
    const report = await runRegistryBench()
    console.log(formatRegistryReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`registry benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== get --last on a long tag history (bench/last.ts) ==")
  try {
    const report = await runLastBench()
    console.log(formatLastReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`--last benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== run overhead on the Marathon sandbox, 50 services (bench/overhead.ts) ==")
  try {
    const report = await runOverheadBench()
    console.log(formatOverheadReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`run overhead benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== run overhead on a real Docker Engine (Swarm), 50 services (bench/overhead-swarm.ts) ==")
  try {
    const report = await runSwarmOverheadBench()
    console.log(formatSwarmOverheadReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`Swarm run overhead benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== run on the Kubernetes sandbox, 200 Deployments (bench/kubernetes.ts) ==")
  try {
    const report = await runKubernetesBench()
    console.log(formatKubernetesReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`Kubernetes benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== installed package benchmark (bench/package.ts) ==")
  try {
    const report = await runPackageBench()
    console.log(formatPackageReport(report))
    console.log(JSON.stringify(report))
  } catch (error) {
    failed = true
    console.error(`package benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  console.log("")
  console.log("== core benchmark (bench/core.ts) ==")
  const core = join(ROOT, "bench", "core.ts")
  if (!existsSync(core)) {
    console.log("bench/core.ts does not exist: skipped")
  } else {
    const result = await runChild(join(ROOT, "node_modules", ".bin", "tsx"), [core], { timeoutMs: 600_000, cwd: ROOT })
    process.stdout.write(result.stdout)
    if (result.code !== 0) {
      failed = true
      console.error(`bench/core.ts failed (exit ${result.code}${result.timedOut ? ", timed out after 10 min" : ""}):\n${result.stderr.slice(-3000)}`)
    }
  }
  return failed ? 1 : 0
}

main().then((code) => {
  process.exitCode = code
})
