/**
 * @module State — the in-memory Marathon of the sandbox: app definitions with their version
 * history, deployments that progress over time, task counts derived from that progress, and
 * the cancel/rollback of deployments. No HTTP here; `Marathon.ts` maps requests onto it.
 *
 * Time is real (`Date.now()`): this is a test server, not core code. Every read first finishes
 * the deployments whose time is up ({@link MarathonState.tick}); an unref'd timer per deployment
 * does the same on time so that `deployment_success` events are emitted without polling.
 */
import { randomUUID } from "node:crypto"
import { HttpError, isObject } from "./Validation.ts"

/** A JSON object. */
export type Json = Record<string, unknown>

/** Deployment actions the sandbox produces (FACTS.md "Deployments"). */
export type ActionName = "StartApplication" | "StopApplication" | "ScaleApplication" | "RestartApplication"

interface VersionInfo {
  lastScalingAt: string
  lastConfigChangeAt: string
}

interface AppRecord {
  def: Json
  version: string
  versionInfo: VersionInfo
  /** Every stored version, oldest first. */
  versions: Array<{ readonly version: string; readonly def: Json }>
  lastTaskFailure?: Json
  /** Tasks running while no deployment touches the app. */
  restRunning: number
}

interface Snapshot {
  readonly def: Json
}

interface DeploymentApp {
  readonly appId: string
  readonly action: ActionName
  /** Its tasks start and then crash (a crashing image without health checks): the deployment finishes, the app does not run. */
  readonly crashes: boolean
  /** The definition before this deployment; absent when the deployment created the app. */
  readonly before: Snapshot | undefined
  readonly beforeRunning: number
  readonly targetInstances: number
  readonly broken: boolean
  readonly healthChecked: boolean
}

/** How the state behaves beyond its defaults. */
interface StateLimits {
  readonly maxRunningDeployments?: number | undefined
  readonly crashingImages?: ReadonlyArray<string> | undefined
}

interface Deployment {
  readonly id: string
  readonly version: string
  readonly startedAt: number
  readonly durationMs: number
  /** False while its new app definitions are not stored yet (listed first, as Marathon does). */
  stored: boolean
  /** Its `deployment_success` was published ahead of its removal ({@link MarathonState.finish}). */
  announced?: boolean
  readonly steps: ReadonlyArray<ReadonlyArray<{ readonly action: ActionName; readonly app: string }>>
  readonly apps: ReadonlyMap<string, DeploymentApp>
}

/**
 * When a deployment stores its new definitions: this many ms after it is listed, or only when
 * {@link MarathonState.releaseStore} is called (`"released"`).
 */
export type StoreDelay = number | "released"

/** One app change of a deployment: a new complete definition, or `null` to destroy the app. */
export interface AppChange {
  readonly appId: string
  readonly def: Json | null
}

/** What Marathon answers for a change that started a deployment. */
export interface DeploymentResult {
  readonly deploymentId: string
  readonly version: string
}

/** Read-only fields of AppInfo that are never part of a stored definition. */
export const READ_ONLY_FIELDS = [
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
] as const

/** Deep copy of JSON data. */
export const clone = <A>(value: A): A => structuredClone(value)

/** Structural equality of JSON values (key order ignored). */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  }
  return false
}

/** Marathon's defaults for fields a definition leaves out (`AppDefinition` defaults). */
export const withDefaults = (app: Json): Json => {
  const out: Json = {
    id: app.id,
    instances: 1,
    cpus: 1,
    mem: 128,
    disk: 0,
    gpus: 0,
    env: {},
    labels: {},
    constraints: [],
    healthChecks: [],
    readinessChecks: [],
    dependencies: [],
    fetch: [],
    backoffSeconds: 1,
    backoffFactor: 1.15,
    maxLaunchDelaySeconds: 3600,
    requirePorts: false,
    executor: "",
    killSelection: "YOUNGEST_FIRST",
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    ...app
  }
  return normalizeContainer(out)
}

/**
 * `container.type` defaults to `DOCKER` (FACTS.md), and `container.docker.forcePullImage` and
 * `container.docker.privileged` default to false (RAML `types/appContainer.raml`, `DockerContainer`:
 * both `default: false`), which Marathon writes out in every answer.
 */
export const normalizeContainer = (app: Json): Json => {
  if (!isObject(app.container)) return app
  const container: Json = { type: "DOCKER", ...app.container }
  if (isObject(container.docker)) container.docker = { forcePullImage: false, privileged: false, ...container.docker }
  return { ...app, container }
}

/** `container.docker.image` of a definition, if any. */
export const imageOf = (def: Json): string | undefined => {
  const c = def.container
  if (isObject(c) && isObject(c.docker) && typeof c.docker.image === "string") return c.docker.image
  return undefined
}

const instancesOf = (def: Json): number => (typeof def.instances === "number" ? def.instances : 1)
const hasHealthChecks = (def: Json): boolean => Array.isArray(def.healthChecks) && def.healthChecks.length > 0

/** Task counts as `GET /v2/apps` embeds them. */
export interface TaskCounts {
  readonly tasksStaged: number
  readonly tasksRunning: number
  readonly tasksHealthy: number
  readonly tasksUnhealthy: number
}

/**
 * What an AppInfo embeds (`InfoEmbedResolver`): counts and deployments unless set to false; the
 * rest only when true.
 */
export interface AppEmbed {
  readonly counts?: boolean
  readonly deployments?: boolean
  readonly tasks: boolean
  readonly lastTaskFailure: boolean
  readonly readiness?: boolean
  readonly taskStats?: boolean
}

/** An event of Marathon's event stream (`GET /v2/events`). */
export interface MarathonEvent {
  readonly eventType: string
  readonly timestamp: string
  readonly [key: string]: unknown
}

/** The sandbox's whole Marathon state. */
export class MarathonState {
  private readonly apps = new Map<string, AppRecord>()
  private readonly deployments = new Map<string, Deployment>()
  private readonly broken = new Set<string>()
  private readonly crashing = new Set<string>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private readonly listeners = new Set<(event: MarathonEvent) => void>()
  /** Group id → version of its last change; `/` is the root group. */
  private readonly groups = new Map<string, string>([["/", new Date(0).toISOString()]])
  private lastVersionMs = 0
  /** The store of a deployment's new definitions that is still to come, and how to end the wait. */
  private storing: { readonly done: Promise<void>; readonly finish: () => void; readonly store: () => void } | undefined
  /** Set by {@link deferNextStore}: when the next deployment stores its definitions. */
  private nextStoreDelay: StoreDelay | undefined

  private readonly deploymentMs: number
  private readonly limits: StateLimits

  constructor(
    deploymentMs: number,
    brokenImages: ReadonlyArray<string>,
    limits: StateLimits = {}
  ) {
    this.deploymentMs = deploymentMs
    this.limits = limits
    for (const image of brokenImages) this.broken.add(image)
    for (const image of limits.crashingImages ?? []) this.crashing.add(image)
  }

  /** From now on, tasks of this image fail. */
  markBroken(image: string): void {
    this.broken.add(image)
  }

  /** From now on, tasks of this image start and then crash. */
  markCrashing(image: string): void {
    this.crashing.add(image)
  }

  /**
   * Everything this Marathon holds, for "nothing changed" checks: per app its definition,
   * version, versionInfo, version history and last task failure; the running deployments (their
   * plans, not their time-dependent progress).
   */
  snapshot(): Json {
    this.tick()
    return clone({
      apps: [...this.apps.keys()].sort().map((id) => {
        const rec = this.apps.get(id)!
        return {
          id,
          definition: rec.def,
          version: rec.version,
          versionInfo: rec.versionInfo,
          versions: rec.versions,
          lastTaskFailure: rec.lastTaskFailure ?? null
        }
      }),
      deployments: [...this.deployments.values()].map((d) => ({
        id: d.id,
        version: d.version,
        affectedApps: [...d.apps.keys()].sort(),
        steps: d.steps
      }))
    })
  }

  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: MarathonEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Clears the timers that finish deployments on time (the state stays readable). */
  close(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.listeners.clear()
    this.storing?.finish()
  }

  /**
   * The next deployment is listed at once but stores its new app definitions only `ms` later, as
   * Marathon's `GroupManagerImpl.updateRoot` does (`deploy(plan)`, then `storeRoot`): meanwhile
   * `GET /v2/deployments` and the apps' `deployments` show it while the apps show their old
   * definitions and version. `undefined` takes it back (nothing was deployed).
   */
  deferNextStore(delay: StoreDelay | undefined): void {
    this.nextStoreDelay = delay
  }

  /**
   * Stores now the definitions of the deployment whose store is deferred (by a delay or until
   * released); false when none waits. Lets a test decide the order of events instead of a clock.
   */
  releaseStore(): boolean {
    const pending = this.storing
    if (pending === undefined) return false
    pending.store()
    return true
  }

  /**
   * Resolves once no deployment waits to store its definitions. Marathon serializes root
   * updates: a change that comes in meanwhile waits for the store, then sees the stored root.
   */
  whenStored(): Promise<void> {
    return this.storing?.done ?? Promise.resolve()
  }

  private emit(eventType: string, payload: Json): void {
    const event: MarathonEvent = { ...payload, eventType, timestamp: new Date().toISOString() }
    for (const listener of this.listeners) listener(event)
  }

  private planJson(d: Deployment): Json {
    return {
      id: d.id,
      version: d.version,
      steps: d.steps.map((s) => ({ actions: s.map((a) => ({ action: a.action, app: a.app })) }))
    }
  }

  /** A fresh version timestamp, strictly increasing even within one millisecond. */
  nextVersion(): string {
    const ms = Math.max(Date.now(), this.lastVersionMs + 1)
    this.lastVersionMs = ms
    return new Date(ms).toISOString()
  }

  /**
   * Seeds an app that is already deployed and healthy (no deployment). `past` are earlier versions
   * (oldest first, each an ISO instant before now and the image it ran), as an app deployed over
   * weeks has them: the same definition with that image.
   */
  seed(def: Json, past: ReadonlyArray<{ readonly version: string; readonly image: string }> = []): void {
    const version = this.nextVersion()
    const id = String(def.id)
    const earlier = past.map((p) => {
      const old = clone(def)
      const container = (old.container ?? {}) as Json
      old.container = { ...container, docker: { ...((container.docker ?? {}) as Json), image: p.image } }
      return { version: new Date(Date.parse(p.version)).toISOString(), def: old }
    })
    this.apps.set(id, {
      def: clone(def),
      version,
      versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
      versions: [...earlier, { version, def: clone(def) }],
      restRunning: this.isBroken(def) || this.isCrashing(def) ? 0 : instancesOf(def)
    })
    this.touchGroups(id, version)
  }

  /** The groups above an app changed at `version` (made when missing, as Marathon's `updateApp` does). */
  private touchGroups(appId: string, version: string): void {
    const segments = appId.split("/").filter((s) => s !== "")
    for (let i = 0; i < segments.length; i++) this.groups.set("/" + segments.slice(0, i).join("/"), version)
  }

  /** Finishes every deployment whose time is up and that is not stuck on a broken image. */
  tick(): void {
    const now = Date.now()
    for (const d of [...this.deployments.values()]) {
      if (!d.stored || now - d.startedAt < d.durationMs || this.isStuck(d)) continue
      this.complete(d, now)
    }
  }

  /**
   * Ends a deployment now, the way Marathon does (`deploymentSuccess`: the event is published,
   * then the deployment deleted): `deployment_success` at once, the deployment gone from the list
   * `leadMs` later. False when there is no such deployment.
   */
  finish(id: string, leadMs: number): boolean {
    const d = this.deployments.get(id)
    if (d === undefined) return false
    d.announced = true
    this.emit("deployment_success", { id: d.id, plan: this.planJson(d) })
    this.later(leadMs, () => {
      if (this.deployments.get(id) === d) this.complete(d, Date.now())
    })
    return true
  }

  /** Drops a finished deployment: its apps run their new tasks (or crash); `deployment_success` unless published already. */
  private complete(d: Deployment, now: number): void {
    this.deployments.delete(d.id)
    for (const entry of d.apps.values()) {
      const rec = this.apps.get(entry.appId)
      if (!rec) continue
      rec.restRunning = entry.crashes ? 0 : entry.targetInstances
      if (entry.crashes) {
        rec.lastTaskFailure = {
          appId: entry.appId,
          host: "127.0.0.1",
          message: `Container exited with status 1 soon after it started (image ${imageOf(rec.def) ?? "?"} crashes in the sandbox)`,
          state: "TASK_FAILED",
          taskId: `${entry.appId.slice(1).replaceAll("/", "_")}.${randomUUID()}`,
          timestamp: new Date(Math.max(now, Date.parse(rec.version))).toISOString(),
          version: rec.version,
          slaveId: "sandbox-agent-0"
        }
      }
    }
    if (d.announced !== true) this.emit("deployment_success", { id: d.id, plan: this.planJson(d) })
  }

  /** The stored definition of an app, or undefined. */
  definition(id: string): Json | undefined {
    this.tick()
    const rec = this.apps.get(id)
    return rec ? clone(rec.def) : undefined
  }

  /** Ids of all apps, sorted. */
  appIds(): ReadonlyArray<string> {
    this.tick()
    return [...this.apps.keys()].sort()
  }

  /** Definition stored under `version`, or undefined. */
  versionOf(id: string, version: string): Json | undefined {
    const entry = this.apps.get(id)?.versions.find((v) => v.version === version)
    return entry ? clone(entry.def) : undefined
  }

  /** Version timestamps of an app, newest first, or undefined for an unknown app. */
  versionList(id: string): ReadonlyArray<string> | undefined {
    const rec = this.apps.get(id)
    return rec ? rec.versions.map((v) => v.version).reverse() : undefined
  }

  /**
   * The AppInfo JSON: definition, version, versionInfo, and what `embed` asks for. Counts and
   * deployments are embedded unless `embed` turns them off (the group endpoints do).
   */
  appInfo(id: string, embed: AppEmbed): Json | undefined {
    this.tick()
    const rec = this.apps.get(id)
    if (!rec) return undefined
    const counts = this.counts(id, rec)
    const info: Json = { ...clone(rec.def), version: rec.version, versionInfo: { ...rec.versionInfo } }
    if (embed.counts !== false) Object.assign(info, counts)
    if (embed.deployments !== false) info.deployments = this.deploymentsOf([id]).map((d) => ({ id: d.id }))
    if (embed.readiness === true) info.readinessCheckResults = []
    if (embed.lastTaskFailure && rec.lastTaskFailure) info.lastTaskFailure = clone(rec.lastTaskFailure)
    if (embed.tasks) info.tasks = this.tasks(id, rec, counts)
    if (embed.taskStats === true) info.tasksStats = this.taskStats(rec, counts)
    return info
  }

  /** The running tasks of an app (`GET /v2/apps/{id}/tasks`), or undefined for an unknown app. */
  appTasks(id: string): ReadonlyArray<Json> | undefined {
    this.tick()
    const rec = this.apps.get(id)
    return rec ? this.tasks(id, rec, this.counts(id, rec)) : undefined
  }

  /**
   * The launch queue (`GET /v2/queue`): every app with instances left to launch — apps in a
   * deployment that is still starting tasks, and apps whose tasks keep failing (backed off).
   */
  queue(): ReadonlyArray<Json> {
    this.tick()
    const out: Array<Json> = []
    for (const id of [...this.apps.keys()].sort()) {
      const rec = this.apps.get(id)!
      const d = [...this.deployments.values()].find((x) => x.apps.has(id))
      const entry = d?.apps.get(id)
      const counts = this.counts(id, rec)
      if (d === undefined || entry === undefined || counts.tasksStaged === 0) continue
      const backoff = typeof rec.def.backoffSeconds === "number" ? rec.def.backoffSeconds : 1
      out.push({
        app: { ...clone(rec.def), version: rec.version, versionInfo: { ...rec.versionInfo } },
        count: Math.max(1, entry.targetInstances - counts.tasksRunning),
        role: typeof rec.def.role === "string" ? rec.def.role : "*",
        delay: entry.broken ? { timeLeftSeconds: backoff, overdue: false } : { timeLeftSeconds: 0, overdue: true },
        since: new Date(d.startedAt).toISOString(),
        processedOffersSummary: { processedOffersCount: 0, unusedOffersCount: 0 }
      })
    }
    return out
  }

  /** When each group last changed (groups are made by the apps in them and stay when emptied). */
  groupVersions(): ReadonlyMap<string, string> {
    this.tick()
    return new Map(this.groups)
  }

  /** `GET /v2/deployments` JSON. */
  deploymentList(): ReadonlyArray<Json> {
    this.tick()
    const now = Date.now()
    return [...this.deployments.values()].map((d) => {
      const total = d.steps.length
      const f = Math.min(1, (now - d.startedAt) / d.durationMs)
      let current = Math.min(total, 1 + Math.floor(f * total))
      if (this.isStuck(d)) {
        const stuckStep = d.steps.findIndex((step) => step.some((a) => d.apps.get(a.app)?.broken === true))
        if (stuckStep >= 0) current = Math.min(current, stuckStep + 1)
      }
      const step = d.steps[current - 1] ?? []
      return {
        id: d.id,
        version: d.version,
        affectedApps: [...d.apps.keys()].sort(),
        affectedPods: [],
        steps: d.steps.map((s) => ({ actions: s.map((a) => ({ action: a.action, app: a.app })) })),
        currentActions: step.map((a) => ({ action: a.action, app: a.app, readinessCheckResults: [] })),
        currentStep: current,
        totalSteps: total
      }
    })
  }

  /** Running deployments that touch any of `appIds`. */
  deploymentsOf(appIds: ReadonlyArray<string>): ReadonlyArray<Deployment> {
    return [...this.deployments.values()].filter((d) => appIds.some((id) => d.apps.has(id)))
  }

  /**
   * Starts one deployment for all changes. Throws 409 when an app that changes is locked by a
   * deployment and `force` is false (Marathon checks the apps its plan affects: an update that
   * changes nothing is an empty plan, answered with a new deployment id and never listed); with
   * `force` the locking deployments are cancelled (no rollback).
   */
  deploy(changes: ReadonlyArray<AppChange>, force: boolean): DeploymentResult {
    this.tick()
    const storeDelay = this.nextStoreDelay
    this.nextStoreDelay = undefined
    const ids = changes
      .filter((c) => {
        const rec = this.apps.get(c.appId)
        return c.def === null ? rec !== undefined : rec === undefined || !jsonEqual(rec.def, c.def)
      })
      .map((c) => c.appId)
    const locking = this.deploymentsOf(ids)
    if (locking.length > 0 && !force) {
      throw new HttpError(409, {
        message:
          "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
        deployments: locking.map((d) => ({ id: d.id }))
      })
    }
    const max = this.limits.maxRunningDeployments
    if (max !== undefined && this.deployments.size - (force ? locking.length : 0) >= max) {
      // Marathon's TooManyRunningDeploymentsException (FACTS.md): 403, nothing changes
      throw new HttpError(403, {
        message: `Max number (${max}) of running deployments is achieved. Wait for existing deployments to complete or cancel them.`
      })
    }
    for (const d of locking) this.stop(d, "cancelled by a forced deployment")

    const version = this.nextVersion()
    const id = randomUUID()
    const stopStep: Array<{ action: ActionName; app: string }> = []
    const startStep: Array<{ action: ActionName; app: string }> = []
    const mainStep: Array<{ action: ActionName; app: string }> = []
    const entries = new Map<string, DeploymentApp>()
    const now = new Date(Math.max(Date.now(), Date.parse(version))).toISOString()
    // What storing the new root does to the app records: at once, or as `storeDelay` says.
    const store: Array<() => void> = []

    for (const change of changes) {
      const rec = this.apps.get(change.appId)
      if (change.def === null) {
        if (!rec) continue
        store.push(() => this.touchGroups(change.appId, version))
        const running = this.counts(change.appId, rec).tasksRunning
        store.push(() => this.apps.delete(change.appId))
        stopStep.push({ action: "StopApplication", app: change.appId })
        entries.set(change.appId, {
          appId: change.appId,
          action: "StopApplication",
          before: { def: clone(rec.def) },
          beforeRunning: running,
          targetInstances: 0,
          crashes: false,
          broken: false,
          healthChecked: false
        })
        continue
      }
      const def = clone(change.def)
      const target = instancesOf(def)
      // A crashing image never gets healthy, so with health checks its deployment is stuck like a
      // broken one; without, Marathon sees the tasks start and finishes the deployment.
      const broken = this.isBroken(def) || (this.isCrashing(def) && hasHealthChecks(def))
      const crashes = this.isCrashing(def) && !hasHealthChecks(def) && target > 0
      if (!rec) {
        store.push(() =>
          this.apps.set(change.appId, {
            def,
            version,
            versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
            versions: [{ version, def: clone(def) }],
            restRunning: 0
          })
        )
        store.push(() => this.touchGroups(change.appId, version))
        startStep.push({ action: "StartApplication", app: change.appId })
        mainStep.push({ action: "ScaleApplication", app: change.appId })
        entries.set(change.appId, {
          appId: change.appId,
          action: "StartApplication",
          before: undefined,
          beforeRunning: 0,
          targetInstances: target,
          crashes,
          broken: broken && target > 0,
          healthChecked: hasHealthChecks(def)
        })
      } else {
        if (jsonEqual(rec.def, def)) continue
        store.push(() => this.touchGroups(change.appId, version))
        const running = this.counts(change.appId, rec).tasksRunning
        const scaleOnly = jsonEqual({ ...rec.def, instances: 0 }, { ...def, instances: 0 })
        const action: ActionName = scaleOnly ? "ScaleApplication" : "RestartApplication"
        entries.set(change.appId, {
          appId: change.appId,
          action,
          before: { def: clone(rec.def) },
          beforeRunning: running,
          targetInstances: target,
          crashes,
          broken: broken && (action === "RestartApplication" ? target > 0 : target > running),
          healthChecked: hasHealthChecks(def)
        })
        store.push(() => {
          rec.def = def
          rec.version = version
          rec.versionInfo = scaleOnly
            ? { lastScalingAt: version, lastConfigChangeAt: rec.versionInfo.lastConfigChangeAt }
            : { lastScalingAt: version, lastConfigChangeAt: version }
          rec.versions.push({ version, def: clone(def) })
          rec.restRunning = running
        })
        mainStep.push({ action, app: change.appId })
      }
      const entry = entries.get(change.appId)
      if (entry?.broken) {
        store.push(() => {
          const recNow = this.apps.get(change.appId)
          if (!recNow) return
          recNow.lastTaskFailure = {
            appId: change.appId,
            host: "127.0.0.1",
            message: `Container exited with status 1 (image ${imageOf(def) ?? "?"} is marked broken in the sandbox)`,
            state: "TASK_FAILED",
            taskId: `${change.appId.slice(1).replaceAll("/", "_")}.${randomUUID()}`,
            timestamp: now,
            version,
            slaveId: "sandbox-agent-0"
          }
        })
      }
    }

    const steps = [stopStep, startStep, mainStep].filter((s) => s.length > 0)
    const deferred = storeDelay !== undefined && steps.length > 0
    const deployment: Deployment = {
      id,
      version,
      startedAt: Date.now(),
      durationMs: Math.max(1, this.deploymentMs),
      stored: !deferred,
      steps,
      apps: entries
    }
    const storeRoot = () => {
      for (const apply of store) apply()
      deployment.stored = true
      // finish on time even when nobody asks (lazy ticks do the same on every read)
      if (steps.length > 0) this.later(Math.max(0, deployment.startedAt + deployment.durationMs - Date.now()) + 5, () => this.tick(), true)
    }
    if (steps.length > 0) {
      this.deployments.set(id, deployment)
      this.emit("deployment_info", { plan: this.planJson(deployment), currentStep: { actions: steps[0] } })
    }
    if (!deferred) storeRoot()
    else this.deferStore(storeRoot, storeDelay)
    return { deploymentId: id, version }
  }

  /** Runs `run` after `ms` (the timer is cleared by {@link close}; `unref` ones keep no process alive). */
  private later(ms: number, run: () => void, unref = false): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, ms)
    if (unref) timer.unref()
    this.timers.add(timer)
    return timer
  }

  /** Holds the store of a deployment's definitions until `delay` ms have passed or {@link releaseStore}. */
  private deferStore(storeRoot: () => void, delay: StoreDelay): void {
    let finish = () => {}
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    const store = () => {
      if (timer !== undefined) {
        clearTimeout(timer)
        this.timers.delete(timer)
      }
      this.storing = undefined
      storeRoot()
      finish()
    }
    if (delay !== "released") timer = this.later(delay, store)
    this.storing = {
      done,
      store,
      finish: () => {
        this.storing = undefined
        finish()
      }
    }
  }

  /**
   * `DELETE /v2/deployments/{id}`: cancels; without `force` starts and returns the revert
   * deployment that restores the definitions from before the cancelled one.
   */
  cancel(id: string, force: boolean): DeploymentResult | undefined {
    this.tick()
    const d = this.deployments.get(id)
    if (!d) throw new HttpError(404, { message: `DeploymentPlan ${id} does not exist` })
    this.stop(d, force ? "cancelled with force" : "cancelled and rolled back")
    if (force) return undefined
    const changes: Array<AppChange> = [...d.apps.values()].map((entry) => ({
      appId: entry.appId,
      def: entry.before ? clone(entry.before.def) : null
    }))
    return this.deploy(changes, true)
  }

  /** Public list of the current definitions (deep copies). */
  definitions(): ReadonlyArray<Json> {
    return this.appIds().map((id) => clone(this.apps.get(id)!.def))
  }

  private stop(d: Deployment, reason: string): void {
    for (const entry of d.apps.values()) {
      const rec = this.apps.get(entry.appId)
      if (rec) rec.restRunning = this.counts(entry.appId, rec).tasksRunning
    }
    this.deployments.delete(d.id)
    this.emit("deployment_failed", { id: d.id, plan: this.planJson(d), reason })
  }

  private isBroken(def: Json): boolean {
    const image = imageOf(def)
    return image !== undefined && this.broken.has(image)
  }

  private isCrashing(def: Json): boolean {
    const image = imageOf(def)
    return image !== undefined && this.crashing.has(image)
  }

  private isStuck(d: Deployment): boolean {
    return [...d.apps.values()].some((e) => e.broken)
  }

  private counts(id: string, rec: AppRecord): TaskCounts {
    const d = [...this.deployments.values()].find((x) => x.apps.has(id))
    const entry = d?.apps.get(id)
    let running = rec.restRunning
    let staged = 0
    if (d && entry) {
      const f = Math.min(1, (Date.now() - d.startedAt) / d.durationMs)
      const n0 = entry.beforeRunning
      const n1 = entry.targetInstances
      if (entry.broken) {
        // New tasks keep failing and are retried (one staged at a time). On a restart one old
        // task has made room for a replacement that never comes up, so fewer run than wanted.
        staged = 1
        running = entry.action === "RestartApplication" ? Math.min(n0, Math.max(0, n1 - 1)) : Math.min(n0, n1)
      } else if (f >= 1) {
        running = n1
      } else if (entry.action === "StartApplication") {
        running = Math.floor(f * n1)
        staged = running < n1 ? 1 : 0
      } else if (entry.action === "ScaleApplication") {
        running = n0 + Math.trunc(f * (n1 - n0))
        staged = running < n1 ? 1 : 0
      } else if (entry.action === "RestartApplication") {
        // rolling restart: new tasks come up while old ones are killed
        const fresh = Math.floor(f * n1)
        running = fresh + (n0 - Math.floor(f * n0))
        staged = fresh < n1 ? 1 : 0
      }
    }
    const healthy = hasHealthChecks(rec.def) ? running : 0
    return { tasksStaged: staged, tasksRunning: running, tasksHealthy: healthy, tasksUnhealthy: 0 }
  }

  private tasks(id: string, rec: AppRecord, counts: TaskCounts): ReadonlyArray<Json> {
    const base = id.slice(1).replaceAll("/", "_")
    return Array.from({ length: counts.tasksRunning }, (_, i) => ({
      id: `${base}.instance-${i}`,
      appId: id,
      host: "127.0.0.1",
      state: "TASK_RUNNING",
      version: rec.version,
      stagedAt: rec.version,
      startedAt: rec.version,
      ports: [],
      slaveId: "sandbox-agent-0",
      role: typeof rec.def.role === "string" ? rec.def.role : "*",
      ...(hasHealthChecks(rec.def) ? { healthCheckResults: [{ alive: true }] } : {})
    }))
  }

  private taskStats(rec: AppRecord, counts: TaskCounts): Json {
    if (counts.tasksRunning + counts.tasksStaged === 0) return {}
    const seconds = Math.max(0, (Date.now() - Date.parse(rec.version)) / 1000)
    const stats = {
      counts: { staged: counts.tasksStaged, running: counts.tasksRunning, healthy: counts.tasksHealthy, unhealthy: counts.tasksUnhealthy },
      lifeTime: { averageSeconds: seconds, medianSeconds: seconds }
    }
    return { totalSummary: { stats } }
  }
}
