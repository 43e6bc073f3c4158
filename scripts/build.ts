/**
 * @module build — `npm run build` (and `prepack`): what the npm package ships, built from the
 * TypeScript sources into `dist/` (or the directory given with `--out-dir`, as the tests do):
 * - the library: `dist/index.js` and `dist/promise.js` (ES modules, shared code in
 *   `dist/chunks/`), bundled by esbuild with `effect`, `undici` and `yaml` left as imports (the
 *   package's runtime dependencies) and the few `@effect/platform-node` modules the library uses
 *   (its file system and undici HTTP client) bundled in, so an install does not pull
 *   `@effect/platform-node`'s peer `redis` and its type packages; `.d.ts` files next to them from
 *   `tsc -p tsconfig.build.json`, with relative `.ts` imports turned into `.js`;
 * - the command line: `dist/bin/cli.js`, scripts/cli-node.ts bundled with all its dependencies
 *   (chunks beside it in `dist/bin/chunks/` load only for the commands that need them), which the
 *   bin (scripts/fleet-rollback.js, shipped as it is) runs when there are no sources next to it:
 *   the installed bin needs no tsx and nothing from node_modules.
 * The directory is replaced at the end in one rename, so a concurrent reader never sees half of it.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))

/** The oldest Node the package supports, as esbuild's target (package.json `engines`). */
const TARGET = "node22.19"

/** The library's runtime dependencies (package.json `dependencies`), left as imports. */
const LIBRARY_EXTERNALS = ["effect", "effect/*", "undici", "yaml"]

/** Files under `dir`, recursively. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/** Relative `.ts` specifiers in a declaration file become `.js` (the files that exist next to it). */
export const rewriteDeclarationImports = (text: string): string =>
  text.replace(/((?:\bfrom\s+|\bimport\s*\(\s*)["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1$2.js$3")

const buildLibrary = async (out: string): Promise<void> => {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { index: "lib/index.ts", promise: "lib/promise.ts" },
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: TARGET,
    external: LIBRARY_EXTERNALS,
    chunkNames: "chunks/[name]-[hash]",
    logLevel: "warning"
  })
  const tsc = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.build.json"), "--outDir", out], { cwd: root, encoding: "utf8" })
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`)
  for (const file of filesUnder(out).filter((f) => f.endsWith(".d.ts"))) {
    writeFileSync(file, rewriteDeclarationImports(readFileSync(file, "utf8")))
  }
}

/**
 * `@effect/platform-node`'s Undici module is `export * from "undici"`: with undici (CommonJS)
 * bundled into a split chunk, esbuild cannot list those names and the module's namespace comes out
 * empty (`new _.Agent` fails). This plugin gives that module undici's export names, read from undici
 * itself at build time.
 */
const undiciReexports: esbuild.Plugin = {
  name: "undici-reexports",
  setup: (build) =>
    build.onLoad({ filter: /@effect[\\/]platform-node[\\/]dist[\\/]Undici\.js$/ }, () => {
      const names = Object.keys(createRequire(join(root, "package.json"))("undici") as object).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default")
      return { contents: `import Undici from "undici"\nexport default Undici\nexport const { ${names.join(", ")} } = Undici\n`, loader: "js", resolveDir: join(root, "node_modules/@effect/platform-node/dist") }
    })
}

const buildBin = async (out: string): Promise<void> => {
  const common = {
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    platform: "node",
    target: TARGET,
    // Whitespace and syntax only: names stay readable in "internal error (please report it)".
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning"
  } as const
  // The command line: dist/bin/cli.js and what it imports, split so that code only some commands
  // need (undici, ~1 MB, for the commands that talk to a server) is read only when they run.
  // Its CommonJS dependencies (yaml, undici) call require(): an ES module has none, so each file makes one.
  await esbuild.build({
    ...common,
    entryPoints: { cli: "scripts/cli-node.ts" },
    outdir: join(out, "bin"),
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    plugins: [undiciReexports],
    banner: { js: `import { createRequire as createRequireForBundle } from "node:module"; const require = createRequireForBundle(import.meta.url);` }
  })
}

const main = async (): Promise<void> => {
  const at = process.argv.indexOf("--out-dir")
  const out = resolve(root, at === -1 ? "dist" : process.argv[at + 1] ?? "dist")
  const partial = `${out}.partial-${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  try {
    await buildLibrary(partial)
    await buildBin(partial)
    rmSync(out, { recursive: true, force: true })
    renameSync(partial, out)
  } finally {
    if (existsSync(partial)) rmSync(partial, { recursive: true, force: true })
  }
}

await main()
