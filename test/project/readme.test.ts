/**
 * @module test/project/readme — the README's library examples run, on Node (tsx) and on Deno,
 * against the built-in sandbox: `registry.example.com` and `marathon.example.com` in the
 * examples are replaced by the sandboxes' loopback URLs, `fleet-rollback` by this checkout.
 */
import { execFile } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import { projectRoot } from "../cli/runCli.ts"

const examples = [...readFileSync(join(projectRoot, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const dir = join(projectRoot, "test/.readme")

let registry: SandboxRegistry
let marathon: MarathonSandbox

beforeAll(async () => {
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "99-master", created: "2026-11-18T10:00:00Z" },
      { repository: "shop/api", tag: "100-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  marathon = await startMarathonSandbox({ deploymentMs: 50, apps: [sampleApp("/shop/api", `${new URL(registry.url).host}/shop/api:100-master`)] })
  mkdirSync(dir, { recursive: true })
})
afterAll(async () => {
  await Promise.allSettled([registry.stop(), marathon.stop()])
  rmSync(dir, { recursive: true, force: true })
})

/** The example as a runnable file: imports from this checkout, URLs of the sandboxes. */
const runnable = (code: string) =>
  code
    .replaceAll(`from "fleet-rollback/promise"`, `from "../../lib/promise.ts"`)
    .replaceAll(`from "fleet-rollback"`, `from "../../lib/index.ts"`)
    .replaceAll("https://registry.example.com", registry.url)
    .replaceAll("https://marathon.example.com", marathon.url)

const exec = (file: string, args: ReadonlyArray<string>): Promise<{ code: number; output: string }> =>
  new Promise((done) =>
    execFile(file, args, { cwd: projectRoot, timeout: 120_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr })
    )
  )

describe("README library examples", () => {
  it("the README has the core example and the Promise API example", () => {
    assert.isAtLeast(examples.length, 2)
    assert.isTrue(examples.some((e) => e.includes(`from "fleet-rollback/promise"`)))
    assert.isTrue(examples.some((e) => e.includes(`from "fleet-rollback"`)))
  })

  for (const runtime of ["node", "deno"] as const) {
    it(`every example runs on ${runtime === "node" ? "Node (tsx)" : "Deno"} and the Promise example rolls the sandbox back`, async () => {
      for (const [i, example] of examples.entries()) {
        const file = join(dir, `${runtime}-example-${i}.ts`)
        writeFileSync(file, runnable(example))
        const result = runtime === "node"
          ? await exec(process.execPath, [join(projectRoot, "node_modules/tsx/dist/cli.mjs"), file])
          : await exec(join(projectRoot, "node_modules/.bin/deno"), ["run", "--no-remote", "--allow-read", "--allow-net=127.0.0.1", "--allow-env", "--allow-sys", file])
        assert.strictEqual(result.code, 0, `README example ${i} failed on ${runtime}:\n${result.output}`)
        // The core example prints the selection as of the end of Nov 19: api's build of Nov 18,
        // not the newer one of Nov 20 (and not nothing, as a failed parsePoint would print).
        if (example.includes(`from "fleet-rollback"`)) assert.match(result.output, /^api 99-master$/m, `README example ${i} on ${runtime}:\n${result.output}`)
      }
      const image = String((marathon.apps()[0]!["container"] as { docker: { image: string } }).docker.image)
      assert.match(image, /shop\/api:99-master$/, "the Promise example rolled api back to the second-newest point")
      // Put the sandbox back for the other runtime, and check it is back: a failed reset would let
      // the other runtime's example pass on this one's state.
      const reset = await fetch(`${marathon.url}/v2/apps/shop/api`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ container: { ...(marathon.apps()[0]!["container"] as object), docker: { image: image.replace("99-master", "100-master") } } })
      })
      assert.strictEqual(reset.status, 200, `the reset PUT: ${await reset.text()}`)
      const runs = () => String((marathon.apps()[0]!["container"] as { docker: { image: string } }).docker.image)
      for (const deadline = Date.now() + 30_000; !(marathon.deployments().length === 0 && runs().endsWith("shop/api:100-master"));) {
        assert.isBelow(Date.now(), deadline, `the sandbox did not go back to 100-master: runs ${runs()}, ${marathon.deployments().length} deployment(s)`)
        await new Promise((r) => setTimeout(r, 20))
      }
    })
  }
})
