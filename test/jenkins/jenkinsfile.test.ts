/**
 * @module jenkinsfile.test — the Jenkinsfile compiles with the real Groovy compiler, and no secret
 * or user input can reach a shell through Groovy string interpolation (seed 004 put passwords
 * on command lines; a point label like `$(curl …)` must never become shell code).
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { afterAll } from "vitest"

const root = resolve(import.meta.dirname, "../..")
const jenkinsfile = join(root, "jenkins/Jenkinsfile")
const inspector = join(import.meta.dirname, "inspect-jenkinsfile.groovy")
const scratch = mkdtempSync(join(tmpdir(), "fleet-rollback-jenkinsfile-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** JAVA_HOME of the JDK on PATH (Debian's groovy needs it): dirname(dirname(realpath(java))). */
const javaHome = (): string => {
  const java = (process.env["PATH"] ?? "")
    .split(":")
    .map((dir) => join(dir, "java"))
    .find((candidate) => {
      try {
        realpathSync(candidate)
        return true
      } catch {
        return false
      }
    })
  if (java === undefined) {
    throw new Error("java is not on PATH: install a JDK (Debian: apt-get install groovy pulls default-jdk)")
  }
  return dirname(dirname(realpathSync(java)))
}

interface Inspection {
  readonly shSteps: ReadonlyArray<{ readonly line: number; readonly kind: string; readonly text: string | null }>
  readonly gstrings: ReadonlyArray<{ readonly line: number; readonly text: string }>
}

/** Runs the real `groovy` on inspect-jenkinsfile.groovy; resolves with exit code and output. */
const groovy = (file: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((done, fail) => {
    execFile(
      "groovy",
      [inspector, file],
      { env: { ...process.env, JAVA_HOME: javaHome() }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          fail(new Error(`could not run groovy (Debian package 'groovy'): ${error.message}`))
          return
        }
        done({ code: error === null ? 0 : Number(error.code), stdout, stderr })
      }
    )
  })

const inspect = async (file: string): Promise<Inspection> => {
  const result = await groovy(file)
  assert.strictEqual(result.code, 0, `groovy failed to compile ${file}:\n${result.stderr}`)
  return JSON.parse(result.stdout) as Inspection
}

let inspected: Promise<Inspection> | undefined
/** The inspection of jenkins/Jenkinsfile, compiled once for all tests (groovy starts slowly). */
const inspectJenkinsfile = (): Promise<Inspection> => (inspected ??= inspect(jenkinsfile))

const variant = (name: string, text: string): string => {
  const file = join(scratch, name)
  writeFileSync(file, text)
  return file
}

const source = readFileSync(jenkinsfile, "utf8")
/** The source with line breaks and indentation folded to single spaces. */
const folded = source.replace(/\s*\n\s*/g, " ")
const secretVariables = [
  "REGISTRY_USERNAME",
  "REGISTRY_PASSWORD",
  "MARATHON_TOKEN",
  "MARATHON_USERNAME",
  "MARATHON_PASSWORD",
  "DCOS_PASSWORD",
  "DCOS_PRIVATE_KEY_FILE",
  "SLACK_WEBHOOK_URL"
]

describe("jenkins/Jenkinsfile", () => {
  it("compiles with Debian's groovy (GroovyShell.parse), so a typo never reaches the on-call engineer", async () => {
    const inspection = await inspectJenkinsfile()
    assert.isAbove(inspection.shSteps.length, 0)
  })

  it("the same check rejects a Jenkinsfile with a syntax error (the parser is real)", async () => {
    const broken = variant("Broken.Jenkinsfile", source.replace("stage('Plan') {", "stage('Plan') {{"))
    const result = await groovy(broken)
    assert.notStrictEqual(result.code, 0)
    assert.match(result.stderr, /Broken\.Jenkinsfile/)
  })

  it("every sh step is a constant string: no params, env, credential or input interpolated into a shell", async () => {
    const inspection = await inspectJenkinsfile()
    for (const step of inspection.shSteps) {
      assert.strictEqual(step.kind, "constant", `line ${step.line}: sh gets a ${step.kind}: ${step.text}`)
    }
  })

  it("the interpolation check catches the seed's mistake: sh \"… ${params.X}\" and sh(script: \"… ${env.X}\")", async () => {
    const unsafe = variant(
      "Unsafe.Jenkinsfile",
      source
        .replace(`sh 'sh "$FLEET_ROLLBACK_STAGE" run'`, 'sh "fleet-rollback run --point ${env.ROLLBACK_POINT}"')
        .replace(
          `sh(script: 'sh "$FLEET_ROLLBACK_STAGE" choices', returnStdout: true)`,
          'sh(script: "fleet-rollback choices --env ${params.ENVIRONMENT}", returnStdout: true)'
        )
    )
    const inspection = await inspect(unsafe)
    const interpolated = inspection.shSteps.filter((step) => step.kind === "gstring").map((step) => step.text)
    assert.deepStrictEqual(interpolated.sort(), [
      "fleet-rollback choices --env $params.ENVIRONMENT",
      "fleet-rollback run --point $env.ROLLBACK_POINT"
    ])
  })

  it("no Groovy interpolation anywhere mentions a secret variable", async () => {
    const inspection = await inspectJenkinsfile()
    for (const gstring of inspection.gstrings) {
      for (const secret of secretVariables) {
        assert.notInclude(gstring.text, secret, `line ${gstring.line} interpolates ${secret}`)
      }
    }
  })

  it("every sh step runs jenkins/fleet-rollback-stage.sh (get, choices, plan, run, undo-summary, undo, fleet-state, notify-failure) or cleans up", async () => {
    const inspection = await inspectJenkinsfile()
    const stages = new Set<string>()
    for (const step of inspection.shSteps) {
      const text = step.text ?? ""
      if (text === `rm -f -- "$ROLLBACK_FILE" "$ROLLBACK_PLAN" "$ROLLBACK_REPORT"` || text === `rm -rf -- previous-build "$UNDO_OUT"`) continue
      const match = /^sh "\$FLEET_ROLLBACK_STAGE" ([a-z-]+)$/.exec(text)
      assert.isNotNull(match, `line ${step.line}: unexpected shell command ${text}`)
      stages.add(match![1]!)
    }
    assert.deepStrictEqual([...stages].sort(), ["choices", "fleet-state", "get", "notify-failure", "plan", "run", "undo", "undo-summary"])
    assert.match(source, /FLEET_ROLLBACK_STAGE = 'jenkins\/fleet-rollback-stage\.sh'/)
  })

  it("secrets are bound only by withCredentials, to the variables fleet-rollback reads", () => {
    // One binding per line or wrapped: compared with the whitespace folded.
    assert.match(folded, /usernamePassword\(credentialsId: id, usernameVariable: 'REGISTRY_USERNAME', passwordVariable: 'REGISTRY_PASSWORD'\)/)
    assert.match(folded, /string\(credentialsId: id, variable: 'MARATHON_TOKEN'\)/)
    assert.match(folded, /usernamePassword\(credentialsId: id, usernameVariable: 'MARATHON_USERNAME', passwordVariable: 'MARATHON_PASSWORD'\)/)
    assert.match(folded, /string\(credentialsId: id, variable: 'DCOS_PASSWORD'\)/)
    assert.match(folded, /file\(credentialsId: id, variable: 'DCOS_PRIVATE_KEY_FILE'\)/)
    assert.match(folded, /string\(credentialsId: id, variable: 'SLACK_WEBHOOK_URL'\)/)
    // get, plan, run, undo, the failure notice, and the check that each credential exists (empty body)
    assert.strictEqual((source.match(/withCredentials\(/g) ?? []).length, 6)
    assert.match(source, /withCredentials\(\[c\.binding\]\) \{\s*\/\/ nothing: only the binding is tried\s*\}/)
    // No password parameter, no secret in the environment block.
    assert.notMatch(source, /password\s*\(/)
    const environmentBlock = /environment \{([\s\S]*?)\n {4}\}/.exec(source)?.[1] ?? ""
    for (const secret of secretVariables) assert.notInclude(environmentBlock, secret)
  })

  it("asks which environment, waits 120 s by default per question, and skips as NOT_BUILT without an answer", () => {
    assert.match(source, /choice\(name: 'ENVIRONMENT', choices: \['dev', 'stage', 'prod'\]/)
    assert.match(source, /choice\(name: 'MODE', choices: \['rollback', 'undo'\]/)
    assert.match(source, /booleanParam\(name: 'REVERT_ON_FAILURE', defaultValue: false/)
    assert.match(source, /string\(name: 'UNDO_BUILD', defaultValue: ''/)
    assert.match(source, /DEFAULT_CHOICE_TIMEOUT = '120'/)
    assert.match(source, /string\(name: 'CHOICE_TIMEOUT_SECONDS', defaultValue: DEFAULT_CHOICE_TIMEOUT/)
    assert.match(source, /timeout\(time: choiceTimeoutText\(\)\.toInteger\(\), unit: 'SECONDS'\)/)
    assert.match(source, /choice\(name: ROLLBACK_POINT, choices: env\.ROLLBACK_CHOICES/)
    assert.match(source, /submitterParameter: APPROVER/)
    assert.match(source, /env\.ROLLBACK_APPROVER = approver\.toString\(\)/)
    for (const name of ["Get rollbacks", "Get the report to undo", "Choose point", "Plan", "Confirm", "Roll back", "Undo"]) {
      assert.include(source, `stage('${name}')`)
    }
    assert.match(source, /FLEET_ROLLBACK_ENV = "\$\{params\.ENVIRONMENT\}"/)
    assert.match(source, /FLEET_ROLLBACK_REVERT_ON_FAILURE = "\$\{params\.REVERT_ON_FAILURE\}"/)
    assert.match(source, /ROLLBACK_FILE = 'rollback\.json'/)
    assert.match(source, /ROLLBACK_PLAN = 'rollback-plan\.json'/)
    assert.match(source, /ROLLBACK_REPORT = 'rollback-report\.json'/)
  })
})

describe("npm-groovy-lint (CodeNarc) with the recommended Jenkinsfile rules", () => {
  /** Runs the project's npm-groovy-lint on `file`, offline: any download attempt fails through a dead proxy. */
  const lint = (file: string): Promise<{ code: number; output: string }> =>
    new Promise((done, fail) => {
      const home = join(scratch, "lint-home")
      const dead = "http://127.0.0.1:9"
      execFile(
        join(root, "node_modules/.bin/npm-groovy-lint"),
        ["--noserver", "--config", join(root, "jenkins"), "--failon", "info", "--output", "txt", file],
        {
          cwd: scratch,
          timeout: 180_000,
          env: {
            ...process.env,
            JAVA_HOME: javaHome(),
            HOME: home,
            HTTP_PROXY: dead, HTTPS_PROXY: dead, http_proxy: dead, https_proxy: dead, NO_PROXY: "", no_proxy: "",
            npm_config_offline: "true"
          }
        },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== "number") {
            fail(new Error(`could not run npm-groovy-lint (npm ci installs it; it needs Java 17+): ${error.message}`))
            return
          }
          done({ code: error === null ? 0 : Number(error.code), output: `${stdout}\n${stderr}` })
        }
      )
    })

  it("jenkins/.groovylintrc.json extends recommended-jenkinsfile and disables nothing", () => {
    const config = JSON.parse(readFileSync(join(root, "jenkins/.groovylintrc.json"), "utf8")) as Record<string, unknown>
    assert.deepStrictEqual(config, { extends: "recommended-jenkinsfile" })
  })

  it("the Jenkinsfile passes with no error, warning or info, offline", async () => {
    const result = await lint(jenkinsfile)
    assert.strictEqual(result.code, 0, result.output)
    assert.match(result.output, /'Info'\s*│\s*0/)
  }, 200_000)

  it("the same lint fails a Jenkinsfile with a finding (a 130-character line), naming the rule", async () => {
    const long = variant("Long.Jenkinsfile", source.replace("pipeline {", `// ${"x".repeat(127)}\npipeline {`))
    const result = await lint(long)
    assert.notStrictEqual(result.code, 0)
    assert.include(result.output, "LineLength")
  }, 200_000)
})
