/**
 * @module Credentials — the bearer token or client certificate each request carries, as client-go
 * gets them: a static token; a token file re-read every minute and after a 401 (service-account
 * tokens rotate); an `exec` credential plugin run with `KUBERNETES_EXEC_INFO`, whose
 * ExecCredential (`client.authentication.k8s.io/v1` or `v1beta1`, the same as configured) gives a
 * token or a client certificate and key, cached until its `expirationTimestamp` and run again
 * after it or after a 401 (FACTS.md; client-go `exec.go`). One plugin run at a time. Nothing here
 * ever puts a token or key into a message.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Effect, Ref, Schema, Semaphore } from "effect"
import { TargetError } from "../../target/TargetError.ts"
import type { ClusterAccess, ExecPlugin } from "./Kubeconfig.ts"

/** What one request authenticates with. */
export interface RequestCredentials {
  readonly token?: string | undefined
  readonly clientCertPem?: string | undefined
  readonly clientKeyPem?: string | undefined
}

/** The credentials of one cluster access. */
export interface Credentials {
  /** The credentials to send now (running the plugin or reading the file when due). */
  readonly current: Effect.Effect<RequestCredentials, TargetError>
  /** After a 401: forget a plugin's or file's credentials so the next `current` gets new ones. Returns whether anything can be renewed. */
  readonly invalidate: Effect.Effect<boolean>
}

/** The ExecCredential a plugin prints. */
const ExecCredential = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.Literal("ExecCredential"),
  status: Schema.Struct({
    token: Schema.optionalKey(Schema.String),
    clientCertificateData: Schema.optionalKey(Schema.String),
    clientKeyData: Schema.optionalKey(Schema.String),
    expirationTimestamp: Schema.optionalKey(Schema.String)
  })
})

const TOKEN_FILE_REFRESH_MS = 60_000

const pluginFailed = (plugin: ExecPlugin, why: string) =>
  new TargetError({
    reason: "Unauthorized",
    message: `the kubeconfig's exec credential plugin "${plugin.command}" ${why}${plugin.installHint === undefined ? "" : ` (${plugin.installHint.trim()})`}`
  })

/** Runs the plugin once and decodes its answer (with the server's clock for the expiry). */
const runPlugin = (plugin: ExecPlugin, access: ClusterAccess): Effect.Effect<{ readonly credentials: RequestCredentials; readonly expiresAt: number | undefined }, TargetError> =>
  Effect.callback<string, TargetError>((resume) => {
    const info = {
      apiVersion: plugin.apiVersion,
      kind: "ExecCredential",
      spec: { interactive: false, ...(plugin.provideClusterInfo ? { cluster: { server: access.server, ...(access.caPem === undefined ? {} : { "certificate-authority-data": Buffer.from(access.caPem).toString("base64") }) } } : {}) }
    }
    const command = plugin.command.includes("/") && !path.isAbsolute(plugin.command) ? path.resolve(plugin.baseDir, plugin.command) : plugin.command
    const env = { ...process.env, ...Object.fromEntries(plugin.env.map((e) => [e.name, e.value])), KUBERNETES_EXEC_INFO: JSON.stringify(info) }
    const child = execFile(command, [...plugin.args], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error === null) return resume(Effect.succeed(stdout))
      const code = (error as { code?: unknown }).code
      resume(Effect.fail(pluginFailed(plugin, code === "ENOENT" ? "was not found" : `failed (${typeof code === "number" ? `exit ${code}` : (error as Error).message}): ${stderr.trim().slice(0, 300)}`)))
    })
    return Effect.sync(() => void child.kill())
  }).pipe(
    Effect.flatMap((stdout) =>
      Effect.try({ try: () => JSON.parse(stdout) as unknown, catch: () => pluginFailed(plugin, "printed something other than an ExecCredential JSON object") })
    ),
    Effect.flatMap((json) => Schema.decodeUnknownEffect(ExecCredential)(json).pipe(Effect.mapError(() => pluginFailed(plugin, "printed JSON that is not an ExecCredential (kind, apiVersion, status)")))),
    Effect.flatMap((credential) => {
      if (credential.apiVersion !== plugin.apiVersion) {
        return Effect.fail(pluginFailed(plugin, `answered with apiVersion ${credential.apiVersion}, not the configured ${plugin.apiVersion}`))
      }
      const s = credential.status
      if ((s.clientCertificateData === undefined) !== (s.clientKeyData === undefined)) {
        return Effect.fail(pluginFailed(plugin, "gave a client certificate without its key (or a key without its certificate)"))
      }
      if (s.token === undefined && s.clientCertificateData === undefined) return Effect.fail(pluginFailed(plugin, "gave neither a token nor a client certificate"))
      const expiresAt = s.expirationTimestamp === undefined ? undefined : Date.parse(s.expirationTimestamp)
      if (expiresAt !== undefined && Number.isNaN(expiresAt)) return Effect.fail(pluginFailed(plugin, `gave an expirationTimestamp that is not a date: ${s.expirationTimestamp}`))
      return Effect.succeed({ credentials: { token: s.token, clientCertPem: s.clientCertificateData, clientKeyPem: s.clientKeyData }, expiresAt })
    })
  )

const readTokenFile = (file: string): Effect.Effect<string, TargetError> =>
  Effect.try({
    try: () => fs.readFileSync(file, "utf8").trim(),
    catch: (cause) => new TargetError({ reason: "Unauthorized", message: `cannot read the token file ${file}: ${(cause as Error).message}` })
  })

/** The credentials of a cluster access (static, token file or exec plugin). */
export const makeCredentials = (access: ClusterAccess): Effect.Effect<Credentials> =>
  Effect.gen(function*() {
    const cached = yield* Ref.make<{ readonly credentials: RequestCredentials; readonly expiresAt: number | undefined } | undefined>(undefined)
    const lock = yield* Semaphore.make(1)
    const staticCredentials: RequestCredentials = { token: access.token, clientCertPem: access.clientCertPem, clientKeyPem: access.clientKeyPem }
    const plugin = access.exec
    const tokenFile = access.tokenFile
    if (plugin === undefined && tokenFile === undefined) {
      return { current: Effect.succeed(staticCredentials), invalidate: Effect.succeed(false) }
    }
    const fetch: Effect.Effect<{ readonly credentials: RequestCredentials; readonly expiresAt: number | undefined }, TargetError> = plugin !== undefined
      ? runPlugin(plugin, access).pipe(Effect.map((r) => ({ credentials: { ...staticCredentials, ...definedOnly(r.credentials) }, expiresAt: r.expiresAt })))
      : Effect.gen(function*() {
        const token = yield* readTokenFile(tokenFile!)
        return { credentials: { ...staticCredentials, token }, expiresAt: (yield* Clock.currentTimeMillis) + TOKEN_FILE_REFRESH_MS }
      })
    const current = Semaphore.withPermits(lock, 1)(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const have = yield* Ref.get(cached)
      if (have !== undefined && (have.expiresAt === undefined || now < have.expiresAt)) return have.credentials
      const fresh = yield* fetch
      yield* Ref.set(cached, fresh)
      return fresh.credentials
    }))
    return { current, invalidate: Ref.set(cached, undefined).pipe(Effect.as(true)) }
  })

const definedOnly = (c: RequestCredentials): RequestCredentials =>
  Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as RequestCredentials
