/**
 * @module fleet-rollback — roll a whole fleet of container services back to one point in time.
 *
 * The pure core (tag schemes, timeline, selection, plan, file schemas), the Effect services
 * with their layers (registry, Marathon / DC/OS, Slack) and the workflows (`get`, `plan`, `run`,
 * `undo`). People who do not use Effect: `fleet-rollback/promise`.
 */
export * from "./core/index.ts"
export { inScope, labelsMatch, matchServiceToApp, parseLabelSelector } from "./targets/marathon/AppMatching.ts"
export type { AppMatch, AppScope, LabelRequirement } from "./targets/marathon/AppMatching.ts"
export * from "./targets/marathon/Marathon.ts"
export * from "./notify/Slack.ts"
export { Registry, RegistryError, RegistryWire, resolveRegistryCredentials } from "./registry/Registry.ts"
export type {
  RateLimit,
  ReadRepositoryOptions,
  RegistryConfig,
  RegistryStats,
  RepositoryRead,
  SkipKind,
  SkippedTag
} from "./registry/Registry.ts"
export type { RequestKind, WireFailure, WireRequest, WireResponse } from "./registry/Wire.ts"
export * from "./workflow/GetRollbacks.ts"
export * from "./workflow/PlanFleet.ts"
export * from "./workflow/RollbackError.ts"
export * from "./workflow/RunRollback.ts"
