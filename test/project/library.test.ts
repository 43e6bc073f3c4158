/**
 * @module test/project/library — the library as npm users get it: the packed tarball passes
 * `publint` and `@arethetypeswrong/cli` (ESM-only profile: the package has only `import`
 * conditions), and installed into a fresh project on Node 24 it imports from JavaScript (both
 * entry points, one `RollbackError` class behind both) and type-checks in a TypeScript project
 * with `module: nodenext` — the default a new TypeScript project gets — where the `.ts` sources
 * failed with TS5097 and Node refused them with ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { projectRoot } from "../cli/runCli.ts"
import { packProject } from "../support/packedTarball.ts"

const run = (file: string, args: ReadonlyArray<string>, cwd: string): Promise<{ code: number; output: string }> =>
  new Promise((done) =>
    execFile(file, args, { cwd, timeout: 240_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
    )
  )

const bin = (name: string): string => join(projectRoot, "node_modules/.bin", name)

const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-library-"))
const consumer = join(dir, "consumer")
let tarball = ""
let installOutput = ""

beforeAll(async () => {
  tarball = await packProject(dir)
  mkdirSync(consumer)
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
  const installed = await run("npm", ["install", "--no-audit", "--no-fund", tarball], consumer)
  installOutput = installed.output
  if (installed.code !== 0) throw new Error(`npm install of the tarball failed:\n${installed.output}`)
}, 300_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("the packed library", () => {
  it("publint finds nothing wrong in the tarball", async () => {
    const result = await run(bin("publint"), ["run", tarball, "--level", "suggestion"], dir)
    assert.strictEqual(result.code, 0, result.output)
    assert.notMatch(result.output, /Errors:|Warnings:|Suggestions:/, result.output)
  }, 120_000)

  it("@arethetypeswrong/cli finds no type problem in the tarball (ESM-only profile)", async () => {
    const result = await run(bin("attw"), ["--profile", "esm-only", "--format", "table-flipped", tarball], dir)
    assert.strictEqual(result.code, 0, result.output)
    // exit 0: no problem outside the resolutions an ESM-only package ignores (node10, node16 from CommonJS)
    for (const entry of ["fleet-rollback", "fleet-rollback/promise"]) {
      assert.match(result.output, new RegExp(`│ "${entry}"\\s+│ 🟢 \\(ESM\\)\\s+│ 🟢 `), `${entry} resolves to ESM with types under node16 and bundlers:\n${result.output}`)
    }
  }, 120_000)

  it("imports from JavaScript on Node 24: both entry points, sharing one RollbackError, every target's maker", async () => {
    assert.match(process.versions.node, /^24\./, "the tests run on the node devDependency's Node 24")
    writeFileSync(
      join(consumer, "use.js"),
      [
        `import { parseTag, resolveTagScheme, RollbackError, Registry, makeOpenShiftTarget, openShiftTargetLayer, registryDigestCheck, makeKubernetesTarget, makeGitOpsTarget, makePulumiTarget, SwarmTarget, MarathonTarget } from "fleet-rollback"`,
        `import * as promise from "fleet-rollback/promise"`,
        `const scheme = resolveTagScheme("build-branch")`,
        `const parsed = "message" in scheme ? scheme.message : parseTag(scheme, "41-master")`,
        `const refused = await promise.plan({ file: {}, point: "2026-03-01", marathon: { url: "ftp://nowhere" } }).then(() => undefined, (e) => e)`,
        `const targets = [makeOpenShiftTarget, openShiftTargetLayer, registryDigestCheck, makeKubernetesTarget, makeGitOpsTarget, makePulumiTarget, SwarmTarget.layer, MarathonTarget.layer].map((f) => typeof f)`,
        `console.log(JSON.stringify({ parsed, registry: typeof Registry, targets, sameError: promise.RollbackError === RollbackError, refused: refused instanceof RollbackError, kind: refused?.kind }))`
      ].join("\n")
    )
    const result = await run(process.execPath, ["use.js"], consumer)
    assert.strictEqual(result.code, 0, `${result.output}\n${installOutput}`)
    const seen = JSON.parse(result.output.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>
    assert.strictEqual(seen["registry"], "function")
    assert.deepStrictEqual(seen["targets"], Array.from({ length: 8 }, () => "function"), "every target's maker and layer, OpenShift's too")
    assert.isTrue(seen["sameError"], result.output)
    assert.isTrue(seen["refused"], result.output)
    assert.strictEqual(seen["kind"], "BadInput", result.output)
    assert.isObject(seen["parsed"], result.output)
  }, 120_000)

  it("type-checks in a TypeScript project with module nodenext and strict settings (tsc passes, library checks on)", async () => {
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2023",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          exactOptionalPropertyTypes: true,
          typeRoots: [join(projectRoot, "node_modules/@types")],
          types: ["node"]
        },
        files: ["check.ts"]
      })
    )
    writeFileSync(
      join(consumer, "check.ts"),
      [
        `import { Effect } from "effect"`,
        `import { getRollbacks, Registry, resolveTagScheme, type RollbackFile } from "fleet-rollback"`,
        `import { plan, RollbackError, type RollbackPlan } from "fleet-rollback/promise"`,
        `export const scheme = resolveTagScheme("build-branch")`,
        `export const registry: typeof Registry = Registry`,
        `export const read: typeof getRollbacks = getRollbacks`,
        `export const planned = (file: RollbackFile): Promise<RollbackPlan> => plan({ file, point: "2026-03-01", marathon: { url: "https://marathon.example" } })`,
        `export const failed = (e: unknown): boolean => e instanceof RollbackError`,
        `export const program = Effect.succeed(1)`,
        `// @ts-expect-error a point is required`,
        `export const wrong = () => plan({ file: {} as RollbackFile, marathon: { url: "x" } })`
      ].join("\n")
    )
    const result = await run(bin("tsc"), ["-p", "tsconfig.json"], consumer)
    assert.strictEqual(result.code, 0, result.output)
  }, 180_000)
})
