/**
 * @module WorkflowIsolation.test — nothing in lib/workflow/ knows which target it drives: no import
 * from lib/targets/ (or the old lib/marathon/) and no Marathon-specific client type.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const workflowDir = fileURLToPath(new URL("../../lib/workflow/", import.meta.url))

/** Every import specifier of a TypeScript source. */
const importsOf = (source: string): Array<string> => [...source.matchAll(/(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2] ?? "")

describe("lib/workflow/ is target-neutral", () => {
  const files = readdirSync(workflowDir).filter((f) => f.endsWith(".ts"))

  it("has workflow files to check", () => {
    assert.includeMembers(files, ["PlanFleet.ts", "RunRollback.ts"])
  })

  for (const file of files) {
    it(`${file} imports nothing from lib/targets/ and names no Marathon client type`, () => {
      const source = readFileSync(join(workflowDir, file), "utf8")
      const imports = importsOf(source)
      assert.isAbove(imports.length, 0)
      const offending = imports.filter((spec) => /(^|\/)targets\//.test(spec) || /(^|\/)marathon\//i.test(spec) || /sandbox/.test(spec))
      assert.deepStrictEqual(offending, [], `${file} imports target-specific modules`)
      for (const name of ["MarathonApp", "MarathonError", "deployImages", "waitForDeployment", "verifyApps", "cancelDeployment", "lastFailureMarker"]) {
        assert.notInclude(source, name, `${file} uses ${name}`)
      }
    })
  }
})
