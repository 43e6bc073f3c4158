/**
 * @module support — seed 003's namespace on the sandbox with OpenShift ImageStreams, over HTTPS
 * with an `oc login`-style bearer token: the real local registry (Debian's docker-registry)
 * holds only the moving `:prod` tag of two repositories; ImageStreams track them (scheduled,
 * insecure: plain http on loopback); a StatefulSet and a Deployment follow the tags through
 * `image.openshift.io/triggers`. Three images are pushed to `:prod` in turn, so each tag's
 * import history holds three digests while the registry lists one tag.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, type Scope } from "effect"
import { Registry } from "../../lib/registry/Registry.ts"
import { RegistryError } from "../../lib/registry/RegistryError.ts"
import type { KubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import { startKubernetesSandbox } from "../../lib/sandbox/kubernetes/Server.ts"
import { loadClusterAccess } from "../../lib/targets/kubernetes/Kubeconfig.ts"
import { makeOpenShiftTarget, type OpenShiftTargetShape } from "../../lib/targets/openshift/OpenShiftTarget.ts"
import { registryDigestCheck } from "../../lib/targets/openshift/RegistryCheck.ts"
import { type DockerRegistry, startDockerRegistry } from "../support/DockerRegistry.ts"
import { clusterPki } from "../support/KubernetesPki.ts"
import { pushDockerImage, Pusher } from "../support/pushImage.ts"
import { deployment, statefulSet, writeKubeconfig } from "../sandbox-kubernetes/fixtures.ts"
import { registryLayer } from "../registry-real/fixtures.ts"

/** The namespace of seed 003. */
export const NS = "packit-prod"

/** The oc login token (a kubeconfig bearer token). */
export const TOKEN = "sha256~Zq3b2VvJ1wRk-test-token"

/** A trigger annotation following `stream:prod` into container `name`. */
export const trigger = (stream: string, container: string) =>
  JSON.stringify([{ from: { kind: "ImageStreamTag", name: `${stream}:prod` }, fieldPath: `spec.template.spec.containers[?(@.name=="${container}")].image`, paused: false }])

/** An ImageStream whose `prod` tag tracks `host/packit/<name>:prod` (scheduled). */
export const imageStream = (host: string, name: string) => ({
  apiVersion: "image.openshift.io/v1",
  kind: "ImageStream",
  metadata: { name, namespace: NS },
  spec: { lookupPolicy: { local: false }, tags: [{ name: "prod", from: { kind: "DockerImage", name: `${host}/packit/${name}:prod` }, importPolicy: { scheduled: true, insecure: true }, referencePolicy: { type: "Source" } }] }
})

/** The running scenario. */
export interface Scenario {
  readonly registry: DockerRegistry
  readonly sandbox: KubernetesSandbox
  readonly kubeconfig: string
  /** Digests pushed to `:prod`, oldest first, per repository (`worker`, `service`). */
  readonly pushed: Readonly<Record<"worker" | "service", ReadonlyArray<string>>>
  readonly close: () => Promise<void>
}

/** Runs the real kubectl against the sandbox (its own discovery cache beside the kubeconfig). */
export const kubectl = (kubeconfig: string, args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", `${kubeconfig}.cache`, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 127, stdout, stderr })
    })
  })

/** Polls `condition` every 20 ms until it holds; fails after `ms` with `what`. */
export const until = async (what: string, condition: () => boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** The import history (image digests, newest first) of a stream's prod tag in the sandbox. */
export const historyIn = (sandbox: KubernetesSandbox, stream: string): ReadonlyArray<string> =>
  ((sandbox.object("ImageStream", NS, stream)?.status?.tags ?? []).find((t: { tag: string }) => t.tag === "prod")?.items ?? []).map((i: { image: string }) => i.image)

/** Starts the registry and the sandbox, pushes three images per repository to `:prod` and lets the streams import each. */
export const startScenario = async (): Promise<Scenario> => {
  const registry = await startDockerRegistry()
  const pki = clusterPki()
  const host = registry.host
  const sts = statefulSet(NS, "packit-worker", `${host}/packit/worker:prod`)
  const dep = deployment(NS, "packit-service", `${host}/packit/service:prod`)
  ;(sts.metadata as Record<string, unknown>).annotations = { "image.openshift.io/triggers": trigger("worker", "packit-worker") }
  ;(dep.metadata as Record<string, unknown>).annotations = { "image.openshift.io/triggers": trigger("service", "packit-service") }
  const pusher = new Pusher({ url: registry.url })
  const pushed: Record<"worker" | "service", Array<string>> = { worker: [], service: [] }
  const push = async (n: number) => {
    for (const name of ["worker", "service"] as const) {
      const m = await pushDockerImage(pusher, { repository: `packit/${name}`, tag: "prod", config: { created: `2026-0${n}-01T10:00:00Z`, labels: { build: String(n), name } } })
      pushed[name].push(m.digest)
    }
  }
  await push(1)
  const sandbox = await startKubernetesSandbox({
    rolloutMs: 150,
    objects: [imageStream(host, "worker"), imageStream(host, "service"), sts, dep],
    tokens: { [TOKEN]: "developer" },
    tls: { cert: pki.serverCert, key: pki.serverKey },
    openshift: { importIntervalMs: 100 }
  })
  for (let n = 1; n <= 3; n++) {
    if (n > 1) await push(n)
    await until(`import ${n}`, () => ["worker", "service"].every((s) => historyIn(sandbox, s).length === n))
  }
  await until("the triggered rollouts", () => sandbox.rolling().length === 0 && sandbox.object("StatefulSet", NS, "packit-worker")?.spec.template.spec.containers[0].image.endsWith(pushed.worker[2]!))
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-openshift-"))
  const kubeconfig = writeKubeconfig(dir, { server: sandbox.url, caData: pki.caCert, token: TOKEN, namespace: NS })
  return {
    registry,
    sandbox,
    kubeconfig,
    pushed,
    close: async () => {
      await sandbox.close()
      await registry.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The registry client of the scenario's registry (closed with the scope). */
export const registryClient = (s: Scenario) => Effect.map(Layer.build(registryLayer({ url: s.registry.url })), (context) => Context.get(context, Registry))

/** The OpenShift target through the kubeconfig, its digest check over the registry client (HEAD). */
export const targetFor = (s: Scenario): Effect.Effect<OpenShiftTargetShape, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const registry = yield* registryClient(s)
    const access = yield* loadClusterAccess({ kubeconfig: s.kubeconfig, home: "/nonexistent" })
    return yield* makeOpenShiftTarget(access, {
      digestExists: registryDigestCheck((host, repository, reference) =>
        host === s.registry.host ? registry.headDigest(repository, reference) : Effect.fail(new RegistryError({ reason: "InvalidInput", message: `no registry ${host}` })))
    })
  })
