/**
 * @module StackFile — pure: the `config:` of a Pulumi stack settings file `Pulumi.<stack>.yaml`
 * (../shared/gitops/FACTS.md): keys `<namespace>:<name>` (a key without a colon is read as
 * `<project>:<key>`), plain values, objects, and secrets `{secure: <ciphertext>}`. A value is set
 * by replacing exactly its bytes (or adding one `key: value` line), so `secure:` values,
 * `secretsprovider`, `encryptionsalt`, `encryptedkey` and every other byte stay as they were; a
 * secret key is refused, never overwritten.
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml"
import type { Node, Scalar } from "yaml"
import { formatScalar } from "../gitops/ImageFiles.ts"

/** One config key of the stack file. */
export interface StackValue {
  /** The key as Pulumi reads it (`platform:image-tag`). */
  readonly key: string
  /** Its plain value as written (undefined for secrets and objects). */
  readonly value: string | undefined
  /** A `{secure: …}` value. */
  readonly secure: boolean
  /** 1-based line of the value. */
  readonly line: number
}

/** A stack file that cannot be read or edited; `message` says why. */
export interface StackFileProblem {
  readonly _tag: "StackFileProblem"
  readonly message: string
}

const problem = (message: string): StackFileProblem => ({ _tag: "StackFileProblem", message })

/** The key as Pulumi reads it: `<project>:<key>` when it has no colon. */
export const fullKey = (key: string, project: string): string => (key.includes(":") ? key : `${project}:${key}`)

const parse = (text: string) => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false })
  const root = doc.contents
  const configPair = isMap(root) ? root.items.find((p) => isScalar(p.key) && p.key.value === "config") : undefined
  return { lines, doc, root, config: configPair?.value as Node | null | undefined }
}

const scalarSource = (text: string, node: Scalar): string | undefined =>
  node.range === undefined || node.range === null ? undefined : node.type === "PLAIN" ? text.slice(node.range[0], node.range[1]).trim() : node.value === null ? undefined : String(node.value)

/** The project's name from `Pulumi.yaml` (its `name:`), or undefined. */
export const projectNameOf = (pulumiYaml: string): string | undefined => {
  const doc = parseDocument(pulumiYaml)
  const name = doc.get("name")
  return typeof name === "string" && name !== "" ? name : undefined
}

/** The config values of a stack file, by full key. */
export const readStackConfig = (text: string, project: string): ReadonlyMap<string, StackValue> | StackFileProblem => {
  const { lines, doc, config } = parse(text)
  if (doc.errors.length > 0) return problem(`not valid YAML: ${doc.errors[0]!.message}`)
  const out = new Map<string, StackValue>()
  if (config === undefined || config === null) return out
  if (!isMap(config)) return problem("config: is not a map")
  for (const pair of config.items) {
    if (!isScalar(pair.key)) continue
    const key = fullKey(String(pair.key.value), project)
    const value = pair.value as Node | null
    const at = value?.range?.[0] ?? pair.key.range?.[0] ?? 0
    const secure = isMap(value) && value.items.some((p) => isScalar(p.key) && p.key.value === "secure")
    out.set(key, { key, value: isScalar(value) ? scalarSource(text, value) : undefined, secure, line: lines.linePos(at).line })
  }
  return out
}

/**
 * Sets plain string values (by full key) in place; a key missing is added as the config map's last
 * key (written with its full name, as `pulumi config set` does). Refuses secrets and objects.
 */
export const setStackValues = (text: string, project: string, values: ReadonlyMap<string, string>): string | StackFileProblem => {
  const { lines, doc, config } = parse(text)
  if (doc.errors.length > 0) return problem(`not valid YAML: ${doc.errors[0]!.message}`)
  const splices: Array<{ start: number; end: number; text: string }> = []
  const missing: Array<[string, string]> = []
  for (const [key, value] of values) {
    const pair = isMap(config) ? config.items.find((p) => isScalar(p.key) && fullKey(String(p.key.value), project) === key) : undefined
    if (pair === undefined) {
      missing.push([key, value])
      continue
    }
    const node = pair.value as Node | null
    if (!isScalar(node) || node.range === undefined || node.range === null) {
      return problem(`${key} is ${isMap(node) && node.items.some((p) => isScalar(p.key) && p.key.value === "secure") ? "a secret (secure:)" : "not a plain value"}; fleet-rollback sets only plain tag values and never touches secrets`)
    }
    splices.push({ start: node.range[0], end: node.range[1], text: formatScalar(value, node.type === "PLAIN" ? undefined : node.type) })
  }
  if (missing.length > 0) {
    if (config !== undefined && config !== null && !isMap(config)) return problem("config: is not a map")
    if (isMap(config) && config.flow === true) return problem("config: is a flow map ({…}); add the key by hand")
    const first = isMap(config) ? (config.items[0]?.key as Node | undefined) : undefined
    const indent = first?.range !== undefined && first.range !== null ? lines.linePos(first.range[0]).col - 1 : 2
    const added = missing.map(([k, v]) => `${" ".repeat(indent)}${k}: ${formatScalar(v, undefined)}`).join("\n")
    if (isMap(config) && config.items.length > 0) {
      const last = config.items[config.items.length - 1]!
      const end = (last.value as Node | null)?.range?.[1] ?? (last.key as Node).range?.[1] ?? 0
      const at = text.indexOf("\n", end) < 0 ? text.length : text.indexOf("\n", end)
      splices.push({ start: at, end: at, text: `\n${added}` })
    } else if (config === undefined) {
      const sep = text === "" || text.endsWith("\n") ? "" : "\n"
      splices.push({ start: text.length, end: text.length, text: `${sep}config:\n${added}\n` })
    } else {
      return problem("config: is empty; add the key by hand")
    }
  }
  let out = text
  for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end)
  return out
}
