/**
 * @module PullRequest — pure: the web page that opens a pull request (GitHub compare page) or a
 * merge request (GitLab) for a pushed branch, from the remote's URL (`https://host/owner/repo.git`,
 * `git@host:owner/repo.git`, `ssh://git@host/owner/repo.git`). Hosts are recognised by name
 * (`github`, `gitlab` in the host); other remotes get no URL.
 */

/** The forge and web base (`https://host/owner/repo`) of a remote URL, or undefined. */
export const webRepositoryOf = (remoteUrl: string): { readonly forge: "github" | "gitlab"; readonly base: string } | undefined => {
  let host: string
  let path: string
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(remoteUrl)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remoteUrl)) {
    let url: URL
    try {
      url = new URL(remoteUrl)
    } catch {
      return undefined
    }
    if (!/^(https?|ssh|git\+ssh):$/.test(url.protocol)) return undefined
    host = url.hostname
    path = url.pathname
  } else if (scp !== null) {
    host = scp[1]!
    path = scp[2]!
  } else {
    return undefined
  }
  path = path.replace(/^\/+/, "").replace(/\.git\/?$/, "").replace(/\/+$/, "")
  if (path === "") return undefined
  const forge = /github/i.test(host) ? "github" : /gitlab/i.test(host) ? "gitlab" : undefined
  return forge === undefined ? undefined : { forge, base: `https://${host}/${path}` }
}

/** The URL that opens a pull request (merge request) of `branch` into `into`, or undefined when the forge is not known. */
export const pullRequestUrl = (remoteUrl: string, into: string, branch: string): string | undefined => {
  const web = webRepositoryOf(remoteUrl)
  if (web === undefined) return undefined
  return web.forge === "github"
    ? `${web.base}/compare/${encodeURI(into)}...${encodeURI(branch)}?expand=1`
    : `${web.base}/-/merge_requests/new?merge_request%5Bsource_branch%5D=${encodeURIComponent(branch)}&merge_request%5Btarget_branch%5D=${encodeURIComponent(into)}`
}
