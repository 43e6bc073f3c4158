/**
 * @module Reads — the sandbox's read-only Marathon endpoints beyond apps and deployments: the
 * `embed` query parameter as Marathon resolves it, tasks (`GET /v2/apps/{id}/tasks`,
 * `GET /v2/tasks`), groups (`GET /v2/groups`, `GET /v2/groups/{id}`) and the launch queue
 * (`GET /v2/queue`). Each follows Marathon's server code (mesosphere/marathon 90619da,
 * `src/main/scala/mesosphere/marathon/...`) where the RAML leaves a detail open.
 */
import type { AppEmbed, Json, MarathonState } from "./State.ts"
import { HttpError } from "./Validation.ts"

/** The app embeds Marathon accepts, without their prefix (`api/v2/InfoEmbedResolver.scala`). */
type EmbedName = "tasks" | "failures" | "deployments" | "readiness" | "lastTaskFailure" | "counts" | "taskStats"

/** Prefixes `InfoEmbedResolver` strips: `group.apps.`, `apps.`, `app.`, or none at all. */
const PREFIXES = ["group.apps.", "apps.", "app."] as const

const unprefixed = (embed: string): string => {
  const prefix = PREFIXES.find((p) => embed.startsWith(p))
  return prefix === undefined ? embed : embed.slice(prefix.length)
}

/**
 * Resolves `embed` values to what an AppInfo carries, as `InfoEmbedResolver.resolveApp` does:
 * any of the prefixes (or none); `tasks` brings deployments along, `failures` is tasks +
 * lastTaskFailure + deployments; unknown values are ignored. `always` is what the endpoint adds
 * regardless (`GET /v2/apps`: counts and deployments; `GET /v2/apps/{id}`: those plus tasks and
 * lastTaskFailure; groups: nothing).
 */
export const resolveAppEmbed = (embeds: ReadonlyArray<string>, always: ReadonlyArray<EmbedName>): AppEmbed => {
  const names = new Set<string>([...always, ...embeds.map(unprefixed)])
  const has = (name: EmbedName) => names.has(name)
  return {
    counts: has("counts"),
    deployments: has("deployments") || has("tasks") || has("failures"),
    tasks: has("tasks") || has("failures"),
    lastTaskFailure: has("lastTaskFailure") || has("failures"),
    readiness: has("readiness"),
    taskStats: has("taskStats")
  }
}

/** `GET /v2/apps/{id}/tasks` (`api/v2/AppTasksResource.scala`): 404 for an unknown app. */
export const appTasks = (state: MarathonState, appId: string): Json => {
  const tasks = state.appTasks(appId)
  if (tasks === undefined) throw new HttpError(404, { message: `App '${appId}' does not exist` })
  return { tasks }
}

/** `GET /v2/tasks` (`api/v2/TasksResource.scala`): the tasks of every app. */
export const allTasks = (state: MarathonState): Json => ({
  tasks: state.appIds().flatMap((id) => state.appTasks(id) ?? [])
})

/** `GET /v2/queue` (`api/v2/QueueResource.scala`, `raml/QueueInfoConversion.scala`). */
export const launchQueue = (state: MarathonState): Json => ({ queue: state.queue() })

const parentOf = (id: string): string => {
  const cut = id.lastIndexOf("/")
  return cut <= 0 ? "/" : id.slice(0, cut)
}

/**
 * `GET /v2/groups` and `GET /v2/groups/{id}` (`api/v2/GroupsResource.scala` `group`,
 * `core/appinfo/impl/DefaultInfoService.scala` `queryForGroup`): without `embed` the groups,
 * apps and pods are embedded; apps carry only what `group.apps.*` embeds ask for (none by
 * default: no counts, no deployments). Top-level groups carry `enforceRole` (false: Marathon's
 * default `--new_group_enforce_role`, `state/RootGroup.scala` `Group.empty(id, enforceRole = …)`;
 * `state/Group.scala` requires it on top-level groups and forbids it elsewhere).
 */
export const groupInfo = (state: MarathonState, groupId: string, embeds: ReadonlyArray<string>): Json => {
  const versions = state.groupVersions()
  const version = versions.get(groupId)
  if (version === undefined) throw new HttpError(404, { message: `Group '${groupId}' does not exist` })
  const chosen = embeds.length === 0 ? ["group.apps", "group.pods", "group.groups"] : embeds
  const appEmbed = resolveAppEmbed(
    chosen.filter((e) => e.startsWith("group.apps.")),
    []
  )
  const withApps = chosen.includes("group.apps")
  const withGroups = chosen.includes("group.groups")
  const appIds = state.appIds()
  const build = (id: string): Json => {
    const apps = withApps ? appIds.filter((a) => parentOf(a) === id).map((a) => state.appInfo(a, appEmbed)!) : []
    const groups = withGroups ? [...versions.keys()].filter((g) => g !== "/" && parentOf(g) === id).sort().map(build) : []
    const topLevel = id !== "/" && parentOf(id) === "/"
    return {
      id,
      apps,
      pods: [],
      groups,
      dependencies: [],
      version: versions.get(id),
      ...(topLevel ? { enforceRole: false } : {})
    }
  }
  return build(groupId)
}
