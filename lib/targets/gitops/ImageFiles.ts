/**
 * @module ImageFiles — pure: finds the image lines a GitOps repository declares and edits them IN
 * PLACE. Files are parsed with the `yaml` library only to locate nodes (their source ranges); an
 * edit replaces exactly the bytes of one value (or inserts / removes one `key: value` line), so
 * comments, order, quoting and every untouched line stay byte for byte.
 *
 * What counts as an image line (../shared/gitops/FACTS.md):
 * - kustomize `images:` entries (`kustomization.yaml`, and Flux's `Kustomization` `spec.images`):
 *   `name`, `newName`, `newTag`, `digest`. The image an entry declares is `(newName ?? name)`, then
 *   `:newTag`, then `@digest` (kustomize's updater: code wins over the field comment). Writing a
 *   target follows the same rules: the tag goes to `newTag`, a digest to `digest`, an old digest is
 *   removed when the target has none (else it would still pin the old image), a numeric-looking tag
 *   is written quoted (`"1.10"`, not the number 1.1).
 * - plain manifests: the `image:` of every `containers` / `initContainers` list item.
 * - Helm values at configured paths: a string (`repo:tag`) or a map `{registry?, repository, tag, digest?}`.
 * - Flux setter markers `# {"$imagepolicy": "ns:name[:tag|:name|:digest]"}` on those lines; held
 *   markers (`"$imagepolicy (held by fleet-rollback)"`) no longer contain Flux's literal
 *   `"$imagepolicy"`, so the image automation leaves the line alone until `undo` turns them back on.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml"
import type { Node, Pair, Scalar, YAMLMap } from "yaml"
import { formatImageReference, parseImageReference, sameRepository } from "../../core/ImageReference.ts"

/** Flux's setter marker key, and the key fleet-rollback writes to hold it. */
export const MARKER_KEY = "$imagepolicy"
/** The key of a held marker (Flux reads only files containing the literal `"$imagepolicy"`). */
export const HELD_MARKER_KEY = "$imagepolicy (held by fleet-rollback)"

/** A Flux image-automation setter marker on an image line. */
export interface SetterMarker {
  /** 1-based line. */
  readonly line: number
  /** `ns:name` or `ns:name:tag|name|digest`. */
  readonly policy: string
  /** True when fleet-rollback holds it (Flux ignores it). */
  readonly held: boolean
}

/** Where the image is written. */
export type ImageEntryKind = "kustomize" | "manifest" | "helm"

/** One image line (or kustomize entry) of a file. */
export interface ImageEntry {
  /** `file#name` (kustomize entry name, `workload/container` of a manifest, the Helm values path). */
  readonly id: string
  readonly file: string
  readonly kind: ImageEntryKind
  /** The entry's name (kustomize `name`: what it matches in manifests). */
  readonly name: string
  /** The image reference it declares; undefined when it names no tag or digest (kustomize keeps the manifest's). */
  readonly image: string | undefined
  /** 1-based line of the value that a new tag changes (newTag, image:, tag:). */
  readonly line: number
  /** Setter markers on the entry's lines. */
  readonly markers: ReadonlyArray<SetterMarker>
  /** Set when the entry is found but cannot be edited safely (tagSuffix, a non-string value): why. */
  readonly notHandled?: string | undefined
}

/** A Helm values path to read images from: `file` and a dotted `path` (`image`, `api.image`). */
export interface HelmValuesPath {
  readonly file: string
  readonly path: string
}

/** One edit asked of a file. */
export interface ImageEdit {
  /** The entry's id. */
  readonly id: string
  /** The complete image reference to declare (tag, and digest with `--pin-digest`). */
  readonly image: string
  /** Turn setter markers on the entry's lines off (`--hold`). */
  readonly hold?: boolean | undefined
  /** Turn held markers back on (`undo`). */
  readonly release?: boolean | undefined
}

/** What an edit changed, for the plan and the commit message. */
export interface EntryChange {
  readonly id: string
  readonly line: number
  readonly before: string | undefined
  readonly after: string
  /** Markers turned off / on by this edit. */
  readonly held: ReadonlyArray<string>
  readonly released: ReadonlyArray<string>
}

/** True for the file names that may hold image lines. */
export const isImageFileCandidate = (file: string): boolean => /\.ya?ml$/i.test(file) || /(^|\/)Kustomization$/.test(file)

/** True for a kustomization file name. */
export const isKustomizationFile = (file: string): boolean => /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(file)

/** The directory of a repository file (`""` at the root). */
export const dirOf = (file: string): string => (file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "")

// ---------------------------------------------------------------- reading

interface Located {
  readonly entry: ImageEntry
  /** Edits this entry knows how to make. */
  readonly fields: EntryFields
}

interface EntryFields {
  readonly map?: YAMLMap | undefined
  readonly pairs: Readonly<Record<string, Pair<Scalar, Scalar> | undefined>>
  /** For manifests and string Helm values: the one scalar holding the whole reference. */
  readonly whole?: Scalar | undefined
}

interface Parsed {
  readonly text: string
  readonly lines: LineCounter
  readonly located: ReadonlyArray<Located>
}

const MARKER_RE = /#\s*\{\s*"(\$imagepolicy(?: \(held by fleet-rollback\))?)"\s*:\s*"([^"]+)"\s*\}/

/** The text of a scalar as written (a plain `1.10` stays `1.10`, not the number 1.1). */
const scalarText = (text: string, node: Scalar): string | undefined => {
  if (node.range === undefined || node.range === null) return undefined
  if (node.type === "PLAIN") return text.slice(node.range[0], node.range[1]).trim()
  return node.value === null || node.value === undefined ? undefined : String(node.value)
}

const lineOf = (lines: LineCounter, offset: number): number => lines.linePos(offset).line

/** The markers on the lines from `start` to `end` (offsets). */
const markersIn = (text: string, lines: LineCounter, start: number, end: number): Array<SetterMarker> => {
  const first = lineOf(lines, start)
  const last = lineOf(lines, Math.max(start, end - 1))
  const all = text.split("\n")
  const found: Array<SetterMarker> = []
  for (let n = first; n <= last; n++) {
    const m = MARKER_RE.exec(all[n - 1] ?? "")
    if (m !== null) found.push({ line: n, policy: m[2]!, held: m[1] !== MARKER_KEY })
  }
  return found
}

const pairsOf = (map: YAMLMap): Record<string, Pair<Scalar, Scalar> | undefined> => {
  const out: Record<string, Pair<Scalar, Scalar> | undefined> = {}
  for (const pair of map.items) {
    if (isScalar(pair.key) && (pair.value === null || isScalar(pair.value))) out[String(pair.key.value)] = pair as Pair<Scalar, Scalar>
  }
  return out
}

const valueOf = (text: string, pair: Pair<Scalar, Scalar> | undefined): string | undefined =>
  pair?.value !== null && pair?.value !== undefined ? scalarText(text, pair.value) : undefined

const rangeEnd = (node: Node | null | undefined): number => (node?.range !== undefined && node?.range !== null ? node.range[2] : 0)

/** The image a kustomize entry declares (kustomize's updater rules). */
const kustomizeImage = (name: string, newName: string | undefined, newTag: string | undefined, digest: string | undefined): string | undefined => {
  if (newTag === undefined && digest === undefined) return undefined
  return `${newName ?? name}${newTag !== undefined ? `:${newTag}` : ""}${digest !== undefined ? `@${digest}` : ""}`
}

const kustomizeEntries = (file: string, text: string, lines: LineCounter, seq: Node): Array<Located> => {
  if (!isSeq(seq)) return []
  const out: Array<Located> = []
  for (const item of seq.items) {
    if (!isMap(item)) continue
    const pairs = pairsOf(item)
    const name = valueOf(text, pairs["name"])
    if (name === undefined) continue
    const newName = valueOf(text, pairs["newName"])
    const newTag = valueOf(text, pairs["newTag"])
    const digest = valueOf(text, pairs["digest"])
    const linePair = pairs["newTag"] ?? pairs["digest"] ?? pairs["name"]!
    const start = item.range?.[0] ?? 0
    const entry: ImageEntry = {
      id: `${file}#${name}`,
      file,
      kind: "kustomize",
      name,
      image: kustomizeImage(name, newName, newTag, digest),
      line: lineOf(lines, linePair.value?.range?.[0] ?? start),
      markers: markersIn(text, lines, start, rangeEnd(item)),
      ...(pairs["tagSuffix"] !== undefined ? { notHandled: "its tagSuffix is set; fleet-rollback does not edit such entries (edit it by hand)" } : {})
    }
    out.push({ entry, fields: { map: item, pairs } })
  }
  return out
}

/** Every `containers` / `initContainers` list item's `image:` under a node (CronJob templates too). */
const manifestEntries = (file: string, text: string, lines: LineCounter, node: Node, workload: string, out: Array<Located>): void => {
  if (isSeq(node)) {
    for (const item of node.items) if (item !== null && typeof item === "object") manifestEntries(file, text, lines, item as Node, workload, out)
    return
  }
  if (!isMap(node)) return
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ""
    if ((key === "containers" || key === "initContainers") && isSeq(pair.value)) {
      for (const item of pair.value.items) {
        if (!isMap(item)) continue
        const pairs = pairsOf(item)
        const image = pairs["image"]
        const name = valueOf(text, pairs["name"]) ?? "?"
        if (image?.value === null || image?.value === undefined) continue
        const value = image.value
        const start = value.range?.[0] ?? 0
        out.push({
          entry: {
            id: `${file}#${workload}/${name}`,
            file,
            kind: "manifest",
            name: `${workload}/${name}`,
            image: scalarText(text, value),
            line: lineOf(lines, start),
            markers: markersIn(text, lines, start, rangeEnd(value)),
            ...(key === "initContainers" ? { notHandled: "an init container: fleet-rollback changes the main containers" } : {})
          },
          fields: { pairs, whole: value }
        })
      }
    } else if (pair.value !== null && typeof pair.value === "object") {
      manifestEntries(file, text, lines, pair.value as Node, workload, out)
    }
  }
}

/** The node at a dotted path of a document's map. */
const nodeAt = (root: Node | null | undefined, path: string): Node | undefined => {
  let node: Node | null | undefined = root
  for (const key of path.split(".")) {
    if (!isMap(node)) return undefined
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key)
    node = pair?.value as Node | null | undefined
  }
  return node ?? undefined
}

const helmEntry = (file: string, text: string, lines: LineCounter, root: Node | null, path: string): Located | undefined => {
  const node = nodeAt(root, path)
  if (node === undefined) return undefined
  const id = `${file}#${path}`
  if (isScalar(node)) {
    const start = node.range?.[0] ?? 0
    return {
      entry: { id, file, kind: "helm", name: path, image: scalarText(text, node), line: lineOf(lines, start), markers: markersIn(text, lines, start, rangeEnd(node)) },
      fields: { pairs: {}, whole: node }
    }
  }
  if (!isMap(node)) return undefined
  const pairs = pairsOf(node)
  const repository = valueOf(text, pairs["repository"])
  if (repository === undefined) return undefined
  const registry = valueOf(text, pairs["registry"])
  const tag = valueOf(text, pairs["tag"])
  const digest = valueOf(text, pairs["digest"])
  const name = registry !== undefined && registry !== "" ? `${registry}/${repository}` : repository
  const start = node.range?.[0] ?? 0
  return {
    entry: {
      id,
      file,
      kind: "helm",
      name: path,
      image: tag === undefined && digest === undefined ? undefined : `${name}${tag !== undefined && tag !== "" ? `:${tag}` : ""}${digest !== undefined && digest !== "" ? `@${digest}` : ""}`,
      line: lineOf(lines, (pairs["tag"] ?? pairs["repository"])?.value?.range?.[0] ?? start),
      markers: markersIn(text, lines, start, rangeEnd(node))
    },
    fields: { map: node, pairs }
  }
}

const parseFile = (file: string, text: string, helmPaths: ReadonlyArray<string>): Parsed => {
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false })
  const located: Array<Located> = []
  const list = Array.isArray(docs) ? docs : []
  for (const doc of list) {
    // a document the parser had to guess at holds no line we could edit safely
    if (doc.errors.length > 0) continue
    const root = doc.contents
    if (helmPaths.length > 0) {
      for (const path of helmPaths) {
        const found = helmEntry(file, text, lines, root, path)
        if (found !== undefined) located.push(found)
      }
      continue
    }
    if (!isMap(root)) continue
    const kind = valueOf(text, pairsOf(root)["kind"])
    const images = root.items.find((p) => isScalar(p.key) && p.key.value === "images")
    if (isKustomizationFile(file) || kind === "Kustomization") {
      const spec = nodeAt(root, "spec")
      const seq = images?.value ?? (spec !== undefined ? nodeAt(spec, "images") : undefined)
      if (seq !== undefined && seq !== null) located.push(...kustomizeEntries(file, text, lines, seq as Node))
      if (isKustomizationFile(file)) continue
    }
    const metadata = nodeAt(root, "metadata")
    const workload = (isMap(metadata) ? valueOf(text, pairsOf(metadata)["name"]) : undefined) ?? kind ?? "?"
    manifestEntries(file, text, lines, root, workload, located)
  }
  return { text, lines, located }
}

/** The image entries of one file (`helmPaths`: the configured Helm values paths of this file, if any). */
export const findImageEntries = (file: string, text: string, helmPaths: ReadonlyArray<string> = []): ReadonlyArray<ImageEntry> =>
  parseFile(file, text, helmPaths).located.map((l) => l.entry)

/**
 * True when a kustomize `images:` entry named `name` applies to `image` (kustomize's matching,
 * FACTS.md: `^<name>(:tag)?(@algo:hex)?$`, the whole name including the registry host, `name` put
 * into the pattern unescaped; an invalid pattern matches nothing).
 */
export const kustomizeNameMatches = (name: string, image: string): boolean => {
  try {
    return new RegExp(`^${name}(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9+._-]+:[a-fA-F0-9]+)?$`).test(image)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------- writing

const NEEDS_QUOTES = /^(?:[-+]?[0-9._]+(?:[eE][-+]?[0-9]+)?|[-+]?\.?(?:inf|Inf|INF|nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|)$/
const PLAIN_SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.\-/@+]*(?::[A-Za-z0-9_.\-/@+]+)*$/

/**
 * A string as YAML scalar source, in the style of the value it replaces: quoted as it was; plain
 * only when a YAML 1.1 or 1.2 reader reads it back as the same string (tags like `1.10`, `2024`,
 * `yes` are quoted).
 */
export const formatScalar = (value: string, style: Scalar["type"] | undefined): string => {
  if (style === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`
  if (style === "QUOTE_DOUBLE" || NEEDS_QUOTES.test(value) || !PLAIN_SAFE.test(value) || /^\d+(?::\d+)+$/.test(value)) return JSON.stringify(value)
  return value
}

interface Splice {
  readonly start: number
  readonly end: number
  readonly text: string
}

/** The editing problem of a file, for the operator. */
export interface ImageEditProblem {
  readonly _tag: "ImageEditProblem"
  readonly message: string
}

const problem = (message: string): ImageEditProblem => ({ _tag: "ImageEditProblem", message })

const lineStart = (text: string, offset: number): number => text.lastIndexOf("\n", offset - 1) + 1
const lineEnd = (text: string, offset: number): number => {
  const n = text.indexOf("\n", offset)
  return n < 0 ? text.length : n
}

/** Replaces a pair's value, in its quoting style. */
const setValue = (pair: Pair<Scalar, Scalar>, value: string): Splice | ImageEditProblem => {
  const node = pair.value
  if (node === null || node === undefined || node.range === undefined || node.range === null) return problem(`${String(pair.key.value)} has no value to replace`)
  if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") return problem(`${String(pair.key.value)} is a block scalar; edit it by hand`)
  return { start: node.range[0], end: node.range[1], text: formatScalar(value, node.type) }
}

/** Inserts `key: value` as the last key of a block map, indented like its first key. */
const insertKey = (text: string, lines: LineCounter, map: YAMLMap, key: string, value: string): Splice | ImageEditProblem => {
  if (map.flow === true) return problem(`the entry is a flow map ({…}); add ${key} by hand or write the entry in block style`)
  const first = map.items[0]?.key as Node | undefined
  const last = map.items[map.items.length - 1]
  if (first?.range === undefined || first.range === null || last === undefined) return problem(`cannot find where to add ${key}`)
  const indent = lines.linePos(first.range[0]).col - 1
  const lastEnd = (last.value as Node | null)?.range?.[1] ?? (last.key as Node).range?.[1] ?? first.range[1]
  const at = lineEnd(text, lastEnd)
  return { start: at, end: at, text: `\n${" ".repeat(indent)}${key}: ${formatScalar(value, undefined)}` }
}

/** Removes a `key: value` line of a block map (the key must start its line). */
const removeKey = (text: string, pair: Pair<Scalar, Scalar>): Splice | ImageEditProblem => {
  const keyStart = pair.key.range?.[0]
  if (keyStart === undefined) return problem(`cannot remove ${String(pair.key.value)}`)
  const start = lineStart(text, keyStart)
  if (text.slice(start, keyStart).trim() !== "") return problem(`${String(pair.key.value)} does not start its line; remove it by hand`)
  const end = lineEnd(text, pair.value?.range?.[1] ?? keyStart)
  return { start, end: Math.min(text.length, end + 1), text: "" }
}

/** Turns the markers on the lines of `markers` off (`hold`) or on (`release`). */
const markerSplices = (text: string, lines: LineCounter, markers: ReadonlyArray<SetterMarker>, hold: boolean, release: boolean) => {
  const splices: Array<Splice> = []
  const held: Array<string> = []
  const released: Array<string> = []
  for (const m of markers) {
    if (!(hold && !m.held) && !(release && m.held)) continue
    const start = lines.lineStarts[m.line - 1] ?? 0
    const lineText = text.slice(start, lineEnd(text, start))
    const from = hold ? `"${MARKER_KEY}"` : `"${HELD_MARKER_KEY}"`
    const to = hold ? `"${HELD_MARKER_KEY}"` : `"${MARKER_KEY}"`
    const i = lineText.indexOf(from)
    if (i < 0) continue
    splices.push({ start: start + i, end: start + i + from.length, text: to })
    ;(hold ? held : released).push(m.policy)
  }
  return { splices, held, released }
}

/** The repository part of a reference as written in `declared` when it names the same repository, else the target's. */
const nameFor = (declared: string | undefined, target: { host: string; repository: string }): string | undefined => {
  const ref = declared !== undefined ? parseImageReference(declared) : undefined
  return ref !== undefined && sameRepository(ref, target) ? undefined : formatImageReference({ host: target.host, repository: target.repository })
}

const editKustomize = (text: string, lines: LineCounter, fields: EntryFields, entry: ImageEntry, target: ReturnType<typeof parseImageReference> & {}) => {
  const out: Array<Splice | ImageEditProblem> = []
  const pairs = fields.pairs
  const map = fields.map!
  const declaredName = valueOf(text, pairs["newName"]) ?? entry.name
  const newName = nameFor(declaredName, target)
  if (newName !== undefined) out.push(pairs["newName"] !== undefined ? setValue(pairs["newName"], newName) : insertKey(text, lines, map, "newName", newName))
  if (target.tag !== undefined) out.push(pairs["newTag"] !== undefined ? setValue(pairs["newTag"], target.tag) : insertKey(text, lines, map, "newTag", target.tag))
  else if (pairs["newTag"] !== undefined) out.push(removeKey(text, pairs["newTag"]))
  if (target.digest !== undefined) out.push(pairs["digest"] !== undefined ? setValue(pairs["digest"], target.digest) : insertKey(text, lines, map, "digest", target.digest))
  else if (pairs["digest"] !== undefined) out.push(removeKey(text, pairs["digest"]))
  return out
}

const editHelmMap = (text: string, lines: LineCounter, fields: EntryFields, entry: ImageEntry, target: ReturnType<typeof parseImageReference> & {}) => {
  const out: Array<Splice | ImageEditProblem> = []
  const pairs = fields.pairs
  const declared = entry.image ?? (() => {
    const registry = valueOf(text, pairs["registry"])
    const repository = valueOf(text, pairs["repository"]) ?? ""
    return registry !== undefined && registry !== "" ? `${registry}/${repository}` : repository
  })()
  if (nameFor(declared, target) !== undefined) {
    out.push(problem(`${entry.id} names another repository than ${formatImageReference({ host: target.host, repository: target.repository })}; fleet-rollback changes only tags and digests in Helm values`))
  }
  if (target.tag !== undefined) out.push(pairs["tag"] !== undefined ? setValue(pairs["tag"], target.tag) : insertKey(text, lines, fields.map!, "tag", target.tag))
  if (target.digest !== undefined) out.push(pairs["digest"] !== undefined ? setValue(pairs["digest"], target.digest) : insertKey(text, lines, fields.map!, "digest", target.digest))
  else if (pairs["digest"] !== undefined) out.push(pairs["digest"].value?.value === "" ? { start: 0, end: 0, text: "" } : removeKey(text, pairs["digest"]))
  return out
}

/** A whole reference (`image:`, a Helm string) rewritten: its repository as written, the target's tag and digest. */
const editWhole = (fields: EntryFields, entry: ImageEntry, target: ReturnType<typeof parseImageReference> & {}) => {
  const node = fields.whole!
  const declared = entry.image !== undefined ? parseImageReference(entry.image) : undefined
  const keep = declared !== undefined && sameRepository(declared, target) && entry.image !== undefined
    ? entry.image.replace(/@.*$/, "").replace(/:[^:/]*$/, "")
    : formatImageReference({ host: target.host, repository: target.repository })
  const value = `${keep}${target.tag !== undefined ? `:${target.tag}` : ""}${target.digest !== undefined ? `@${target.digest}` : ""}`
  if (node.range === undefined || node.range === null) return [problem(`${entry.id} has no value to replace`)]
  return [{ start: node.range[0], end: node.range[1], text: formatScalar(value, node.type) }]
}

/**
 * Applies edits to one file's text. Every edit names an entry of this file; the result is the new
 * text and what changed, or the first problem (nothing is changed then). Pure.
 */
export const editImageFile = (
  file: string,
  text: string,
  edits: ReadonlyArray<ImageEdit>,
  helmPaths: ReadonlyArray<string> = []
): { readonly text: string; readonly changes: ReadonlyArray<EntryChange> } | ImageEditProblem => {
  const parsed = parseFile(file, text, helmPaths)
  const splices: Array<Splice> = []
  const changes: Array<EntryChange> = []
  for (const edit of edits) {
    const found = parsed.located.find((l) => l.entry.id === edit.id)
    if (found === undefined) return problem(`${edit.id}: no such image entry in ${file}`)
    if (found.entry.notHandled !== undefined) return problem(`${edit.id}: ${found.entry.notHandled}`)
    const target = parseImageReference(edit.image)
    if (target === undefined) return problem(`${edit.id}: ${JSON.stringify(edit.image)} is not an image reference`)
    const made = found.entry.kind === "kustomize"
      ? editKustomize(text, parsed.lines, found.fields, found.entry, target)
      : found.fields.whole !== undefined
      ? editWhole(found.fields, found.entry, target)
      : editHelmMap(text, parsed.lines, found.fields, found.entry, target)
    for (const s of made) {
      if ("_tag" in s) return problem(`${found.entry.id} (${file}:${found.entry.line}): ${s.message}`)
      if (s.start !== s.end || s.text !== "") splices.push(s)
    }
    const markers = markerSplices(text, parsed.lines, found.entry.markers, edit.hold === true, edit.release === true)
    splices.push(...markers.splices)
    changes.push({ id: edit.id, line: found.entry.line, before: found.entry.image, after: edit.image, held: markers.held, released: markers.released })
  }
  // from the end backwards; insertions at the same place keep the order they were asked in
  const ordered = splices.map((s, i) => ({ s, i })).sort((a, b) => b.s.start - a.s.start || b.i - a.i).map((x) => x.s)
  splices.length = 0
  splices.push(...ordered)
  for (let i = 1; i < splices.length; i++) {
    if (splices[i]!.end > splices[i - 1]!.start && splices[i]!.start !== splices[i - 1]!.start) return problem(`${file}: two edits overlap; edit it by hand`)
  }
  let out = text
  for (const s of splices) out = out.slice(0, s.start) + s.text + out.slice(s.end)
  return { text: out, changes }
}
