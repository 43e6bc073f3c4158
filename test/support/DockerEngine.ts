/**
 * @module DockerEngine — starts Debian's real Docker Engine (`docker.io`, dockerd 20.10) as a
 * throw-away daemon of its own: its `--data-root`, `--exec-root`, `--pidfile` and unix socket in a
 * temporary directory, `--iptables=false --bridge=none` (no published ports, the host's network
 * configuration untouched), a single-node swarm initialised with `--advertise-addr 127.0.0.1`.
 * Test images are built in it from Debian's `busybox-static` binary (taken from the package file
 * with `apt-get download` + `dpkg-deb -x`, since the package conflicts with `busybox`) and pushed
 * to a real loopback `docker-registry`, which the engine trusts without TLS.
 *
 * Teardown always runs — on `stop`, on process exit, and for directories of test processes that
 * were killed (swept at the next start): leave the swarm, stop the daemon (it stops its
 * containerd), unmount what is still mounted under the directory (the network namespaces under
 * the exec root), remove the directory. The teardown is one shell script so the exit hook can run
 * it synchronously.
 *
 * Test harness code: plain Node APIs and async on purpose (it runs outside Effect).
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { chmod, copyFile, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agent, request } from "undici"
import { freeLoopbackPort } from "./DockerRegistry.ts"

/** Where Debian's docker.io installs the daemon. */
export const DOCKERD_BINARY = "/usr/sbin/dockerd"
/** Where Debian's docker.io installs the CLI (used to build, push and create services). */
export const DOCKER_CLI_BINARY = "/usr/bin/docker"

const DIR_PREFIX = "fleet-rollback-dockerd-"
const OWNER_FILE = "owner.pid"

/** The teardown of one engine directory ($1): leave the swarm, stop dockerd, unmount, remove. */
const TEARDOWN_SCRIPT = `
dir="$1"; docker="$2"
if [ -S "$dir/docker.sock" ]; then
  timeout 20 "$docker" -H "unix://$dir/docker.sock" swarm leave --force >/dev/null 2>&1
fi
pid=$(cat "$dir/docker.pid" 2>/dev/null)
if [ -n "$pid" ] && tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir"; then
  kill -TERM "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null
fi
# Whatever this daemon started and left running (containerd, shims) names the directory.
for p in $(ls /proc | grep -E '^[0-9]+$'); do
  [ "$p" = "$$" ] && continue
  if tr '\\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$dir/"; then
    case "$(tr '\\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" in
      *containerd*|*dockerd*) kill -KILL "$p" 2>/dev/null ;;
    esac
  fi
done
awk -v d="$dir" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
rm -rf "$dir"
`

const runTeardownSync = (dir: string): void => {
  spawnSync("sh", ["-c", TEARDOWN_SCRIPT, "teardown", dir, DOCKER_CLI_BINARY], { stdio: "ignore", timeout: 60_000 })
}

const runTeardown = (dir: string): Promise<void> =>
  new Promise((resolve) => {
    const child = spawn("sh", ["-c", TEARDOWN_SCRIPT, "teardown", dir, DOCKER_CLI_BINARY], { stdio: "ignore" })
    child.once("exit", () => resolve())
    child.once("error", () => resolve())
  })

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Tears down engine directories whose owning test process is gone (killed before its teardown). */
const sweepLeftovers = (): void => {
  let names: Array<string>
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX))
  } catch {
    return
  }
  for (const name of names) {
    const dir = join(tmpdir(), name)
    let owner: number | undefined
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), "utf8").trim())
    } catch {
      owner = undefined
    }
    if (owner !== undefined && Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue
    runTeardownSync(dir)
  }
}

const live = new Set<string>()
let exitHookInstalled = false
const installExitHook = (): void => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort when a test file ends (or throws) before afterAll: never leave a daemon behind.
  process.once("exit", () => {
    for (const dir of live) runTeardownSync(dir)
  })
}

const missing = (binary: string, pkg: string): Error =>
  new Error(
    `${binary} is missing: the Swarm tests need a real Docker Engine from Debian's ${pkg} package. ` +
      `Install it with \`apt-get install ${pkg}\` (.ci/run does this); these tests fail rather than skip without it.`
  )

/** The result of a command the harness ran. */
interface CommandResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const runCommand = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly input?: string } = {}
): Promise<CommandResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd })
    if (options.input !== undefined) child.stdin?.end(options.input)
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** What a test image does. */
export type TestImageBehaviour =
  /** Sleeps, healthy (its health check runs busybox `true`). */
  | "healthy"
  /** Sleeps, but its health check runs busybox `false`: the task is killed as unhealthy. */
  | "unhealthy"
  /** Exits with code 3 right away. */
  | "exits"
  /** Never becomes healthy nor unhealthy (a failing check inside a one-hour start period): an update waits forever. */
  | "stuck"

/** A service the harness creates for a test. */
export interface TestService {
  /** Full service name (`<stack>_<name>` for a stack member). */
  readonly name: string
  readonly image: string
  /** Stack namespace label; none = a plain service. */
  readonly stack?: string | undefined
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly replicas?: number | undefined
  /** Update failure action; default `pause` (the engine's own default). */
  readonly failureAction?: "pause" | "continue" | "rollback" | undefined
}

/** A running throw-away Docker Engine with a single-node swarm. */
export interface DockerEngine {
  /** The temporary directory (data root, exec root, socket, pid file, build contexts). */
  readonly dir: string
  readonly socketPath: string
  /** `unix://<socketPath>`, as DOCKER_HOST. */
  readonly dockerHost: string
  /** dockerd's process id. */
  readonly pid: number
  /**
   * With `tls: true`: `tcp://127.0.0.1:<port>`, where the engine also listens with `--tlsverify`
   * (client certificates required), and the directory holding what `DOCKER_CERT_PATH` names
   * (`ca.pem`, `cert.pem`, `key.pem`, made with the real openssl by a throw-away CA).
   */
  readonly tls?: { readonly host: string; readonly certPath: string } | undefined
  /** Runs the Debian docker CLI against this engine; rejects on a non-zero exit with its stderr. */
  readonly docker: (args: ReadonlyArray<string>) => Promise<string>
  /** `docker login` to a registry (password on stdin), so `buildImage` can push there; the CLI config stays in the engine's directory. */
  readonly login: (registryHost: string, username: string, password: string) => Promise<void>
  /** GET on the Engine API (unversioned path), decoded JSON. */
  readonly get: (path: string) => Promise<unknown>
  /**
   * Builds a test image from busybox-static (legacy builder), tags it `reference` (which names a
   * loopback registry), pushes it and returns the pinned form `repo:tag@sha256:…`.
   */
  readonly buildImage: (reference: string, behaviour: TestImageBehaviour) => Promise<string>
  /** Creates a service on the host network with fast updates (monitor 500 ms, no delay); returns its ID. */
  readonly createService: (service: TestService) => Promise<string>
  /** Waits (polling the API, generous deadline) until every named service has all replicas running its spec and no update in progress. */
  readonly waitConverged: (names: ReadonlyArray<string>, timeoutMs?: number) => Promise<void>
  /** Leaves the swarm, stops the daemon, unmounts and removes the directory. Idempotent. */
  readonly stop: () => Promise<void>
}

/** Runs the real openssl; throws with its output when it fails. */
const openssl = async (cwd: string, args: ReadonlyArray<string>): Promise<void> => {
  const result = await runCommand("openssl", args, { cwd })
  if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed (exit ${result.code}): ${result.stderr}`)
}

/**
 * A throw-away CA (valid one day, P-256 keys) with a server certificate for IP 127.0.0.1 and a
 * client certificate: `serverDir` for dockerd, `clientDir` laid out as DOCKER_CERT_PATH.
 * Exported so a test can make a second, unrelated CA.
 */
export const makeTlsMaterial = async (dir: string): Promise<{ readonly serverDir: string; readonly clientDir: string }> => {
  const serverDir = join(dir, "server")
  const clientDir = join(dir, "client")
  await mkdir(serverDir, { recursive: true })
  await mkdir(clientDir, { recursive: true })
  const key = (file: string) => openssl(dir, ["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", file])
  await key("ca-key.pem")
  await openssl(dir, ["req", "-x509", "-new", "-key", "ca-key.pem", "-days", "1", "-subj", "/CN=fleet-rollback test CA", "-out", join(serverDir, "ca.pem")])
  const sign = async (name: string, subject: string, extensions: string, keyFile: string, certFile: string) => {
    await key(keyFile)
    await openssl(dir, ["req", "-new", "-key", keyFile, "-subj", subject, "-out", `${name}.csr`])
    await writeFile(join(dir, `${name}.ext`), extensions)
    await openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", join(serverDir, "ca.pem"), "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1", "-extfile", `${name}.ext`, "-out", certFile])
  }
  await sign("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", join(serverDir, "server-key.pem"), join(serverDir, "server-cert.pem"))
  await sign("client", "/CN=fleet-rollback test client", "extendedKeyUsage=clientAuth\n", join(clientDir, "key.pem"), join(clientDir, "cert.pem"))
  await copyFile(join(serverDir, "ca.pem"), join(clientDir, "ca.pem"))
  return { serverDir, clientDir }
}

/** Downloads Debian's busybox-static package into `dir` and extracts its static binary; returns its path. */
const fetchBusyboxStatic = async (dir: string): Promise<string> => {
  const work = join(dir, "busybox-static")
  const binary = join(work, "x", "bin", "busybox")
  if (existsSync(binary)) return binary
  await mkdir(work, { recursive: true })
  const download = await runCommand("apt-get", ["download", "busybox-static"], { cwd: work })
  const deb = (await readdir(work)).find((name) => name.startsWith("busybox-static") && name.endsWith(".deb"))
  if (deb === undefined) {
    throw new Error(
      `apt-get download busybox-static failed (exit ${download.code}): ${download.stderr.trim()}. ` +
        "The Swarm test images are built from Debian's busybox-static binary: the machine needs its Debian package sources (apt-get update)"
    )
  }
  const extracted = await runCommand("dpkg-deb", ["-x", join(work, deb), join(work, "x")])
  if (extracted.code !== 0 || !existsSync(binary)) throw new Error(`dpkg-deb -x ${deb} failed: ${extracted.stderr}`)
  return binary
}

const dockerfile = (behaviour: TestImageBehaviour, reference: string): string => {
  const lines = [
    "FROM scratch",
    "COPY busybox /bin/busybox",
    // Differs per reference, so every tag is its own image with its own digest.
    `LABEL fleet-rollback.test.image=${JSON.stringify(reference)} fleet-rollback.test.behaviour=${behaviour}`,
    // busybox sleep as PID 1 ignores SIGTERM: stop at once instead of waiting out the grace period.
    "STOPSIGNAL SIGKILL",
    behaviour === "stuck"
      ? `HEALTHCHECK --interval=1s --timeout=3s --retries=1 --start-period=1h CMD ["/bin/busybox", "false"]`
      : `HEALTHCHECK --interval=1s --timeout=3s --retries=1 CMD ["/bin/busybox", "${behaviour === "unhealthy" ? "false" : "true"}"]`
  ]
  lines.push(
    behaviour === "exits"
      ? `CMD ["/bin/busybox", "sh", "-c", "echo this image is broken on purpose >&2; exit 3"]`
      : `CMD ["/bin/busybox", "sleep", "86400"]`
  )
  return lines.join("\n") + "\n"
}

/**
 * Starts a throw-away Docker Engine and initialises a single-node swarm. Throws (tests fail, never
 * skip) when docker.io is not installed or the daemon does not answer within `startTimeoutMs`.
 */
export const startDockerEngine = async (options: { readonly startTimeoutMs?: number; readonly tls?: boolean } = {}): Promise<DockerEngine> => {
  if (!existsSync(DOCKERD_BINARY)) throw missing(DOCKERD_BINARY, "docker.io")
  if (!existsSync(DOCKER_CLI_BINARY)) throw missing(DOCKER_CLI_BINARY, "docker.io")
  sweepLeftovers()
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX))
  await writeFile(join(dir, OWNER_FILE), String(process.pid))
  live.add(dir)
  installExitHook()
  const socketPath = join(dir, "docker.sock")
  const dockerHost = `unix://${socketPath}`
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= runTeardown(dir).then(async () => {
      await agent.close().catch(() => {})
      live.delete(dir)
    })
    return stopped
  }
  const agent = new Agent({ connect: { socketPath } })
  try {
    await mkdir(join(dir, "data"))
    await mkdir(join(dir, "exec"))
    const tls = options.tls === true ? await makeTlsMaterial(join(dir, "tls")) : undefined
    const tlsPort = tls === undefined ? undefined : await freeLoopbackPort()
    const daemon = spawn(DOCKERD_BINARY, [
      ...(tls === undefined ? [] : [
        "--host", `tcp://127.0.0.1:${tlsPort}`,
        "--tlsverify",
        "--tlscacert", join(tls.serverDir, "ca.pem"),
        "--tlscert", join(tls.serverDir, "server-cert.pem"),
        "--tlskey", join(tls.serverDir, "server-key.pem")
      ]),
      "--data-root", join(dir, "data"),
      "--exec-root", join(dir, "exec"),
      "--pidfile", join(dir, "docker.pid"),
      "--host", dockerHost,
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--ip-forward=false",
      "--ip-masq=false",
      "--containerd-namespace", `fleet-rollback-${process.pid}`,
      "--containerd-plugins-namespace", `fleet-rollback-${process.pid}-plugins`,
      "--shutdown-timeout", "2"
    ], { stdio: ["ignore", "pipe", "pipe"], detached: false })
    let log = ""
    const append = (chunk: Buffer): void => {
      log = (log + chunk.toString("utf8")).slice(-20_000)
    }
    daemon.stdout.on("data", append)
    daemon.stderr.on("data", append)
    const spawnError = new Promise<never>((_, reject) => daemon.once("error", reject))
    spawnError.catch(() => {})
    if (daemon.pid === undefined) await spawnError
    const pid = daemon.pid!

    const api = async (method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
      const response = await request(`http://docker${path}`, {
        dispatcher: agent,
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      })
      const text = await response.body.text()
      const json = String(response.headers["content-type"] ?? "").includes("json") && text !== "" ? JSON.parse(text) : text
      return { status: response.statusCode, json }
    }

    // Wait for the daemon by polling its socket (no fixed sleep).
    const deadline = performance.now() + (options.startTimeoutMs ?? 60_000)
    for (;;) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) {
        throw new Error(`dockerd exited (code ${daemon.exitCode}, signal ${daemon.signalCode}) before answering:\n${log}`)
      }
      const answered = existsSync(socketPath) && await api("GET", "/_ping").then((r) => r.status === 200, () => false)
      if (answered) break
      if (performance.now() > deadline) throw new Error(`dockerd did not answer on ${socketPath} in time:\n${log}`)
      await sleep(50)
    }
    const init = await api("POST", "/swarm/init", { ListenAddr: "127.0.0.1:0", AdvertiseAddr: "127.0.0.1" })
    if (init.status !== 200) throw new Error(`swarm init failed (${init.status}): ${JSON.stringify(init.json)}`)

    const cliEnv: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/bin",
      HOME: dir,
      DOCKER_HOST: dockerHost,
      DOCKER_CONFIG: join(dir, "cli-config"),
      DOCKER_BUILDKIT: "0"
    }
    const docker = async (args: ReadonlyArray<string>): Promise<string> => {
      const result = await runCommand(DOCKER_CLI_BINARY, args, { env: cliEnv })
      if (result.code !== 0) throw new Error(`docker ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`)
      return result.stdout
    }

    const login = async (registryHost: string, username: string, password: string): Promise<void> => {
      const result = await runCommand(DOCKER_CLI_BINARY, ["login", "--username", username, "--password-stdin", registryHost], { env: cliEnv, input: password })
      if (result.code !== 0) throw new Error(`docker login ${registryHost} failed (exit ${result.code}): ${result.stderr.trim()}`)
    }

    const get = async (path: string): Promise<unknown> => {
      const response = await api("GET", path)
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(response.json)}`)
      return response.json
    }

    let built = 0
    const buildImage = async (reference: string, behaviour: TestImageBehaviour): Promise<string> => {
      const busybox = await fetchBusyboxStatic(dir)
      const context = join(dir, "build", String(built++))
      await mkdir(context, { recursive: true })
      await copyFile(busybox, join(context, "busybox"))
      await chmod(join(context, "busybox"), 0o755)
      await writeFile(join(context, "Dockerfile"), dockerfile(behaviour, reference))
      await docker(["build", "--quiet", "--tag", reference, context])
      await docker(["push", "--quiet", reference])
      const repoDigests = JSON.parse(await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", reference])) as Array<string>
      const repository = reference.slice(0, reference.lastIndexOf(":"))
      const pinned = repoDigests.find((d) => d.startsWith(`${repository}@`))
      if (pinned === undefined) throw new Error(`no digest for ${reference} after the push: ${JSON.stringify(repoDigests)}`)
      return `${reference}@${pinned.slice(pinned.indexOf("@") + 1)}`
    }

    const createService = async (service: TestService): Promise<string> => {
      const labels = { ...(service.stack === undefined ? {} : { "com.docker.stack.namespace": service.stack }), ...service.labels }
      const out = await docker([
        "service", "create", "--detach", "--quiet",
        "--name", service.name,
        ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
        "--network", "host",
        "--replicas", String(service.replicas ?? 1),
        "--update-monitor", "500ms",
        "--update-delay", "0s",
        "--update-failure-action", service.failureAction ?? "pause",
        "--rollback-monitor", "500ms",
        "--rollback-delay", "0s",
        "--restart-delay", "500ms",
        service.image
      ])
      return out.trim()
    }

    const converged = async (name: string): Promise<string | undefined> => {
      const service = await get(`/services/${encodeURIComponent(name)}?insertDefaults=false`) as {
        ID: string
        Spec: { Mode: { Replicated?: { Replicas: number } }; TaskTemplate: { ContainerSpec: { Image: string } } }
        UpdateStatus?: { State?: string }
      }
      const state = service.UpdateStatus?.State
      if (state !== undefined && state !== "completed" && state !== "rollback_completed") return `update ${state}`
      const filters = encodeURIComponent(JSON.stringify({ service: [service.ID], "desired-state": ["running"] }))
      const tasks = await get(`/tasks?filters=${filters}`) as Array<{ Status: { State: string }; Spec: { ContainerSpec: { Image: string } } }>
      const image = service.Spec.TaskTemplate.ContainerSpec.Image
      const running = tasks.filter((t) => t.Status.State === "running" && t.Spec.ContainerSpec.Image === image).length
      const wanted = service.Spec.Mode.Replicated?.Replicas ?? 1
      return running === wanted && tasks.length === wanted ? undefined : `${running}/${wanted} running ${image}`
    }

    const waitConverged = async (names: ReadonlyArray<string>, timeoutMs = 90_000): Promise<void> => {
      const until = performance.now() + timeoutMs
      for (;;) {
        const waiting = (await Promise.all(names.map(async (name) => {
          const why = await converged(name)
          return why === undefined ? undefined : `${name}: ${why}`
        }))).filter((w) => w !== undefined)
        if (waiting.length === 0) return
        if (performance.now() > until) throw new Error(`services did not converge within ${timeoutMs} ms: ${waiting.join("; ")}`)
        await sleep(200)
      }
    }

    return { dir, socketPath, dockerHost, pid, tls: tls === undefined ? undefined : { host: `tcp://127.0.0.1:${tlsPort}`, certPath: tls.clientDir }, docker, login, get, buildImage, createService, waitConverged, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
