/**
 * @module Kubeconfig — the cluster, credentials and namespace kubectl would use, found as kubectl
 * finds them (FACTS.md "kubeconfig and in-cluster config"): `KUBECONFIG` as a path list whose
 * files are merged (the first file that sets a cluster, user, context or `current-context` wins),
 * else `~/.kube/config`, else — in a pod — the service account's token and CA with
 * `KUBERNETES_SERVICE_HOST`/`PORT`. The context is `--context` or `current-context`. Relative paths
 * resolve against the file that names them. Certificate verification is off only when the
 * kubeconfig itself says `insecure-skip-tls-verify: true`. Secrets (tokens, keys) are kept only in
 * {@link ClusterAccess}, never in messages.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { parse as parseYaml } from "yaml"
import { TargetError } from "../../target/TargetError.ts"

/** An `exec` credential plugin as the kubeconfig names it. */
export interface ExecPlugin {
  readonly apiVersion: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly provideClusterInfo: boolean
  readonly installHint?: string | undefined
  /** Directory relative commands resolve against (the kubeconfig's). */
  readonly baseDir: string
}

/** How to reach one cluster as one user: everything the transport needs. */
export interface ClusterAccess {
  /** The API server, e.g. `https://10.0.0.1:6443`. */
  readonly server: string
  /** The context's name (or `in-cluster`). */
  readonly context: string
  /** The namespace the context names (or the service account's), if any. */
  readonly namespace: string | undefined
  /** PEM of the CA to trust (from `certificate-authority-data` or the file); undefined = the system CAs. */
  readonly caPem: string | undefined
  /** Only when the kubeconfig says `insecure-skip-tls-verify: true`. */
  readonly insecureSkipTlsVerify: boolean
  readonly tlsServerName: string | undefined
  /** PEMs of the client certificate and key. */
  readonly clientCertPem: string | undefined
  readonly clientKeyPem: string | undefined
  /** A static bearer token. */
  readonly token: string | undefined
  /** A file holding the bearer token (re-read as it rotates). */
  readonly tokenFile: string | undefined
  /** An exec plugin giving a token or client certificate. */
  readonly exec: ExecPlugin | undefined
  /** Where the settings came from, for messages ("context prod in /home/me/.kube/config"). */
  readonly source: string
}

/** Where to look. */
export interface KubeconfigLookup {
  /** `KUBECONFIG` (a `:`-separated path list); undefined or "" = `~/.kube/config`. */
  readonly kubeconfig?: string | undefined
  /** `--context`; default the merged `current-context`. */
  readonly context?: string | undefined
  /** The home directory (default `os.homedir()`). */
  readonly home?: string | undefined
  /** In-cluster: env `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`. */
  readonly serviceHost?: string | undefined
  readonly servicePort?: string | undefined
  /** The service account directory (default `/var/run/secrets/kubernetes.io/serviceaccount`). */
  readonly serviceAccountDir?: string | undefined
}

/** One named entry of a kubeconfig list, with the directory of the file it came from. */
interface Entry {
  readonly value: Record<string, any>
  readonly dir: string
  readonly file: string
}

/** The merged kubeconfig: first definition of each name wins. */
export interface MergedKubeconfig {
  readonly currentContext: string | undefined
  readonly clusters: ReadonlyMap<string, Entry>
  readonly users: ReadonlyMap<string, Entry>
  readonly contexts: ReadonlyMap<string, Entry>
  readonly files: ReadonlyArray<string>
}

const invalid = (message: string) => new TargetError({ reason: "Invalid", message })

/** Merges parsed kubeconfig files in `KUBECONFIG` order (pure): the first file that sets a name or `current-context` wins. */
export const mergeKubeconfigs = (files: ReadonlyArray<{ readonly file: string; readonly content: unknown }>): MergedKubeconfig => {
  const clusters = new Map<string, Entry>()
  const users = new Map<string, Entry>()
  const contexts = new Map<string, Entry>()
  let currentContext: string | undefined
  for (const { file, content } of files) {
    const doc = (content ?? {}) as Record<string, any>
    const dir = path.dirname(file)
    const add = (target: Map<string, Entry>, list: unknown, field: string) => {
      for (const item of Array.isArray(list) ? list : []) {
        if (typeof item?.name === "string" && !target.has(item.name)) target.set(item.name, { value: item[field] ?? {}, dir, file })
      }
    }
    add(clusters, doc.clusters, "cluster")
    add(users, doc.users, "user")
    add(contexts, doc.contexts, "context")
    if (currentContext === undefined && typeof doc["current-context"] === "string" && doc["current-context"] !== "") currentContext = doc["current-context"]
  }
  return { currentContext, clusters, users, contexts, files: files.map((f) => f.file) }
}

const resolvePath = (dir: string, p: string): string => path.isAbsolute(p) ? p : path.resolve(dir, p)

const readText = (file: string, what: string): Effect.Effect<string, TargetError> =>
  Effect.try({
    try: () => fs.readFileSync(file, "utf8"),
    catch: (cause) => invalid(`cannot read ${what} ${file}: ${(cause as Error).message}`)
  })

const decodeData = (value: unknown, what: string, source: string): Effect.Effect<string | undefined, TargetError> =>
  typeof value !== "string" || value === ""
    ? Effect.succeed(undefined)
    : Effect.sync(() => Buffer.from(value, "base64").toString("utf8")).pipe(
      Effect.flatMap((pem) => pem.includes("-----BEGIN") ? Effect.succeed(pem) : Effect.fail(invalid(`${what} in ${source} is not base64 of a PEM block: fix the kubeconfig`)))
    )

/** Data inline (`*-data`, base64 PEM) or a file, read. */
const pemOf = (entry: Entry, dataKey: string, fileKey: string, what: string, source: string) =>
  typeof entry.value[dataKey] === "string" && entry.value[dataKey] !== ""
    ? decodeData(entry.value[dataKey], what, source)
    : typeof entry.value[fileKey] === "string" && entry.value[fileKey] !== ""
    ? readText(resolvePath(entry.dir, entry.value[fileKey]), what)
    : Effect.succeed(undefined)

const execPlugin = (entry: Entry, source: string): Effect.Effect<ExecPlugin | undefined, TargetError> => {
  const exec = entry.value.exec
  if (exec === undefined || exec === null) return Effect.succeed(undefined)
  if (exec.apiVersion !== "client.authentication.k8s.io/v1" && exec.apiVersion !== "client.authentication.k8s.io/v1beta1") {
    return Effect.fail(invalid(`exec plugin: invalid apiVersion "${exec.apiVersion}" in ${source}: use client.authentication.k8s.io/v1 (or v1beta1)`))
  }
  if (typeof exec.command !== "string" || exec.command === "") return Effect.fail(invalid(`exec plugin in ${source} has no command`))
  return Effect.succeed({
    apiVersion: exec.apiVersion,
    command: exec.command,
    args: Array.isArray(exec.args) ? exec.args.map(String) : [],
    env: Array.isArray(exec.env) ? exec.env.map((e: any) => ({ name: String(e.name), value: String(e.value) })) : [],
    provideClusterInfo: exec.provideClusterInfo === true,
    installHint: typeof exec.installHint === "string" ? exec.installHint : undefined,
    baseDir: entry.dir
  })
}

/** The access a context of a merged kubeconfig gives (reads the files it names). */
export const accessFromKubeconfig = (merged: MergedKubeconfig, contextName: string | undefined): Effect.Effect<ClusterAccess, TargetError> =>
  Effect.gen(function*() {
    const files = merged.files.join(":")
    const name = contextName ?? merged.currentContext
    if (name === undefined) {
      return yield* invalid(`no context chosen: ${files} sets no current-context. Pass --context NAME (one of: ${[...merged.contexts.keys()].join(", ") || "none defined"})`)
    }
    const context = merged.contexts.get(name)
    if (context === undefined) {
      return yield* invalid(`context "${name}" is not in ${files} (contexts: ${[...merged.contexts.keys()].join(", ") || "none"}): pass --context with one of them`)
    }
    const source = `context "${name}" of ${context.file}`
    const cluster = merged.clusters.get(context.value.cluster)
    if (cluster === undefined) return yield* invalid(`${source} names cluster "${context.value.cluster}", which no kubeconfig file defines`)
    const server = cluster.value.server
    if (typeof server !== "string" || !/^https?:\/\//.test(server)) return yield* invalid(`cluster "${context.value.cluster}" in ${cluster.file} has no server URL (https://host:port)`)
    const userName = context.value.user
    const user = userName === undefined || userName === "" ? { value: {}, dir: context.dir, file: context.file } : merged.users.get(userName)
    if (user === undefined) return yield* invalid(`${source} names user "${userName}", which no kubeconfig file defines`)
    if (user.value["auth-provider"] !== undefined) {
      return yield* invalid(`user "${userName}" uses an auth-provider (${user.value["auth-provider"]?.name}), which kubectl no longer supports either: use an exec credential plugin (e.g. kubelogin, gke-gcloud-auth-plugin)`)
    }
    const clientCertPem = yield* pemOf(user, "client-certificate-data", "client-certificate", "the client certificate", source)
    const clientKeyPem = yield* pemOf(user, "client-key-data", "client-key", "the client key", source)
    if ((clientCertPem === undefined) !== (clientKeyPem === undefined)) return yield* invalid(`user "${userName}" has a client certificate without its key (or a key without its certificate): give both`)
    return {
      server: server.replace(/\/+$/, ""),
      context: name,
      namespace: typeof context.value.namespace === "string" && context.value.namespace !== "" ? context.value.namespace : undefined,
      caPem: yield* pemOf(cluster, "certificate-authority-data", "certificate-authority", "the cluster CA", source),
      insecureSkipTlsVerify: cluster.value["insecure-skip-tls-verify"] === true,
      tlsServerName: typeof cluster.value["tls-server-name"] === "string" ? cluster.value["tls-server-name"] : undefined,
      clientCertPem,
      clientKeyPem,
      token: typeof user.value.token === "string" && user.value.token !== "" ? user.value.token : undefined,
      tokenFile: typeof user.value.tokenFile === "string" && user.value.tokenFile !== "" ? resolvePath(user.dir, user.value.tokenFile) : undefined,
      exec: yield* execPlugin(user, source),
      source
    } satisfies ClusterAccess
  })

/** In a pod: the service account's token file and CA, and the API server from the service env. */
export const inClusterAccess = (lookup: KubeconfigLookup): Effect.Effect<ClusterAccess, TargetError> =>
  Effect.gen(function*() {
    const dir = lookup.serviceAccountDir ?? "/var/run/secrets/kubernetes.io/serviceaccount"
    const host = lookup.serviceHost!
    const server = `https://${host.includes(":") ? `[${host}]` : host}:${lookup.servicePort}`
    const tokenFile = path.join(dir, "token")
    yield* readText(tokenFile, "the service account token")
    const namespace = fs.existsSync(path.join(dir, "namespace")) ? fs.readFileSync(path.join(dir, "namespace"), "utf8").trim() : undefined
    return {
      server, context: "in-cluster", namespace, caPem: yield* readText(path.join(dir, "ca.crt"), "the service account CA"),
      insecureSkipTlsVerify: false, tlsServerName: undefined, clientCertPem: undefined, clientKeyPem: undefined,
      token: undefined, tokenFile, exec: undefined, source: `the pod's service account (${dir})`
    } satisfies ClusterAccess
  })

/** Finds the cluster access as kubectl would: KUBECONFIG files merged, else ~/.kube/config, else in-cluster. */
export const loadClusterAccess = (lookup: KubeconfigLookup): Effect.Effect<ClusterAccess, TargetError> =>
  Effect.gen(function*() {
    const listed = (lookup.kubeconfig ?? "").split(path.delimiter).filter((p) => p !== "")
    const candidates = listed.length > 0 ? listed : [path.join(lookup.home ?? os.homedir(), ".kube", "config")]
    const existing = candidates.filter((f) => fs.existsSync(f))
    if (existing.length === 0) {
      if (lookup.serviceHost !== undefined && lookup.serviceHost !== "" && lookup.servicePort !== undefined && lookup.servicePort !== "") {
        return yield* inClusterAccess(lookup)
      }
      return yield* invalid(
        `no kubeconfig: ${candidates.join(", ")} ${candidates.length > 1 ? "do" : "does"} not exist, and this is not a pod (KUBERNETES_SERVICE_HOST is not set). ` +
          "Set KUBECONFIG to your kubeconfig file (kubectl config view --flatten > file)"
      )
    }
    const files = yield* Effect.forEach(existing, (file) =>
      readText(file, "the kubeconfig").pipe(
        Effect.flatMap((text) =>
          Effect.try({ try: () => ({ file: path.resolve(file), content: parseYaml(text) as unknown }), catch: (e) => invalid(`the kubeconfig ${file} is not valid YAML: ${(e as Error).message}`) })
        )
      ))
    return yield* accessFromKubeconfig(mergeKubeconfigs(files), lookup.context)
  })
