/**
 * What the operator sees when Marathon pushes back (a real 409 lock, 422 details, 503, the
 * limit of running deployments), when its answer to the deployment is lost, when several apps
 * run one repository, on a terminal and off one, and how the output flags behave. Fast: the
 * sandbox registry and the Marathon sandbox.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import type { MarathonSandbox, MarathonSandboxOptions } from "../../lib/sandbox/Marathon.ts"
import { startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import type { SandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { startSandboxRegistry } from "../../lib/sandbox/Registry.ts"
import { sampleApp } from "../../lib/sandbox/SampleFleet.ts"
import type { CliResult } from "./runCli.ts"
import { bin, projectRoot, runCli } from "./runCli.ts"

let dir: string
let registry: SandboxRegistry
let marathon: MarathonSandbox
let host: string

const start = async (apps: (host: string) => ReadonlyArray<Record<string, unknown>>, options: MarathonSandboxOptions = {}) => {
  registry = await startSandboxRegistry({
    images: [
      { repository: "shop/api", tag: "7-master", created: "2026-11-10T10:00:00Z" },
      { repository: "shop/api", tag: "8-master", created: "2026-11-20T10:00:00Z" }
    ]
  })
  host = new URL(registry.url).host
  marathon = await startMarathonSandbox({ deploymentMs: 100, apps: apps(host), ...options })
  const got = await runCli(["get", "--registry", registry.url, "--repo", "shop/api", "--env", "master", "--no-cache"], { cwd: dir })
  assert.strictEqual(got.code, 0, got.stderr)
}

/** The usual fleet: /shop/api runs 8-master; the point 2026-11-15 rolls it back to 7-master. */
const startApi = (options: MarathonSandboxOptions = {}) => start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`)], options)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-rollback-marathon-"))
})
afterEach(async () => {
  await Promise.allSettled([registry?.stop(), marathon?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

const run = (...extra: ReadonlyArray<string>) =>
  runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100", ...extra], { cwd: dir })

const image = () => String((marathon.apps()[0]!["container"] as { docker: { image: string } }).docker.image)
const puts = () => marathon.requests.filter((r) => r.method === "PUT")
const reportFile = () => join(dir, "rollback-report.json")
const readReport = () => JSON.parse(readFileSync(reportFile(), "utf8"))
const all = (r: CliResult) => r.stdout + r.stderr

/** A report of an earlier rollback at the default path, that a run which changes nothing must leave alone. */
const earlierReport = () => {
  const text = "{\"the\": \"report of the previous rollback, which undo needs\"}\n"
  writeFileSync(reportFile(), text)
  return text
}

/** Runs the command line with a pseudo-terminal on stdin and stdout (util-linux `script`), typing `answer`. */
const runOnTerminal = (args: ReadonlyArray<string>, answer: string): Promise<CliResult> =>
  new Promise((done) => {
    const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`
    const command = [process.execPath, join(projectRoot, "node_modules/tsx/dist/cli.mjs"), join(projectRoot, "scripts/fleet-rollback.ts"), ...args].map(quote).join(" ")
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, USER: "oncall", NO_COLOR: "1", TERM: "dumb" }
    })
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    // typed ahead: the terminal keeps the line until the question reads it
    child.stdin.write(`${answer}\n`)
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      done({ code: code ?? 1, stdout, stderr: "" })
    })
  })

describe("Marathon says no", () => {
  it("409, a real lock: nothing changed, the blocking deployment is named with --force, no report overwritten; --force goes through", async () => {
    await startApi()
    // someone's scale-up that never finishes holds the lock
    marathon.markBroken(`${host}/shop/api:8-master`)
    const scale = await fetch(`${marathon.url}/v2/apps/shop/api`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: 3 }) })
    const blocking = String(((await scale.json()) as { deploymentId: string }).deploymentId)
    const earlier = earlierReport()
    const before = marathon.snapshot()
    const locked = await run()
    assert.strictEqual(locked.code, 1, all(locked))
    assert.include(locked.stdout, blocking, "the blocking deployment is named")
    assert.include(locked.stdout, "--force")
    assert.include(locked.stdout, "nothing was changed")
    assert.deepStrictEqual(marathon.snapshot(), before, "the sandbox is exactly as it was")
    assert.strictEqual(readFileSync(reportFile(), "utf8"), earlier, "the report of the earlier rollback is left as it was")
    assert.include(locked.stdout, "Report: not written")
    const forced = await run("--force")
    assert.strictEqual(forced.code, 0, all(forced))
    assert.match(image(), /7-master$/)
    assert.include(puts().at(-1)!.query, "force=true")
    assert.notInclude(marathon.deployments().map((d) => d["id"]), blocking)
  })

  it("422: Marathon's own details are shown, path by path, and nothing changed", async () => {
    await startApi()
    marathon.failNext(422, 1, { method: "PUT", body: { message: "Object is not valid", details: [{ path: "/0/container/docker/image", errors: ["must not be empty", "is not a valid reference"] }] } })
    const before = marathon.snapshot()
    const invalid = await run()
    assert.strictEqual(invalid.code, 1)
    assert.include(invalid.stdout, "Object is not valid")
    assert.include(invalid.stdout, "/0/container/docker/image: must not be empty, is not a valid reference")
    assert.deepStrictEqual(marathon.snapshot(), before)
    assert.isFalse(existsSync(reportFile()), "nothing changed, so no report")
  })

  it("503 (no leader) twice: the run checks nothing was applied, sends again, and rolls back with ONE deployment", async () => {
    await startApi()
    marathon.failNext(503, 2, { method: "PUT" })
    const result = await run()
    assert.strictEqual(result.code, 0, all(result))
    assert.lengthOf(puts(), 3)
    assert.match(image(), /7-master$/)
    const api = marathon.snapshot()["apps"] as Array<{ versions: Array<unknown> }>
    assert.lengthOf(api[0]!.versions, 2, "one new version: one deployment")
    assert.strictEqual(readReport().outcome, "succeeded")
  })

  it("403 'Max number of running deployments': said as it is, not as a permissions problem; nothing changed", async () => {
    await start((h) => [sampleApp("/shop/api", `${h}/shop/api:8-master`), sampleApp("/shop/other", `${h}/shop/other:1`)], { maxRunningDeployments: 1 })
    marathon.markBroken(`${host}/shop/other:2`)
    const container = { ...(sampleApp("/shop/other", `${host}/shop/other:2`)["container"] as object) }
    assert.strictEqual((await fetch(`${marathon.url}/v2/apps/shop/other`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ container }) })).status, 200)
    const before = marathon.snapshot()
    const refused = await run()
    assert.strictEqual(refused.code, 1, all(refused))
    assert.include(refused.stdout, "Max number (1) of running deployments")
    assert.include(refused.stdout, "not a permissions problem")
    assert.notInclude(refused.stdout, "permissions of")
    assert.deepStrictEqual(marathon.snapshot(), before)
  })

  it("two apps run the service's repository: bad input listing both, nothing changed", async () => {
    await start((h) => [sampleApp("/shop/prod/api", `${h}/shop/api:8-master`), sampleApp("/shop/canary/api", `${h}/shop/api:8-master`)])
    const ambiguous = await run()
    assert.strictEqual(ambiguous.code, 2)
    assert.include(ambiguous.stderr, "/shop/prod/api")
    assert.include(ambiguous.stderr, "/shop/canary/api")
    assert.isTrue(marathon.requests.every((r) => r.method === "GET"))
    const scoped = await run("--app-prefix", "/shop/prod/")
    assert.strictEqual(scoped.code, 0, scoped.stderr)
  })

  it("--app-prefix is a group: /shop/prod does not take /shop/production/api", async () => {
    await start((h) => [sampleApp("/shop/production/api", `${h}/shop/api:8-master`)])
    const plan = await runCli(["plan", "--marathon", marathon.url, "--point", "2026-11-15", "--json", "--app-prefix", "/shop/prod"], { cwd: dir })
    assert.strictEqual(plan.code, 0, plan.stderr)
    const service = JSON.parse(plan.stdout).services[0]
    assert.strictEqual(service.app, null)
    assert.strictEqual(service.action, "unresolved")
    const production = await runCli(["plan", "--marathon", marathon.url, "--point", "2026-11-15", "--json", "--app-prefix", "/shop/production"], { cwd: dir })
    assert.strictEqual(JSON.parse(production.stdout).services[0].app, "/shop/production/api")
  })

  it("naming the app in the config resolves the ambiguity without a new get", async () => {
    await start((h) => [sampleApp("/shop/prod/api", `${h}/shop/api:8-master`), sampleApp("/shop/canary/api", `${h}/shop/api:8-master`)])
    writeFileSync(join(dir, "fleet-rollback.yaml"), "services:\n  api: { repository: shop/api, app: /shop/canary/api }\n")
    const named = await run()
    assert.strictEqual(named.code, 0, named.stderr)
    const canary = marathon.apps().find((a) => a["id"] === "/shop/canary/api")!
    assert.match(String((canary["container"] as { docker: { image: string } }).docker.image), /7-master$/)
  })

  it("a malformed label selector is bad input, not a silent match of nothing", async () => {
    await startApi()
    const bad = await run("--label", "env=prod", "--allow-partial")
    assert.strictEqual(bad.code, 2, bad.stdout)
    assert.include(bad.stderr, "label selector")
    assert.isTrue(marathon.requests.every((r) => r.method === "GET"))
  })

  it("a report path in a directory that does not exist is refused before anything changes", async () => {
    await startApi()
    const refused = await run("--report", join(dir, "no-such-dir", "report.json"))
    assert.strictEqual(refused.code, 2)
    assert.include(refused.stderr, "no-such-dir")
    assert.match(image(), /8-master$/)
  })

  it("a report path naming an existing directory is refused before anything changes", async () => {
    await startApi()
    mkdirSync(join(dir, "reports"))
    const refused = await run("--report", join(dir, "reports"))
    assert.strictEqual(refused.code, 2, refused.stderr)
    assert.include(refused.stderr, "is a directory")
    assert.include(refused.stderr, "nothing was changed")
    assert.strictEqual(puts().length, 0)
    assert.match(image(), /8-master$/)
  })

  it("--pin-digest deploys repository:tag@digest as recorded by get", async () => {
    await startApi()
    const file = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8"))
    const pinned = await run("--pin-digest")
    assert.strictEqual(pinned.code, 0, pinned.stderr)
    assert.strictEqual(image(), `${host}/shop/api:7-master@${file.images.api[1].digest}`)
  })

  it("MARATHON_USERNAME without MARATHON_PASSWORD is bad input before Marathon is asked anything", async () => {
    await startApi()
    const result = await runCli(["plan", "--marathon", marathon.url, "--point", "2026-11-15"], { cwd: dir, env: { MARATHON_USERNAME: "ops" } })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "MARATHON_PASSWORD")
    assert.lengthOf(marathon.requests, 0)
    const other = await runCli(["plan", "--marathon", marathon.url, "--point", "2026-11-15"], { cwd: dir, env: { MARATHON_PASSWORD: "pw-only-3b" } })
    assert.strictEqual(other.code, 2)
    assert.include(other.stderr, "MARATHON_USERNAME")
    assert.notInclude(other.stderr, "pw-only-3b")
  })
})

describe("Marathon's answer to the deployment is lost", () => {
  it("applied, then 503: ONE PUT, the run follows the deployment that started and succeeds", async () => {
    await startApi({ deploymentMs: 400 })
    marathon.failNext(503, 1, { method: "PUT", afterApplying: true })
    const result = await run()
    assert.strictEqual(result.code, 0, all(result))
    assert.lengthOf(puts(), 1, "the deployment request is not sent again")
    assert.include(result.stderr, "answer to the deployment request was lost")
    const report = readReport()
    assert.strictEqual(report.outcome, "succeeded")
    assert.isString(report.deploymentId)
    assert.strictEqual(report.services[0].outcome, "rolled-back")
    assert.match(image(), /7-master$/)
  })

  it("a 504 after Marathon listed the deployment but before it stored the apps: ONE PUT, that deployment is followed to a verified success", async () => {
    await startApi({ deploymentMs: 400 })
    // stored only once the CLI has seen the deployment listed: the order of events is fixed
    marathon.failNext(504, 1, { method: "PUT", storeWhenReleased: true })
    const listed = marathon.whenDeploymentListed().then((ids) => {
      marathon.releaseStore()
      return ids
    })
    const result = await run()
    assert.strictEqual(result.code, 0, all(result))
    assert.lengthOf(puts(), 1, "the deployment request is not sent again")
    const followed = /lists a new deployment (\S+) for exactly these apps/.exec(result.stderr)?.[1]
    assert.isDefined(followed, result.stderr)
    assert.deepStrictEqual(await listed, [followed])
    const report = readReport()
    assert.strictEqual(report.outcome, "succeeded")
    assert.strictEqual(report.deploymentId, followed)
    assert.match(image(), /7-master$/)
  })

  it("connection reset after applying and Marathon unreachable: the report says it MAY have started and which app to check; undo considers it", async () => {
    await startApi()
    marathon.failNext("reset", 1, { method: "PUT", afterApplying: true, thenUnreachable: true })
    const result = await run()
    assert.strictEqual(result.code, 1, all(result))
    assert.lengthOf(puts(), 1)
    assert.include(result.stdout, "MAY have started")
    assert.include(result.stdout, "/shop/api")
    assert.notInclude(result.stdout, "nothing was changed")
    const report = readReport()
    assert.strictEqual(report.outcome, "failed")
    assert.strictEqual(report.services[0].outcome, "unknown")
    assert.match(report.services[0].after, /7-master$/)
    // Marathon is back: the change had been applied, so undo puts 8-master back
    marathon.recover()
    const undo = await runCli(["undo", "--yes", "--poll-ms", "100"], { cwd: dir })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.match(image(), /8-master$/)
  })
})

describe("flags that would make a run do nothing, or hammer Marathon", () => {
  it("-v after run (meant: --verbose) is bad input, exit 2, pointing to --verbose; Marathon is never asked", async () => {
    await startApi()
    const result = await run("-v")
    assert.strictEqual(result.code, 2, all(result))
    assert.include(result.stderr, "Unrecognized flag: -v in command fleet-rollback run")
    assert.include(result.stderr, "--verbose")
    assert.notInclude(result.stdout, "0.")
    assert.lengthOf(marathon.requests, 0)
  })

  it("--poll-ms under 100 and --timeout 0 are bad input, exit 2, before Marathon is asked", async () => {
    await startApi()
    for (const extra of [["--poll-ms", "0"], ["--poll-ms", "-1"], ["--poll-ms", "99"], ["--timeout", "0"]]) {
      const result = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", ...extra], { cwd: dir })
      assert.strictEqual(result.code, 2, `${extra.join(" ")}: ${all(result)}`)
      assert.include(result.stderr, `Invalid value for flag ${extra[0]}`)
      assert.include(result.stderr, "at least")
    }
    const undo = await runCli(["undo", "--yes", "--poll-ms", "10"], { cwd: dir })
    assert.strictEqual(undo.code, 2, all(undo))
    assert.lengthOf(marathon.requests, 0)
  })
})

describe("a deployment request Marathon holds open", () => {
  it("is never sent again: after --timeout the run ends with the outcome unknown, the report written; Marathon may still apply it later", async () => {
    await startApi()
    marathon.holdNext({ method: "PUT" })
    const result = await run("--timeout", "3")
    assert.strictEqual(result.code, 1, all(result))
    assert.lengthOf(puts(), 1, "the request was sent once, never again blindly")
    const report = readReport()
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "MAY have started")
    assert.include(report.message, "held the deployment request open")
    assert.deepStrictEqual(report.services.map((s: { outcome: string }) => s.outcome), ["unknown"])
    assert.include(result.stderr, "MAY have started")
    // what re-sending would have met: Marathon carries the held request out once it gets to it
    assert.strictEqual(marathon.releaseHeld(), 1)
    for (let i = 0; i < 100 && !/7-master$/.test(image()); i++) await new Promise((r) => setTimeout(r, 50))
    assert.match(image(), /7-master$/)
  })
})

describe("interrupted mid-run", () => {
  const spawnRun = () => {
    const child = spawn(process.execPath, [bin, "run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1" }
    })
    const output = { stderr: "" }
    child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.on("exit", (c) => done(c)))
    return { child, output, exited }
  }
  const until = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100))
    assert.isTrue(check(), what)
  }

  it("Ctrl-C while the deployment runs still writes a report that says it goes on in Marathon", async () => {
    await startApi()
    marathon.markBroken(`${host}/shop/api:7-master`)
    const { child, output, exited } = spawnRun()
    // wait until the deployment started, then interrupt as an operator would (node runs the bin itself: no tsx in between,
    // whose signal relay SIGKILLs a child that does not acknowledge within 30 ms, as happened under load)
    await until("the deployment started", () => output.stderr.includes("started; waiting"))
    child.kill("SIGINT")
    assert.notStrictEqual(await exited, 0)
    const report = readReport()
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "interrupted while deployment")
    // The advice names the report it is in, not a placeholder.
    assert.include(report.message, "`fleet-rollback undo --report rollback-report.json`")
    assert.notInclude(report.message, "<this report>")
    assert.strictEqual(report.deploymentId, String(marathon.deployments()[0]!["id"]))
    assert.strictEqual(report.services[0].outcome, "failed")
  })

  it("Ctrl-C while the deployment request is on its way: the report says it MAY have started, and undo considers the app", async () => {
    await startApi()
    // Marathon applies the change at once but answers late
    marathon.delayNext(30_000, 1, { method: "PUT" })
    const { child, exited } = spawnRun()
    await until("the deployment request was sent", () => puts().length === 1)
    child.kill("SIGINT")
    assert.notStrictEqual(await exited, 0)
    const report = readReport()
    assert.strictEqual(report.outcome, "failed")
    assert.include(report.message, "MAY have started")
    assert.include(report.message, "/shop/api")
    assert.strictEqual(report.services[0].outcome, "unknown")
    assert.isNull(report.deploymentId)
    const undo = await runCli(["undo", "--yes", "--poll-ms", "100"], { cwd: dir })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.match(image(), /8-master$/)
  })
})

describe("the operator sees the plan first, on a terminal or not", () => {
  it("without a terminal and without --yes: the plan is printed, then the run refuses (exit 2), nothing changed", async () => {
    await startApi()
    const before = marathon.snapshot()
    const result = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15"], { cwd: dir })
    assert.strictEqual(result.code, 2, all(result))
    assert.match(result.stdout, /api\s+\/shop\/api\s+api:8-master\s+api:7-master\s+.*rollback/)
    assert.include(result.stderr, "--yes")
    assert.deepStrictEqual(marathon.snapshot(), before)
    assert.isFalse(existsSync(reportFile()))
  })

  it("with --json the plan goes to stderr and stdout carries only the JSON result", async () => {
    await startApi()
    const refused = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--json"], { cwd: dir })
    assert.strictEqual(refused.code, 2)
    // The refusal is the one JSON object on stdout; the plan stays on stderr.
    const refusal = JSON.parse(refused.stdout)
    assert.deepStrictEqual([refusal.ok, refusal.exitCode, refusal.kind], [false, 2, "BadInput"])
    assert.include(refusal.error, "--yes")
    assert.notInclude(refused.stdout, "api:8-master")
    assert.match(refused.stderr, /api\s+\/shop\/api\s+api:8-master\s+api:7-master/)
    const done = await run("--json")
    assert.strictEqual(done.code, 0, all(done))
    assert.strictEqual(JSON.parse(done.stdout).outcome, "succeeded")
    assert.match(done.stderr, /api\s+\/shop\/api\s+api:8-master\s+api:7-master/)
  })

  it("a run with nothing to change exits 0 without a terminal and without --yes, and writes no report", async () => {
    await startApi()
    const earlier = earlierReport()
    const before = marathon.snapshot()
    const result = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-25"], { cwd: dir })
    assert.strictEqual(result.code, 0, all(result))
    assert.include(result.stdout, "NOTHING-TO-DO")
    assert.deepStrictEqual(marathon.snapshot(), before)
    assert.strictEqual(readFileSync(reportFile(), "utf8"), earlier)
  })

  it("on a terminal: answering no changes nothing (exit 2); answering yes rolls back", async () => {
    await startApi()
    const before = marathon.snapshot()
    const args = ["run", "--marathon", marathon.url, "--point", "2026-11-15", "--poll-ms", "100"]
    const no = await runOnTerminal(args, "no")
    assert.strictEqual(no.code, 2, no.stdout)
    assert.include(no.stdout, "Type yes to go on")
    assert.match(no.stdout, /api\s+\/shop\/api\s+api:8-master\s+api:7-master/, "the plan came before the question")
    assert.isBelow(no.stdout.indexOf("api:7-master"), no.stdout.indexOf("Type yes to go on"))
    assert.include(no.stdout, "not confirmed; nothing was changed")
    assert.deepStrictEqual(marathon.snapshot(), before)
    assert.isFalse(existsSync(reportFile()))
    const yes = await runOnTerminal(args, "yes")
    assert.strictEqual(yes.code, 0, yes.stdout)
    assert.match(image(), /7-master$/)
    assert.strictEqual(readReport().outcome, "succeeded")
  })

  it("--dry-run prints exactly what plan prints, as a table and as JSON, and changes nothing", async () => {
    await startApi()
    const before = marathon.snapshot()
    const common = ["--marathon", marathon.url, "--point", "2026-11-15"]
    const plan = await runCli(["plan", ...common], { cwd: dir })
    const dry = await runCli(["run", ...common, "--dry-run"], { cwd: dir })
    assert.strictEqual(plan.code, 0)
    assert.strictEqual(dry.code, 0)
    assert.strictEqual(dry.stdout, plan.stdout)
    const planJson = await runCli(["plan", ...common, "--json"], { cwd: dir })
    const dryJson = await runCli(["run", ...common, "--dry-run", "--json"], { cwd: dir })
    assert.strictEqual(dryJson.stdout, planJson.stdout)
    assert.strictEqual(JSON.parse(dryJson.stdout).services[0].action, "rollback")
    assert.deepStrictEqual(marathon.snapshot(), before)
  })
})

describe("--quiet and --verbose", () => {
  it("plan --quiet prints the table only; plan --verbose adds the full references and digests", async () => {
    await startApi()
    const common = ["plan", "--marathon", marathon.url, "--point", "2026-11-15"]
    const quiet = await runCli([...common, "--quiet"], { cwd: dir })
    assert.strictEqual(quiet.code, 0)
    assert.match(quiet.stdout, /^SERVICE\s+APP/)
    assert.notInclude(quiet.stdout, "Plan for")
    assert.notInclude(quiet.stdout, "to roll back")
    const verbose = await runCli([...common, "--verbose"], { cwd: dir })
    const digest = JSON.parse(readFileSync(join(dir, "rollback.json"), "utf8")).images.api[1].digest
    assert.include(verbose.stdout, `target ${host}/shop/api:7-master (${digest})`)
    assert.include(verbose.stdout, `running ${host}/shop/api:8-master`)
  })

  it("run --quiet --yes: no plan and no progress lines, only the result; --verbose shows what Marathon runs at the end", async () => {
    await startApi()
    const quiet = await run("--quiet")
    assert.strictEqual(quiet.code, 0, all(quiet))
    assert.strictEqual(quiet.stderr, "")
    assert.notInclude(quiet.stdout, "Plan for")
    assert.include(quiet.stdout, "SUCCEEDED")
    const back = await runCli(["undo", "--yes", "--quiet", "--verbose", "--poll-ms", "100"], { cwd: dir })
    assert.strictEqual(back.code, 0, all(back))
    assert.strictEqual(back.stderr, "")
    assert.include(back.stdout, `Marathon now:\n  /shop/api  ${host}/shop/api:8-master  2/2 running, 2 healthy`)
  })
})

describe("who ran it, and Slack", () => {
  /** A webhook receiver that answers `status`; returns its URL and the bodies it got. */
  const webhook = async (status: number) => {
    const bodies: Array<string> = []
    const server = createServer((req, res) => {
      let body = ""
      req.on("data", (c: Buffer) => (body += c.toString()))
      req.on("end", () => {
        bodies.push(body)
        res.writeHead(status).end(status === 200 ? "ok" : "internal_error")
      })
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/hook-secret-91ac`
    return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) }
  }

  it("the report's user is --user, else BUILD_USER_ID, else USER", async () => {
    await startApi()
    const jenkins = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir, env: { BUILD_USER_ID: "jenkins-bob" } })
    assert.strictEqual(jenkins.code, 0, all(jenkins))
    assert.strictEqual(readReport().user, "jenkins-bob")
    const undo = await runCli(["undo", "--yes", "--poll-ms", "100"], { cwd: dir })
    assert.strictEqual(undo.code, 0, all(undo))
    assert.strictEqual(JSON.parse(readFileSync(join(dir, "rollback-undo-report.json"), "utf8")).user, "oncall", "USER when BUILD_USER_ID is unset")
  })

  it("a Slack receiver that answers 500 or is down never fails the run, and the webhook URL is never printed", async () => {
    await startApi()
    const failing = await webhook(500)
    try {
      const result = await runCli(["run", "--marathon", marathon.url, "--point", "2026-11-15", "--yes", "--poll-ms", "100"], { cwd: dir, env: { SLACK_WEBHOOK_URL: failing.url } })
      assert.strictEqual(result.code, 0, all(result))
      assert.lengthOf(failing.bodies, 2, "started and succeeded were attempted")
      assert.include(result.stderr, "Slack notification failed")
      assert.notInclude(all(result), "hook-secret-91ac")
    } finally {
      await failing.close()
    }
    // the same receiver, now gone: undo still works
    const down = await runCli(["undo", "--yes", "--poll-ms", "100"], { cwd: dir, env: { SLACK_WEBHOOK_URL: failing.url } })
    assert.strictEqual(down.code, 0, all(down))
    assert.include(down.stderr, "Slack notification failed")
    assert.notInclude(all(down), "hook-secret-91ac")
    assert.match(image(), /8-master$/)
  })
})
