/**
 * @module Workload — what a deployment target runs, in one shape for every orchestrator: a
 * Marathon app, a Swarm service, a Kubernetes Deployment / StatefulSet / DaemonSet, an image line
 * in a GitOps repository. Plain data: the workflow plans, reports and matches on it without
 * knowing which target it came from.
 */

/** One container of a workload and the image it runs. */
export interface WorkloadContainer {
  /** The container's name (Kubernetes), or the workload's own name where there is one container. */
  readonly name: string
  /** The complete image reference it runs (`host/repo:tag@sha256:…`), when it has one. */
  readonly image: string | undefined
  /** An init container (Kubernetes). */
  readonly init?: boolean | undefined
}

/** How healthy a workload is now, in counts every orchestrator has. */
export interface WorkloadHealth {
  /** Instances / replicas wanted. */
  readonly desired: number
  /** Instances running (on any image). */
  readonly running: number
  /** Instances running and healthy (== running where there is no health check). */
  readonly healthy: number
  /** Instances running the workload's current definition (updated replicas); absent where unknown. */
  readonly updated?: number | undefined
  /** One line for an operator: "3/3 healthy", "rolling out: 1 of 3 updated". */
  readonly summary: string
}

/** A workload as a target lists it. */
export interface Workload {
  /**
   * Its id on the target, unique and stable, as an operator would type it: Marathon `/shop/api`,
   * Swarm `shop_api`, Kubernetes `prod/Deployment/api`, GitOps `apps/prod/kustomization.yaml#api`.
   * The report's `app` field holds it.
   */
  readonly id: string
  /** What it is, as the orchestrator calls it: `app`, `service`, `Deployment`, `StatefulSet`, … */
  readonly kind: string
  /** Its labels, for label selectors. */
  readonly labels: Readonly<Record<string, string>>
  /** Its containers (init containers flagged); the first non-init one is the main container. */
  readonly containers: ReadonlyArray<WorkloadContainer>
  /** The image of its main container (what Marathon calls the app's image). */
  readonly image: string | undefined
  /** Health counts and a one-line summary. */
  readonly health: WorkloadHealth
  /** The orchestrator's own version or revision of it (Marathon version, Swarm `Version.Index`, resourceVersion, commit). */
  readonly revision: string | undefined
  /**
   * An opaque marker of its last failure (Marathon's lastTaskFailure, a task error): a change is
   * healthy only when no failure newer than the marker taken before it appears.
   */
  readonly lastFailure?: string | undefined
  /** True when the target's scope (group, label selector, stack, namespace) includes it. */
  readonly inScope: boolean
  /**
   * Where a change of it lands, for the plan, when the id does not say it all: a GitOps file and
   * line, with the image automation that would set it back.
   */
  readonly where?: string | undefined
  /** Set when the target lists it but cannot roll it back (a CronJob, a bare Pod): why. */
  readonly notHandled?: string | undefined
}

/** The image of one container of a workload; the main container when `container` is undefined. */
export const containerImage = (workload: Workload, container: string | undefined): string | undefined =>
  container === undefined ? workload.image : workload.containers.find((c) => c.name === container)?.image
