/**
 * @module Triggers — which workloads follow which ImageStream tag (pure): the
 * `image.openshift.io/triggers` annotation of Deployments and StatefulSets (`from` an
 * ImageStreamTag `stream:tag`, `fieldPath` naming a container by name or index), paused triggers
 * left out; and the pull specs fleet-rollback writes (`repo@sha256:…`) and re-tracks (`repo:tag`).
 */
import { parseImageReference } from "../../core/ImageReference.ts"
import type { WorkloadKind } from "../kubernetes/Resources.ts"

/** The trigger annotation. */
export const TRIGGERS_ANNOTATION = "image.openshift.io/triggers"

/** The stream annotation fleet-rollback keeps the tracking reference of a pinned tag in (`<prefix><tag>`). */
export const TRACKING_ANNOTATION_PREFIX = "fleet-rollback.io/tracking."

/** A workload following a tag: its id, and the container the trigger sets. */
export interface Follower {
  /** `namespace/Kind/name`. */
  readonly workload: string
  readonly kind: WorkloadKind | "DeploymentConfig"
  /** The container's name, or undefined when the trigger names it by index (then `index`). */
  readonly container: string | undefined
  readonly index: number | undefined
  readonly init: boolean
}

const FIELD_PATH = /^spec\.template\.spec\.(containers|initContainers)\[(?:\?\(@\.name=="([^"]+)"\)|(\d+))\]\.image$/

/**
 * The tags a workload follows, as `namespace/stream:tag` → the container slot; an unreadable
 * annotation or fieldPath follows nothing (the controller skips it too).
 */
export const followedTags = (
  namespace: string,
  kind: WorkloadKind,
  name: string,
  annotations: Readonly<Record<string, string>> | undefined
): ReadonlyArray<{ readonly tag: string; readonly follower: Follower }> => {
  const text = annotations?.[TRIGGERS_ANNOTATION]
  if (text === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  const found: Array<{ tag: string; follower: Follower }> = []
  for (const t of parsed as Array<{ from?: { kind?: string; name?: string; namespace?: string }; fieldPath?: string; paused?: boolean }>) {
    if (t?.paused === true || t?.from?.kind !== "ImageStreamTag" || typeof t.from.name !== "string" || !t.from.name.includes(":")) continue
    const m = FIELD_PATH.exec(t.fieldPath ?? "")
    if (m === null) continue
    found.push({
      tag: `${t.from.namespace ?? namespace}/${t.from.name}`,
      follower: { workload: `${namespace}/${kind}/${name}`, kind, container: m[2], index: m[3] === undefined ? undefined : Number(m[3]), init: m[1] === "initContainers" }
    })
  }
  return found
}

/** The tags a DeploymentConfig's automatic ImageChange triggers follow, one follower per named container. */
export const deploymentConfigTags = (
  namespace: string,
  name: string,
  triggers: ReadonlyArray<{ readonly type: string; readonly imageChangeParams?: { readonly automatic?: boolean; readonly containerNames?: ReadonlyArray<string>; readonly from?: { readonly kind: string; readonly name: string; readonly namespace?: string } } }> | null | undefined
): ReadonlyArray<{ readonly tag: string; readonly follower: Follower }> =>
  (triggers ?? []).flatMap((t) => {
    const p = t.imageChangeParams
    if (t.type !== "ImageChange" || p?.automatic !== true || p.from?.kind !== "ImageStreamTag" || !p.from.name.includes(":")) return []
    return (p.containerNames ?? []).map((container) => ({
      tag: `${p.from!.namespace ?? namespace}/${p.from!.name}`,
      follower: { workload: `${namespace}/DeploymentConfig/${name}`, kind: "DeploymentConfig" as const, container, index: undefined, init: false }
    }))
  })

/** `quay.io/org/app` of `quay.io/org/app:prod`, `…@sha256:…` or `…:prod@sha256:…`. */
export const repositoryOf = (pullSpec: string): string => {
  const name = pullSpec.split("@")[0]!
  const slash = name.lastIndexOf("/")
  const colon = name.lastIndexOf(":")
  return colon > slash ? name.slice(0, colon) : name
}

/** The digest of a pull spec (`…@sha256:…`), if it has one. */
export const digestOf = (pullSpec: string): string | undefined => {
  const at = pullSpec.indexOf("@")
  return at < 0 ? undefined : pullSpec.slice(at + 1)
}

/** `host/repo@sha256:…` as `oc tag --source=docker` takes it; undefined when the image has no digest. */
export const pinnedPullSpec = (image: string): string | undefined => {
  const digest = digestOf(image)
  return digest === undefined || !/^sha256:[0-9a-f]{64}$/.test(digest) ? undefined : `${repositoryOf(image)}@${digest}`
}

/**
 * Registry host and repository path of a pull spec (`quay.io`, `org/app`), read as every target
 * reads image references ({@link parseImageReference}): `org/app@sha256:…` is Docker Hub's.
 */
export const registryPath = (pullSpec: string): { readonly host: string; readonly repository: string } => {
  const ref = parseImageReference(pullSpec)
  if (ref !== undefined) return { host: ref.host, repository: ref.repository }
  const repo = repositoryOf(pullSpec)
  const slash = repo.indexOf("/")
  return { host: repo.slice(0, slash), repository: repo.slice(slash + 1) }
}
