/**
 * @module fleet-rollback — roll a whole fleet of container services back to one point in time.
 *
 * The pure core (tag schemes, timeline, selection, plan, file schemas), the Effect services
 * with their layers (registry, the deployment Target contract and Marathon / DC/OS, Docker Swarm, Kubernetes, OpenShift, GitOps and Pulumi on it, Slack)
 * and the workflows (`get`, `plan`, `run`, `undo`, which drive only the Target). People who do not use Effect: `fleet-rollback/promise`.
 */
export * from "./core/index.ts"
export { inScope, labelsMatch, matchServiceToApp, parseLabelSelector } from "./targets/marathon/AppMatching.ts"
export type { AppMatch, AppScope, LabelRequirement } from "./targets/marathon/AppMatching.ts"
export * from "./targets/marathon/Marathon.ts"
export { appToWorkload, describeMarathon, MarathonTarget, toTargetError } from "./targets/marathon/MarathonTarget.ts"
export { describeSwarm, makeSwarmTarget, openSwarmTarget, STACK_LABEL, SwarmTarget } from "./targets/swarm/SwarmTarget.ts"
export type { SwarmConfig } from "./targets/swarm/SwarmTarget.ts"
export { dockerHostFromEnv, parseDockerHost } from "./targets/swarm/Transport.ts"
export type { DockerEndpoint, DockerHostSettings } from "./targets/swarm/Transport.ts"
export { SwarmError, SwarmErrorReason } from "./targets/swarm/SwarmError.ts"
export { loadClusterAccess } from "./targets/kubernetes/Kubeconfig.ts"
export type { ClusterAccess, KubeconfigLookup } from "./targets/kubernetes/Kubeconfig.ts"
export { kubernetesTargetLayer, makeKubernetesTarget } from "./targets/kubernetes/KubernetesTarget.ts"
export type { KubernetesTargetSettings } from "./targets/kubernetes/KubernetesTarget.ts"
export { rolloutVerdict } from "./targets/kubernetes/Rollout.ts"
export { Target } from "./target/Target.ts"
export type {
  AppliedChange,
  AppliedWorkload,
  ApplyOptions,
  ChangeProgress,
  ImageChange as TargetImageChange,
  RevertStarted,
  TargetCapabilities,
  TargetHints,
  TargetScope,
  TargetShape,
  WatchOptions,
  WorkloadVerification
} from "./target/Target.ts"
export { RETRYABLE_READ_REASONS, TargetError, TargetErrorReason } from "./target/TargetError.ts"
export { containerImage } from "./target/Workload.ts"
export type { Workload, WorkloadContainer, WorkloadHealth } from "./target/Workload.ts"
export { matchServiceToWorkload } from "./target/Matching.ts"
export { describeGitOps, GitOpsTarget, makeGitOpsTarget } from "./targets/gitops/GitOpsTarget.ts"
export type { GitOpsHandle, GitOpsSettings } from "./targets/gitops/GitOpsTarget.ts"
export { GitOpsError, scrubCredentials } from "./targets/gitops/GitOpsError.ts"
export type { HelmValuesPath } from "./targets/gitops/ImageFiles.ts"
export type { RepositoryLocation } from "./targets/gitops/Repository.ts"
export { makeOpenShiftTarget, openShiftTargetLayer } from "./targets/openshift/OpenShiftTarget.ts"
export type { OpenShiftTargetSettings, OpenShiftTargetShape, TagHistory } from "./targets/openshift/OpenShiftTarget.ts"
export type { DigestCheck } from "./targets/openshift/Change.ts"
export { registryDigestCheck } from "./targets/openshift/RegistryCheck.ts"
export type { ManifestHead } from "./targets/openshift/RegistryCheck.ts"
export { describePulumi, makePulumiTarget, PulumiTarget } from "./targets/pulumi/PulumiTarget.ts"
export type { PulumiService, PulumiSettings } from "./targets/pulumi/PulumiTarget.ts"
export type { ServiceToMatch, WorkloadMatch } from "./target/Matching.ts"
export * from "./workflow/Capabilities.ts"
export * from "./notify/Slack.ts"
export { Registry, RegistryError, RegistryWire, resolveRegistryCredentials } from "./registry/Registry.ts"
export type {
  RateLimit,
  ReadRepositoryOptions,
  RegistryConfig,
  RegistryShape,
  RegistryStats,
  RepositoryRead,
  SkipKind,
  SkippedTag
} from "./registry/Registry.ts"
export type { RegistryWireShape, RequestKind, WireFailure, WireRequest, WireResponse } from "./registry/Wire.ts"
export * from "./workflow/GetRollbacks.ts"
export * from "./workflow/PlanFleet.ts"
export * from "./workflow/RollbackError.ts"
export * from "./workflow/RunRollback.ts"
