/**
 * @module core — the pure core of fleet-rollback: tag schemes, timeline, selection, plan and
 * the `rollback.json` schema. No I/O, no clock.
 */
export * from "./History.ts"
export * from "./Image.ts"
export * from "./ImageReference.ts"
export * from "./ImportHistory.ts"
export * from "./LastTags.ts"
export * from "./Plan.ts"
export * from "./Printable.ts"
export * from "./Point.ts"
export * from "./RollbackFile.ts"
export * from "./Selection.ts"
export * from "./SharedTag.ts"
export * from "./TagScheme.ts"
export * from "./Timeline.ts"
export * from "./TimeZone.ts"
export * from "./ConfigFile.ts"
export * from "./Report.ts"
