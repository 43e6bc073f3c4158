/**
 * @module test/project/exports — one TypeScript source for npm and JSR/Deno: `deno.json` exports
 * the `.ts` sources, `package.json` the same entry points built from them (`dist/`, by
 * `npm run build`; test/project/library.test.ts checks the built package itself).
 */
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(`${root}${file}`, "utf8"))

const normalise = (path: string): string => (path === "." || path === "./" ? "." : path.startsWith("./") ? path : `./${path}`)

/** deno.json's entry points → the TypeScript source each names. */
const denoExports = (): Record<string, string> => {
  const exported = readJson("deno.json").exports
  if (typeof exported === "string") return { ".": normalise(exported) }
  if (typeof exported !== "object" || exported === null) throw new Error(`deno.json has no "exports"`)
  return Object.fromEntries(Object.entries(exported as Record<string, string>).map(([entry, file]) => [normalise(entry), normalise(file)]))
}

/** package.json's entry points (package.json itself aside) → their `types` and `import` conditions. */
const npmExports = (): Record<string, { readonly types: string; readonly import: string }> => {
  const exported = readJson("package.json").exports as Record<string, unknown>
  return Object.fromEntries(
    Object.entries(exported).filter(([entry]) => entry !== "./package.json").map(([entry, target]) => {
      if (typeof target !== "object" || target === null) throw new Error(`package.json exports ${entry} has no conditions: ${JSON.stringify(target)}`)
      const conditions = target as Record<string, string>
      // `types` must come first: TypeScript takes the first condition that matches
      assert.deepStrictEqual(Object.keys(conditions), ["types", "import"], `package.json exports ${entry}`)
      return [normalise(entry), { types: normalise(conditions["types"]!), import: normalise(conditions["import"]!) }]
    })
  )
}

/** The built file for a source under lib/ (`./lib/promise.ts` → `./dist/promise.js`). */
const built = (source: string, extension: ".js" | ".d.ts"): string => source.replace(/^\.\/lib\//, "./dist/").replace(/\.ts$/, extension)

describe("package.json and deno.json exports", () => {
  it("list the same entry points: deno.json the TypeScript sources, package.json the JavaScript and declarations built from them", () => {
    const deno = denoExports()
    const npm = npmExports()
    assert.deepStrictEqual(Object.keys(npm).sort(), Object.keys(deno).sort())
    for (const [entry, source] of Object.entries(deno)) {
      assert.deepStrictEqual(npm[entry], { types: built(source, ".d.ts"), import: built(source, ".js") }, entry)
    }
  })

  it("deno.json points at TypeScript files that exist", () => {
    const files = Object.values(denoExports())
    assert.isAbove(files.length, 0)
    for (const file of files) {
      assert.isTrue(existsSync(`${root}${file}`), `${file} is exported but does not exist`)
      assert.match(file, /\.ts$/)
    }
  })

  it("the main entry point is lib/index.ts (dist/index.js once built)", () => {
    assert.strictEqual(denoExports()["."], "./lib/index.ts")
    assert.strictEqual(npmExports()["."]?.import, "./dist/index.js")
    assert.strictEqual(readJson("package.json").types, "./dist/index.d.ts")
  })

  it("name the same version", () => {
    assert.strictEqual(readJson("deno.json").version, readJson("package.json").version)
  })
})
