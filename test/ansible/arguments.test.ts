/**
 * @module arguments.test — the role refuses bad input before it touches anything: at 3 a.m. a
 * forgotten `-e` must give a message naming the variable, not a stack trace or a half-run.
 * These need no registry and no Marathon: they stop before fleet-rollback would run.
 */
import { assert, describe, it } from "@effect/vitest"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { MINIMUM_NODE } from "../../scripts/supported-node.js"
import { oldNodeDir } from "../support/oldNode.ts"
import { ansiblePlaybook, makeScratch, projectRoot } from "./ansiblePlaybook.ts"

const scratch = makeScratch()
afterAll(() => scratch.remove())

/** A fleet_rollback_command that is certainly not installed, so the install step decides. */
const notInstalled = join(scratch.dir, "not-installed", "fleet-rollback")

describe("ansible/rollback.yml arguments", () => {
  it("passes ansible-playbook --syntax-check", async () => {
    const result = await ansiblePlaybook(scratch, ["--syntax-check"])
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "playbook:")
  })

  it("without fleet_rollback_environment, --tags get fails in argument validation and names the variable", async () => {
    const dump = join(scratch.dir, "dump-no-environment")
    const result = await ansiblePlaybook(scratch, ["--tags", "get", "-e", `fleet_rollback_dump_path=${dump}`])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "Validation of arguments failed")
    assert.include(result.output, "missing required arguments: fleet_rollback_environment")
    assert.notInclude(result.output, "Look for fleet-rollback on the host")
    assert.isFalse(existsSync(dump), "nothing may be created before the arguments are valid")
  })

  it("--tags run without rollback_point fails before installing or reading anything, naming rollback_point", async () => {
    const dump = join(scratch.dir, "dump-no-point")
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "run",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_dump_path=${dump}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "missing required arguments: rollback_point")
    assert.notInclude(result.output, "Look for fleet-rollback on the host")
    assert.isFalse(existsSync(dump))
  })

  it("a granularity that is not day or instant is refused, listing the allowed values", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      "fleet_rollback_granularity=weekly"
    ])
    assert.notStrictEqual(result.code, 0)
    assert.match(result.output, /value of fleet_rollback_granularity must be one of: , day, instant, got: weekly/)
  })

  it("without the tool on the host and without an install source, it says how to provide one", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_command=${notInstalled}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, `fleet-rollback ('${notInstalled}') is not on the PATH of localhost`)
    assert.include(result.output, "fleet_rollback_install_source is empty")
  })

  it("an install source directory without node_modules is refused with what is missing and what to run", async () => {
    const project = join(scratch.dir, "empty-project")
    mkdirSync(project, { recursive: true })
    const result = await ansiblePlaybook(scratch, [
      "--tags",
      "get",
      "-e",
      "fleet_rollback_environment=prod",
      "-e",
      `fleet_rollback_command=${notInstalled}`,
      "-e",
      `fleet_rollback_install_source=${project}`
    ])
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, `${project} is not a fleet-rollback project ready to run`)
    assert.include(result.output, `${project}/node_modules/.bin/tsx`)
    assert.include(result.output, "Run `npm ci` there")
  })

  describe("a host whose Node.js is older than 22.19 (Debian 12 ships 20)", () => {
    const old = oldNodeDir(join(scratch.dir, "old-node"))
    /** The host's PATH: its old `node` first. */
    const hostPath = { PATH: `${old.dir}:${process.env["PATH"] ?? ""}` }

    it("installing from a project directory stops before anything is installed or read, saying what it found and what it needs", async () => {
      const dump = join(scratch.dir, "dump-old-node")
      const result = await ansiblePlaybook(scratch, [
        "--tags",
        "get",
        "-e",
        JSON.stringify({ fleet_rollback_environment: "prod", fleet_rollback_command: notInstalled, fleet_rollback_install_source: projectRoot, fleet_rollback_dump_path: dump })
      ], hostPath)
      assert.notStrictEqual(result.code, 0)
      assert.include(result.output, `localhost has Node.js ${old.version} (${old.dir}/node); fleet-rollback needs Node.js ${MINIMUM_NODE} or newer`)
      assert.include(result.output, "set fleet_rollback_node to its path")
      assert.notInclude(result.output, "internal error")
      assert.notInclude(result.output, "Read every service's images from the registry")
      assert.isFalse(existsSync(dump), "nothing may be created on a host that cannot run the tool")
    })

    it("a fleet-rollback found on the PATH that runs on that Node stops at its start check with the tool's own message", async () => {
      const result = await ansiblePlaybook(scratch, [
        "--tags",
        "get",
        "-e",
        JSON.stringify({ fleet_rollback_environment: "prod", fleet_rollback_command: join(projectRoot, "scripts/fleet-rollback.js") })
      ], hostPath)
      assert.notStrictEqual(result.code, 0)
      assert.include(result.output, "--version failed on localhost (exit 2)")
      assert.include(result.output, `fleet-rollback needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${old.version}`)
      assert.notInclude(result.output, "Read every service's images from the registry")
    })

    it("fleet_rollback_node points the role at a newer Node elsewhere on the host", async () => {
      const dump = join(scratch.dir, "dump-node-elsewhere")
      const result = await ansiblePlaybook(scratch, [
        "--tags",
        "get",
        "-e",
        JSON.stringify({
          fleet_rollback_environment: "prod",
          fleet_rollback_command: notInstalled,
          fleet_rollback_install_source: projectRoot,
          fleet_rollback_node: process.execPath,
          fleet_rollback_dump_path: dump,
          // no registry: get fails, but only after the tool started with the Node given
          fleet_rollback_repos: ["shop/api"]
        })
      ], hostPath)
      assert.include(result.output, "TASK [fleet_rollback : Read every service's images from the registry (fleet-rollback get)]")
      assert.include(result.output, "fleet-rollback get failed (exit 2)")
    })
  })

  it("the role's defaults say how the secrets really travel: as NAME_FILE files, not as environment variables", () => {
    const role = join(projectRoot, "ansible/roles/fleet_rollback")
    const defaults = readFileSync(join(role, "defaults/main.yml"), "utf8")
    const secrets = readFileSync(join(role, "tasks/secrets.yml"), "utf8")
    assert.include(secrets, "'_FILE'", "tasks/secrets.yml hands each secret over as NAME_FILE")
    const comment = defaults.slice(defaults.indexOf("# Secrets:"), defaults.indexOf("fleet_rollback_registry_username:"))
    assert.include(comment, "NAME_FILE")
    assert.notMatch(comment, /only as environment variables/)
  })

  it("a plain run without tags never rolls back: the run tasks are tagged never", async () => {
    const result = await ansiblePlaybook(scratch, [
      "--list-tasks",
      "-e",
      "fleet_rollback_environment=prod"
    ])
    assert.strictEqual(result.code, 0, result.output)
    assert.include(result.stdout, "Read every service's images from the registry (fleet-rollback get)")
    assert.notInclude(result.stdout, "(fleet-rollback run)")
    const runTasks = await ansiblePlaybook(scratch, ["--list-tasks", "--tags", "run", "-e", "fleet_rollback_environment=prod"])
    assert.include(runTasks.stdout, "(fleet-rollback run)")
    assert.include(runTasks.stdout, "(fleet-rollback plan)")
    assert.notInclude(runTasks.stdout, "(fleet-rollback get)")
  })

  it("a target that is not one of the known kinds is refused before anything runs, listing them", async () => {
    const result = await ansiblePlaybook(scratch, ["--tags", "get", "-e", "fleet_rollback_environment=prod", "-e", "fleet_rollback_target=nomad"])
    assert.notStrictEqual(result.code, 0)
    assert.match(result.output, /value of fleet_rollback_target must be one of: , marathon, dcos, swarm, kubernetes, gitops, pulumi, openshift, got: nomad/)
    assert.notInclude(result.output, "Look for fleet-rollback on the host")
  })

  describe("what the role passes to fleet-rollback (a recording stand-in for the tool)", () => {
    const dump = join(scratch.dir, "dump-recorded")
    const calls = join(scratch.dir, "recorded-calls.txt")
    const tool = join(scratch.dir, "bin", "fleet-rollback")
    mkdirSync(join(scratch.dir, "bin"), { recursive: true })
    mkdirSync(dump, { recursive: true })
    writeFileSync(join(dump, "rollback.json"), "{}")
    // Records each call (arguments one per line, then --); answers --version, and plan --json with one rollback.
    writeFileSync(
      tool,
      [
        "#!/bin/sh",
        `{ for a in "$@"; do printf '%s\\n' "$a"; done; echo --; } >> '${calls}'`,
        'case "$1" in',
        "  --version) echo 'fleet-rollback v0.1.0' ;;",
        `  plan) echo '{"point":"2026-11-19T23:59:59.999Z","services":[{"service":"api","app":"api","current":"r/api:2","target":"r/api:1","action":"rollback"}],"wouldRefuse":[]}' ;;`,
        "esac",
        ""
      ].join("\n")
    )
    chmodSync(tool, 0o755)
    const recorded = (command: string): Array<string> =>
      readFileSync(calls, "utf8").split("--\n").map((call) => call.split("\n").filter((line) => line !== "")).find((call) => call[0] === command) ?? []

    it("the target, its settings, revert-on-failure, pin-digest and the timeout reach plan and run", async () => {
      const result = await ansiblePlaybook(scratch, [
        "--tags", "run",
        "-e",
        JSON.stringify({
          fleet_rollback_environment: "prod",
          rollback_point: "2026-11-19",
          fleet_rollback_command: tool,
          fleet_rollback_dump_path: dump,
          fleet_rollback_lock_file: join(scratch.dir, "recorded.lock"),
          fleet_rollback_user: "oncall",
          fleet_rollback_target: "swarm",
          fleet_rollback_stack: "shop",
          fleet_rollback_namespace: "shop-prod",
          fleet_rollback_context: "prod-cluster",
          fleet_rollback_revert_on_failure: true,
          fleet_rollback_pin_digest: true,
          fleet_rollback_timeout: 900
        })
      ])
      assert.strictEqual(result.code, 0, result.output)
      const target = ["--target", "swarm", "--stack", "shop", "--namespace", "shop-prod", "--context", "prod-cluster"]
      assert.deepStrictEqual(recorded("plan"), ["plan", "--file", join(dump, "rollback.json"), "--point", "2026-11-19", "--json", "--pin-digest", ...target])
      assert.deepStrictEqual(recorded("run"), [
        "run", "--file", join(dump, "rollback.json"), "--point", "2026-11-19", "--yes", "--report", join(dump, "rollback-report.json"),
        "--user", "oncall", "--revert-on-failure", "--pin-digest", "--timeout", "900", ...target
      ])
    })

    it("a fleet-rollback older than the role (its plan --json has no wouldRefuse) stops the play before run: it cannot say whether run would refuse", async () => {
      const old = join(scratch.dir, "bin", "old-fleet-rollback")
      writeFileSync(old, readFileSync(tool, "utf8").replace(',"wouldRefuse":[]', ""))
      chmodSync(old, 0o755)
      writeFileSync(calls, "")
      const result = await ansiblePlaybook(scratch, [
        "--tags", "run",
        "-e",
        JSON.stringify({ fleet_rollback_environment: "prod", rollback_point: "2026-11-19", fleet_rollback_command: old, fleet_rollback_dump_path: dump, fleet_rollback_lock_file: join(scratch.dir, "recorded.lock") })
      ])
      assert.notStrictEqual(result.code, 0)
      assert.include(result.output, "fleet-rollback run would refuse, nothing was changed: fleet-rollback on this host is older than the role")
      assert.deepStrictEqual(recorded("run"), [], "run was never called")
    })
  })
})
