/**
 * @module test/project/jsr — the JSR package (`deno publish --dry-run`, offline): deno.json names
 * the license, and `publish.exclude` leaves out the tests, the benchmarks, CI and the npm build;
 * the library's sources, README and LICENSE are in. Without `--allow-slow-types` and with the
 * type check: every export of the public API has an explicit type (JSR's "no slow types"), so
 * JSR can make its declarations and docs without inferring anything.
 */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))

describe("deno publish", () => {
  it("a dry run passes without --allow-slow-types: license set, no slow types, tests, bench and CI excluded, the library's sources, README and LICENSE included", () => {
    const deno = JSON.parse(readFileSync(`${root}deno.json`, "utf8")) as { license?: string }
    assert.strictEqual(deno.license, "Apache-2.0")
    const result = spawnSync(`${root}node_modules/.bin/deno`, ["publish", "--dry-run", "--allow-dirty"], {
      cwd: root,
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", NO_COLOR: "1" }
    })
    // What a failure means and how to fix it: https://jsr.io/docs/about-slow-types. Give the
    // export its type: the declaration `tsc -p tsconfig.build.json --outDir DIR` writes for it; a
    // `Schema.TaggedError`/`Context.Service` class extends a typed `…_base` constant (see
    // lib/workflow/RollbackError.ts); an `Effect.fn` export says its function type.
    const output = `${result.stdout}${result.stderr}`
    assert.strictEqual(result.status, 0, output)
    // No slow types: JSR reports each as `error[missing-explicit-type]`, `…-return-type`, `unsupported-super-class-expr`, ….
    assert.notMatch(output, /error\[|Found \d+ problems?/, output)
    const files = [...output.matchAll(/file:\/\/\S+?\/((?:[^\s/]+\/)*[^\s/]+) \(/g)].map((m) => m[1]!)
    const relative = files.map((f) => f.startsWith(root.slice(1)) ? f.slice(root.length - 1) : f)
    for (const wanted of ["lib/index.ts", "lib/promise.ts", "README.md", "LICENSE", "deno.json"]) {
      assert.isTrue(relative.some((f) => f.endsWith(wanted)), `${wanted} is published:\n${output}`)
    }
    for (const unwanted of ["test/", "bench/", ".ci/", "node_modules/", "dist/", "package-lock.json"]) {
      assert.isFalse(relative.some((f) => f.includes(`/${unwanted}`) || f.startsWith(unwanted)), `${unwanted} is not published:\n${relative.join("\n")}`)
    }
  }, 300_000)
})
