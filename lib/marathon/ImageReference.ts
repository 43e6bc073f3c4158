/**
 * @module ImageReference — pure parsing of container image references as Docker resolves them:
 * registry host (with port), repository path (`library/` for Docker Hub single names), tag, digest.
 */

/** A parsed image reference; `host` and `path` identify the repository. */
export interface ImageReference {
  /** Registry host, lower case, with port when given; Docker Hub is `docker.io`. */
  readonly host: string
  /** Repository path inside the registry, e.g. `shop/api` or `library/nginx`. */
  readonly path: string
  /** The tag, when the reference has one. */
  readonly tag: string | undefined
  /** The digest (`sha256:…`), when the reference has one. */
  readonly digest: string | undefined
}

/** The canonical host of Docker Hub. */
export const DOCKER_HUB = "docker.io"

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"])

/** Normalizes a registry host: lower case, no scheme, no trailing slash, Docker Hub aliases → `docker.io`. */
export const normalizeRegistryHost = (host: string): string => {
  const bare = host.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "").toLowerCase()
  return DOCKER_HUB_ALIASES.has(bare) ? DOCKER_HUB : bare
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/

/** Docker's rule: the first component is a host when it has a `.` or `:` or is `localhost`. */
const looksLikeHost = (component: string): boolean =>
  component.includes(".") || component.includes(":") || component === "localhost"

/**
 * Parses `[host[:port]/]path[:tag][@digest]`. Returns undefined when the text is not a valid
 * reference (empty, upper-case path, bad tag or digest).
 */
export const parseImageReference = (reference: string): ImageReference | undefined => {
  let rest = reference.trim()
  if (rest === "") return undefined
  let digest: string | undefined
  const at = rest.indexOf("@")
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) return undefined
  }
  let tag: string | undefined
  const lastColon = rest.lastIndexOf(":")
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    if (!TAG.test(tag)) return undefined
  }
  const components = rest.split("/")
  let host = DOCKER_HUB
  if (components.length > 1 && looksLikeHost(components[0]!)) {
    host = normalizeRegistryHost(components.shift()!)
  }
  if (components.length === 0 || !components.every((c) => COMPONENT.test(c))) return undefined
  if (host === DOCKER_HUB && components.length === 1) components.unshift("library")
  return { host, path: components.join("/"), tag, digest }
}

/**
 * The repository (host and path) a service's images live in. `repository` may already name a
 * host (`registry:5000/shop/api`); otherwise it is a path inside `registryHost`.
 */
export const serviceRepository = (
  repository: string,
  registryHost: string
): { readonly host: string; readonly path: string } | undefined => {
  const first = repository.split("/")[0] ?? ""
  const host = normalizeRegistryHost(registryHost)
  const full = (repository.includes("/") && looksLikeHost(first)) || host === ""
    ? repository
    : `${host}/${repository.replace(/^\/+/, "")}`
  const parsed = parseImageReference(full)
  return parsed === undefined ? undefined : { host: parsed.host, path: parsed.path }
}
