/**
 * @module Validation — the subset of Marathon's app JSON reading and validation the sandbox
 * enforces, with Marathon's error shapes (`api/MarathonExceptionMapper.scala`).
 *
 * Two stages, as in Marathon: reading (type errors → 422 `"Invalid JSON"` with
 * `error.expected.*` per path; FACTS.md: code wins over the RAML's 400) and validation of the
 * resulting definition (→ 422 `"Object is not valid"`).
 */

/** One entry of Marathon's `details` array. */
export interface ErrorDetail {
  readonly path: string
  readonly errors: ReadonlyArray<string>
}

/** A 4xx answer the server turns into JSON; `body` is sent as is. */
export class HttpError extends Error {
  readonly status: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>

  constructor(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    super(typeof body === "object" && body !== null && "message" in body ? String(body.message) : `HTTP ${status}`)
    this.status = status
    this.body = body
    this.headers = headers
  }
}

/** 422 for JSON of the wrong type. */
export const invalidJson = (details: ReadonlyArray<ErrorDetail>): HttpError =>
  new HttpError(422, { message: "Invalid JSON", details })

/** 422 for a definition that fails validation. */
export const notValid = (details: ReadonlyArray<ErrorDetail>): HttpError =>
  new HttpError(422, { message: "Object is not valid", details })

type Kind = "string" | "number" | "boolean" | "array" | "object"

const FIELD_TYPES: Record<string, Kind> = {
  id: "string",
  cmd: "string",
  user: "string",
  executor: "string",
  killSelection: "string",
  version: "string",
  instances: "number",
  cpus: "number",
  mem: "number",
  disk: "number",
  gpus: "number",
  backoffSeconds: "number",
  backoffFactor: "number",
  maxLaunchDelaySeconds: "number",
  taskKillGracePeriodSeconds: "number",
  requirePorts: "boolean",
  tty: "boolean",
  args: "array",
  constraints: "array",
  healthChecks: "array",
  readinessChecks: "array",
  dependencies: "array",
  fetch: "array",
  uris: "array",
  ports: "array",
  portDefinitions: "array",
  acceptedResourceRoles: "array",
  networks: "array",
  storeUrls: "array",
  env: "object",
  labels: "object",
  container: "object",
  upgradeStrategy: "object",
  secrets: "object",
  ipAddress: "object",
  residency: "object",
  versionInfo: "object"
}

const kindOf = (value: unknown): Kind | "null" => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  const t = typeof value
  return t === "string" || t === "number" || t === "boolean" ? t : "object"
}

const expected = (kind: Kind): string => `error.expected.js${kind}`

/** True for a plain JSON object. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Type-checks an app JSON (full definition or partial update) the way Marathon's JSON reader
 * does; throws a 422 `"Invalid JSON"` listing every wrong path. `null` counts as "not given".
 */
export const readAppJson = (json: unknown, prefix = ""): Record<string, unknown> => {
  if (!isObject(json)) throw invalidJson([{ path: prefix, errors: [expected("object")] }])
  const details: Array<ErrorDetail> = []
  const check = (path: string, value: unknown, kind: Kind) => {
    if (value !== null && value !== undefined && kindOf(value) !== kind) {
      details.push({ path: prefix + path, errors: [expected(kind)] })
    }
  }
  for (const [key, kind] of Object.entries(FIELD_TYPES)) check(`/${key}`, json[key], kind)
  if (isObject(json.labels)) {
    for (const [k, v] of Object.entries(json.labels)) check(`/labels/${k}`, v, "string")
  }
  if (isObject(json.env)) {
    for (const [k, v] of Object.entries(json.env)) {
      if (!(typeof v === "string" || (isObject(v) && typeof v.secret === "string"))) {
        details.push({ path: `${prefix}/env/${k}`, errors: [expected("string")] })
      }
    }
  }
  if (isObject(json.container)) {
    check("/container/type", json.container.type, "string")
    check("/container/docker", json.container.docker, "object")
    check("/container/volumes", json.container.volumes, "array")
    check("/container/portMappings", json.container.portMappings, "array")
    if (isObject(json.container.docker)) {
      check("/container/docker/image", json.container.docker.image, "string")
      check("/container/docker/portMappings", json.container.docker.portMappings, "array")
      check("/container/docker/parameters", json.container.docker.parameters, "array")
    }
  }
  if (details.length > 0) throw invalidJson(details)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(json)) if (v !== null) out[k] = v
  return out
}

const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/
const SEGMENT_MESSAGE =
  "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'"

/** Marathon's absolute form of an app id: leading `/`, no trailing or doubled `/`. */
export const normalizeAppId = (id: string): string => "/" + id.split("/").filter((s) => s !== "").join("/")

/** Validation errors of an app id (already normalized). */
export const validateAppId = (id: string, path = "/id"): ReadonlyArray<ErrorDetail> => {
  if (id === "/") return [{ path, errors: ["Path must contain at least one path element"] }]
  return id.slice(1).split("/").every((s) => SEGMENT.test(s)) ? [] : [{ path, errors: [SEGMENT_MESSAGE] }]
}

const nonNegative = (
  details: Array<ErrorDetail>,
  prefix: string,
  app: Record<string, unknown>,
  key: string,
  integer: boolean
) => {
  const v = app[key]
  if (typeof v === "number" && v < 0) {
    details.push({ path: `${prefix}/${key}`, errors: [`got ${v}, expected ${integer ? "0" : "0.0"} or more`] })
  }
}

/**
 * Validates a complete app definition (after an update was applied); returns Marathon's
 * `details`, empty when valid.
 */
export const validateApp = (app: Record<string, unknown>, prefix = ""): ReadonlyArray<ErrorDetail> => {
  const details: Array<ErrorDetail> = []
  details.push(...validateAppId(String(app.id), `${prefix}/id`))
  nonNegative(details, prefix, app, "instances", true)
  nonNegative(details, prefix, app, "cpus", false)
  nonNegative(details, prefix, app, "mem", false)
  nonNegative(details, prefix, app, "disk", false)
  nonNegative(details, prefix, app, "gpus", true)
  if (typeof app.instances === "number" && !Number.isInteger(app.instances)) {
    details.push({ path: `${prefix}/instances`, errors: ["error.expected.int"] })
  }
  const container = app.container
  if (isObject(container)) {
    const type = container.type ?? "DOCKER"
    if (type !== "DOCKER" && type !== "MESOS") {
      details.push({ path: `${prefix}/container/type`, errors: [`error.unknown.enum.literal: ${String(type)} not in (DOCKER, MESOS)`] })
    }
    const docker = container.docker
    if (type === "DOCKER" && !isObject(docker)) {
      details.push({ path: `${prefix}/container/docker`, errors: ["not defined"] })
    }
    if (isObject(docker) && (typeof docker.image !== "string" || docker.image.trim() === "")) {
      details.push({ path: `${prefix}/container/docker/image`, errors: ["must not be empty"] })
    }
  }
  if (app.cmd === undefined && app.args === undefined && container === undefined) {
    details.push({
      path: prefix === "" ? "/" : prefix,
      errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."]
    })
  }
  const strategy = app.upgradeStrategy
  if (isObject(strategy)) {
    for (const key of ["minimumHealthCapacity", "maximumOverCapacity"]) {
      const v = strategy[key]
      if (typeof v === "number" && v > 1) {
        details.push({ path: `${prefix}/upgradeStrategy/${key}`, errors: ["is greater than 1"] })
      }
      if (typeof v === "number" && v < 0) {
        details.push({ path: `${prefix}/upgradeStrategy/${key}`, errors: ["is less than 0"] })
      }
    }
  }
  return details
}
