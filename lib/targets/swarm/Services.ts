/**
 * @module Services — pure rules of the Swarm target: which services are in scope (stack label,
 * label selector, name prefix), a service and its tasks as a {@link Workload}, whether an update
 * has converged or failed (from `UpdateStatus` and the tasks of the new spec), the task errors an
 * operator reads, how images compare, the pinned reference sent, and the `X-Registry-Auth` value.
 */
import { Redacted } from "effect"
import { formatImageReference, parseImageReference, sameImageText } from "../../core/ImageReference.ts"
import type { Credentials } from "../../registry/Auth.ts"
import type { Workload } from "../../target/Workload.ts"
import type { SwarmService, TaskBody } from "./Api.ts"

/** The label `docker stack deploy` puts on every service of a stack. */
export const STACK_LABEL = "com.docker.stack.namespace"

/** One requirement of a label selector: the label exists, or has this value. */
export interface LabelRequirement {
  readonly key: string
  readonly value?: string | undefined
}

/**
 * Parses a Docker label selector: comma-separated `key` or `key=value` (also `key==value`), all of
 * which must hold, as `docker service ls --filter label=…` reads them. Undefined when malformed.
 */
export const parseLabelSelector = (selector: string): ReadonlyArray<LabelRequirement> | undefined => {
  const parts = selector.split(",").map((p) => p.trim())
  if (parts.length === 0 || parts.some((p) => p === "")) return undefined
  const requirements: Array<LabelRequirement> = []
  for (const part of parts) {
    const match = /^([^=!\s]+)(?:==?(.*))?$/.exec(part)
    if (match === null || (match[2] !== undefined && /[=\s]/.test(match[2]))) return undefined
    requirements.push(match[2] === undefined ? { key: match[1]! } : { key: match[1]!, value: match[2] })
  }
  return requirements
}

/** Where to look: the target's stack and selector, and the workflow's scope. */
export interface ServiceScope {
  readonly stack?: string | undefined
  readonly labelSelector?: ReadonlyArray<LabelRequirement> | undefined
  readonly namePrefix?: string | undefined
}

/** True when a service is in scope (every given condition holds). */
export const serviceInScope = (service: Pick<SwarmService, "name" | "labels">, scope: ServiceScope): boolean =>
  (scope.stack === undefined || service.labels[STACK_LABEL] === scope.stack) &&
  (scope.namePrefix === undefined || service.name.startsWith(scope.namePrefix)) &&
  (scope.labelSelector ?? []).every((r) => r.value === undefined ? r.key in service.labels : service.labels[r.key] === r.value)

/** True when a task has failed (not a shutdown we asked for). */
const isFailed = (task: TaskBody): boolean => task.Status.State === "failed" || task.Status.State === "rejected"

const taskTime = (task: TaskBody): number => {
  const time = Date.parse(task.Status.Timestamp ?? "")
  return Number.isFinite(time) ? time : 0
}

/** The newest failed task of a list, if any. */
export const newestFailure = (tasks: ReadonlyArray<TaskBody>): TaskBody | undefined =>
  tasks.filter(isFailed).reduce<TaskBody | undefined>((newest, t) => (newest === undefined || taskTime(t) > taskTime(newest) ? t : newest), undefined)

/** The opaque last-failure marker of a service: time and id of its newest failed task. */
export const failureMarker = (task: TaskBody | undefined): string | undefined =>
  task === undefined ? undefined : `${task.Status.Timestamp ?? ""} ${task.ID}`

/** Failed tasks newer than a marker (all failed tasks when there is none), newest first. */
export const failuresSince = (tasks: ReadonlyArray<TaskBody>, marker: string | undefined): ReadonlyArray<TaskBody> => {
  const [time = "", id] = marker?.split(" ") ?? []
  const since = marker === undefined ? -Infinity : Date.parse(time)
  return tasks.filter((t) => isFailed(t) && t.ID !== id && taskTime(t) >= since).sort((a, b) => taskTime(b) - taskTime(a))
}

/** One line about a failed task: "task 3f2a… (repo:tag) failed: task: non-zero exit (3)". */
export const describeTask = (task: TaskBody): string => {
  const image = task.Spec?.ContainerSpec?.Image
  const exit = task.Status.ContainerStatus?.ExitCode
  const why = task.Status.Err ?? task.Status.Message ?? ""
  return `task ${task.ID.slice(0, 12)}${image === undefined ? "" : ` (${image.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1…")})`} ${task.Status.State}` +
    `${why === "" ? "" : `: ${why}`}${exit !== undefined && exit !== 0 && !why.includes(String(exit)) ? ` (exit code ${exit})` : ""}`
}

/** The tasks the engine wants running for a service. */
const wanted = (tasks: ReadonlyArray<TaskBody>) => tasks.filter((t) => t.DesiredState === "running")

/** A service and its tasks (all of them, any state) as a workload. */
export const serviceToWorkload = (service: SwarmService, tasks: ReadonlyArray<TaskBody>, inScope: boolean): Workload => {
  const current = wanted(tasks)
  const running = current.filter((t) => t.Status.State === "running")
  const updated = running.filter((t) => t.Spec?.ContainerSpec?.Image === service.image).length
  const desired = service.replicas ?? current.length
  // the engine reports a task with a health check running only once it is healthy
  const summary = `${running.length}/${desired} running` +
    (updated < running.length ? `, ${updated} on the current spec` : "") +
    (service.updateState !== undefined && service.updateState !== "completed" ? `, update ${service.updateState}` : "")
  return {
    id: service.name,
    kind: "service",
    labels: service.labels,
    containers: [{ name: service.name, image: service.image }],
    image: service.image,
    health: { desired, running: running.length, healthy: running.length, updated, summary },
    revision: String(service.version),
    lastFailure: failureMarker(newestFailure(tasks)),
    inScope
  }
}

/** Where one service's update stands. */
export type UpdateProgress =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Waiting"; readonly why: string }
  | { readonly _tag: "Failed"; readonly why: string }

/**
 * Where an update (or a rollback we asked for) of a service stands: failed when the engine paused
 * it or rolled it back on its own, or someone put another image in; done when `UpdateStatus` is
 * `completed` (`rollback_completed` for our rollback) or absent, and every replica runs the spec's
 * image; else waiting.
 */
export const updateProgress = (
  service: SwarmService,
  tasks: ReadonlyArray<TaskBody>,
  expected: { readonly image: string; readonly rollback: boolean }
): UpdateProgress => {
  const state = service.updateState
  const message = service.updateMessage ?? ""
  if (state === "paused" || state === "rollback_paused") return { _tag: "Failed", why: `the engine ${state === "paused" ? "paused the update" : "paused the rollback"}: ${message}` }
  if (!expected.rollback && (state === "rollback_started" || state === "rollback_completed")) {
    return { _tag: "Failed", why: `the engine rolled the update back (${state}): ${message}` }
  }
  if (!sameImageText(service.image, expected.image)) {
    return { _tag: "Failed", why: `it runs ${service.image ?? "no image"} now, not ${expected.image}: someone changed it meanwhile` }
  }
  const current = wanted(tasks)
  const ready = current.filter((t) => t.Status.State === "running" && t.Spec?.ContainerSpec?.Image === service.image).length
  const desired = service.replicas ?? current.length
  const finished = state === undefined || state === "completed" || (expected.rollback && state === "rollback_completed")
  if (finished && ready === desired && current.length === desired && desired > 0) return { _tag: "Done" }
  if (finished && desired === 0) return { _tag: "Done" }
  return { _tag: "Waiting", why: `${ready}/${desired} running the new spec${state === undefined ? "" : `, ${state}`}` }
}

/** The image reference sent: pinned `repo:tag@digest` when a digest is known, else as given. */
export const pinnedImage = (image: string, digest: string | undefined): string => {
  const ref = parseImageReference(image)
  if (ref === undefined || digest === undefined) return image
  const pinned = formatImageReference({ ...ref, digest })
  // keep the operator's spelling of the name (host as written) when it already had this digest
  return ref.digest === digest ? image : pinned
}

/** The registry host of an image reference (`docker.io` for Docker Hub). */
export const registryHostOfImage = (image: string): string | undefined => parseImageReference(image)?.host

/**
 * The `X-Registry-Auth` value for credentials: Docker's auth config JSON in base64url WITH padding
 * (Go's `base64.URLEncoding`, which the engine decodes with; unpadded it silently fails to read the
 * last bytes and pulls without credentials). Never logged.
 */
export const registryAuthHeader = (credentials: Credentials, registryHost: string): string => {
  const bytes = new TextEncoder().encode(JSON.stringify({
    username: credentials.username,
    password: Redacted.value(credentials.password),
    serveraddress: registryHost
  }))
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_")
}

/** The spec with one change: `TaskTemplate.ContainerSpec.Image`; everything else as the engine gave it. */
export const specWithImage = (spec: Readonly<Record<string, unknown>>, image: string): Record<string, unknown> => {
  const template = (spec["TaskTemplate"] ?? {}) as Record<string, unknown>
  const container = (template["ContainerSpec"] ?? {}) as Record<string, unknown>
  return { ...spec, TaskTemplate: { ...template, ContainerSpec: { ...container, Image: image } } }
}
