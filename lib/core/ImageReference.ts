/**
 * @module ImageReference — parse and compare container image references the way Docker does.
 *
 * `registry.example.com:5000/shop/api:1234-master@sha256:…` → host, repository, tag, digest.
 * A first path segment is a registry host when it has a `.` or `:`, is `localhost` or has upper
 * case letters; otherwise the image is on Docker Hub (`docker.io`), where single names live
 * under `library/`. Hosts are canonical: lower-case, without the default HTTPS port `:443`,
 * Docker Hub's aliases as `docker.io`; so two references name the same image exactly when
 * {@link sameImage} says so, whichever way they were written.
 */

/** A parsed image reference. */
export interface ImageReference {
  /** Registry host with port (not the default `:443`), lower-case; `docker.io` for Docker Hub. */
  readonly host: string
  /** Repository path inside the registry (`library/nginx` for official Hub images). */
  readonly repository: string
  /** Tag, when the reference names one. */
  readonly tag?: string | undefined
  /** Digest (`sha256:…`), when the reference pins one. */
  readonly digest?: string | undefined
}

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"])

/** A registry host in canonical form: lower-case, `:443` (HTTPS, Docker's default) dropped, Hub aliases → `docker.io`. */
const canonicalHost = (host: string): string => {
  const lower = host.toLowerCase()
  const bare = lower.endsWith(":443") ? lower.slice(0, -4) : lower
  return DOCKER_HUB_ALIASES.has(bare) ? "docker.io" : bare
}

/** Parses an image reference; undefined when it is not one (empty, spaces, upper-case path, bad digest). */
export const parseImageReference = (reference: string): ImageReference | undefined => {
  const text = reference.trim()
  if (text === "" || /\s/.test(text)) return undefined
  let rest = text
  let digest: string | undefined
  const at = rest.indexOf("@")
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(digest)) return undefined
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf("/")
  const lastColon = rest.lastIndexOf(":")
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined
  }
  const segments = rest.split("/")
  let host = "docker.io"
  const first = segments[0] ?? ""
  // Docker's rule: a first segment is a host when it has `.` or `:`, is `localhost`, or has upper case
  if (segments.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    host = canonicalHost(first)
    segments.shift()
  }
  if (host === "docker.io" && segments.length === 1) segments.unshift("library")
  const repository = segments.join("/")
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) return undefined
  return { host, repository, tag, digest }
}

/**
 * The canonical host (with port) of a registry URL such as `https://registry.example.com:5000`,
 * as {@link parseImageReference} gives it: lower-case, no `:443`, Hub aliases → `docker.io`.
 */
export const registryHostOf = (registryUrl: string): string => {
  let host: string
  try {
    host = new URL(registryUrl.includes("://") ? registryUrl : `https://${registryUrl}`).host
  } catch {
    host = registryUrl
  }
  return canonicalHost(host)
}

/** Formats `host/repository:tag[@digest]` as a deployable reference (Docker Hub images without the host). */
export const formatImageReference = (ref: ImageReference): string => {
  const name =
    ref.host === "docker.io"
      ? ref.repository.startsWith("library/") && ref.repository.split("/").length === 2
        ? ref.repository.slice("library/".length)
        : ref.repository
      : `${ref.host}/${ref.repository}`
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`
}

/** True when two references name the same repository on the same registry. */
export const sameRepository = (a: ImageReference, b: ImageReference): boolean => a.host === b.host && a.repository === b.repository

/**
 * True when two references name the same image: the same repository on the same registry
 * (canonical host with port), and the same digest when both have one, else the same tag. The
 * one image comparison of fleet-rollback: the plan's `unchanged` is this.
 */
export const sameImage = (a: ImageReference, b: ImageReference): boolean => {
  if (!sameRepository(a, b)) return false
  if (a.digest !== undefined && b.digest !== undefined) return a.digest === b.digest
  return a.tag !== undefined && a.tag === b.tag
}

/**
 * {@link sameImage} of two references as text (a workload's image field): false when either is
 * missing; two that do not parse are the same only when equal.
 */
export const sameImageText = (a: string | null | undefined, b: string | null | undefined): boolean => {
  if (a == null || b == null) return false
  const x = parseImageReference(a)
  const y = parseImageReference(b)
  return x !== undefined && y !== undefined ? sameImage(x, y) : a === b
}

/** True when a first path segment names a registry host (Docker's rule). */
const looksLikeHost = (segment: string): boolean =>
  segment.includes(".") || segment.includes(":") || segment === "localhost" || segment !== segment.toLowerCase()

/**
 * The repository (host and path) a service's images live in. `repository` may already name a
 * host (`registry:5000/shop/api`); otherwise it is a path inside the registry `registry`
 * (a URL or a host). Undefined when it is not a valid repository name.
 */
export const serviceRepository = (repository: string, registry: string): { readonly host: string; readonly repository: string } | undefined => {
  const first = repository.split("/")[0] ?? ""
  const host = registryHostOf(registry)
  const full = repository.includes("/") && looksLikeHost(first) ? repository : `${host}/${repository.replace(/^\/+/, "")}`
  const parsed = parseImageReference(full)
  return parsed === undefined ? undefined : { host: parsed.host, repository: parsed.repository }
}
