/**
 * @module Target — the one contract between the workflows (`plan`, `run`, `undo`, the report,
 * Slack, the Promise API) and a deployment target. A target lists the workloads in scope, applies
 * a set of image changes in the fewest orchestrator-level changes it allows, watches them until
 * done, failed or timed out, verifies every changed workload, reverts, and describes itself for
 * the report. What it cannot do it declares in {@link TargetCapabilities}; the workflow refuses a
 * flag that needs a missing capability before anything changes.
 *
 * Rules every target keeps:
 * - A change is never sent twice blindly: after a lost answer the orchestrator's state tells
 *   whether it was applied; when that cannot be told the error is `Indeterminate`.
 * - `apply` either fails with nothing changed (any reason but `Indeterminate`), or returns what
 *   happened workload by workload (a workload refused by its guard is `refused`, never overwritten).
 * - Nothing a target returns or fails with contains a secret.
 *
 * To add a target: copy `lib/targets/marathon/`, keep its shape (transport, API calls with
 * Schemas, errors, one file implementing this contract) and register it in `lib/targets/index.ts`.
 */
import { Context } from "effect"
import type { Effect } from "effect"
import type { TargetDescription } from "../core/Report.ts"
import type { TargetError } from "./TargetError.ts"
import type { Workload } from "./Workload.ts"

/** One image change: a workload (and container), the image it should run, and what the plan saw it run. */
export interface ImageChange {
  /** The workload's id ({@link Workload.id}). */
  readonly workload: string
  /** The container; undefined = the workload's main container. */
  readonly container?: string | undefined
  /** The complete image reference to run. */
  readonly image: string
  /**
   * The image the plan saw running: a target that can guard a change (Kubernetes `test`, Swarm's
   * version) refuses the workload when it runs something else now. Undefined = not known.
   */
  readonly expected?: string | undefined
  /**
   * The digest `rollback.json` recorded for `image` (`sha256:…`), when known. A target that deploys
   * pinned references (Swarm, as the docker CLI does) sends `image@digest`; others may ignore it.
   */
  readonly digest?: string | undefined
}

/** What became of one workload's change. */
export interface AppliedWorkload {
  readonly workload: string
  /** `applied`: the orchestrator took it; `refused`: its guard refused it (changed meanwhile), nothing changed; `unknown`: may have been applied. */
  readonly state: "applied" | "refused" | "unknown"
  /** Why, when not applied. */
  readonly problem?: string | undefined
}

/** The orchestrator-level change(s) `apply` made, to be watched, verified or reverted. */
export interface AppliedChange {
  /**
   * The ids of the orchestrator's changes, for the report (Marathon: the deployment id; Swarm: the
   * updated services; Kubernetes: `workload@generation`; GitOps: the commit). Empty when the change
   * was applied but finished before it could be seen.
   */
  readonly changeIds: ReadonlyArray<string>
  /** Workload by workload. */
  readonly workloads: ReadonlyArray<AppliedWorkload>
  /** How the answer was found when it was lost ("…found applied in the apps"), for the operator. */
  readonly note?: string | undefined
  /** Target-specific data the same target needs to watch or revert it (never a secret). */
  readonly handle?: unknown
}

/** Progress of a change, for the operator. */
export interface ChangeProgress {
  /** One line: "deployment 4f2… step 1/2", "3 of 5 services updated". */
  readonly summary: string
  /** Per workload: its health now. */
  readonly workloads: ReadonlyArray<{ readonly id: string; readonly running: number; readonly healthy: number; readonly desired: number }>
}

/** How to wait for a change: our own timeout, poll interval, progress. */
export interface WatchOptions {
  /** Give up after this long with reason `Timeout`. */
  readonly timeoutMs: number
  /** Poll this often. */
  readonly pollMs?: number | undefined
  /** Called with each poll's progress. */
  readonly onProgress?: ((progress: ChangeProgress) => void) | undefined
}

/** The check of one changed workload after its change finished. */
export interface WorkloadVerification {
  readonly workload: string
  /** What it runs now. */
  readonly image: string | undefined
  readonly expectedImage: string
  /** Runs the expected image with every instance running (and healthy) and no new failure. */
  readonly ok: boolean
  /** What is wrong, readable (task errors, waiting reasons); absent when ok. */
  readonly problem?: string | undefined
  /**
   * Optional: the workload as read for this check, when the target has it at hand; the workflow
   * then takes the report's final state from it instead of reading every workload again.
   */
  readonly read?: Workload | undefined
}

/** What a revert started. */
export interface RevertStarted {
  /** The change that puts the previous images back; undefined when nothing had to be sent. */
  readonly applied: AppliedChange | undefined
  /** How it went when not as planned ("the deployment had finished before the cancel"). */
  readonly note?: string | undefined
}

/** What a target can do; a flag that needs a missing capability is refused before anything changes. */
export interface TargetCapabilities {
  /** Override the orchestrator's lock (`--force`). */
  readonly force: boolean
  /** Put the previous images back itself (`--revert-on-failure`, `undo`). */
  readonly revert: boolean
  /** Ask the orchestrator to validate a change without applying it (`plan --server-dry-run`). */
  readonly serverDryRun: boolean
  /** Wait until the change runs healthy (false: a GitOps commit ends at "pushed"). */
  readonly watch: boolean
  /** Deploy `repo:tag@digest` (`--pin-digest`). */
  readonly pinDigest: boolean
}

/** Where to look for workloads, as the environment's config says (each target interprets it). */
export interface TargetScope {
  /** Marathon: a group path; other targets: a name prefix. */
  readonly idPrefix?: string | undefined
  /** A label selector (`env==prod`, `app in (a,b)`). */
  readonly labelSelector?: string | undefined
}

/** How to apply a set of changes. */
export interface ApplyOptions {
  /** Override the orchestrator's lock; only when the `force` capability exists. */
  readonly force: boolean
  /** Validate only (`serverDryRun` capability). */
  readonly dryRun?: boolean | undefined
  /** Who asked for the change, for the orchestrator's own record (a GitOps commit message names them). */
  readonly cause?: string | undefined
  /**
   * What the change is: a rollback (`run`) or putting back the images a rollback replaced (`undo`).
   * A GitOps target turns the image automation it held back on when undoing.
   */
  readonly purpose?: "run" | "undo" | undefined
  /** The point the fleet is rolled back to (ISO-8601 instant), for a commit message or a branch name. */
  readonly point?: string | undefined
  /** The point's label, when the operator chose one. */
  readonly label?: string | undefined
  /** The run's time left (`--timeout`): a request the orchestrator holds open longer counts as a lost answer. */
  readonly timeoutMs?: number | undefined
}

/**
 * Target-specific words for the workflow's messages, so an operator reads what the orchestrator
 * calls things and how to check them by hand. Every field is optional; the workflow has generic
 * wording for each.
 */
export interface TargetHints {
  /** What to look at to check workloads by hand: Marathon `container.docker.image, tasks running and healthy, GET /v2/deployments`. */
  readonly checkState?: string | undefined
  /** How to tell whether a change of unknown outcome started: Marathon `do they run the new images? GET /v2/deployments`. */
  readonly checkStarted?: string | undefined
  /** How to cancel a running change by hand: Marathon `DELETE /v2/deployments/ID`. */
  readonly cancelByHand?: ((changeId: string) => string) | undefined
  /** The config keys that narrow the scope: Marathon `environments.<env>.appIdPrefix / labelSelector`. */
  readonly narrowScope?: string | undefined
}

/** What a target remembers one workload (container) ran: an image, since when. */
export interface WorkloadMemory {
  /** The workload's id. */
  readonly workload: string
  /** The container; undefined = the main container. */
  readonly container?: string | undefined
  /** The complete image reference it ran. */
  readonly image: string
  /** When it started running it, epoch ms (a Marathon version, a ReplicaSet's creation, a commit's time). */
  readonly at: number
  /** The orchestrator's revision then (Marathon version, ReplicaSet revision, commit). */
  readonly revision?: string | undefined
  /** Why it changed, when recorded (`kubernetes.io/change-cause`, a commit subject). */
  readonly cause?: string | undefined
}

/** A target's memory of what ran when. */
export interface TargetHistory {
  /** Every remembered image of the asked workloads, in any order. */
  readonly entries: ReadonlyArray<WorkloadMemory>
  /** How far the memory goes, for the operator ("Swarm remembers one step: the previous spec"). */
  readonly note?: string | undefined
}

/** The operations of a deployment target. */
export interface TargetShape {
  /** What the target is, for the report and for `undo` to reach it again; never a secret. */
  readonly description: TargetDescription
  /** The orchestrator's name for messages: "Marathon", "Docker Swarm", "Kubernetes". */
  readonly displayName: string
  /** What it calls one change, for messages: "deployment", "service update", "patch", "commit". */
  readonly changeNoun: string
  /** What it can do. */
  readonly capabilities: TargetCapabilities
  /** What it calls one workload, for messages: "app", "service", "workload" (the default). */
  readonly workloadNoun?: string | undefined
  /**
   * The canonical form of a workload id an operator typed (the config's `services.<name>.app`):
   * Marathon makes ids absolute (`shop/api` → `/shop/api`). Default: the id as typed.
   */
  readonly canonicalId?: ((id: string) => string) | undefined
  /**
   * Set when every workload runs ONE tag (a Pulumi stack's shared `image-tag` key): the selection
   * then gives every service the newest tag that every service has at or before the point
   * (lib/core/SharedTag.ts), never a tag `isMutable` says may move (`main`, `latest`).
   */
  readonly sharedTag?: { readonly isMutable: (tag: string) => boolean } | undefined
  /** Words for messages (see {@link TargetHints}). */
  readonly hints?: TargetHints | undefined
  /**
   * What the asked workloads ran when, as far as the orchestrator remembers (`get --from history`);
   * absent when it remembers nothing (then only our own reports count).
   */
  readonly history?: ((workloads: ReadonlyArray<{ readonly workload: string; readonly container?: string | undefined }>) => Effect.Effect<TargetHistory, TargetError>) | undefined
  /** Every workload it can see, each marked in or out of `scope`. */
  readonly listWorkloads: (scope: TargetScope) => Effect.Effect<ReadonlyArray<Workload>, TargetError>
  /** One workload, read now. */
  readonly getWorkload: (id: string) => Effect.Effect<Workload, TargetError>
  /** Applies the changes (see the module's rules); `force` only when the capability exists. */
  readonly apply: (
    changes: ReadonlyArray<ImageChange>,
    options: ApplyOptions
  ) => Effect.Effect<AppliedChange, TargetError>
  /** Waits until the change is done; fails with `Timeout`, `RolloutFailed`, or a read failure. */
  readonly watch: (applied: AppliedChange, options: WatchOptions) => Effect.Effect<void, TargetError>
  /** Whether the change is still in progress (a deployment still listed, an update still updating). */
  readonly inProgress: (applied: AppliedChange) => Effect.Effect<boolean, TargetError>
  /**
   * Checks every changed workload against its expected image; `before` are the workloads as read
   * before the change (their failure markers). Fails only when the target cannot be read.
   */
  readonly verify: (
    changes: ReadonlyArray<ImageChange>,
    before: ReadonlyMap<string, Workload>
  ) => Effect.Effect<ReadonlyArray<WorkloadVerification>, TargetError>
  /**
   * Puts the previous images (`back`) of a failed change back: Marathon cancels a running
   * deployment or deploys them, Swarm rolls each service back to its previous spec, Kubernetes
   * patches back. The workflow then watches what it returns and verifies `back`.
   */
  readonly revert: (args: {
    readonly applied: AppliedChange
    readonly stillInProgress: boolean
    readonly back: ReadonlyArray<ImageChange>
    readonly force: boolean
  }) => Effect.Effect<RevertStarted, TargetError>
}

/** The base class of {@link Target}, declared with its type (JSR: no slow types). */
const Target_base: Context.ServiceClass<Target, "fleet-rollback/target/Target", TargetShape> = Context.Service<Target, TargetShape>()("fleet-rollback/target/Target")

/** The deployment target the workflows drive. */
export class Target extends Target_base {}
