/**
 * @module fleet-rollback/promise — the small Promise API for people who do not use Effect:
 * plain options in, plain objects out. `getRollbacks`, `plan`, `run`, `undo`.
 *
 * Secrets are options here (a library caller decides where they come from); they are never
 * written to the results. HTTP goes through the runtime's `fetch` (Node's undici, Deno's fetch).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import type { RollbackPlan } from "./core/Plan.ts"
import type { RollbackReport } from "./core/Report.ts"
import type { RollbackFile } from "./core/RollbackFile.ts"
import { resolveTagScheme } from "./core/TagScheme.ts"
import type { Granularity, IgnoredSummary } from "./core/Timeline.ts"
import { Marathon } from "./marathon/Marathon.ts"
import type { MarathonConfig } from "./marathon/Marathon.ts"
import { Notifier } from "./notify/Slack.ts"
import { Registry, RegistryWire } from "./registry/Registry.ts"
import { getRollbacks as getRollbacksEffect } from "./workflow/GetRollbacks.ts"
import { planFleet } from "./workflow/PlanFleet.ts"
import { RollbackError } from "./workflow/RollbackError.ts"
import { runRollback, undoRollback } from "./workflow/RunRollback.ts"

export { RollbackError } from "./workflow/RollbackError.ts"
export type { RollbackFile, RollbackPlan, RollbackReport }

/** Where the registry is and how to log in. */
export interface RegistryOptions {
  readonly url: string
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly platform?: string | undefined
  readonly cacheDir?: string | undefined
}

/** Where Marathon is and how to log in (one of: DC/OS uid + password or private key, token, basic). */
export interface MarathonOptions {
  readonly url: string
  readonly dcos?: { readonly uid: string; readonly password?: string | undefined; readonly privateKeyPem?: string | undefined } | undefined
  readonly token?: string | undefined
  readonly basic?: { readonly username: string; readonly password: string } | undefined
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
  }).pipe(Layer.provide(Layer.mergeAll(RegistryWire.layerHttpClient.pipe(Layer.provide(FetchHttpClient.layer)), NodeFileSystem.layer)))

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
  return Marathon.layer(config).pipe(Layer.provide(FetchHttpClient.layer))
}

const notifierLayer = (slackWebhookUrl: string | undefined) =>
  slackWebhookUrl === undefined ? Notifier.none : Notifier.slack({ webhookUrl: Redacted.make(slackWebhookUrl) }).pipe(Layer.provide(FetchHttpClient.layer))

/** Runs an effect; a RollbackError rejects as itself (with `kind`, `message`, `exitCode`). */
const toPromise = <A>(effect: Effect.Effect<A, RollbackError>): Promise<A> => Effect.runPromise(effect)

/** Reads the registry and returns `rollback.json` (as an object) and what was ignored per service. */
export const getRollbacks = (options: GetRollbacksOptions): Promise<{ readonly file: RollbackFile; readonly ignored: Readonly<Record<string, IgnoredSummary>> }> => {
  const schemeSpec = options.scheme ?? "build-branch"
  const scheme = resolveTagScheme(schemeSpec)
  if ("_tag" in scheme) return Promise.reject(new RollbackError({ kind: "BadInput", message: scheme.message }))
  return toPromise(
    getRollbacksEffect({
      services: options.services,
      registryUrl: options.registry.url,
      scheme,
      schemeName: schemeSpec,
      environment: options.environment,
      tagFilter: options.tagFilter ?? options.environment,
      granularity: options.granularity ?? "instant",
      timeZone: options.timeZone ?? "UTC"
    }).pipe(Effect.provide(registryLayer(options.registry)))
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
    planFleet(options.file, options.point, { timeZone: options.timeZone, scope: options.scope, pinDigest: options.pinDigest }).pipe(
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
    runRollback(options.file, options.point, {
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
      environment: options.file.environment,
      marathonUrl: options.marathon.url
    }).pipe(
      Effect.map((result) => result.report),
      Effect.provide(Layer.mergeAll(marathonLayer(options.marathon), registryLayer(options.registry ?? { url: options.file.registry }), notifierLayer(options.slackWebhookUrl)))
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
    undoRollback(options.report, {
      user: options.user,
      force: options.force,
      timeoutMs: options.timeoutMs,
      pollMs: options.pollMs,
      environment: options.report.environment,
      marathonUrl: options.marathon.url
    }).pipe(Effect.map((result) => result.report), Effect.provide(Layer.mergeAll(marathonLayer(options.marathon), notifierLayer(options.slackWebhookUrl))))
  )
