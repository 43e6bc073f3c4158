/**
 * @module fleet-rollback — roll a whole fleet of container services back to one point in time.
 */
export * from "./core/index.ts"
