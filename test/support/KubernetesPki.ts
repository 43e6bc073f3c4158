/**
 * @module KubernetesPki — a cluster CA, a serving certificate for 127.0.0.1 and client
 * certificates (CN = user, O = group), made with the real `openssl` as a cluster's PKI would be,
 * kept in memory (the temporary directory is removed at once). For the Kubernetes sandbox's HTTPS
 * and client-certificate authentication.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** PEMs of a test cluster's PKI. */
export interface ClusterPki {
  readonly caCert: string
  readonly serverCert: string
  readonly serverKey: string
  /** A client certificate and key signed by the CA, per user. */
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>
  /** A certificate the cluster CA did not sign (for "refused" tests). */
  readonly strangerCert: string
  readonly strangerKey: string
}

const openssl = (dir: string, args: ReadonlyArray<string>): void => {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" })
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${result.status}): ${result.stderr}`)
}

let made: ClusterPki | undefined

/** Makes (once per test process) a CA, a server certificate for 127.0.0.1 and client certificates for `users` (user → group). */
export const clusterPki = (users: Readonly<Record<string, string>> = { alice: "ops", bob: "dev" }): ClusterPki => {
  if (made !== undefined) return made
  if (!existsSync("/usr/bin/openssl")) throw new Error("/usr/bin/openssl is missing: install it with `apt-get install openssl` (the Kubernetes TLS tests need it)")
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-k8s-pki-"))
  try {
    const read = (name: string) => readFileSync(join(dir, name), "utf8")
    openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=fleet-rollback test cluster CA", "-keyout", "ca.key", "-out", "ca.crt"])
    writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    const sign = (name: string, subject: string, ext?: string) => {
      openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`])
      openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-sha256", "-out", `${name}.crt`, ...(ext === undefined ? [] : ["-extfile", ext])])
      return { cert: read(`${name}.crt`), key: read(`${name}.key`) }
    }
    const server = sign("server", "/CN=kube-apiserver", "server.ext")
    writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n")
    const clients: Record<string, { cert: string; key: string }> = {}
    for (const [user, group] of Object.entries(users)) clients[user] = sign(`client-${user}`, `/O=${group}/CN=${user}`, "client.ext")
    openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=alice", "-keyout", "stranger.key", "-out", "stranger.crt"])
    made = { caCert: read("ca.crt"), serverCert: server.cert, serverKey: server.key, clients, strangerCert: read("stranger.crt"), strangerKey: read("stranger.key") }
    return made
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
