/**
 * @module DcosAuth — the DC/OS IAM login (`POST /acs/api/v1/auth/login`) of the sandbox:
 * uid + password, or uid + an RS256 service-login JWT `{uid, exp}` verified against the
 * account's public key; issued tokens are HS256 JWTs signed with a per-sandbox secret.
 */
import { createHmac, createPublicKey, randomBytes, timingSafeEqual, verify } from "node:crypto"

/** Options of the DC/OS emulation (see `MarathonSandboxOptions.dcos`). */
export interface DcosAuthOptions {
  /** uid → password. */
  readonly users?: Readonly<Record<string, string>>
  /** uid → public key (PEM) of a service account. */
  readonly serviceAccounts?: Readonly<Record<string, string>>
  /** Lifetime of issued tokens; default 5 days as on open DC/OS. */
  readonly tokenTtlMs?: number
}

/** An IAM error body `{title, description, code}` and its status. */
export interface IamError {
  readonly status: number
  readonly body: { readonly title: string; readonly description: string; readonly code: string }
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url")

const sameString = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const invalidCredentials = (description: string): IamError => ({
  status: 401,
  body: { title: "Invalid credentials", description, code: "ERR_INVALID_CREDENTIALS" }
})

/** Token issuer and checker for one sandbox. */
export class DcosAuth {
  private readonly secret = randomBytes(32)
  /** Tokens issued before this instant (ms) are no longer accepted (see {@link expireAll}). */
  private notBefore = 0
  private readonly ttl: number

  private readonly options: DcosAuthOptions

  constructor(options: DcosAuthOptions) {
    this.options = options
    this.ttl = options.tokenTtlMs ?? 5 * 24 * 3600 * 1000
  }

  /** Handles a login body; returns `{token}` or an IAM error. */
  login(body: unknown): { readonly token: string } | IamError {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return { status: 400, body: { title: "Bad Request", description: "Request body must be a JSON object", code: "ERR_INVALID_DATA" } }
    }
    const { uid, password, token } = body as Record<string, unknown>
    if (typeof uid !== "string" || (typeof password !== "string" && typeof token !== "string")) {
      return {
        status: 400,
        body: { title: "Bad Request", description: "Expected 'uid' and either 'password' or 'token'", code: "ERR_INVALID_DATA" }
      }
    }
    if (typeof password === "string") {
      const known = this.options.users?.[uid]
      if (known === undefined || !sameString(known, password)) {
        return invalidCredentials("The password is wrong or the user does not exist.")
      }
      return { token: this.issue(uid) }
    }
    const pem = this.options.serviceAccounts?.[uid]
    if (pem === undefined) return invalidCredentials("The service account does not exist.")
    const problem = verifyServiceLoginToken(String(token), uid, pem)
    if (problem !== undefined) return invalidCredentials(problem)
    return { token: this.issue(uid) }
  }

  /** The uid of a valid, unexpired token, else undefined. */
  check(token: string): string | undefined {
    const parts = token.split(".")
    if (parts.length !== 3) return undefined
    const [h, p, s] = parts as [string, string, string]
    const expectedSig = createHmac("sha256", this.secret).update(`${h}.${p}`).digest("base64url")
    if (!sameString(expectedSig, s)) return undefined
    const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { uid: string; exp: number; iatMs: number }
    // validity is counted in milliseconds from issue: `exp` (whole seconds, as DC/OS sends it) is
    // rounded up and only informative, so a short tokenTtlMs is never cut by up to a second
    if (claims.iatMs < this.notBefore || claims.iatMs + this.ttl <= Date.now()) return undefined
    return claims.uid
  }

  /** Invalidates every token issued so far. */
  expireAll(): void {
    this.notBefore = Date.now() + 1
  }

  private issue(uid: string): string {
    // never issue in the same millisecond as an expireAll, so the new token is valid
    const iatMs = Math.max(Date.now(), this.notBefore)
    const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))
    const payload = b64url(JSON.stringify({ uid, exp: Math.ceil((iatMs + this.ttl) / 1000), iatMs }))
    const sig = createHmac("sha256", this.secret).update(`${header}.${payload}`).digest("base64url")
    return `${header}.${payload}.${sig}`
  }
}

/** Checks an RS256 service-login JWT; returns a description of the problem, or undefined. */
export const verifyServiceLoginToken = (jwt: string, uid: string, publicKeyPem: string): string | undefined => {
  const parts = jwt.split(".")
  if (parts.length !== 3) return "The service login token is not a JWT."
  const [h, p, s] = parts as [string, string, string]
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>
  } catch {
    return "The service login token is not a JWT."
  }
  if (header.alg !== "RS256") return "The service login token must be signed with RS256."
  let ok = false
  try {
    ok = verify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey(publicKeyPem), Buffer.from(s, "base64url"))
  } catch {
    ok = false
  }
  if (!ok) return "The service login token signature is invalid."
  if (claims.uid !== uid) return "The service login token's uid does not match."
  if (typeof claims.exp !== "number") return "The service login token has no 'exp' claim."
  if (claims.exp * 1000 <= Date.now()) return "The service login token has expired."
  return undefined
}
