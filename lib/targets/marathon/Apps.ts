/**
 * @module Apps — Marathon's app calls: list (a group and a label selector), read one, its
 * versions; each answer decoded with the app Schemas into a {@link MarathonApp}.
 */
import { Effect, Schema } from "effect"
import { groupPath, inGroup, normalizeAppId } from "./AppMatching.ts"
import { AppInfoJson, AppListJson, AppWrapperJson, toMarathonApp } from "./MarathonApp.ts"
import type { MarathonApp } from "./MarathonApp.ts"
import type { Call, Transport } from "./Transport.ts"

/** `GET /v2/apps/{id}/versions`. */
const AppVersionsJson = Schema.Struct({ versions: Schema.Array(Schema.String) })

const decodeAppInfo = Schema.decodeUnknownEffect(AppInfoJson)

/** The deepest group holding every one of these (normalized) app ids: `/shop` for `/shop/a` and `/shop/eu/b`. */
export const commonGroup = (ids: ReadonlyArray<string>): string => {
  const paths = ids.map((id) => normalizeAppId(id).split("/").slice(1, -1))
  const first = paths[0] ?? []
  let depth = 0
  while (depth < first.length && paths.every((p) => p[depth] === first[depth])) depth++
  return `/${first.slice(0, depth).join("/")}`
}

/** The app calls over a transport. */
export const makeApps = (transport: Transport) => {
  const { expect, badBody, decodeWith } = transport
  const appFromJson = (call: Call) => (json: unknown) =>
    decodeAppInfo(json).pipe(
      Effect.mapError(badBody(call, "a Marathon AppInfo")),
      Effect.map((info) => toMarathonApp(info, json as Record<string, unknown>))
    )

  const appPath = (id: string) =>
    `/v2/apps${normalizeAppId(id).split("/").map((s) => encodeURIComponent(s)).join("/")}`

  // ---------------------------------------------------------------------------------------
  // Operations

  const listApps = Effect.fn("Marathon.listApps")(function*(
    options?: { readonly idPrefix?: string; readonly label?: string }
  ) {
    // counts and deployments are always embedded; the last task failure only on request
    const query: Record<string, string> = { embed: "apps.lastTaskFailure" }
    if (options?.idPrefix !== undefined && options.idPrefix !== "") query["id"] = groupPath(options.idPrefix)
    if (options?.label !== undefined && options.label !== "") query["label"] = options.label
    const call: Call = { method: "GET", path: "/v2/apps", query, what: "listing apps" }
    const reply = yield* expect(call, [200])
    const list = yield* decodeWith(AppListJson, call, "{\"apps\": [...]}")(reply.body)
    const apps = yield* Effect.forEach(list.apps, appFromJson(call))
    // Marathon's `id` filter is a case-insensitive substring match: keep the apps in the group only.
    const group = options?.idPrefix
    return group === undefined || group === "" ? apps : apps.filter((a) => inGroup(a.id, group))
  })

  const getApp = Effect.fn("Marathon.getApp")(function*(id: string) {
    const call: Call = { method: "GET", path: appPath(id), what: `reading app ${normalizeAppId(id)}` }
    const reply = yield* expect(call, [200])
    const wrapper = yield* decodeWith(AppWrapperJson, call, "{\"app\": {...}}")(reply.body)
    return yield* appFromJson(call)(wrapper.app)
  })

  /**
   * Several apps at once: ONE `GET /v2/apps` narrowed to their common group (the same listing a
   * plan makes) instead of one request per app; a single app is read on its own. Apps that do not
   * exist are absent from the map (keyed by normalized app id).
   */
  const readApps = Effect.fn("Marathon.readApps")(function*(ids: ReadonlyArray<string>) {
    const wanted = [...new Set(ids.map(normalizeAppId))]
    const found = new Map<string, MarathonApp>()
    if (wanted.length === 1) {
      const one = yield* getApp(wanted[0]!).pipe(Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(undefined)))
      if (one !== undefined) found.set(wanted[0]!, one)
      return found
    }
    const listed = yield* listApps({ idPrefix: commonGroup(wanted) })
    const set = new Set(wanted)
    for (const app of listed) if (set.has(normalizeAppId(app.id))) found.set(normalizeAppId(app.id), app)
    return found
  })

  const appVersions = Effect.fn("Marathon.appVersions")(function*(id: string) {
    const call: Call = { method: "GET", path: `${appPath(id)}/versions`, what: `reading the versions of app ${normalizeAppId(id)}` }
    const reply = yield* expect(call, [200])
    const body = yield* decodeWith(AppVersionsJson, call, "{\"versions\": [\"<ISO timestamp>\", ...]}")(reply.body)
    // ISO-8601 timestamps in UTC sort as text
    return [...body.versions].sort().reverse()
  })

  const appVersion = Effect.fn("Marathon.appVersion")(function*(id: string, version: string) {
    const call: Call = { method: "GET", path: `${appPath(id)}/versions/${encodeURIComponent(version)}`, what: `reading version ${version} of app ${normalizeAppId(id)}` }
    const reply = yield* expect(call, [200])
    // the bare App as it was defined then (no wrapper, no counts)
    return yield* appFromJson(call)(reply.body)
  })

  return { listApps, getApp, readApps, appVersions, appVersion }
}

/** The app calls ({@link makeApps}). */
export type Apps = ReturnType<typeof makeApps>
/** An app as the client returns it. */
export type { MarathonApp }
