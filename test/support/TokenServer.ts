/**
 * @module TokenServer — a loopback bearer-token server for the real registry's `auth.token`.
 *
 * distribution 2.8.2 validates tokens but issues none. This server signs RS256 JWTs with a key
 * whose self-signed certificate (made once per test process with the real `openssl`, then kept
 * in memory) is the registry's `rootcertbundle` (a file per token server, removed by `stop`); the certificate travels in the JWT `x5c` header, as
 * distribution's docs/spec/auth/jwt.md requires. Test harness code: plain Node APIs.
 */
import { spawnSync } from "node:child_process"
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RegistryUser, TokenAuthConfig } from "./DockerRegistry.ts"

/** The signing material: the key, the certificate (PEM, for the registry's bundle) and its DER for `x5c`. */
export interface SigningMaterial {
  readonly key: KeyObject
  /** The PEM certificate: what the registry's `rootcertbundle` file holds. */
  readonly certificatePem: string
  /** Base64 (not URL-safe) DER of the certificate, the one entry of `x5c`. */
  readonly certificateDerBase64: string
}

let material: SigningMaterial | undefined

/**
 * Creates (once per test process) an RSA-2048 key and a self-signed certificate with the real
 * `openssl req -x509`, and keeps them in memory: the temporary directory openssl writes them to
 * is removed at once, so nothing is left in /tmp even when the test process is killed.
 */
export const signingMaterial = (): SigningMaterial => {
  if (material !== undefined) return material
  if (!existsSync("/usr/bin/openssl")) {
    throw new Error("/usr/bin/openssl is missing: install it with `apt-get install openssl` (the bearer-token tests need it)")
  }
  const dir = mkdtempSync(join(tmpdir(), "fleet-rollback-token-"))
  try {
    const keyPath = join(dir, "key.pem")
    const certificatePath = join(dir, "cert.pem")
    const result = spawnSync("/usr/bin/openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
      "-subj", "/CN=fleet-rollback test token issuer",
      "-keyout", keyPath, "-out", certificatePath
    ], { encoding: "utf8" })
    if (result.status !== 0) throw new Error(`openssl req failed (exit ${result.status}): ${result.stderr}`)
    const certificatePem = readFileSync(certificatePath, "utf8")
    material = {
      key: createPrivateKey(readFileSync(keyPath)),
      certificatePem,
      certificateDerBase64: new X509Certificate(certificatePem).raw.toString("base64")
    }
    return material
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One entry of the JWT `access` claim. */
export interface TokenAccess {
  readonly type: string
  readonly name: string
  readonly actions: ReadonlyArray<string>
}

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  /** Users whose Basic credentials get a token. */
  readonly users: ReadonlyArray<RegistryUser>
  /** `service` (JWT `aud`), default `fleet-rollback-test-registry`. */
  readonly service?: string
  /** `iss`, default `fleet-rollback-test-token-server`. */
  readonly issuer?: string
  /** Lifetime in seconds (`expires_in`), default 300. */
  readonly expiresInSeconds?: number
  /** Also hand out pull-only tokens without credentials, default false. */
  readonly allowAnonymousPull?: boolean
  /**
   * Identity tokens (OAuth2 refresh tokens) → the user they stand for: `POST /token` with
   * `grant_type=refresh_token` (distribution's OAuth2 token spec, what Docker sends for an
   * `identitytoken`) gets an access token for that user. Default none.
   */
  readonly refreshTokens?: Readonly<Record<string, string>>
}

/** A request the token server answered. */
export interface TokenRequestRecord {
  readonly status: number
  /** `POST` for a `grant_type=refresh_token` request; absent for `GET` (Basic or anonymous). */
  readonly method?: string
  readonly username: string | undefined
  readonly service: string | null
  readonly scopes: ReadonlyArray<string>
}

/** A running token server. */
export interface TokenServer {
  /** Base URL, e.g. `http://127.0.0.1:40001`. */
  readonly url: string
  /** The token endpoint, `<url>/token`. */
  readonly realm: string
  readonly service: string
  readonly issuer: string
  /** What to pass as `token` to `startDockerRegistry`. */
  readonly registryAuth: TokenAuthConfig
  /** Every request to `/token`, in order (including refused ones). */
  readonly requests: ReadonlyArray<TokenRequestRecord>
  /** How many tokens it issued. */
  readonly issued: () => number
  /** Forgets the recorded requests. */
  readonly reset: () => void
  /** Asks the server for a token as a client would (for pushing fixtures). */
  readonly fetchToken: (user: RegistryUser | undefined, scopes: ReadonlyArray<string>) => Promise<string>
  readonly stop: () => Promise<void>
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url")

/** Signs a distribution-compatible RS256 JWT with `x5c` in the header. */
export const signRegistryToken = (claims: {
  readonly issuer: string
  readonly subject: string
  readonly audience: string
  readonly access: ReadonlyArray<TokenAccess>
  readonly expiresInSeconds: number
  readonly nowSeconds?: number
}): string => {
  const { certificateDerBase64, key } = signingMaterial()
  const now = claims.nowSeconds ?? Math.floor(Date.now() / 1000)
  const header = { alg: "RS256", typ: "JWT", x5c: [certificateDerBase64] }
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.audience,
    exp: now + claims.expiresInSeconds,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(16).toString("hex"),
    access: claims.access
  }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = sign("RSA-SHA256", Buffer.from(signingInput), key)
  return `${signingInput}.${base64url(signature)}`
}

/** Parses `repository:shop/api:pull,push` (the name may contain `:` only before a port: not here). */
export const parseScope = (scope: string): TokenAccess | undefined => {
  const first = scope.indexOf(":")
  const last = scope.lastIndexOf(":")
  if (first <= 0 || last === first) return undefined
  const actions = scope.slice(last + 1).split(",").filter((a) => a !== "")
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions }
}

const parseBasic = (header: string | undefined): RegistryUser | undefined => {
  if (header === undefined || !/^basic /i.test(header)) return undefined
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon < 0) return undefined
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Starts the token server on 127.0.0.1, a free port. */
export const startTokenServer = async (options: TokenServerOptions): Promise<TokenServer> => {
  signingMaterial()
  const service = options.service ?? "fleet-rollback-test-registry"
  const issuer = options.issuer ?? "fleet-rollback-test-token-server"
  const expiresIn = options.expiresInSeconds ?? 300
  const requests: Array<TokenRequestRecord> = []
  let issued = 0

  /** `POST /token`, `grant_type=refresh_token`: an access token for the refresh token's user. */
  const handleRefresh = (req: IncomingMessage, res: ServerResponse): void => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      text += chunk
    })
    req.on("end", () => {
      const form = new URLSearchParams(text)
      const scopes = (form.get("scope") ?? "").split(" ").filter((s) => s !== "")
      const username = options.refreshTokens?.[form.get("refresh_token") ?? ""]
      const ok = form.get("grant_type") === "refresh_token" && username !== undefined && form.get("client_id") !== null &&
        (form.get("service") === null || form.get("service") === service)
      requests.push({ status: ok ? 200 : 401, method: "POST", username, service: form.get("service"), scopes })
      if (!ok) {
        json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "invalid refresh token" }] })
        return
      }
      const token = signRegistryToken({ issuer, subject: username, audience: service, access: scopes.flatMap((scope) => parseScope(scope) ?? []), expiresInSeconds: expiresIn })
      issued++
      json(res, 200, { access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString(), scope: scopes.join(" ") })
    })
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    if (req.method === "POST" && url.pathname === "/token") {
      handleRefresh(req, res)
      return
    }
    if (req.method !== "GET" || url.pathname !== "/token") {
      json(res, 404, { errors: [{ code: "NOT_FOUND", message: "only GET and POST /token are served" }] })
      return
    }
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "")
    const claimed = parseBasic(req.headers.authorization)
    const record = (status: number): void => {
      requests.push({ status, username: claimed?.username, service: url.searchParams.get("service"), scopes })
    }
    const user = claimed === undefined
      ? undefined
      : options.users.find((u) => u.username === claimed.username && u.password === claimed.password)
    if (claimed !== undefined && user === undefined) {
      record(401)
      json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, {
        "www-authenticate": 'Basic realm="fleet-rollback-test-token-server"'
      })
      return
    }
    if (claimed === undefined && options.allowAnonymousPull !== true) {
      record(401)
      json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, {
        "www-authenticate": 'Basic realm="fleet-rollback-test-token-server"'
      })
      return
    }
    const requestedService = url.searchParams.get("service")
    if (requestedService !== null && requestedService !== service) {
      record(400)
      json(res, 400, { errors: [{ code: "INVALID_REQUEST", message: `unknown service ${requestedService}` }] })
      return
    }
    const access = scopes.flatMap((scope) => {
      const parsed = parseScope(scope)
      if (parsed === undefined) return []
      // Authenticated users get what they asked for; anonymous users only pull.
      const actions = user === undefined ? parsed.actions.filter((a) => a === "pull") : parsed.actions
      return [{ ...parsed, actions }]
    })
    const token = signRegistryToken({
      issuer,
      subject: user?.username ?? "anonymous",
      audience: service,
      access,
      expiresInSeconds: expiresIn
    })
    issued++
    record(200)
    json(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() })
  }

  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  const realm = `${url}/token`

  return {
    url,
    realm,
    service,
    issuer,
    registryAuth: { realm, service, issuer, rootCertificatePem: signingMaterial().certificatePem },
    requests,
    issued: () => issued,
    reset: () => {
      requests.length = 0
      issued = 0
    },
    fetchToken: async (user, scopes) => {
      const query = new URLSearchParams({ service })
      for (const scope of scopes) query.append("scope", scope)
      const headers: Record<string, string> = user === undefined
        ? {}
        : { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}` }
      const response = await fetch(`${realm}?${query}`, { headers })
      if (!response.ok) throw new Error(`token server answered ${response.status}`)
      const body = (await response.json()) as { token: string }
      return body.token
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
