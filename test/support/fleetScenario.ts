/**
 * @module fleetScenario — seed 004's incident, on real components: a password-protected
 * `docker-registry` holding a shop's images, and the Marathon sandbox running the broken
 * release. Shared by the Jenkins and the Ansible integration tests.
 *
 * The fleet (prod = `<build>-master` tags):
 * - `api`: `99-master` (Nov 18), `100-master` (Nov 20, the broken release) — lexically
 *   `99-master` sorts after `100-master`, the seed's bug.
 * - `web`: `41-master` (Nov 18), `42-master` (Nov 20).
 * - `worker`: `7-master` (Nov 10), unchanged all week: it must keep running `7-master`.
 * - develop builds newer than all of that (`101-develop`, `43-develop`) that prod must ignore.
 * Marathon runs `100-master`, `42-master`, `7-master`. Rolling back to the day before the
 * release must give `99-master`, `41-master`, `7-master`, in one deployment.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { startMarathonSandbox, type MarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { startDockerRegistry, type DockerRegistry } from "./DockerRegistry.ts"
import { pushFleet } from "./pushImage.ts"

/** Secrets of the scenario; tests check none of them is ever printed or written. */
export const secrets = {
  registryUsername: "rollback-bot",
  registryPassword: "registry-pw-5f1c9e",
  marathonToken: "marathon-token-8a7b6c",
  /** Plain Marathon's HTTP Basic login (the sandbox accepts it as well as the token). */
  marathonUsername: "rollback-marathon",
  marathonPassword: "marathon-pw-2c4d6e",
  slackPath: "/services/T0FLEET/B0ROLL/webhook-secret-3d2e1f"
} as const

/** The values that must never appear in output, files or reports. */
export const secretValues: ReadonlyArray<string> = [secrets.registryPassword, secrets.marathonToken, secrets.marathonPassword, secrets.slackPath]

const services = ["api", "web", "worker"] as const
/** A service of the scenario. */
export type Service = (typeof services)[number]

const images: Record<Service, ReadonlyArray<{ tag: string; created: string }>> = {
  api: [
    { tag: "99-master", created: "2026-11-18T10:00:00Z" },
    { tag: "100-master", created: "2026-11-20T15:30:00Z" },
    { tag: "101-develop", created: "2026-11-21T09:00:00Z" }
  ],
  web: [
    { tag: "41-master", created: "2026-11-18T11:00:00Z" },
    { tag: "42-master", created: "2026-11-20T16:00:00Z" },
    { tag: "43-develop", created: "2026-11-21T10:00:00Z" }
  ],
  worker: [{ tag: "7-master", created: "2026-11-10T08:00:00Z" }]
}

/** What runs before the rollback (the broken release) and what must run after it. */
export const running: Record<Service, string> = { api: "100-master", web: "42-master", worker: "7-master" }
/** The images expected after rolling back to the day before the release. */
export const expectedAfterRollback: Record<Service, string> = { api: "99-master", web: "41-master", worker: "7-master" }

/** The Marathon app id of a service. */
export const appId = (service: Service): string => `/shop/prod/${service}`

/** A running scenario. */
export interface FleetScenario {
  readonly registry: DockerRegistry
  readonly marathon: MarathonSandbox
  /** The config file written into `dir`. */
  readonly configFile: string
  /** Digest of every pushed image by service and tag. */
  readonly digests: ReadonlyMap<string, ReadonlyMap<string, string>>
  /** Bodies posted to the scenario's Slack webhook. */
  readonly slackMessages: ReadonlyArray<unknown>
  /** The Slack webhook URL (a secret). */
  readonly slackWebhookUrl: string
  /** The environment variables the secrets travel in (as withCredentials / the role set them). */
  readonly secretEnvironment: Readonly<Record<string, string>>
  /** The image each Marathon app runs now. */
  readonly runningImages: () => Record<Service, string>
  /** True when `image` is the given tag of the service (by tag or by its digest). */
  readonly isImage: (service: Service, image: string, tag: string) => boolean
  readonly stop: () => Promise<void>
}

const startWebhook = async (messages: Array<unknown>): Promise<{ server: Server; base: string }> => {
  const server = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
    request.on("end", () => {
      try {
        messages.push(JSON.parse(body))
      } catch {
        messages.push(body)
      }
      response.writeHead(200, { "content-type": "text/plain" }).end("ok")
    })
  })
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
  const { port } = server.address() as AddressInfo
  return { server, base: `http://127.0.0.1:${port}` }
}

/** Starts the registry (htpasswd auth), pushes the fleet, starts Marathon, writes `dir/fleet-rollback.yaml`. */
export const startFleetScenario = async (dir: string): Promise<FleetScenario> => {
  const registry = await startDockerRegistry({
    auth: "htpasswd",
    users: [{ username: secrets.registryUsername, password: secrets.registryPassword }]
  })
  let marathon: MarathonSandbox | undefined
  let webhook: { server: Server; base: string } | undefined
  try {
    const pushed = await pushFleet(
      { url: registry.url, credentials: { username: secrets.registryUsername, password: secrets.registryPassword } },
      {
        repositories: services.map((service) => ({
          name: `shop/${service}`,
          images: images[service].map((image) => ({ tag: image.tag, created: image.created, annotationCreated: image.created }))
        }))
      }
    )
    marathon = await startMarathonSandbox({
      marathonToken: secrets.marathonToken,
      basicAuth: { username: secrets.marathonUsername, password: secrets.marathonPassword },
      deploymentMs: 200,
      apps: services.map((service) => ({
        id: appId(service),
        instances: 2,
        cpus: 0.1,
        mem: 64,
        labels: { team: "shop", env: "prod" },
        container: {
          type: "DOCKER",
          docker: { image: `${registry.host}/shop/${service}:${running[service]}` },
          portMappings: [{ containerPort: 8080, hostPort: 0, protocol: "tcp", name: "http" }]
        }
      }))
    })
    const messages: Array<unknown> = []
    webhook = await startWebhook(messages)
    const configFile = join(dir, "fleet-rollback.yaml")
    writeFileSync(
      configFile,
      [
        "environment: prod",
        "registry:",
        `  url: ${registry.url}`,
        "environments:",
        "  prod: { tagFilter: master }",
        "  stage: { tagFilter: stage }",
        "  dev: { tagFilter: develop }",
        "services:",
        ...services.flatMap((service) => [`  ${service}:`, `    repository: shop/${service}`, `    app: ${appId(service)}`]),
        "marathon:",
        `  url: ${marathon.url}`,
        "slack:",
        "  channel: '#incidents'",
        ""
      ].join("\n")
    )
    const sandbox = marathon
    const server = webhook.server
    const slackWebhookUrl = `${webhook.base}${secrets.slackPath}`
    const digests = pushed.digests
    return {
      registry,
      marathon: sandbox,
      configFile,
      digests,
      slackMessages: messages,
      slackWebhookUrl,
      secretEnvironment: {
        REGISTRY_USERNAME: secrets.registryUsername,
        REGISTRY_PASSWORD: secrets.registryPassword,
        MARATHON_TOKEN: secrets.marathonToken,
        SLACK_WEBHOOK_URL: slackWebhookUrl
      },
      runningImages: () => {
        const out = {} as Record<Service, string>
        for (const service of services) {
          const app = sandbox.apps().find((candidate) => candidate["id"] === appId(service))
          const container = app?.["container"] as { docker?: { image?: string } } | undefined
          out[service] = container?.docker?.image ?? "(no app)"
        }
        return out
      },
      isImage: (service, image, tag) => {
        const repository = `${registry.host}/shop/${service}`
        const digest = digests.get(`shop/${service}`)?.get(tag)
        return (
          image === `${repository}:${tag}` ||
          (digest !== undefined && (image === `${repository}@${digest}` || image === `${repository}:${tag}@${digest}`))
        )
      },
      stop: async () => {
        await Promise.allSettled([
          sandbox.stop(),
          registry.stop(),
          new Promise<void>((closed) => server.close(() => closed()))
        ])
      }
    }
  } catch (error) {
    await Promise.allSettled([
      registry.stop(),
      ...(marathon === undefined ? [] : [marathon.stop()]),
      ...(webhook === undefined ? [] : [new Promise<void>((closed) => webhook!.server.close(() => closed()))])
    ])
    throw error
  }
}
