/**
 * @module MarathonApp — Marathon's AppInfo and deployment JSON decoded with Schema at the boundary,
 * the raw AppInfo kept so the complete container can be sent back with only the image changed.
 */
import { Schema } from "effect"

/** The slice of an AppInfo the client reads; everything else stays in `raw`. */
export const AppInfoJson = Schema.Struct({
  id: Schema.String,
  instances: Schema.optional(Schema.Number),
  version: Schema.optional(Schema.String),
  container: Schema.optional(Schema.NullOr(Schema.Struct({
    docker: Schema.optional(Schema.NullOr(Schema.Struct({ image: Schema.optional(Schema.NullOr(Schema.String)) })))
  }))),
  tasksRunning: Schema.optional(Schema.Number),
  tasksHealthy: Schema.optional(Schema.Number),
  healthChecks: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown))),
  lastTaskFailure: Schema.optional(Schema.NullOr(Schema.Struct({
    version: Schema.optional(Schema.String),
    message: Schema.optional(Schema.String),
    timestamp: Schema.optional(Schema.String)
  }))),
  deployments: Schema.optional(Schema.NullOr(Schema.Array(Schema.Struct({ id: Schema.String })))),
  labels: Schema.optional(Schema.NullOr(Schema.Record(Schema.String, Schema.String)))
})

/** `GET /v2/apps` body. */
export const AppListJson = Schema.Struct({ apps: Schema.Array(Schema.Unknown) })

/** `GET /v2/apps/{id}` body. */
export const AppWrapperJson = Schema.Struct({ app: Schema.Unknown })

/** `PUT /v2/apps` and `DELETE /v2/deployments/{id}` body. */
export const DeploymentResultJson = Schema.Struct({ deploymentId: Schema.String, version: Schema.String })

/** One element of `GET /v2/deployments`. */
export const DeploymentJson = Schema.Struct({
  id: Schema.String,
  version: Schema.optional(Schema.String),
  affectedApps: Schema.optional(Schema.Array(Schema.String)),
  currentStep: Schema.optional(Schema.Number),
  totalSteps: Schema.optional(Schema.Number)
})

/** `GET /v2/deployments` body. */
export const DeploymentListJson = Schema.Array(DeploymentJson)

/** A running Marathon app: what the client needs, plus the AppInfo as received. */
export interface MarathonApp {
  readonly id: string
  readonly instances: number
  /** `container.docker.image` (DOCKER and MESOS containers alike). */
  readonly image: string | undefined
  readonly tasksRunning: number
  readonly tasksHealthy: number
  readonly hasHealthChecks: boolean
  readonly lastTaskFailure: { readonly version?: string; readonly message?: string; readonly timestamp?: string } | undefined
  readonly version: string
  /** Ids of the deployments currently touching this app. */
  readonly deployments: ReadonlyArray<string>
  readonly labels: Record<string, string>
  /** The AppInfo as received. */
  readonly raw: Record<string, unknown>
}

/** Builds a {@link MarathonApp} from a decoded AppInfo and its raw JSON. */
export const toMarathonApp = (info: typeof AppInfoJson.Type, raw: Record<string, unknown>): MarathonApp => {
  const failure = info.lastTaskFailure ?? undefined
  return {
    id: info.id,
    instances: info.instances ?? 1,
    image: info.container?.docker?.image ?? undefined,
    tasksRunning: info.tasksRunning ?? 0,
    tasksHealthy: info.tasksHealthy ?? 0,
    hasHealthChecks: (info.healthChecks ?? []).length > 0,
    lastTaskFailure: failure === undefined
      ? undefined
      : {
        ...(failure.version !== undefined ? { version: failure.version } : {}),
        ...(failure.message !== undefined ? { message: failure.message } : {}),
        ...(failure.timestamp !== undefined ? { timestamp: failure.timestamp } : {})
      },
    version: info.version ?? "",
    deployments: (info.deployments ?? []).map((d) => d.id),
    labels: { ...(info.labels ?? {}) },
    raw
  }
}

/**
 * A marker of an app's last task failure (its timestamp, else version + message), to record
 * before a deployment and pass to `verifyApps` as `previousFailures[appId]`.
 */
export const lastFailureMarker = (app: Pick<MarathonApp, "lastTaskFailure">): string | undefined => {
  const f = app.lastTaskFailure
  if (f === undefined) return undefined
  if (f.timestamp !== undefined) return f.timestamp
  if (f.version === undefined && f.message === undefined) return undefined
  return `${f.version ?? ""} ${f.message ?? ""}`.trim()
}

/** Fields Marathon returns but refuses (or ignores) in a PUT; never sent back. */
export const READ_ONLY_APP_FIELDS: ReadonlyArray<string> = [
  "version",
  "versionInfo",
  "tasks",
  "tasksRunning",
  "tasksStaged",
  "tasksHealthy",
  "tasksUnhealthy",
  "deployments",
  "readinessCheckResults",
  "lastTaskFailure",
  "taskStats"
]

/** The raw AppInfo without its read-only fields (a definition that could be PUT back as a whole). */
export const withoutReadOnlyFields = (raw: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(raw).filter(([k]) => !READ_ONLY_APP_FIELDS.includes(k)))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The app's complete current `container` with only `docker.image` replaced (a partial update
 * replaces top-level fields whole, so everything else — port mappings, volumes, parameters — must
 * travel along). Undefined when the app has no `container.docker` to change.
 */
export const containerWithImage = (raw: Record<string, unknown>, image: string): Record<string, unknown> | undefined => {
  const container = raw["container"]
  if (!isRecord(container)) return undefined
  const docker = container["docker"]
  if (!isRecord(docker)) return undefined
  return { ...container, docker: { ...docker, image } }
}
