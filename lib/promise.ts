/**
 * @module fleet-rollback/promise — the small Promise API for people who do not use Effect:
 * plain options in, plain objects out. `getRollbacks`, `plan`, `run`, `undo`. `plan`, `run` and
 * `undo` take Marathon options and run through the deployment Target contract (MarathonTarget).
 *
 * Secrets are options here (a library caller decides where they come from); they are never
 * written to the results, and a URL that carries them (`https://user:pass@host`) is refused, as
 * the command line refuses it: its URL goes into the report. What comes in is checked first: `file` and `report` are decoded with
 * the core's Schemas (a hand-edited or truncated rollback.json rejects with a RollbackError
 * naming the field, not a TypeError from deep inside).
 *
 * HTTP: on Node, the same undici stack as the command line (connection pools, the system CAs,
 * `caFile`, `insecureSkipVerify`); on Deno, Deno's `fetch`, whose trust store is set when Deno
 * starts (`--cert ca.pem` or `DENO_CERT`, `--unsafely-ignore-certificate-errors=host`), so the two
 * TLS options are refused there with that advice. Log lines (warnings) go to stderr.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer, Logger, Redacted, Result, Schema, SchemaIssue } from "effect"
import { FetchHttpClient } from "effect/http"
import type { HttpClient } from "effect/http"
import type { RollbackPlan } from "./core/Plan.ts"
import { RollbackReport as RollbackReportSchema } from "./core/Report.ts"
import type { ReportTarget, RollbackReport } from "./core/Report.ts"
import { decodeRollbackFile, stripCredentials } from "./core/RollbackFile.ts"
import type { RollbackFile } from "./core/RollbackFile.ts"
import { resolveTagScheme } from "./core/TagScheme.ts"
import type { Granularity, IgnoredSummary } from "./core/Timeline.ts"
import type { MarathonConfig } from "./targets/marathon/Marathon.ts"
import { describeMarathon, MarathonTarget } from "./targets/marathon/MarathonTarget.ts"
import { Notifier } from "./notify/Slack.ts"
import { Registry, RegistryWire } from "./registry/Registry.ts"
import { getRollbacks as getRollbacksEffect } from "./workflow/GetRollbacks.ts"
import { planFleet } from "./workflow/PlanFleet.ts"
import { badInput, RollbackError } from "./workflow/RollbackError.ts"
import { runRollback, undoRollback } from "./workflow/RunRollback.ts"

export { RollbackError } from "./workflow/RollbackError.ts"
export type { RollbackFile, RollbackPlan, RollbackReport }

/** How to check a server's TLS certificate (Node only; on Deno see the module comment). */
export interface TlsOptions {
  /** A PEM file of CA certificates to trust besides the system's (a private registry's CA). */
  readonly caFile?: string | undefined
  /** DANGEROUS: do not check certificates at all (logs a warning). */
  readonly insecureSkipVerify?: boolean | undefined
}

/** Where the registry is and how to log in. */
export interface RegistryOptions extends TlsOptions {
  readonly url: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly platform?: string | undefined
  readonly cacheDir?: string | undefined
}

/** Where Marathon is and how to log in (one of: DC/OS uid + password or private key, token, basic). */
export interface MarathonOptions extends TlsOptions {
  readonly url: string
  readonly dcos?: { readonly uid: string; readonly password?: string | undefined; readonly privateKeyPem?: string | undefined } | undefined
  readonly token?: string | undefined
  readonly basic?: { readonly username: string; readonly password: string } | undefined
}

const isDeno = (globalThis as { readonly Deno?: unknown }).Deno !== undefined

/**
 * The HTTP client (and the registry wire on the same connections) for one remote system:
 * undici on Node (loaded on first use), `fetch` on Deno. `what` names the options in messages.
 */
const httpLayer = (tls: TlsOptions, what: string): Layer.Layer<HttpClient.HttpClient | RegistryWire, RollbackError> => {
  const wantsTls = (tls.caFile !== undefined && tls.caFile !== "") || tls.insecureSkipVerify === true
  if (isDeno) {
    if (wantsTls) {
      return Layer.effectContext(Effect.fail(badInput(
        `${what}.caFile / ${what}.insecureSkipVerify work on Node only: on Deno, start deno with --cert ca.pem (or DENO_CERT=ca.pem) to trust a CA, or --unsafely-ignore-certificate-errors=<host>`
      )))
    }
    return RegistryWire.layerHttpClient.pipe(Layer.provideMerge(FetchHttpClient.layer))
  }
  return Layer.unwrap(
    Effect.promise(() => import("./node/NodeHttp.ts")).pipe(
      Effect.map(({ nodeHttpClientLayer }) => nodeHttpClientLayer({ caFile: tls.caFile, insecureSkipVerify: tls.insecureSkipVerify }))
    )
  ).pipe(Layer.catchTag("RegistryError", (e) => Layer.effectContext(Effect.fail(badInput(`${what}: ${e.message}`)))))
}

const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * `url` as an http(s) URL without user info (as the command line's `--marathon`/`--registry`
 * check it): credentials belong in the options meant for them, never in a URL that reports,
 * rollback.json and messages repeat. `what` names the option.
 */
const checkUrl = (url: string, what: string, instead: string): Effect.Effect<void, RollbackError> => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    return Effect.fail(badInput(`${what} ${JSON.stringify(stripCredentials(url))} is not a URL: expected https://host[:port] (or http:// for a plain-text endpoint)`))
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return Effect.fail(badInput(`${what} must not carry credentials in the URL (user:password@ would end up in the report and messages): pass them as ${instead}`))
  }
  return Effect.void
}

const MARATHON_CREDENTIALS = "marathon.basic, marathon.token or marathon.dcos"

/** How the report names this Marathon, so that `undo` (library or command line) goes back there: as the target describes itself. */
const marathonTarget = (options: MarathonOptions): ReportTarget =>
  describeMarathon({ url: options.url, ...(options.dcos !== undefined ? { dcos: { uid: options.dcos.uid } } : {}) })

/** `options.file`, decoded with the rollback.json Schema (a parsed file from disk or `getRollbacks`). */
const decodeFile = (file: unknown): Effect.Effect<RollbackFile, RollbackError> => {
  const decoded = decodeRollbackFile(file, "options.file")
  return Result.isSuccess(decoded) ? Effect.succeed(decoded.success) : Effect.fail(badInput(decoded.failure.message))
}

/** `options.report`, decoded with the report Schema (a parsed report file or what `run` resolved with). */
const decodeReport = (report: unknown): Effect.Effect<RollbackReport, RollbackError> => {
  const decoded = Schema.decodeUnknownResult(RollbackReportSchema)(report, { errors: "all" })
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(badInput(`options.report is not a fleet-rollback report (what run resolved with, or a rollback-report.json):\n${formatIssue(decoded.failure.issue)}`))
}

/** Options of {@link getRollbacks}. */
export interface GetRollbacksOptions {
  readonly registry: RegistryOptions
  /** Service name → repository (and optional Marathon app). */
  readonly services: ReadonlyArray<{ readonly name: string; readonly repository: string; readonly app?: string | undefined }>
  /** Tag scheme preset or custom pattern; default `build-branch`. */
  readonly scheme?: string | undefined
  readonly environment?: string | undefined
  /** The scheme's env/branch to keep (default: the environment name). */
  readonly tagFilter?: string | undefined
  readonly granularity?: Granularity | undefined
  readonly timeZone?: string | undefined
}

const registryLayer = (options: RegistryOptions) =>
  Registry.layer({
    url: options.url,
    ...(options.username !== undefined && options.password !== undefined ? { credentials: { username: options.username, password: Redacted.make(options.password) } } : {}),
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    cacheDir: options.cacheDir
  }).pipe(Layer.provide(Layer.mergeAll(httpLayer(options, "registry"), NodeFileSystem.layer)))

const marathonLayer = (options: MarathonOptions) => {
  const config: MarathonConfig = {
    url: options.url,
    ...(options.dcos !== undefined
      ? {
        dcos: {
          uid: options.dcos.uid,
          ...(options.dcos.password !== undefined ? { password: Redacted.make(options.dcos.password) } : {}),
          ...(options.dcos.privateKeyPem !== undefined ? { privateKeyPem: Redacted.make(options.dcos.privateKeyPem) } : {})
        }
      }
      : {}),
    ...(options.token !== undefined ? { token: Redacted.make(options.token) } : {}),
    ...(options.basic !== undefined ? { basic: { username: options.basic.username, password: Redacted.make(options.basic.password) } } : {})
  }
  // the workflows drive the Target; Marathon is the target here
  return MarathonTarget.layerFromConfig(config).pipe(Layer.provide(httpLayer(options, "marathon")))
}

const notifierLayer = (slackWebhookUrl: string | undefined) =>
  slackWebhookUrl === undefined ? Notifier.none : Notifier.slack({ webhookUrl: Redacted.make(slackWebhookUrl) }).pipe(Layer.provide(httpLayer({}, "slack")))

/** Runs an effect, logs on stderr; a RollbackError rejects as itself (with `kind`, `message`, `exitCode`). */
const toPromise = <A>(effect: Effect.Effect<A, RollbackError>): Promise<A> => Effect.runPromise(effect.pipe(Effect.provideService(Logger.LogToStderr, true)))

/** Reads the registry and returns `rollback.json` (as an object) and what was ignored per service. */
export const getRollbacks = (options: GetRollbacksOptions): Promise<{ readonly file: RollbackFile; readonly ignored: Readonly<Record<string, IgnoredSummary>> }> => {
  const schemeSpec = options.scheme ?? "build-branch"
  const scheme = resolveTagScheme(schemeSpec)
  if ("_tag" in scheme) return Promise.reject(new RollbackError({ kind: "BadInput", message: scheme.message }))
  return toPromise(
    checkUrl(options.registry.url, "options.registry.url", "registry.username and registry.password").pipe(Effect.andThen(getRollbacksEffect({
      services: options.services,
      registryUrl: options.registry.url,
      scheme,
      schemeName: schemeSpec,
      environment: options.environment,
      tagFilter: options.tagFilter ?? options.environment,
      granularity: options.granularity ?? "instant",
      timeZone: options.timeZone ?? "UTC"
    })), Effect.provide(registryLayer(options.registry)))
  )
}

/** Options of {@link plan}. */
export interface PlanOptions {
  readonly file: RollbackFile
  readonly point: string
  readonly marathon: MarathonOptions
  readonly timeZone?: string | undefined
  readonly scope?: { readonly idPrefix?: string | undefined; readonly labelSelector?: string | undefined } | undefined
  readonly pinDigest?: boolean | undefined
}

/** What `run` would do at a point, changing nothing. */
export const plan = (options: PlanOptions): Promise<RollbackPlan> =>
  toPromise(
    checkUrl(options.marathon.url, "options.marathon.url", MARATHON_CREDENTIALS).pipe(
      Effect.andThen(decodeFile(options.file)),
      Effect.flatMap((file) => planFleet(file, options.point, { timeZone: options.timeZone, scope: options.scope, pinDigest: options.pinDigest })),
      Effect.map((fleet) => fleet.plan),
      Effect.provide(marathonLayer(options.marathon))
    )
  )

/** Options of {@link run}. */
export interface RunOptions extends PlanOptions {
  /** Registry to re-check the tags against (default: the file's registry, anonymous). */
  readonly registry?: RegistryOptions | undefined
  readonly user: string
  readonly allowPartial?: boolean | undefined
  readonly allowForward?: boolean | undefined
  readonly allowMovedTags?: boolean | undefined
  readonly force?: boolean | undefined
  readonly revertOnFailure?: boolean | undefined
  readonly timeoutMs?: number | undefined
  readonly pollMs?: number | undefined
  readonly slackWebhookUrl?: string | undefined
}

/** Rolls back to a point and resolves with the report (also when the rollback failed: check `outcome`). */
export const run = (options: RunOptions): Promise<RollbackReport> =>
  toPromise(
    checkUrl(options.marathon.url, "options.marathon.url", MARATHON_CREDENTIALS).pipe(
      Effect.andThen(options.registry !== undefined ? checkUrl(options.registry.url, "options.registry.url", "registry.username and registry.password") : Effect.void),
      Effect.andThen(decodeFile(options.file)),
      Effect.flatMap((file) =>
        runRollback(file, options.point, {
          timeZone: options.timeZone,
          scope: options.scope,
          pinDigest: options.pinDigest,
          allowPartial: options.allowPartial,
          allowForward: options.allowForward,
          allowMovedTags: options.allowMovedTags,
          force: options.force,
          revertOnFailure: options.revertOnFailure,
          timeoutMs: options.timeoutMs,
          pollMs: options.pollMs,
          user: options.user,
          environment: file.environment,
          marathonUrl: options.marathon.url,
          target: marathonTarget(options.marathon)
        }).pipe(
          Effect.map((result) => result.report),
          Effect.provide(Layer.mergeAll(marathonLayer(options.marathon), registryLayer(options.registry ?? { url: file.registry }), notifierLayer(options.slackWebhookUrl)))
        )
      )
    )
  )

/** Options of {@link undo}. */
export interface UndoOptions {
  readonly report: RollbackReport
  readonly marathon: MarathonOptions
  readonly user: string
  readonly force?: boolean | undefined
  readonly timeoutMs?: number | undefined
  readonly pollMs?: number | undefined
  readonly slackWebhookUrl?: string | undefined
}

/** Puts back what ran before a rollback, from its report; resolves with the undo's own report. */
export const undo = (options: UndoOptions): Promise<RollbackReport> =>
  toPromise(
    checkUrl(options.marathon.url, "options.marathon.url", MARATHON_CREDENTIALS).pipe(
      Effect.andThen(decodeReport(options.report)),
      Effect.flatMap((report) =>
        undoRollback(report, {
          user: options.user,
          force: options.force,
          timeoutMs: options.timeoutMs,
          pollMs: options.pollMs,
          environment: report.environment,
          marathonUrl: options.marathon.url,
          target: marathonTarget(options.marathon)
        }).pipe(Effect.map((result) => result.report), Effect.provide(Layer.mergeAll(marathonLayer(options.marathon), notifierLayer(options.slackWebhookUrl))))
      )
    )
  )
