/**
 * @module ImageStreams — OpenShift's `image.openshift.io/v1` ImageStreams in the Kubernetes
 * sandbox, faithful to `../shared/openshift-api/FACTS.md`: the resource type (discovery, get /
 * list / watch / create / update / patch / delete through the sandbox's own verbs), spec-tag
 * generations as the API server sets them (a changed tag reference, or `generation: 0`, gets the
 * stream's new generation), imports of `DockerImage` tags from a real registry (HEAD of the
 * manifest; the digest it serves becomes a new `status.tags[].items[0]` by the API server's
 * event rules, a failure an `ImportSuccess: False` condition), imports on request (the stream's
 * `openshift.io/image.dockerRepositoryCheck` annotation removed, as `oc import-image` makes the
 * controller re-check) and on a schedule (`importPolicy.scheduled`, driven by the sandbox clock),
 * and image-change triggers: the `image.openshift.io/triggers` annotation of Deployments and
 * StatefulSets sets the followed containers' images to the tag's current image whenever they
 * differ (so a manual image change of a triggered container is reverted, as on a cluster).
 */
import type { ResourceType } from "../kubernetes/Discovery.ts"
import { cloneJson, jsonEqual } from "../kubernetes/Patch.ts"
import type { KubeObject, Store, WatchEvent } from "../kubernetes/Store.ts"

/** The resource types OpenShift adds to the sandbox. */
export const OPENSHIFT_RESOURCE_TYPES: ReadonlyArray<ResourceType> = [
  {
    resource: "imagestreams",
    group: "image.openshift.io",
    version: "v1",
    kind: "ImageStream",
    namespaced: true,
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["is"],
    singularName: "imagestream",
    generation: true,
    status: true
  },
  {
    resource: "deploymentconfigs",
    group: "apps.openshift.io",
    version: "v1",
    kind: "DeploymentConfig",
    namespaced: true,
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["dc"],
    singularName: "deploymentconfig",
    generation: true,
    status: true
  }
]

/** The annotation whose absence asks the controller to import every tag again. */
export const REPOSITORY_CHECK_ANNOTATION = "openshift.io/image.dockerRepositoryCheck"

/** The image-change trigger annotation of Kubernetes workloads. */
export const TRIGGERS_ANNOTATION = "image.openshift.io/triggers"

/** Workload resources whose triggers the sandbox follows (Deployment and StatefulSet). */
const TRIGGERED_RESOURCES = ["deployments", "statefulsets"] as const

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json"
].join(", ")

const tagReference = (tag: KubeObject | undefined): unknown =>
  tag === undefined ? undefined : { from: tag.from, reference: tag.reference ?? false, importPolicy: tag.importPolicy ?? {}, referencePolicy: tag.referencePolicy ?? {} }

/**
 * Sets spec-tag generations as the API server does before it stores an update: a new tag, a tag
 * whose reference changed, or one sent with `generation: 0` gets the stream's next generation; an
 * unchanged tag keeps its own. (strategy.go:222-234, 419-470.)
 */
export const prepareImageStreamUpdate = (current: KubeObject, next: KubeObject): void => {
  const tags: Array<KubeObject> = Array.isArray(next.spec?.tags) ? next.spec.tags : []
  const before = new Map<string, KubeObject>((current.spec?.tags ?? []).map((t: KubeObject) => [t.name, t]))
  const changed = tags.some((t) => t.generation === 0 || !jsonEqual(tagReference(t), tagReference(before.get(t.name)))) ||
    tags.length !== before.size
  const generation = (current.metadata.generation ?? 1) + (changed || !jsonEqual(withoutGenerations(current.spec), withoutGenerations(next.spec)) ? 1 : 0)
  for (const tag of tags) {
    const old = before.get(tag.name)
    if (old === undefined || tag.generation === 0 || !jsonEqual(tagReference(tag), tagReference(old))) tag.generation = generation
    else tag.generation = old.generation ?? generation
  }
}

const withoutGenerations = (spec: KubeObject | undefined): unknown =>
  spec === undefined ? undefined : { ...spec, tags: (spec.tags ?? []).map((t: KubeObject) => ({ ...t, generation: undefined })) }

/** A new stream's tags without a generation get generation 1 (the stream's first). */
export const defaultImageStream = (object: KubeObject): void => {
  for (const tag of Array.isArray(object.spec?.tags) ? object.spec.tags : []) {
    if (tag.generation === undefined || tag.generation === null || tag.generation === 0) tag.generation = object.metadata?.generation ?? 1
  }
}

/** One import history entry (TagEvent). */
export interface TagEvent {
  readonly created: string
  readonly dockerImageReference: string
  readonly image: string
  readonly generation: number
}

/**
 * Adds an import to a tag's history by the API server's rules (imageutil/helpers.go:365-404):
 * the same reference, image and generation change nothing; the same image and reference update
 * the generation; the same reference or the same image replace the other field; anything else is
 * prepended (items are not unique: an older image re-tagged comes on top again).
 */
export const addTagEvent = (items: ReadonlyArray<TagEvent>, event: TagEvent): Array<TagEvent> => {
  const top = items[0]
  if (top === undefined) return [event]
  if (top.dockerImageReference === event.dockerImageReference && top.image === event.image) {
    return top.generation === event.generation ? [...items] : [{ ...top, generation: event.generation }, ...items.slice(1)]
  }
  if (top.dockerImageReference === event.dockerImageReference) return [{ ...top, image: event.image, generation: event.generation }, ...items.slice(1)]
  if (top.image === event.image) return [{ ...top, dockerImageReference: event.dockerImageReference, generation: event.generation }, ...items.slice(1)]
  return [event, ...items]
}

/** A pull spec split into registry host, repository and tag or digest. */
export interface PullSpec {
  readonly host: string
  readonly repository: string
  readonly tag?: string | undefined
  readonly digest?: string | undefined
}

/** Parses `host[:port]/repo[:tag][@sha256:…]` (a host is required: the sandbox imports from a real registry). */
export const parsePullSpec = (spec: string): PullSpec | undefined => {
  const at = spec.indexOf("@")
  const name = at < 0 ? spec : spec.slice(0, at)
  const digest = at < 0 ? undefined : spec.slice(at + 1)
  const slash = name.indexOf("/")
  if (slash < 0) return undefined
  const host = name.slice(0, slash)
  const rest = name.slice(slash + 1)
  const colon = rest.lastIndexOf(":")
  const repository = colon < 0 ? rest : rest.slice(0, colon)
  const tag = colon < 0 ? (digest === undefined ? "latest" : undefined) : rest.slice(colon + 1)
  return { host, repository, tag, digest }
}

/** How the sandbox's OpenShift controllers behave. */
export interface OpenShiftSandboxSettings {
  /** How often scheduled tags are imported again (sandbox clock; default 15 minutes, as ocm's minimum interval). */
  readonly importIntervalMs?: number | undefined
}

/** What the sandbox exposes of its OpenShift controllers to tests. */
export interface OpenShiftControls {
  /** The tags being imported now (`ns/stream:tag`); empty when every import has finished. */
  importing(): ReadonlyArray<string>
  /** How many imports have finished (succeeded or failed) since start. */
  importsDone(): number
}

/** Writes a workload as the trigger controller does (through the API server's update, so a rollout starts). */
export type TriggerWrite = (resource: string, namespace: string, name: string, object: KubeObject) => void

/** The image import and trigger controllers of one sandbox. */
export class OpenShiftControllers implements OpenShiftControls {
  private readonly inFlight = new Set<string>()
  private readonly lastImport = new Map<string, number>()
  private done = 0
  private readonly store: Store
  private readonly writeWorkload: TriggerWrite
  private readonly now: () => number
  private readonly intervalMs: number

  constructor(store: Store, writeWorkload: TriggerWrite, now: () => number, settings: OpenShiftSandboxSettings = {}) {
    this.store = store
    this.writeWorkload = writeWorkload
    this.now = now
    this.intervalMs = settings.importIntervalMs ?? 15 * 60_000
    store.subscribe((event) => this.onEvent(event))
  }

  importing(): ReadonlyArray<string> {
    return [...this.inFlight]
  }

  importsDone(): number {
    return this.done
  }

  private onEvent(event: WatchEvent): void {
    if (event.type === "DELETED") return
    const { namespace, name } = event.object.metadata
    if (event.resource === "imagestreams") {
      queueMicrotask(() => {
        this.checkImports(namespace, name)
        this.triggerFollowers(namespace, name)
      })
    } else if ((TRIGGERED_RESOURCES as ReadonlyArray<string>).includes(event.resource) && event.object.metadata.annotations?.[TRIGGERS_ANNOTATION] !== undefined) {
      queueMicrotask(() => this.applyTriggers(event.resource, namespace, name))
    } else if (event.resource === "deploymentconfigs") {
      queueMicrotask(() => this.syncDeploymentConfig(namespace, name))
    }
  }

  /** Scheduled imports whose interval has passed (called on the sandbox's reconcile timer). */
  tick(): void {
    const now = this.now()
    for (const stream of this.store.list("imagestreams")) {
      for (const tag of stream.spec?.tags ?? []) {
        if (tag.importPolicy?.scheduled !== true || tag.from?.kind !== "DockerImage") continue
        const key = `${stream.metadata.namespace}/${stream.metadata.name}:${tag.name}`
        if (now - (this.lastImport.get(key) ?? now) >= this.intervalMs) this.startImport(stream.metadata.namespace, stream.metadata.name, tag)
      }
    }
  }

  private checkImports(namespace: string, name: string): void {
    const stream = this.store.peek("imagestreams", namespace, name)
    if (stream === undefined) return
    const requested = stream.metadata.annotations?.[REPOSITORY_CHECK_ANNOTATION] === undefined
    for (const tag of stream.spec?.tags ?? []) {
      if (tag.from?.kind !== "DockerImage" || tag.reference === true) continue
      const status = (stream.status?.tags ?? []).find((t: KubeObject) => t.tag === tag.name)
      const seen = Math.max(status?.items?.[0]?.generation ?? 0, ...(status?.conditions ?? []).map((c: KubeObject) => c.generation ?? 0))
      if (requested || (tag.generation ?? 0) > seen) this.startImport(namespace, name, tag)
    }
  }

  private startImport(namespace: string, name: string, tag: KubeObject): void {
    const key = `${namespace}/${name}:${tag.name}`
    if (this.inFlight.has(key)) return
    this.inFlight.add(key)
    this.lastImport.set(key, this.now())
    const generation: number = tag.generation ?? 0
    const from: string = tag.from.name
    resolveDigest(from, tag.importPolicy?.insecure === true).then(
      (digest) => this.finishImport(namespace, name, tag.name, generation, { digest, from }),
      (error: Error) => this.finishImport(namespace, name, tag.name, generation, { error: error.message, from })
    ).finally(() => {
      this.inFlight.delete(key)
      this.done++
      // A spec change while this import ran (its check found the import busy) is imported now.
      this.checkImports(namespace, name)
    })
  }

  private finishImport(namespace: string, name: string, tagName: string, generation: number, result: { digest?: string; error?: string; from: string }): void {
    const current = this.store.peek("imagestreams", namespace, name)
    if (current === undefined) return
    const next = cloneJson(current)
    const when = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z")
    next.status ??= {}
    next.status.dockerImageRepository ??= ""
    const tags: Array<KubeObject> = next.status.tags ??= []
    let entry = tags.find((t) => t.tag === tagName)
    if (entry === undefined) tags.push(entry = { tag: tagName, items: [] })
    if (result.digest !== undefined) {
      const spec = parsePullSpec(result.from)!
      const event: TagEvent = { created: when, dockerImageReference: `${spec.host}/${spec.repository}@${result.digest}`, image: result.digest, generation }
      const items = addTagEvent(entry.items ?? [], event)
      if (items[0] !== (entry.items ?? [])[0] || items.length !== (entry.items ?? []).length) delete entry.conditions
      entry.items = items
    } else {
      entry.items ??= []
      entry.conditions = [{ type: "ImportSuccess", status: "False", lastTransitionTime: when, reason: "NotFound", message: `${result.from}: ${result.error}`, generation }]
    }
    // A re-import that found the same image writes nothing (the stream stays as it was).
    if (next.metadata.annotations?.[REPOSITORY_CHECK_ANNOTATION] === undefined) next.metadata.annotations = { ...next.metadata.annotations, [REPOSITORY_CHECK_ANNOTATION]: when }
    if (!jsonEqual(next, current)) this.store.update("imagestreams", next)
  }

  private triggerFollowers(namespace: string, stream: string): void {
    for (const dc of this.store.list("deploymentconfigs", namespace)) {
      const follows = (dc.spec?.triggers ?? []).some((t: KubeObject) => t.type === "ImageChange" && String(t.imageChangeParams?.from?.name ?? "").split(":")[0] === stream)
      if (follows) this.syncDeploymentConfig(namespace, dc.metadata.name)
    }
    for (const resource of TRIGGERED_RESOURCES) {
      for (const workload of this.store.list(resource, undefined, (o) => o.metadata.annotations?.[TRIGGERS_ANNOTATION] !== undefined)) {
        const follows = parseTriggers(workload).some((t) => (t.from.namespace ?? workload.metadata.namespace) === namespace && t.from.name.split(":")[0] === stream)
        if (follows) this.applyTriggers(resource, workload.metadata.namespace, workload.metadata.name)
      }
    }
  }

  /**
   * A DeploymentConfig, minimally: its automatic ImageChange triggers set the named containers to
   * the tag's current image (and `lastTriggeredImage`); a new template is rolled out at once
   * (`latestVersion` + 1, every replica updated and available, `observedGeneration` caught up).
   */
  private syncDeploymentConfig(namespace: string, name: string): void {
    const stored = this.store.peek("deploymentconfigs", namespace, name)
    if (stored === undefined) return
    const next = cloneJson(stored)
    let changed = false
    for (const trigger of next.spec?.triggers ?? []) {
      const params = trigger.imageChangeParams
      if (trigger.type !== "ImageChange" || params?.automatic !== true || params.from?.kind !== "ImageStreamTag") continue
      const image = this.currentImage(params.from.namespace ?? namespace, params.from.name)
      if (image === undefined) continue
      for (const container of next.spec?.template?.spec?.containers ?? []) {
        if ((params.containerNames ?? []).includes(container.name) && container.image !== image) {
          container.image = image
          params.lastTriggeredImage = image
          changed = true
        }
      }
    }
    if (changed) return this.writeWorkload("deploymentconfigs", namespace, name, next)
    if ((stored.status?.observedGeneration ?? 0) >= stored.metadata.generation) return
    const replicas: number = stored.spec?.replicas ?? 1
    this.store.update("deploymentconfigs", {
      ...cloneJson(stored),
      status: { latestVersion: (stored.status?.latestVersion ?? 0) + 1, observedGeneration: stored.metadata.generation, replicas, updatedReplicas: replicas, availableReplicas: replicas, readyReplicas: replicas, unavailableReplicas: 0 }
    })
  }

  /** Sets every triggered container's image to its tag's current image when it differs (one write per workload). */
  private applyTriggers(resource: string, namespace: string, name: string): void {
    const stored = this.store.peek(resource, namespace, name)
    if (stored === undefined) return
    const next = cloneJson(stored)
    let changed = false
    for (const trigger of parseTriggers(stored)) {
      if (trigger.paused === true || trigger.from.kind !== "ImageStreamTag") continue
      const image = this.currentImage(trigger.from.namespace ?? namespace, trigger.from.name)
      const container = containerAt(next, trigger.fieldPath)
      if (image === undefined || container === undefined || container.image === image) continue
      container.image = image
      changed = true
    }
    if (changed) this.writeWorkload(resource, namespace, name, next)
  }

  private currentImage(namespace: string, streamTag: string): string | undefined {
    const colon = streamTag.lastIndexOf(":")
    if (colon < 0) return undefined
    const stream = this.store.peek("imagestreams", namespace, streamTag.slice(0, colon))
    const entry = (stream?.status?.tags ?? []).find((t: KubeObject) => t.tag === streamTag.slice(colon + 1))
    return entry?.items?.[0]?.dockerImageReference
  }
}

/** One image-change trigger of the annotation. */
export interface ImageTrigger {
  readonly from: { readonly kind: string; readonly name: string; readonly namespace?: string | undefined }
  readonly fieldPath: string
  readonly paused?: boolean | undefined
}

/** The triggers of a workload's annotation (an unreadable annotation: none, as the controller logs and skips it). */
export const parseTriggers = (workload: KubeObject): ReadonlyArray<ImageTrigger> => {
  const text = workload.metadata?.annotations?.[TRIGGERS_ANNOTATION]
  if (typeof text !== "string") return []
  try {
    const parsed = JSON.parse(text)
    return Array.isArray(parsed) ? parsed.filter((t) => typeof t?.from?.name === "string" && typeof t?.fieldPath === "string") : []
  } catch {
    return []
  }
}

const FIELD_PATH = /^spec\.template\.spec\.(containers|initContainers)\[(?:\?\(@\.name=="([^"]+)"\)|(\d+))\]\.image$/

/** The container a trigger's fieldPath names (`containers[?(@.name=="web")].image` or `containers[0].image`). */
const containerAt = (workload: KubeObject, fieldPath: string): KubeObject | undefined => {
  const m = FIELD_PATH.exec(fieldPath)
  if (m === null) return undefined
  const list: Array<KubeObject> = workload.spec?.template?.spec?.[m[1]!] ?? []
  return m[2] !== undefined ? list.find((c) => c.name === m[2]) : list[Number(m[3])]
}

/** The digest a registry serves for a pull spec (HEAD of the manifest; http only when the tag's importPolicy is insecure). */
const resolveDigest = async (from: string, insecure: boolean): Promise<string> => {
  const spec = parsePullSpec(from)
  if (spec === undefined) throw new Error("not a pull spec with a registry host")
  const url = `${insecure ? "http" : "https"}://${spec.host}/v2/${spec.repository}/manifests/${spec.digest ?? spec.tag}`
  const response = await fetch(url, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT } })
  if (response.status === 404) throw new Error(`manifest unknown (${spec.digest ?? spec.tag} is not in the registry)`)
  if (!response.ok) throw new Error(`the registry answered ${response.status}`)
  const digest = response.headers.get("docker-content-digest")
  if (digest === null) throw new Error("the registry sent no Docker-Content-Digest")
  return digest
}
