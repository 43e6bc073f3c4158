/**
 * @module test/project/exports — one TypeScript source for npm and JSR/Deno: `package.json` and
 * `deno.json` export the same entry points, mapping to the same files, and those files exist.
 */
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(`${root}${file}`, "utf8"))

const normalise = (path: string): string => (path === "." || path === "./" ? "." : path.startsWith("./") ? path : `./${path}`)

/** Entry point → file, with `./` prefixes normalised; a bare string export means `"."`. */
const exportsOf = (file: string): Record<string, string> => {
  const exported = readJson(file).exports
  if (typeof exported === "string") return { ".": normalise(exported) }
  if (typeof exported !== "object" || exported === null) throw new Error(`${file} has no "exports"`)
  return Object.fromEntries(
    Object.entries(exported).map(([entry, target]) => {
      // package.json may use conditions ({"import": …, "types": …}); they must all name one file
      const targets = typeof target === "string" ? [target] : Object.values(target as Record<string, string>)
      const files = [...new Set(targets.map(normalise))]
      if (files.length !== 1) throw new Error(`${file}: ${entry} maps to several files ${files.join(", ")}`)
      return [normalise(entry), files[0]!]
    })
  )
}

describe("package.json and deno.json exports", () => {
  it("list the same entry points mapping to the same files", () => {
    assert.deepStrictEqual(exportsOf("deno.json"), exportsOf("package.json"))
  })

  it("point at files that exist, written in TypeScript", () => {
    const files = [...Object.values(exportsOf("package.json")), ...Object.values(exportsOf("deno.json"))]
    assert.isAbove(files.length, 0)
    for (const file of files) {
      assert.isTrue(existsSync(`${root}${file}`), `${file} is exported but does not exist`)
      assert.match(file, /\.ts$/)
    }
  })

  it("the main entry point is lib/index.ts in both", () => {
    assert.strictEqual(exportsOf("package.json")["."], "./lib/index.ts")
    assert.strictEqual(exportsOf("deno.json")["."], "./lib/index.ts")
  })

  it("name the same version", () => {
    assert.strictEqual(readJson("deno.json").version, readJson("package.json").version)
  })
})
