/**
 * @module Change — the rollback of ImageStream tags as seed 003 does it by hand, in one go:
 * every tag set to `DockerImage repo@sha256:<digest>` as `oc tag --source=docker` does (one
 * guarded JSON patch per stream: `test` of the tag's current `from`, the whole tag replaced,
 * `generation: 0`; the tag's tracking reference kept in a stream annotation), all tags first;
 * then waiting until each tag has imported its new image, the triggers have set it on every
 * workload that follows the tag, and those rollouts are done by the Kubernetes target's rules.
 * `restoreTracking` (undo, re-track) puts the tracking reference back (`oc tag
 * quay.io/…:prod ns/is:prod`). A digest the registry no longer has is refused before anything
 * changes.
 */
import { Clock, Effect } from "effect"
import type { AppliedChange, AppliedWorkload, ImageChange, WatchOptions, WorkloadVerification } from "../../target/Target.ts"
import { TargetError } from "../../target/TargetError.ts"
import { type JsonPatchOp, pointerToken } from "../kubernetes/Api.ts"
import { type Cluster, readKind } from "../kubernetes/Cluster.ts"
import { findContainer } from "../kubernetes/Patches.ts"
import { changesInProgress, verifyChanges, watchChanges } from "../kubernetes/Progress.ts"
import type { WorkloadKind } from "../kubernetes/Resources.ts"
import { callOpenShift, deploymentConfigDone, type DeploymentConfigJson, DeploymentConfigListJson, dockerImageTag, listDeploymentConfigs, type ImageStreamJson, ImageStreamJson as StreamSchema, patchImageStream, type SpecTagJson } from "./Api.ts"
import { historyOf, listStreams, parseTagId, readNamespaces, readStream, type TagRef, tagId } from "./Streams.ts"
import { digestOf, type Follower, pinnedPullSpec, registryPath, repositoryOf, TRACKING_ANNOTATION_PREFIX } from "./Triggers.ts"

/** Whether the registry still serves a digest (HEAD through the registry client); fails when it cannot tell. */
export type DigestCheck = (image: { readonly host: string; readonly repository: string; readonly digest: string }) => Effect.Effect<boolean, TargetError>

/** What `apply` hands to `watch`, `verify` and `revert`: per tag, the spec generation to reach and who follows it. */
export interface OpenShiftHandle {
  readonly tags: ReadonlyArray<{ readonly id: string; readonly generation: number; readonly followers: ReadonlyArray<Follower>; readonly previous: SpecTagJson | undefined; readonly sent: SpecTagJson }>
  readonly dryRun: boolean
}

/** The guarded patch of one stream: for each tag, `test` its current `from`, replace it; keep/clear the tracking annotation. */
const streamPatch = (stream: ImageStreamJson, tags: ReadonlyArray<{ readonly tag: string; readonly next: SpecTagJson; readonly track: "keep" | "clear" }>): Array<JsonPatchOp> => {
  const ops: Array<JsonPatchOp> = []
  const annotations = stream.metadata.annotations
  if (annotations === undefined) ops.push({ op: "add", path: "/metadata/annotations", value: {} })
  for (const { tag, next, track } of tags) {
    const index = (stream.spec?.tags ?? []).findIndex((t) => t.name === tag)
    const current = stream.spec!.tags![index]!
    ops.push({ op: "test", path: `/spec/tags/${index}/name`, value: tag })
    ops.push({ op: "test", path: `/spec/tags/${index}/from`, value: current.from })
    ops.push({ op: "replace", path: `/spec/tags/${index}`, value: next })
    const key = `/metadata/annotations/${pointerToken(TRACKING_ANNOTATION_PREFIX + tag)}`
    const kept = annotations?.[TRACKING_ANNOTATION_PREFIX + tag]
    if (track === "keep" && kept === undefined) ops.push({ op: "add", path: key, value: JSON.stringify({ tag: current, image: historyOf(stream, tag)[0]?.image }) })
    if (track === "clear" && kept !== undefined) ops.push({ op: "remove", path: key })
  }
  return ops
}

/** What fleet-rollback kept when it pinned a tag: the spec tag as it was and the digest it had imported then. */
interface Tracking {
  readonly tag: SpecTagJson
  readonly image: string | undefined
}

/** The tracking reference kept in a stream's annotation for `tag`, if any. */
const trackingOf = (stream: ImageStreamJson, tag: string): Tracking | undefined => {
  const text = stream.metadata.annotations?.[TRACKING_ANNOTATION_PREFIX + tag]
  if (text === undefined) return undefined
  try {
    const parsed = JSON.parse(text) as Tracking
    return typeof parsed?.tag?.name === "string" ? parsed : undefined
  } catch {
    return undefined
  }
}

/**
 * The spec tag a change sets: back to tracking when the change asks for the very digest the tag
 * had imported when fleet-rollback pinned it (undo of a rollback), else pinned by digest.
 */
const nextTag = (stream: ImageStreamJson, tag: string, pullSpec: string): { readonly next: SpecTagJson; readonly track: "keep" | "clear" } => {
  const tracking = trackingOf(stream, tag)
  if (tracking !== undefined && tracking.image === digestOf(pullSpec)) return { next: { ...tracking.tag, generation: 0 }, track: "clear" }
  return { next: dockerImageTag(tag, pullSpec, stream.spec?.tags?.find((t) => t.name === tag)), track: "keep" }
}

/** Changes grouped by stream, each change checked (a tag id, a digest) — Invalid before anything is sent. */
const plannedTags = (changes: ReadonlyArray<ImageChange>): Effect.Effect<ReadonlyArray<{ readonly ref: TagRef; readonly change: ImageChange; readonly pullSpec: string }>, TargetError> =>
  Effect.forEach(changes, (change) => {
    const ref = parseTagId(change.workload)
    if (ref === undefined) return Effect.fail(new TargetError({ reason: "Invalid", workloads: [change.workload], message: `"${change.workload}" is not an ImageStream tag: expected namespace/ImageStreamTag/stream:tag (e.g. prod/ImageStreamTag/worker:prod); nothing was changed` }))
    const pullSpec = pinnedPullSpec(change.image)
    if (pullSpec === undefined) return Effect.fail(new TargetError({ reason: "Invalid", workloads: [change.workload], message: `${change.workload}: ${change.image} has no sha256 digest; an ImageStream tag is rolled back by digest (oc tag --source=docker repo@sha256:…): use a point from get --from imagestreams, or --pin-digest; nothing was changed` }))
    return Effect.succeed({ ref, change, pullSpec })
  })

/** Refuses the whole change when any digest is no longer in its registry (nothing sent). */
const checkDigests = (check: DigestCheck, planned: ReadonlyArray<{ readonly change: ImageChange; readonly pullSpec: string }>) =>
  Effect.gen(function*() {
    const present = yield* Effect.forEach(planned, (p) => check({ ...registryPath(p.pullSpec), digest: digestOf(p.pullSpec)! }), { concurrency: 4 })
    const missing = planned.filter((_, i) => !present[i])
    if (missing.length > 0) {
      return yield* new TargetError({
        reason: "Invalid",
        workloads: missing.map((m) => m.change.workload),
        message: `${missing.map((m) => `${m.pullSpec} (for ${m.change.workload})`).join(", ")}: no longer in the registry (HEAD of the manifest by digest answered 404), so the tag could not import it; nothing was changed. Choose a point whose images still exist`
      })
    }
  })

/** Sends one stream's patch; a lost answer is settled by reading the stream back. */
const sendStreamPatch = (cluster: Cluster, stream: ImageStreamJson, ops: ReadonlyArray<JsonPatchOp>, dryRun: boolean, applied: (s: ImageStreamJson) => boolean) => {
  const ns = stream.metadata.namespace ?? cluster.namespaces[0]!
  const what = `ImageStream ${ns}/${stream.metadata.name}`
  return callOpenShift(cluster.transport, cluster.access, patchImageStream(ns, stream.metadata.name, ops, dryRun), StreamSchema, what, ns).pipe(
    Effect.catchIf((e: TargetError) => e.noAnswer === true || e.reason === "Unavailable", (e) =>
      readStream(cluster, ns, stream.metadata.name).pipe(
        Effect.flatMap((now) => applied(now) ? Effect.succeed(now) : Effect.fail(new TargetError({ reason: "Conflict", message: `${what}: the change got no answer and is not applied (${e.message})` }))),
        Effect.mapError((r) => r.reason === "Conflict" ? r : new TargetError({ reason: "Indeterminate", workloads: [what], message: `${what}: the change got no answer and the stream could not be read back: check its spec tags (oc describe is/${stream.metadata.name} -n ${ns})` }))
      ))
  )
}

/** Applies the tag changes (see the module); `check` refuses missing digests first. */
export const applyTagChanges = (cluster: Cluster, changes: ReadonlyArray<ImageChange>, check: DigestCheck, dryRun: boolean): Effect.Effect<AppliedChange, TargetError> =>
  Effect.gen(function*() {
    const planned = yield* plannedTags(changes)
    yield* checkDigests(check, planned)
    const namespaces = [...(yield* readNamespaces(cluster, planned.map((p) => p.ref.namespace))).values()]
    const outcomes: Array<AppliedWorkload> = []
    const handled: Array<OpenShiftHandle["tags"][number]> = []
    const changeIds: Array<string> = []
    const byStream = new Map<string, Array<(typeof planned)[number]>>()
    for (const p of planned) byStream.set(`${p.ref.namespace}/${p.ref.stream}`, [...(byStream.get(`${p.ref.namespace}/${p.ref.stream}`) ?? []), p])
    for (const [key, group] of byStream) {
      const read = namespaces.find((n) => n.namespace === group[0]!.ref.namespace)!
      const stream = read.streams.find((s) => s.metadata.name === group[0]!.ref.stream)
      const ok = group.filter((p) => {
        const spec = stream?.spec?.tags?.find((t) => t.name === p.ref.tag)
        const current = stream === undefined ? undefined : historyOf(stream, p.ref.tag)[0]?.dockerImageReference
        const problem = spec === undefined ? `no spec tag ${p.ref.tag} in ImageStream ${key}`
          : p.change.expected !== undefined && current !== p.change.expected ? `the tag's image changed meanwhile: ${current ?? "none"}, not ${p.change.expected} as planned` : undefined
        if (problem !== undefined) outcomes.push({ workload: p.change.workload, state: "refused", problem })
        return problem === undefined
      })
      if (stream === undefined || ok.length === 0) continue
      const tags = ok.map((p) => ({ p, previous: stream.spec!.tags!.find((t) => t.name === p.ref.tag)!, ...nextTag(stream, p.ref.tag, p.pullSpec) }))
      const result = yield* sendStreamPatch(cluster, stream, streamPatch(stream, tags.map((t) => ({ tag: t.p.ref.tag, next: t.next, track: t.track }))), dryRun,
        (now) => tags.every((t) => now.spec?.tags?.find((s) => s.name === t.p.ref.tag)?.from?.name === t.next.from?.name)).pipe(Effect.result)
      if (result._tag === "Failure") {
        for (const t of tags) outcomes.push({ workload: t.p.change.workload, state: result.failure.reason === "Indeterminate" ? "unknown" : "refused", problem: result.failure.message })
        continue
      }
      changeIds.push(`${key}@${result.success.metadata.generation ?? "?"}`)
      for (const t of tags) {
        outcomes.push({ workload: t.p.change.workload, state: "applied" })
        handled.push({ id: t.p.change.workload, generation: result.success.metadata.generation ?? 0, followers: read.followers.get(`${t.p.ref.namespace}/${t.p.ref.stream}:${t.p.ref.tag}`) ?? [], previous: t.previous, sent: t.next })
      }
    }
    if (outcomes.every((o) => o.state === "refused") && outcomes.length > 0 && handled.length === 0 && outcomes.every((o) => o.problem === outcomes[0]!.problem)) {
      return yield* new TargetError({ reason: "Conflict", workloads: outcomes.map((o) => o.workload), message: outcomes[0]!.problem ?? "refused" })
    }
    return { changeIds, workloads: outcomes, handle: { tags: handled, dryRun } satisfies OpenShiftHandle }
  })

/** The current import of a tag by its generation: done (with the image reference), failed (the condition's message) or pending. */
const importState = (stream: ImageStreamJson, tag: string, generation: number): { readonly state: "done"; readonly image: string } | { readonly state: "failed"; readonly message: string } | { readonly state: "pending" } => {
  const entry = (stream.status?.tags ?? []).find((t) => t.tag === tag)
  const failed = (entry?.conditions ?? []).find((c) => c.type === "ImportSuccess" && c.status === "False" && (c.generation ?? 0) >= generation)
  if (failed !== undefined) return { state: "failed", message: `${failed.reason ?? "ImportFailed"}: ${failed.message ?? ""}` }
  const top = entry?.items?.[0]
  return top !== undefined && top.generation >= generation ? { state: "done", image: top.dockerImageReference } : { state: "pending" }
}

/** Each handled tag's import state now: one listing of streams per namespace (not a request per tag). */
const readImports = (cluster: Cluster, handle: OpenShiftHandle) =>
  Effect.gen(function*() {
    const tags = handle.tags.map((t) => ({ t, ref: parseTagId(t.id)! }))
    const namespaces = [...new Set(tags.map(({ ref }) => ref.namespace))]
    const lists = yield* Effect.forEach(namespaces, (ns) => listStreams(cluster, ns), { concurrency: cluster.concurrency })
    const streams = new Map(lists.flatMap((items, i) => items.map((s) => [`${namespaces[i]}/${s.metadata.name}`, s] as const)))
    return tags.map(({ t, ref }) => {
      const stream = streams.get(`${ref.namespace}/${ref.stream}`)
      return { t, state: stream === undefined ? { state: "failed" as const, message: `ImageStream ${ref.namespace}/${ref.stream} was deleted` } : importState(stream, ref.tag, t.generation) }
    })
  })

/** The followers' triggered containers as Kubernetes image changes (to the tag's imported image). */
const followerChanges = (imports: ReadonlyArray<{ readonly t: OpenShiftHandle["tags"][number]; readonly image: string }>): ReadonlyArray<ImageChange> =>
  imports.flatMap(({ t, image }) => t.followers.map((f) => ({ workload: f.workload, container: f.container, image })))

/** DeploymentConfig followers are judged here (a DeploymentConfig is no Kubernetes kind); the others by the Kubernetes target's rules. */
const isDeploymentConfig = (c: ImageChange): boolean => c.workload.split("/")[1] === "DeploymentConfig"

/** Whether every DeploymentConfig follower runs its tag's image with its rollout done. */
const deploymentConfigsSet = (cluster: Cluster, changes: ReadonlyArray<ImageChange>) =>
  Effect.gen(function*() {
    const namespaces = [...new Set(changes.map((c) => c.workload.split("/")[0]!))]
    const lists = yield* Effect.forEach(namespaces, (ns) => callOpenShift(cluster.transport, cluster.access, listDeploymentConfigs(ns), DeploymentConfigListJson, `DeploymentConfigs in namespace ${ns}`, ns, "deploymentconfigs"), { concurrency: cluster.concurrency })
    const all = new Map<string, DeploymentConfigJson>(lists.flatMap((l, i) => l.items.map((dc) => [`${namespaces[i]}/DeploymentConfig/${dc.metadata.name}`, dc] as const)))
    return changes.every((c) => {
      const dc = all.get(c.workload)
      return dc !== undefined && dc.spec.template?.spec.containers.find((x) => x.name === c.container)?.image === c.image && deploymentConfigDone(dc)
    })
  })

/** Whether every follower runs its tag's image (the trigger controller has set it). */
const followersSet = (cluster: Cluster, every: ReadonlyArray<ImageChange>) =>
  Effect.gen(function*() {
    const dcs = every.filter(isDeploymentConfig)
    if (dcs.length > 0 && !(yield* deploymentConfigsSet(cluster, dcs))) return false
    const changes = every.filter((c) => !isDeploymentConfig(c))
    const groups = [...new Set(changes.map((c) => c.workload.split("/").slice(0, 2).join("/")))]
    const lists = yield* Effect.forEach(groups, (g) => readKind(cluster, g.split("/")[0]!, g.split("/")[1] as WorkloadKind), { concurrency: cluster.concurrency })
    const all = new Map<string, (typeof lists)[number][number]>(lists.flatMap((items, i) => items.map((w) => [`${groups[i]}/${w.metadata.name}`, w] as const)))
    return changes.every((c) => {
      const w = all.get(c.workload)
      return w !== undefined && findContainer(w, c.container)?.image === c.image
    })
  })

/** Waits for the imports, the triggers, then the rollouts (kubectl's rules); our own timeout. */
export const watchTagChanges = (cluster: Cluster, applied: AppliedChange, options: WatchOptions): Effect.Effect<void, TargetError> =>
  Effect.gen(function*() {
    const handle = applied.handle as OpenShiftHandle | undefined
    if (handle === undefined || handle.tags.length === 0 || handle.dryRun) return
    const started = yield* Clock.currentTimeMillis
    const left = Effect.map(Clock.currentTimeMillis, (now) => options.timeoutMs - (now - started))
    for (;;) {
      const imports = yield* readImports(cluster, handle)
      const failed = imports.filter((i) => i.state.state === "failed")
      if (failed.length > 0) {
        return yield* new TargetError({ reason: "RolloutFailed", workloads: failed.map((f) => f.t.id), message: `import failed: ${failed.map((f) => `${f.t.id}: ${(f.state as { message: string }).message}`).join(" | ")}` })
      }
      const done = imports.flatMap((i) => i.state.state === "done" ? [{ t: i.t, image: i.state.image }] : [])
      options.onProgress?.({ summary: `${done.length} of ${imports.length} tags imported`, workloads: [] })
      if (done.length === imports.length) {
        const changes = followerChanges(done)
        if (yield* followersSet(cluster, changes)) {
          return yield* watchChanges(cluster, rolloutsOf(changes), { ...options, timeoutMs: Math.max(0, yield* left) })
        }
      }
      if ((yield* left) <= 0) {
        const pending = imports.filter((i) => i.state.state === "pending").map((i) => i.t.id)
        return yield* new TargetError({ reason: "Timeout", workloads: pending.length > 0 ? pending : handle.tags.map((t) => t.id), message: pending.length > 0 ? `${pending.join(", ")}: still importing after ${Math.round(options.timeoutMs / 1000)} s (oc describe is shows "importing latest image")` : `the image-change triggers have not set the new images after ${Math.round(options.timeoutMs / 1000)} s: is a trigger paused?` })
      }
      yield* Effect.sleep(options.pollMs ?? 500)
    }
  })

/** Whether an import, a trigger or a rollout is still going. */
export const tagChangesInProgress = (cluster: Cluster, applied: AppliedChange): Effect.Effect<boolean, TargetError> =>
  Effect.gen(function*() {
    const handle = applied.handle as OpenShiftHandle | undefined
    if (handle === undefined || handle.dryRun) return false
    const imports = yield* readImports(cluster, handle)
    if (imports.some((i) => i.state.state === "pending")) return true
    const changes = followerChanges(imports.flatMap((i) => i.state.state === "done" ? [{ t: i.t, image: i.state.image }] : []))
    // still going: a trigger has not set the image yet, or a rollout is still rolling (a failed one is not "in progress")
    return !(yield* followersSet(cluster, changes)) || (yield* changesInProgress(cluster, rolloutsOf(changes)))
  })

/** The Kubernetes rollouts the followers' changes start (DeploymentConfigs are judged by their own rules). */
const rolloutsOf = (changes: ReadonlyArray<ImageChange>): AppliedChange => ({
  changeIds: [],
  workloads: [...new Set(changes.filter((c) => !isDeploymentConfig(c)).map((c) => c.workload))].map((workload) => ({ workload, state: "applied" as const }))
})

/** Each tag: its current image is the digest asked for, and every follower runs it with its rollout done. */
export const verifyTagChanges = (cluster: Cluster, changes: ReadonlyArray<ImageChange>): Effect.Effect<ReadonlyArray<WorkloadVerification>, TargetError> =>
  Effect.gen(function*() {
    const refs = changes.map((c) => parseTagId(c.workload)!)
    const reads = yield* readNamespaces(cluster, refs.map((r) => r.namespace))
    const tags = changes.map((change, i) => {
      const ref = refs[i]!
      const read = reads.get(ref.namespace)!
      const stream = read.streams.find((s) => s.metadata.name === ref.stream)
      const image = stream === undefined ? undefined : historyOf(stream, ref.tag)[0]?.dockerImageReference
      const current = image !== undefined && digestOf(image) === digestOf(change.image)
      const followers = !current ? [] : (read.followers.get(`${ref.namespace}/${ref.stream}:${ref.tag}`) ?? []).map((f) => ({ workload: f.workload, container: f.container, image }))
      return { change, read, image, current, followers }
    })
    // every Kubernetes follower of every tag in one verification (one read of each workload)
    const kubernetes = tags.flatMap((t) => t.followers.filter((c) => !isDeploymentConfig(c)))
    const checks = yield* verifyChanges(cluster, kubernetes, new Map())
    let next = 0
    return tags.map(({ change, read, image, current, followers }): WorkloadVerification => {
      if (!current) return { workload: change.workload, image, expectedImage: change.image, ok: false, problem: `the tag's current image is ${image ?? "none"}, not ${digestOf(change.image)}` }
      const own = checks.slice(next, next += followers.filter((c) => !isDeploymentConfig(c)).length)
      const dcProblems = followers.filter(isDeploymentConfig).flatMap((c) => {
        const dc = read.deploymentConfigs.get(c.workload)
        const runs = dc?.spec.template?.spec.containers.find((x) => x.name === c.container)?.image
        return runs === image && dc !== undefined && deploymentConfigDone(dc) ? [] : [{ workload: c.workload, ok: false, problem: runs === image ? "its rollout is not done" : `runs ${runs ?? "no such container"}, not ${image}` }]
      })
      const bad = [...own.filter((c) => !c.ok), ...dcProblems]
      return { workload: change.workload, image, expectedImage: change.image, ok: bad.length === 0, ...(bad.length === 0 ? {} : { problem: bad.map((b) => `${b.workload}: ${b.problem}`).join("; ") }) }
    })
  })

/**
 * Puts tags back to tracking (`oc tag quay.io/…:prod ns/is:prod`): the reference kept when
 * fleet-rollback pinned the tag, else `<repository of its image>:<tag>`; each guarded by its
 * current `from`. Returns an AppliedChange to watch like `apply`'s.
 */
export const restoreTracking = (cluster: Cluster, ids: ReadonlyArray<string>, dryRun: boolean): Effect.Effect<AppliedChange, TargetError> =>
  Effect.gen(function*() {
    const refs = yield* Effect.forEach(ids, (id) => {
      const ref = parseTagId(id)
      return ref === undefined ? Effect.fail(new TargetError({ reason: "Invalid", workloads: [id], message: `"${id}" is not an ImageStream tag: expected namespace/ImageStreamTag/stream:tag` })) : Effect.succeed(ref)
    })
    // every namespace read once, and every stream found, before anything is sent
    const reads = yield* readNamespaces(cluster, refs.map((r) => r.namespace))
    const groups = [...groupBy(refs, (r) => `${r.namespace}/${r.stream}`)].map(([key, group]) => {
      const read = reads.get(group[0]!.namespace)!
      return { key, group, read, stream: read.streams.find((s) => s.metadata.name === group[0]!.stream) }
    })
    const missing = groups.filter((g) => g.stream === undefined)
    if (missing.length > 0) {
      return yield* new TargetError({ reason: "NotFound", workloads: missing.flatMap((g) => g.group.map(tagId)), message: `ImageStream ${missing.map((g) => g.key).join(", ")} was not found: nothing was changed` })
    }
    const outcomes: Array<AppliedWorkload> = []
    const handled: Array<OpenShiftHandle["tags"][number]> = []
    const changeIds: Array<string> = []
    for (const { key, group, read, stream: found } of groups) {
      const stream = found!
      const tags = group.flatMap((r) => {
        const current = stream.spec?.tags?.find((t) => t.name === r.tag)
        if (current === undefined) {
          outcomes.push({ workload: tagId(r), state: "refused", problem: `no spec tag ${r.tag} in ImageStream ${key}` })
          return []
        }
        const kept = trackingOf(stream, r.tag)?.tag
        const next: SpecTagJson = kept !== undefined ? { ...kept, generation: 0 } : { ...current, from: { kind: "DockerImage", name: `${repositoryOf(current.from?.name ?? historyOf(stream, r.tag)[0]?.dockerImageReference ?? "")}:${r.tag}` }, generation: 0 }
        return [{ r, current, next }]
      })
      if (tags.length === 0) continue
      const result = yield* sendStreamPatch(cluster, stream, streamPatch(stream, tags.map((t) => ({ tag: t.r.tag, next: t.next, track: "clear" }))), dryRun,
        (now) => tags.every((t) => now.spec?.tags?.find((s) => s.name === t.r.tag)?.from?.name === t.next.from?.name)).pipe(Effect.result)
      if (result._tag === "Failure") {
        // this stream's tags said so, the others go on (what was already re-tracked stays reported)
        for (const t of tags) outcomes.push({ workload: tagId(t.r), state: result.failure.reason === "Indeterminate" ? "unknown" : "refused", problem: result.failure.message })
        continue
      }
      const sent = result.success
      changeIds.push(`${key}@${sent.metadata.generation ?? "?"}`)
      for (const t of tags) {
        outcomes.push({ workload: tagId(t.r), state: "applied" })
        handled.push({ id: tagId(t.r), generation: sent.metadata.generation ?? 0, followers: read.followers.get(`${key}:${t.r.tag}`) ?? [], previous: t.current, sent: t.next })
      }
    }
    if (handled.length === 0 && outcomes.length > 0 && outcomes.every((o) => o.state === "refused")) {
      return yield* new TargetError({ reason: "Conflict", workloads: outcomes.map((o) => o.workload), message: `nothing was changed: ${outcomes.map((o) => `${o.workload}: ${o.problem}`).join("; ")}` })
    }
    return { changeIds, workloads: outcomes, handle: { tags: handled, dryRun } satisfies OpenShiftHandle }
  })

const groupBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Map<string, Array<A>> => {
  const groups = new Map<string, Array<A>>()
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  return groups
}
