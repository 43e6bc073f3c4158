/**
 * @module Auth — who is asking and whether they may: bearer tokens (each with a user, and an
 * optional expiry on the server's clock), client certificates signed by the sandbox's client CA
 * (user = the subject's CN, groups = its O, as the API server reads them), and RBAC-like denials
 * per user, verb, resource, namespace and name. Answers are the API server's 401 and 403 Status
 * objects, with its wording.
 */
import type { TLSSocket } from "node:tls"
import type { IncomingMessage } from "node:http"
import { qualifiedResource, StatusError } from "./Status.ts"

/** A user the server knows. */
export interface SandboxUser {
  readonly name: string
  readonly groups?: ReadonlyArray<string>
}

/** A bearer token the server accepts. */
export interface SandboxToken {
  readonly user: string
  readonly groups?: ReadonlyArray<string>
  /** Server-clock milliseconds after which the token is refused with 401. */
  readonly expiresAt?: number
}

/** One denial: the user (any when absent) may not do `verb` on `resource` (in `namespace`, on `name`). */
export interface ForbiddenRule {
  readonly user?: string
  readonly verb: string
  readonly resource: string
  readonly namespace?: string
  readonly name?: string
}

/** What a request wants to do, for authorisation. */
export interface RequestAttributes {
  readonly verb: string
  readonly resource: string
  readonly group: string
  readonly namespace?: string | undefined
  readonly name?: string | undefined
}

/** Authentication and authorisation state. */
export class SandboxAuth {
  readonly tokens = new Map<string, SandboxToken>()
  readonly rules: Array<ForbiddenRule> = []

  private readonly now: () => number
  /** Whether a client certificate may authenticate (an HTTPS server with a client CA). */
  private readonly certificates: boolean

  constructor(now: () => number, tokens: Readonly<Record<string, SandboxToken | string>>, certificates: boolean, rules: ReadonlyArray<ForbiddenRule>) {
    this.now = now
    this.certificates = certificates
    for (const [token, user] of Object.entries(tokens)) this.tokens.set(token, typeof user === "string" ? { user } : user)
    this.rules.push(...rules)
  }

  /** Whether requests need credentials at all (a token or a client certificate is configured). */
  get required(): boolean {
    return this.tokens.size > 0 || this.certificates
  }

  /** The user of a request; throws a 401 Status when it brings no valid credentials. */
  authenticate(request: IncomingMessage): SandboxUser {
    const header = request.headers.authorization
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header)
      const token = match === null ? undefined : this.tokens.get(match[1]!)
      if (token === undefined || (token.expiresAt !== undefined && this.now() >= token.expiresAt)) throw unauthorized()
      return { name: token.user, groups: [...(token.groups ?? []), "system:authenticated"] }
    }
    const socket = request.socket as TLSSocket
    if (this.certificates && typeof socket.getPeerCertificate === "function" && socket.authorized === true) {
      const certificate = socket.getPeerCertificate()
      const subject = certificate.subject as unknown as Record<string, string | Array<string>> | undefined
      const cn = subject?.CN
      if (typeof cn === "string" && cn !== "") {
        const o = subject?.O
        return { name: cn, groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), "system:authenticated"] }
      }
    }
    if (this.required) throw unauthorized()
    return { name: "system:anonymous", groups: ["system:unauthenticated"] }
  }

  /** Throws the API server's 403 Status when a rule denies the request. */
  authorize(user: SandboxUser, attributes: RequestAttributes): void {
    const denied = this.rules.some((rule) =>
      (rule.user === undefined || rule.user === user.name) &&
      (rule.verb === "*" || rule.verb === attributes.verb) &&
      rule.resource === attributes.resource &&
      (rule.namespace === undefined || rule.namespace === attributes.namespace) &&
      (rule.name === undefined || rule.name === attributes.name)
    )
    if (denied) throw forbidden(user, attributes)
  }
}

/** 401 as the API server sends it. */
export const unauthorized = (): StatusError => new StatusError("Unauthorized", "Unauthorized")

/** 403 as the RBAC authorizer words it. */
export const forbidden = (user: SandboxUser, a: RequestAttributes): StatusError => {
  const what = qualifiedResource(a.resource, a.group)
  const where = a.namespace === undefined ? "at the cluster scope" : `in the namespace "${a.namespace}"`
  const group = `in API group "${a.group}"`
  return new StatusError(
    "Forbidden",
    `${what}${a.name === undefined ? "" : ` "${a.name}"`} is forbidden: User "${user.name}" cannot ${a.verb} resource "${a.resource}" ${group} ${where}`,
    { ...(a.name === undefined ? {} : { name: a.name }), ...(a.group === "" ? {} : { group: a.group }), kind: a.resource }
  )
}
