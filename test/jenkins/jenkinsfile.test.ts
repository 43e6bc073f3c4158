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
        .replace(`sh 'sh "$FLEET_ROLLBACK_STAGE" plan'`, 'sh "fleet-rollback plan --point ${env.ROLLBACK_POINT}"')
        .replace(
          `sh(script: 'sh "$FLEET_ROLLBACK_STAGE" choices', returnStdout: true)`,
          'sh(script: "fleet-rollback choices --env ${params.ENVIRONMENT}", returnStdout: true)'
        )
    )
    const inspection = await inspect(unsafe)
    const interpolated = inspection.shSteps.filter((step) => step.kind === "gstring").map((step) => step.text)
    assert.deepStrictEqual(interpolated.sort(), [
      "fleet-rollback choices --env $params.ENVIRONMENT",
      "fleet-rollback plan --point $env.ROLLBACK_POINT"
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

  it("every sh step runs jenkins/fleet-rollback-stage.sh (get, choices, plan, run, notify-failure) or cleans up", async () => {
    const inspection = await inspectJenkinsfile()
    const stages = new Set<string>()
    for (const step of inspection.shSteps) {
      const text = step.text ?? ""
      if (text === `rm -f -- "$ROLLBACK_FILE" "$ROLLBACK_REPORT"`) continue
      const match = /^sh "\$FLEET_ROLLBACK_STAGE" ([a-z-]+)$/.exec(text)
      assert.isNotNull(match, `line ${step.line}: unexpected shell command ${text}`)
      stages.add(match![1]!)
    }
    assert.deepStrictEqual([...stages].sort(), ["choices", "get", "notify-failure", "plan", "run"])
    assert.match(source, /FLEET_ROLLBACK_STAGE = 'jenkins\/fleet-rollback-stage\.sh'/)
  })

  it("secrets are bound only by withCredentials, to the variables fleet-rollback reads", () => {
    assert.match(source, /usernamePassword\(credentialsId: id, usernameVariable: 'REGISTRY_USERNAME', passwordVariable: 'REGISTRY_PASSWORD'\)/)
    assert.match(source, /string\(credentialsId: id, variable: 'MARATHON_TOKEN'\)/)
    assert.match(source, /usernamePassword\(credentialsId: id, usernameVariable: 'MARATHON_USERNAME', passwordVariable: 'MARATHON_PASSWORD'\)/)
    assert.match(source, /string\(credentialsId: id, variable: 'DCOS_PASSWORD'\)/)
    assert.match(source, /file\(credentialsId: id, variable: 'DCOS_PRIVATE_KEY_FILE'\)/)
    assert.match(source, /string\(credentialsId: id, variable: 'SLACK_WEBHOOK_URL'\)/)
    // get, plan, run, the failure notice, and the check that each credential exists (empty body)
    assert.strictEqual((source.match(/withCredentials\(/g) ?? []).length, 5)
    assert.match(source, /withCredentials\(\[c\.binding\]\) \{\s*\/\/ nothing: only the binding is tried\s*\}/)
    // No password parameter, no secret in the environment block.
    assert.notMatch(source, /password\s*\(/)
    const environmentBlock = /environment \{([\s\S]*?)\n {4}\}/.exec(source)?.[1] ?? ""
    for (const secret of secretVariables) assert.notInclude(environmentBlock, secret)
  })

  it("asks which environment, waits 120 s by default for a point, and skips as NOT_BUILT without an answer", () => {
    assert.match(source, /choice\(name: 'ENVIRONMENT', choices: \['dev', 'stage', 'prod'\]/)
    assert.match(source, /string\(name: 'CHOICE_TIMEOUT_SECONDS', defaultValue: '120'/)
    assert.match(source, /timeout\(time: timeoutText\.toInteger\(\), unit: 'SECONDS'\)/)
    assert.match(source, /choice\(name: 'ROLLBACK_POINT', choices: choices/)
    assert.match(source, /submitterParameter: 'APPROVER'/)
    assert.match(source, /env\.ROLLBACK_APPROVER = answer\['APPROVER'\]/)
    assert.strictEqual((source.match(/currentBuild\.result = 'NOT_BUILT'/g) ?? []).length, 2)
    for (const name of ["Get rollbacks", "Choose point", "Plan", "Roll back"]) {
      assert.include(source, `stage('${name}')`)
    }
    assert.strictEqual((source.match(/when \{ expression \{ return pointChosen\(\) \} \}/g) ?? []).length, 2)
    assert.match(source, /archiveArtifacts\(artifacts: 'rollback\.json, rollback-report\.json', allowEmptyArchive: true\)/)
    assert.match(source, /ROLLBACK_FILE = 'rollback\.json'/)
    assert.match(source, /ROLLBACK_REPORT = 'rollback-report\.json'/)
  })
})
