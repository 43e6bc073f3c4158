/**
 * @module Marathon — the Marathon / DC/OS client as an Effect service, assembled from its parts:
 * {@link makeTransport} (URLs, auth with DC/OS login and re-login, retries, lost answers),
 * {@link makeApps} (app calls and Schemas) and {@link makeDeployments} (ONE deployment for a set of
 * image changes, wait, verify, cancel with rollback; never re-sent blindly). The HTTP client is
 * injected. Library users use this service directly; the workflows drive it through
 * {@link MarathonTarget} (the Target contract).
 */
import { Context, Effect, Layer } from "effect"
import type { HttpClient } from "effect/http"
import { makeApps } from "./Apps.ts"
import { makeDeployments } from "./Deployments.ts"
import type { AppVerification, DeploymentStarted, DeploymentSummary, ImageChange, WaitOptions } from "./Deployments.ts"
import type { MarathonApp } from "./MarathonApp.ts"
import type { MarathonError } from "./MarathonError.ts"
import type { MarathonConfig } from "./Transport.ts"
import { makeTransport } from "./Transport.ts"

export { LOST_ANSWER_CHECK_MS } from "./Deployments.ts"
export type { AppVerification, DeploymentProgress, DeploymentStarted, DeploymentSummary, ImageChange, WaitOptions } from "./Deployments.ts"
export { lastFailureMarker, READ_ONLY_APP_FIELDS } from "./MarathonApp.ts"
export type { MarathonApp } from "./MarathonApp.ts"
export { MarathonError } from "./MarathonError.ts"
export type { MarathonErrorReason } from "./MarathonError.ts"
export type { MarathonConfig } from "./Transport.ts"

/** The operations of the Marathon client. */
export interface MarathonShape {
  /** `GET /v2/apps`, restricted to a group (`/shop/prod`: its apps and subgroups) and/or a label selector. */
  readonly listApps: (
    options?: { readonly idPrefix?: string; readonly label?: string }
  ) => Effect.Effect<ReadonlyArray<MarathonApp>, MarathonError>
  /** `GET /v2/apps/{id}`. */
  readonly getApp: (id: string) => Effect.Effect<MarathonApp, MarathonError>
  /** Several apps in ONE `GET /v2/apps` of their common group (one app: `GET /v2/apps/{id}`); missing ones are absent, keyed by normalized id. */
  readonly readApps: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, MarathonApp>, MarathonError>
  /** `GET /v2/apps/{id}/versions`: the app's versions, newest first (Marathon's order is undocumented). */
  readonly appVersions: (id: string) => Effect.Effect<ReadonlyArray<string>, MarathonError>
  /** `GET /v2/apps/{id}/versions/{version}`: the app as it was defined in that version (no counts). */
  readonly appVersion: (id: string, version: string) => Effect.Effect<MarathonApp, MarathonError>
  /**
   * ONE `PUT /v2/apps?partialUpdate=true[&force=true]` with an array: each element is the app's
   * id and its complete current container with only `docker.image` changed. Never repeated
   * blindly: the deployments running before are listed first; after a lost answer, a 5xx or a 409
   * on a repeat, the apps and the deployments are read (within {@link LOST_ANSWER_CHECK_MS}) to
   * tell whether this change was applied — the apps show it, or a deployment that was not running
   * before touches exactly these apps (Marathon lists it before it stores the new definitions) —
   * then its deployment is returned (`answerLost` says so); when it certainly was not, a
   * 502/503/504 or a lost answer is retried with backoff; when it cannot be told, the error is
   * `Indeterminate` (`noAnswer` when Marathon did not answer at all). Any other error means
   * nothing was changed.
   */
  readonly deployImages: (
    changes: ReadonlyArray<ImageChange>,
    options?: { readonly force?: boolean; readonly timeoutMs?: number | undefined }
  ) => Effect.Effect<DeploymentStarted, MarathonError>
  /** Polls `GET /v2/deployments` until the deployment is gone; own timeout → `DeploymentTimeout`. */
  readonly waitForDeployment: (deploymentId: string, options?: WaitOptions) => Effect.Effect<void, MarathonError>
  /**
   * Image equals the target, no deployment still touching the app, all instances running (and
   * healthy), no new `lastTaskFailure`. Fails only when Marathon cannot be read.
   */
  readonly verifyApps: (
    changes: ReadonlyArray<ImageChange>,
    since: { readonly previousFailures: Record<string, string | undefined> }
  ) => Effect.Effect<ReadonlyArray<AppVerification>, MarathonError>
  /**
   * `DELETE /v2/deployments/{id}`: with revert (default) Marathon rolls back and returns the revert
   * deployment. Never repeated blindly: after a lost answer the deployment list tells whether the
   * cancel happened (then the revert deployment is looked up there, and `answerLost` says so).
   * Gone without a revert listed (no `revertDeploymentId`) may mean that the deployment finished
   * before the cancel: nothing was reverted, the caller must put the previous images back itself.
   */
  readonly cancelDeployment: (
    deploymentId: string,
    options?: { readonly revert?: boolean }
  ) => Effect.Effect<{ readonly revertDeploymentId?: string; readonly answerLost?: string }, MarathonError>
  /** `GET /v2/deployments`. */
  readonly deployments: Effect.Effect<ReadonlyArray<DeploymentSummary>, MarathonError>
}

const makeMarathon = (config: MarathonConfig): Effect.Effect<MarathonShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const transport = yield* makeTransport(config)
    const apps = makeApps(transport)
    const d = makeDeployments(transport, apps)
    return {
      listApps: apps.listApps,
      getApp: apps.getApp,
      readApps: apps.readApps,
      appVersions: apps.appVersions,
      appVersion: apps.appVersion,
      deployImages: d.deployImages,
      waitForDeployment: d.waitForDeployment,
      verifyApps: d.verifyApps,
      cancelDeployment: d.cancelDeployment,
      deployments: d.listDeployments
    } satisfies MarathonShape
  })

/** The base class of {@link Marathon}, declared with its type (JSR: no slow types). */
const Marathon_base: Context.ServiceClass<Marathon, "fleet-rollback/marathon/Marathon", MarathonShape> = Context.Service<Marathon, MarathonShape>()("fleet-rollback/marathon/Marathon")

/** The Marathon / DC/OS client. */
export class Marathon extends Marathon_base {
  /** The client for one Marathon (or DC/OS cluster); needs an `HttpClient`. */
  static readonly layer = (config: MarathonConfig): Layer.Layer<Marathon, never, HttpClient.HttpClient> =>
    Layer.effect(Marathon, makeMarathon(config))
}
