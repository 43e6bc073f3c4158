/**
 * @module SampleFleet — the demo's fleet (seed 004's story): three backends and a frontend, a
 * week of `<build>-master` builds, one service unchanged all week, and a release two hours ago
 * that users report as broken. Pure: everything is computed from `now`.
 */

/** One image of the sample fleet. */
export interface SampleImage {
  readonly repository: string
  readonly tag: string
  /** Build time, RFC 3339. */
  readonly created: string
  readonly revision: string
}

/** The sample fleet at `now`. */
export interface SampleFleet {
  /** Service name → repository. */
  readonly services: ReadonlyArray<{ readonly name: string; readonly repository: string; readonly app: string }>
  /** Every image, `develop` builds included (the prod environment must ignore them). */
  readonly images: ReadonlyArray<SampleImage>
  /** Service → the tag Marathon runs now (the broken release). */
  readonly running: Readonly<Record<string, string>>
  /** When the broken release was built (epoch ms). */
  readonly releasedAt: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Builds the sample fleet relative to `now` (epoch ms). */
export const sampleFleet = (now: number): SampleFleet => {
  // `hour` o'clock UTC, `daysAgo` calendar days back: at least 7 hours before now for daysAgo ≥ 1.
  const at = (daysAgo: number, hour: number) => Math.floor((now - daysAgo * DAY) / DAY) * DAY + hour * HOUR
  const releasedAt = now - 2 * HOUR
  const builds: Record<string, ReadonlyArray<readonly [tag: string, time: number]>> = {
    api: [["96-master", at(7, 10)], ["97-master", at(5, 14)], ["98-master", at(3, 11)], ["99-master", at(1, 16)], ["100-master", releasedAt], ["101-develop", releasedAt + HOUR]],
    orders: [["40-master", at(6, 9)], ["41-master", at(2, 15)], ["42-master", releasedAt + 5 * 60_000]],
    payments: [["17-master", at(8, 12)], ["18-develop", at(1, 9)]],
    web: [["310-master", at(6, 17)], ["311-master", at(4, 10)], ["312-master", at(1, 13)], ["313-master", releasedAt + 10 * 60_000]]
  }
  const services = Object.keys(builds).map((name) => ({ name, repository: `shop/${name}`, app: `/shop/prod/${name}` }))
  const images = Object.entries(builds).flatMap(([name, list]) =>
    list.map(([tag, time]) => ({
      repository: `shop/${name}`,
      tag,
      created: new Date(time).toISOString(),
      revision: hex(`${name}${tag}`)
    }))
  )
  const running: Record<string, string> = { api: "100-master", orders: "42-master", payments: "17-master", web: "313-master" }
  return { services, images, running, releasedAt }
}

/** A stable fake git sha for a name. */
const hex = (text: string): string => {
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < text.length; i++) {
    h1 = Math.imul(h1 ^ text.charCodeAt(i), 16777619) >>> 0
    h2 = Math.imul(h2 + text.charCodeAt(i), 2246822519) >>> 0
  }
  return (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).repeat(3).slice(0, 40)
}

/** A Marathon app definition for a service running an image. */
export const sampleApp = (id: string, image: string): Record<string, unknown> => ({
  id,
  instances: 2,
  cpus: 0.25,
  mem: 256,
  labels: { team: "shop", env: "prod" },
  env: { LOG_LEVEL: "info" },
  container: {
    type: "DOCKER",
    docker: { image, forcePullImage: false, parameters: [{ key: "log-driver", value: "journald" }] },
    portMappings: [{ containerPort: 8080, hostPort: 0, protocol: "tcp", name: "http" }],
    volumes: []
  },
  healthChecks: [{ protocol: "MESOS_HTTP", path: "/health", portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 10, maxConsecutiveFailures: 3 }],
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 }
})
