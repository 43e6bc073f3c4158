/**
 * @module PlanFleet — `plan`: read `rollback.json`, resolve the point, select the fleet as of it,
 * find each service's Marathon app, and compare with what runs now. Changes nothing.
 */
import { Effect, Result } from "effect"
import { registryHostOf } from "../core/ImageReference.ts"
import type { RollbackPlan, RunningService } from "../core/Plan.ts"
import { planRollback } from "../core/Plan.ts"
import type { ResolvedPoint } from "../core/Point.ts"
import { parsePoint } from "../core/Point.ts"
import type { RollbackFile } from "../core/RollbackFile.ts"
import { timelineOfRollbackFile } from "../core/RollbackFile.ts"
import { selectAsOf } from "../core/Selection.ts"
import type { Timeline } from "../core/Timeline.ts"
import type { AppScope } from "../targets/marathon/AppMatching.ts"
import { matchServiceToApp, parseLabelSelector } from "../targets/marathon/AppMatching.ts"
import type { MarathonApp } from "../targets/marathon/Marathon.ts"
import { Marathon } from "../targets/marathon/Marathon.ts"
import { badInput, failed } from "./RollbackError.ts"

/** What `plan` needs besides the file and the point. */
export interface PlanFleetOptions {
  /** Zone for bare dates and instants without offset; default: the file's zone, else UTC. */
  readonly timeZone?: string | undefined
  /** Which Marathon apps belong to the environment. */
  readonly scope?: AppScope | undefined
  /** Deploy `repository:tag@digest`. */
  readonly pinDigest?: boolean | undefined
  /** Tags never to select (found bad after `get`). */
  readonly badTags?: ReadonlyArray<string> | undefined
}

/** A plan plus what it was made from, for `run`. */
export interface FleetPlan {
  readonly plan: RollbackPlan
  readonly point: ResolvedPoint
  readonly timeline: Timeline
  /** The Marathon apps read while planning, by id. */
  readonly apps: ReadonlyMap<string, MarathonApp>
}

/** Resolves a point against a file; a bad point is BadInput listing the accepted forms. */
export const resolvePoint = (file: RollbackFile, text: string, timeZone?: string) => {
  const timeline = timelineOfRollbackFile(file)
  // DESIGN.md: a bare date or an instant without offset is read in UTC unless --tz says otherwise
  // (the file's zone is only for its labels).
  const point = parsePoint(text, timeline.points, timeZone ?? "UTC")
  return "_tag" in point ? Result.fail(badInput(point.message)) : Result.succeed({ timeline, point })
}

/** Makes the plan for a point. */
export const planFleet = Effect.fn("planFleet")(function*(file: RollbackFile, pointText: string, options: PlanFleetOptions = {}) {
  const { timeline, point } = yield* Effect.fromResult(resolvePoint(file, pointText, options.timeZone))
  const selection = selectAsOf(timeline, point.instant, { badTags: options.badTags })
  const marathon = yield* Marathon
  const apps = yield* marathon.listApps().pipe(
    Effect.mapError((error) =>
      error.reason === "Unauthorized" || error.reason === "Forbidden" ? badInput(error.message) : failed(`cannot read the running apps: ${error.message}`)
    )
  )
  const registryHost = registryHostOf(file.registry)
  const scope = options.scope ?? {}
  if (scope.labelSelector !== undefined && parseLabelSelector(scope.labelSelector) === undefined) {
    return yield* badInput(
      `the label selector ${JSON.stringify(scope.labelSelector)} is not valid: expected Marathon's forms key, key==value, key!=value, key in (a,b), key notin (a,b), joined by commas`
    )
  }
  const running: Array<RunningService> = []
  const ambiguous: Array<string> = []
  const missingNamed: Array<string> = []
  for (const service of timeline.services) {
    const match = matchServiceToApp({ ...service, registryHost }, apps, scope)
    if (match._tag === "Found") {
      const app = apps.find((a) => normalize(a.id) === match.appId)
      running.push({ service: service.name, app: match.appId, image: app?.image })
    } else if (match._tag === "Ambiguous") {
      ambiguous.push(`  ${service.name} (${service.repository}): ${match.candidates.join(", ")}`)
    } else {
      if (service.app !== undefined) missingNamed.push(`  ${service.name}: app ${service.app} does not exist in Marathon`)
      running.push({ service: service.name, app: undefined, image: undefined })
    }
  }
  if (ambiguous.length > 0) {
    return yield* badInput(
      `several Marathon apps run the same repository; name the app with services.<name>.app in the config, or narrow the environment (environments.<env>.appIdPrefix / labelSelector):\n${ambiguous.join("\n")}`
    )
  }
  if (missingNamed.length > 0) {
    return yield* badInput(`the config names apps that Marathon does not have:\n${missingNamed.join("\n")}`)
  }
  const plan = planRollback(timeline, selection, running, { registry: file.registry, pinDigest: options.pinDigest, label: point.label })
  return { plan, point, timeline, apps: new Map(apps.map((a) => [normalize(a.id), a])) } satisfies FleetPlan
})

const normalize = (id: string) => (id.startsWith("/") ? id : `/${id}`)
