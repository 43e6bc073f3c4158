/**
 * @module DockerRegistry — starts Debian's real `docker-registry` (distribution 2.8.2) on a free
 * loopback port with throw-away filesystem storage, optionally behind htpasswd (bcrypt) Basic
 * auth or bearer-token auth, and stops it again by its process id.
 *
 * Test harness code: plain Node APIs and async on purpose (it runs outside Effect).
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Where Debian installs the registry binary. */
export const DOCKER_REGISTRY_BINARY = "/usr/bin/docker-registry"

/** Where Debian's apache2-utils installs htpasswd. */
export const HTPASSWD_BINARY = "/usr/bin/htpasswd"

/** A user of the htpasswd backend. */
export interface RegistryUser {
  readonly username: string
  readonly password: string
}

/** What the registry needs to validate bearer tokens (distribution `auth.token`). */
export interface TokenAuthConfig {
  /** URL of the token endpoint, sent to clients in `WWW-Authenticate: Bearer realm=…`. */
  readonly realm: string
  /** The `service` the registry announces and expects in the token's `aud`. */
  readonly service: string
  /** The token `iss` the registry accepts. */
  readonly issuer: string
  /**
   * The PEM certificate(s) that token `x5c` chains must lead to; written as the registry's
   * `rootcertbundle` file into its temporary directory (removed with it).
   */
  readonly rootCertificatePem: string
}

/** Options of {@link startDockerRegistry}. */
export interface DockerRegistryOptions {
  /** `none` (default): anonymous push and pull; `htpasswd`: Basic; `token`: Bearer. */
  readonly auth?: "none" | "htpasswd" | "token"
  /** Users of the htpasswd file (auth `htpasswd`); at least one. */
  readonly users?: ReadonlyArray<RegistryUser>
  /** Token validation settings (auth `token`), e.g. from `TokenServer.registryAuth`. */
  readonly token?: TokenAuthConfig
  /** The registry binary, default {@link DOCKER_REGISTRY_BINARY} (overridable to test the missing-binary error). */
  readonly binary?: string
  /** A fixed port on 127.0.0.1; default a free one (probed, retried once on a race). */
  readonly port?: number
  /** How long to wait for `GET /v2/` to answer, default 10 s. */
  readonly startTimeoutMs?: number
  /**
   * Accept pushes of signed schema1 manifests (`compatibility.schema1.enabled`, off by default
   * since 2.7), as registries that have run since before 2017 do. No `signingkeyfile`: the
   * registry signs what it serves with a key it makes at start.
   */
  readonly schema1?: boolean
}

/** A running registry. */
export interface DockerRegistry {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** `127.0.0.1:<port>` (what an image reference starts with). */
  readonly host: string
  readonly port: number
  /** Process id of the registry. */
  readonly pid: number
  /** The temporary directory (config, htpasswd file, storage), removed by `stop`. */
  readonly dir: string
  /** Root of the filesystem storage driver. */
  readonly storageDir: string
  /** What the registry wrote to stdout/stderr so far (log level error). */
  readonly output: () => string
  /** Kills the registry by pid (TERM, then KILL after 3 s) and removes the temporary directory. */
  readonly stop: () => Promise<void>
}

/** Finds a free TCP port on 127.0.0.1 by listening on port 0 and closing again. */
export const freeLoopbackPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      if (address === null || typeof address === "string") {
        server.close()
        reject(new Error("could not read the address of a probe socket"))
        return
      }
      server.close(() => resolve(address.port))
    })
  })

const missingBinaryError = (binary: string, pkg: string): Error =>
  new Error(
    `${binary} is missing: the real-registry tests need Debian's ${pkg} package. ` +
      `Install it with \`apt-get install ${pkg}\` (.ci/run does this); these tests fail rather than skip without it.`
  )

/** Writes an htpasswd file with bcrypt entries using the real `htpasswd -B` (password on stdin, never argv). */
export const writeHtpasswd = (path: string, users: ReadonlyArray<RegistryUser>): void => {
  if (!existsSync(HTPASSWD_BINARY)) throw missingBinaryError(HTPASSWD_BINARY, "apache2-utils")
  users.forEach((user, index) => {
    // -i reads the password from stdin, so it never shows up in a process listing.
    const args = index === 0 ? ["-B", "-c", "-i", path, user.username] : ["-B", "-i", path, user.username]
    const result = spawnSync(HTPASSWD_BINARY, args, { input: user.password, encoding: "utf8" })
    if (result.status !== 0) {
      throw new Error(`htpasswd failed for user ${user.username} (exit ${result.status}): ${result.stderr}`)
    }
  })
}

const configYaml = (options: {
  readonly port: number
  readonly storageDir: string
  readonly auth: string
  readonly schema1: boolean
}): string =>
  [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    // As in Debian's packaged config: blob descriptors cached in memory (cheaper stats).
    "  cache:",
    "    blobdescriptor: inmemory",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(options.storageDir)}`,
    "  delete:",
    "    enabled: true",
    "  redirect:",
    "    disable: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${options.port}`,
    "health:",
    "  storagedriver:",
    "    enabled: false",
    ...(options.schema1 ? ["compatibility:", "  schema1:", "    enabled: true"] : []),
    options.auth
  ].join("\n") + "\n"

const authYaml = (options: DockerRegistryOptions, htpasswdPath: string, bundlePath: string): string => {
  switch (options.auth ?? "none") {
    case "none":
      return ""
    case "htpasswd":
      return ["auth:", "  htpasswd:", "    realm: fleet-rollback-test", `    path: ${JSON.stringify(htpasswdPath)}`].join("\n")
    case "token": {
      const token = options.token
      if (token === undefined) throw new Error("startDockerRegistry: auth \"token\" needs the `token` settings (realm, service, issuer, rootCertificatePem)")
      return [
        "auth:",
        "  token:",
        `    realm: ${JSON.stringify(token.realm)}`,
        `    service: ${JSON.stringify(token.service)}`,
        `    issuer: ${JSON.stringify(token.issuer)}`,
        `    rootcertbundle: ${JSON.stringify(bundlePath)}`
      ].join("\n")
    }
  }
}

const running = new Map<ChildProcess, string>()
let exitHookInstalled = false
const installExitHook = (): void => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort when a test run ends before afterAll: never leave a registry or its files behind.
  process.once("exit", () => {
    for (const [child, dir] of running) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, "SIGKILL")
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** Files in a registry's temporary directory naming the test process that owns it and the registry. */
const OWNER_FILE = "owner.pid"
const REGISTRY_PID_FILE = "registry.pid"
const DIR_PREFIX = "fleet-rollback-registry-"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readPid = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, "utf8").trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

let swept = false

/**
 * Removes what test processes that were killed (so neither `stop` nor the exit hook ran) left
 * behind: registry directories whose owning process is gone — stopping their registry by its
 * recorded pid when it still runs from that directory — and directories without an owner file
 * (older harness versions) untouched for an hour. Directories of live test processes (other
 * test runs on the machine) are left alone. Once per process (again with `force`).
 */
export const sweepLeftovers = (options: { readonly force?: boolean } = {}): void => {
  if (swept && options.force !== true) return
  swept = true
  let names: Array<string>
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX))
  } catch {
    return
  }
  for (const name of names) {
    const dir = join(tmpdir(), name)
    try {
      const owner = readPid(join(dir, OWNER_FILE))
      if (owner === undefined) {
        if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue
      } else if (isAlive(owner)) {
        continue
      } else {
        const registryPid = readPid(join(dir, REGISTRY_PID_FILE))
        // Only a docker-registry serving from this very directory is stopped.
        if (registryPid !== undefined && isAlive(registryPid) && readFileSync(`/proc/${registryPid}/cmdline`, "utf8").includes(dir)) {
          process.kill(registryPid, "SIGKILL")
        }
      }
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // Someone else's, or already gone.
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms)
      child.once("exit", () => {
        clearTimeout(timer)
        resolve(true)
      })
    })

/** Polls `GET /v2/` until the registry answers at all (200, or 401 behind auth). */
const waitUntilAnswering = async (
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string
): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (code ${child.exitCode}, signal ${child.signalCode}) before answering:\n${output()}`)
    }
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200 || response.status === 401) return
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      throw new Error(`docker-registry at ${url} did not answer GET /v2/ within ${timeoutMs} ms:\n${output()}`)
    }
    await sleep(20)
  }
}

const startOnce = async (options: DockerRegistryOptions): Promise<DockerRegistry> => {
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX))
  await writeFile(join(dir, OWNER_FILE), String(process.pid))
  const storageDir = join(dir, "storage")
  const htpasswdPath = join(dir, "htpasswd")
  const configPath = join(dir, "config.yml")
  let child: ChildProcess | undefined
  try {
    if ((options.auth ?? "none") === "htpasswd") {
      const users = options.users ?? []
      if (users.length === 0) throw new Error("startDockerRegistry: auth \"htpasswd\" needs at least one user")
      writeHtpasswd(htpasswdPath, users)
    }
    const port = options.port ?? await freeLoopbackPort()
    const bundlePath = join(dir, "root-cert-bundle.pem")
    if (options.token !== undefined) await writeFile(bundlePath, options.token.rootCertificatePem)
    await writeFile(configPath, configYaml({ port, storageDir, auth: authYaml(options, htpasswdPath, bundlePath), schema1: options.schema1 === true }))
    const spawned = spawn(options.binary ?? DOCKER_REGISTRY_BINARY, ["serve", configPath], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir }
    })
    child = spawned
    installExitHook()
    running.set(spawned, dir)
    if (spawned.pid !== undefined) await writeFile(join(dir, REGISTRY_PID_FILE), String(spawned.pid))
    spawned.once("exit", () => running.delete(spawned))
    let log = ""
    const append = (chunk: Buffer): void => {
      log = (log + chunk.toString("utf8")).slice(-20_000)
    }
    spawned.stdout?.on("data", append)
    spawned.stderr?.on("data", append)
    const spawnError = new Promise<never>((_, reject) => spawned.once("error", reject))
    spawnError.catch(() => {})
    const pid = spawned.pid
    if (pid === undefined) await spawnError
    const url = `http://127.0.0.1:${port}`
    await Promise.race([waitUntilAnswering(url, spawned, options.startTimeoutMs ?? 10_000, () => log), spawnError])
    let stopped: Promise<void> | undefined
    return {
      url,
      host: `127.0.0.1:${port}`,
      port,
      pid: pid!,
      dir,
      storageDir,
      output: () => log,
      stop: () => {
        stopped ??= (async () => {
          if (spawned.exitCode === null && spawned.signalCode === null) {
            process.kill(pid!, "SIGTERM")
            if (!(await waitForExit(spawned, 3000))) {
              process.kill(pid!, "SIGKILL")
              await waitForExit(spawned, 3000)
            }
          }
          await rm(dir, { recursive: true, force: true })
        })()
        return stopped
      }
    }
  } catch (error) {
    if (child?.pid !== undefined && child.exitCode === null) {
      child.kill("SIGKILL")
      await waitForExit(child, 3000)
    }
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/**
 * Starts `docker-registry serve` on 127.0.0.1 (a free port) with temporary filesystem storage.
 * Throws (so tests fail, never skip) when the binary is not installed. Retries once on a port
 * race (another process took the probed port before the registry bound it).
 */
export const startDockerRegistry = async (options: DockerRegistryOptions = {}): Promise<DockerRegistry> => {
  const binary = options.binary ?? DOCKER_REGISTRY_BINARY
  if (!existsSync(binary)) throw missingBinaryError(binary, "docker-registry")
  sweepLeftovers()
  try {
    return await startOnce(options)
  } catch (error) {
    if (options.port === undefined && error instanceof Error && /address already in use/.test(error.message)) {
      return startOnce(options)
    }
    throw error
  }
}
