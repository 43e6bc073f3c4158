/**
 * @module ImageFiles.test — pure: finding image lines and editing them in place by kustomize's
 * rules (FACTS.md), checked against Flux's own setter test data (original → expected), plus the
 * pull request URLs, the revert search and the credential scrubbing.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "vitest"
import { classifyGitFailure } from "../../lib/targets/gitops/Git.ts"
import { scrubCredentials } from "../../lib/targets/gitops/GitOpsError.ts"
import { commitsToRevert } from "../../lib/targets/gitops/History.ts"
import { editImageFile, findImageEntries, formatScalar, kustomizeNameMatches } from "../../lib/targets/gitops/ImageFiles.ts"
import { pullRequestUrl } from "../../lib/targets/gitops/PullRequest.ts"
import { branchNameOfPoint } from "../../lib/targets/gitops/GitOpsTarget.ts"
import { kustomizationsToRender } from "../../lib/targets/gitops/Render.ts"

const SETTERS = new URL("../../../shared/gitops/flux/image-automation-controller/testdata-setters/", import.meta.url)
const setters = (file: string) => readFileSync(new URL(file, SETTERS), "utf8")

const edited = (file: string, text: string, edits: Parameters<typeof editImageFile>[2], helm: ReadonlyArray<string> = []) => {
  const result = editImageFile(file, text, edits, helm)
  if ("_tag" in result) throw new Error(result.message)
  return result.text
}

describe("Flux's setter test data: the same edit gives Flux's expected file byte for byte", () => {
  it("Kustomization: newName and newTag set, comments and markers kept", () => {
    const original = setters("original/Kustomization")
    const entries = findImageEntries("Kustomization", original)
    assert.deepStrictEqual(entries.map((e) => [e.id, e.image, e.line]), [["Kustomization#container", "replaced:v1", 9]])
    assert.deepStrictEqual(entries[0]!.markers.map((m) => [m.line, m.policy, m.held]), [[8, "automation-ns:policy:name", false], [9, "automation-ns:policy:tag", false]])
    assert.strictEqual(edited("Kustomization", original, [{ id: "Kustomization#container", image: "index.repo.fake/updated:v1.0.1" }]), setters("expected/Kustomization"))
  })

  it("marked.yaml: a CronJob's containers are image lines; one edited, its neighbour left alone", () => {
    const original = setters("original/marked.yaml")
    const entries = findImageEntries("marked.yaml", original)
    assert.deepStrictEqual(entries.map((e) => [e.id, e.image, e.markers[0]?.policy]), [["marked.yaml#foo/c", "image:v1.0.0", "automation-ns:policy"], [
      "marked.yaml#foo/d",
      "image:v1.0.0",
      "automation-ns:unchanged"
    ]])
    assert.strictEqual(edited("marked.yaml", original, [{ id: "marked.yaml#foo/c", image: "index.repo.fake/updated:v1.0.1" }]), setters("expected/marked.yaml"))
  })

  it("unmarked.yaml has no markers", () => {
    assert.deepStrictEqual(findImageEntries("unmarked.yaml", setters("original/unmarked.yaml"))[0]!.markers, [])
  })
})

describe("kustomize images: entries (kustomize's rewrite rules)", () => {
  const K = "images:\n- name: registry.example.com/shop/api # the API\n  newTag: \"2.0\"\n  digest: sha256:" + "a".repeat(64) + "\n- name: web\n  newTag: v3\nresources: [x.yaml]\n"
  it("the declared image is (newName ?? name):newTag@digest; a numeric-looking tag is read as written", () => {
    assert.deepStrictEqual(findImageEntries("k/kustomization.yaml", K).map((e) => e.image), [`registry.example.com/shop/api:2.0@sha256:${"a".repeat(64)}`, "web:v3"])
  })
  it("a tag without digest removes the old digest (else it would still pin the old image); 1.10 is written quoted", () => {
    const out = edited("k/kustomization.yaml", K, [{ id: "k/kustomization.yaml#registry.example.com/shop/api", image: "registry.example.com/shop/api:1.10" }])
    assert.strictEqual(out, "images:\n- name: registry.example.com/shop/api # the API\n  newTag: \"1.10\"\n- name: web\n  newTag: v3\nresources: [x.yaml]\n")
  })
  it("--pin-digest inserts digest under the entry, indented like it; another repository sets newName", () => {
    const out = edited("k/kustomization.yaml", K, [{ id: "k/kustomization.yaml#web", image: `registry.example.com/shop/web:v2@sha256:${"b".repeat(64)}` }])
    assert.strictEqual(out, K.replace("  newTag: v3\n", `  newTag: v2\n  newName: registry.example.com/shop/web\n  digest: sha256:${"b".repeat(64)}\n`))
  })
  it("same repository spelled differently (web = docker.io/library/web): only the tag changes", () => {
    assert.strictEqual(edited("k/kustomization.yaml", K, [{ id: "k/kustomization.yaml#web", image: "docker.io/library/web:v2" }]), K.replace("newTag: v3", "newTag: v2"))
  })
  it("a flow-style entry can have a value replaced, not a key added", () => {
    const F = "images:\n- {name: web, newTag: v3}\n"
    assert.strictEqual(edited("kustomization.yaml", F, [{ id: "kustomization.yaml#web", image: "web:v2" }]), "images:\n- {name: web, newTag: v2}\n")
    const r = editImageFile("kustomization.yaml", F, [{ id: "kustomization.yaml#web", image: `web:v2@sha256:${"c".repeat(64)}` }])
    assert.isTrue("_tag" in r)
  })
  it("an entry with tagSuffix is listed but not edited", () => {
    const entry = findImageEntries("kustomization.yaml", "images:\n- name: web\n  newTag: v3\n  tagSuffix: -debug\n")[0]!
    assert.match(entry.notHandled ?? "", /tagSuffix/)
  })
  it("matching is kustomize's: the whole name with registry host; nginx does not match docker.io/library/nginx", () => {
    assert.isTrue(kustomizeNameMatches("nginx", "nginx:1.25"))
    assert.isTrue(kustomizeNameMatches("nginx", `nginx@sha256:${"d".repeat(64)}`))
    assert.isFalse(kustomizeNameMatches("nginx", "docker.io/library/nginx:1.25"))
    assert.isFalse(kustomizeNameMatches("nginx", "nginx-exporter:1"))
    assert.isFalse(kustomizeNameMatches("[bad", "[bad:1"))
  })
})

describe("Helm values at configured paths", () => {
  const V = "api:\n  image:\n    repository: registry.example.com/shop/api\n    tag: \"5\"  # pinned by CI\nworker:\n  image: 'registry.example.com/shop/worker:7'\n"
  it("a map {repository, tag} and a string; each keeps its quoting", () => {
    const helm = ["api.image", "worker.image"]
    assert.deepStrictEqual(findImageEntries("values.yaml", V, helm).map((e) => [e.id, e.image, e.line]), [
      ["values.yaml#api.image", "registry.example.com/shop/api:5", 4],
      ["values.yaml#worker.image", "registry.example.com/shop/worker:7", 6]
    ])
    assert.strictEqual(
      edited("values.yaml", V, [{ id: "values.yaml#api.image", image: "registry.example.com/shop/api:4" }, { id: "values.yaml#worker.image", image: "registry.example.com/shop/worker:6" }], helm),
      V.replace('tag: "5"', 'tag: "4"').replace("worker:7'", "worker:6'")
    )
  })
})

describe("small pure pieces", () => {
  it("scalars: plain when read back as the same string, quoted otherwise", () => {
    assert.deepStrictEqual(["master-f01225d", "1.10", "2024", "yes", "v1.2.3", "1:20", "sha256:abc"].map((v) => formatScalar(v, "PLAIN")), [
      "master-f01225d",
      '"1.10"',
      '"2024"',
      '"yes"',
      "v1.2.3",
      '"1:20"',
      "sha256:abc"
    ])
  })
  it("pull request URLs from GitHub and GitLab remotes (https, scp-like, ssh); none for other hosts", () => {
    assert.strictEqual(pullRequestUrl("git@github.com:canada-ca/tracker.git", "master", "rollback/x"), "https://github.com/canada-ca/tracker/compare/master...rollback/x?expand=1")
    assert.strictEqual(pullRequestUrl("https://github.com/canada-ca/tracker", "main", "rollback/x"), "https://github.com/canada-ca/tracker/compare/main...rollback/x?expand=1")
    assert.strictEqual(
      pullRequestUrl("ssh://git@gitlab.example.com:2222/group/sub/repo.git", "main", "rollback/x"),
      "https://gitlab.example.com/group/sub/repo/-/merge_requests/new?merge_request%5Bsource_branch%5D=rollback%2Fx&merge_request%5Btarget_branch%5D=main"
    )
    assert.isUndefined(pullRequestUrl("/srv/git/repo.git", "main", "rollback/x"))
    assert.isUndefined(pullRequestUrl("git://127.0.0.1:9418/repo.git", "main", "rollback/x"))
  })
  it("branch names from points", () => {
    assert.strictEqual(branchNameOfPoint("2021-01-11T14:00:00.000Z"), "2021-01-11T14-00-00Z")
    assert.strictEqual(branchNameOfPoint("2021-01-11T14:00:00.500Z"), "2021-01-11T14-00-00.500Z")
  })
  it("URL user info and token-looking pairs are scrubbed", () => {
    assert.strictEqual(scrubCredentials("fatal: unable to access 'https://deploy:s3cr3t@github.com/x.git/': 403"), "fatal: unable to access 'https://github.com/x.git/': 403")
    assert.strictEqual(scrubCredentials("password=hunter2 ok"), "password=*** ok")
  })
  it("git's failures classified: credentials, a rejected push, an unreachable remote", () => {
    assert.strictEqual(classifyGitFailure("fatal: could not read Username for 'https://github.com': terminal prompts disabled"), "Unauthorized")
    assert.strictEqual(classifyGitFailure("remote: HTTP Basic: Access denied\nfatal: Authentication failed"), "Unauthorized")
    assert.strictEqual(classifyGitFailure("! [rejected]        main -> main (fetch first)\nerror: failed to push some refs"), "Conflict")
    assert.strictEqual(classifyGitFailure("fatal: unable to access 'https://x/': Could not resolve host: x"), "Unreachable")
    assert.strictEqual(classifyGitFailure("error: pathspec 'master-4003aac' did not match"), "Failed")
  })
  it("revert search: the commits after the line last declared the target that changed it", () => {
    const h = [
      { commit: "c4", subject: "docs", image: "a:3" },
      { commit: "c3", subject: "Auto-release a:3", image: "a:3" },
      { commit: "c2", subject: "Auto-release a:2", image: "a:2" },
      { commit: "c1", subject: "base", image: "a:1" }
    ]
    assert.deepStrictEqual(commitsToRevert(h, "a:1")?.map((c) => c.commit), ["c3", "c2"])
    assert.deepStrictEqual(commitsToRevert(h, "a:3")?.map((c) => c.commit), [])
    assert.isUndefined(commitsToRevert(h, "a:0"))
  })
  it("kustomizations to render: a touched one, and the nearest above a touched manifest", () => {
    const files = ["base/kustomization.yaml", "base/deploy.yaml", "overlays/prod/kustomization.yaml", "overlays/prod/patch/x.yaml", "other/y.yaml"]
    assert.deepStrictEqual(kustomizationsToRender(["overlays/prod/kustomization.yaml", "base/deploy.yaml", "overlays/prod/patch/x.yaml", "other/y.yaml"], files), ["base", "overlays/prod"])
  })
})
