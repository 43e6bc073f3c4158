/**
 * @module test/project/image — the repository's Dockerfile, built by a real Docker Engine (Debian's
 * docker.io, a throw-away daemon: test/support/DockerEngine.ts) from the packed package, runs
 * `demo` and `--version` as a non-root user. No registry outside this machine is reachable, so
 * the base image is made here: this machine's Node 24 (the `node` devDependency) and the shared
 * libraries `ldd` names, in a root file system imported with `docker import`, given to the
 * Dockerfile as NODE_IMAGE — the Dockerfile itself is the one users build.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { projectRoot } from "../cli/runCli.ts"
import { startDockerEngine } from "../support/DockerEngine.ts"
import type { DockerEngine } from "../support/DockerEngine.ts"
import { packProject } from "../support/packedTarball.ts"

const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version
const BASE = "fleet-rollback-test/node-base:local"
const IMAGE = `fleet-rollback-test/fleet-rollback:${version}`

const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-image-"))
let engine: DockerEngine | undefined

/**
 * A root file system with this machine's Node (as /usr/local/bin/node, where the official images
 * have it), its shared libraries at their paths, /tmp, and a user database; returns the tarball.
 */
const nodeRootfs = (): string => {
  const root = join(dir, "rootfs")
  const node = join(root, "usr/local/bin/node")
  mkdirSync(dirname(node), { recursive: true })
  copyFileSync(process.execPath, node)
  chmodSync(node, 0o755)
  const libraries = execFileSync("ldd", [process.execPath], { encoding: "utf8" })
    .split("\n")
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined)
  assert.isAbove(libraries.length, 2, "ldd names the C library and the loader")
  for (const library of libraries) {
    mkdirSync(join(root, dirname(library)), { recursive: true })
    copyFileSync(library, join(root, library))
  }
  mkdirSync(join(root, "tmp"))
  chmodSync(join(root, "tmp"), 0o1777)
  mkdirSync(join(root, "etc"))
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\n")
  writeFileSync(join(root, "etc/group"), "root:x:0:\n")
  const tarball = join(dir, "rootfs.tar")
  execFileSync("tar", ["-C", root, "-cf", tarball, "."])
  return tarball
}

beforeAll(async () => {
  const tarball = await packProject(dir)
  // The build context: the unpacked package (its dist/bin) with the repository's Dockerfile.
  execFileSync("tar", ["-xzf", tarball, "-C", dir])
  const context = join(dir, "package")
  for (const file of ["Dockerfile", ".dockerignore"]) cpSync(join(projectRoot, file), join(context, file))
  engine = await startDockerEngine()
  await engine.docker(["import", nodeRootfs(), BASE])
  await engine.docker(["build", "--quiet", "--build-arg", `NODE_IMAGE=${BASE}`, "--tag", IMAGE, context])
}, 600_000)

afterAll(async () => {
  await engine?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const run = (args: ReadonlyArray<string>): Promise<string> => engine!.docker(["run", "--rm", "--network", "none", ...args])

describe("the container image (Dockerfile)", () => {
  it("runs the demo end to end inside the container (its sandboxes on the container's loopback)", async () => {
    const output = await run([IMAGE, "demo", "--deployment-ms", "100"])
    assert.include(output, "SUCCEEDED: rolled back 3 app(s)")
  }, 300_000)

  it("prints package.json's version", async () => {
    assert.strictEqual((await run([IMAGE, "--version"])).trim(), `fleet-rollback v${version}`)
  }, 120_000)

  it("runs as a non-root user, with the bin's V8 flag, and holds the bundle and Node only", async () => {
    const config = JSON.parse(await engine!.docker(["image", "inspect", "--format", "{{json .Config}}", IMAGE])) as { User: string; Entrypoint: ReadonlyArray<string> }
    assert.strictEqual(config.User, "65532:65532")
    assert.deepStrictEqual(config.Entrypoint, ["node", "--max-semi-space-size=2", "/opt/fleet-rollback/scripts/fleet-rollback.js"])
    const probe = await run(["--entrypoint", "node", IMAGE, "-e", "console.log(JSON.stringify({ uid: process.getuid(), files: require('fs').readdirSync('/opt/fleet-rollback', { recursive: true }).sort() }))"])
    const seen = JSON.parse(probe.trim()) as { uid: number; files: ReadonlyArray<string> }
    assert.strictEqual(seen.uid, 65532)
    assert.includeMembers([...seen.files], ["dist/bin/cli.js", "scripts/fleet-rollback.js", "scripts/supported-node.js", "scripts/compile-cache.js", "package.json"])
    // the bin, the bundle and package.json: no sources, no node_modules
    assert.isTrue(seen.files.every((f) => ["dist", "dist/bin", "dist/bin/chunks", "scripts", "package.json"].includes(f) || /^(dist\/bin|scripts)\/.*\.js$/.test(f)), seen.files.join(", "))
    // what the Dockerfile added on top of the base: the bundle directory and the working directory
    const history = await engine!.docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE])
    assert.include(history, "COPY dir:")
    assert.notMatch(history, /\bRUN\b/, "no RUN steps: nothing installed into the image")
  }, 120_000)
})
