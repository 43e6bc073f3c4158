/**
 * @module JsonSchema — checks what the tests write (rollback.json, reports) against the JSON
 * Schemas committed to `docs/` with a real JSON Schema validator (Ajv, draft 2020-12), so the
 * documents other programs rely on are judged by someone other than their own generator.
 *
 * Test harness code.
 */
import { readFileSync } from "node:fs"
import { Ajv2020 } from "ajv/dist/2020.js"
import type { ValidateFunction } from "ajv/dist/2020.js"

const load = (name: string): ValidateFunction => {
  const schema = JSON.parse(readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8"))
  // strict: an unknown keyword in the generated schema is an error, not silently ignored.
  return new Ajv2020({ allErrors: true, strict: true }).compile(schema)
}

let rollbackValidator: ValidateFunction | undefined
let reportValidator: ValidateFunction | undefined

/** Validates a document; throws with Ajv's errors when it does not match. */
const check = (validate: ValidateFunction, document: unknown, what: string): void => {
  if (validate(document)) return
  throw new Error(`${what} does not match its JSON Schema in docs/:\n${JSON.stringify(validate.errors, null, 2)}`)
}

/** Throws unless `document` (parsed JSON) is valid against docs/rollback.schema.json. */
export const assertValidRollbackFile = (document: unknown): void => {
  rollbackValidator ??= load("rollback.schema.json")
  check(rollbackValidator, document, "rollback.json")
}

/** Throws unless `document` (parsed JSON) is valid against docs/report.schema.json. */
export const assertValidReport = (document: unknown): void => {
  reportValidator ??= load("report.schema.json")
  check(reportValidator, document, "the report")
}

/** True when `document` is valid against docs/rollback.schema.json (for negative checks). */
export const isValidRollbackFile = (document: unknown): boolean => {
  rollbackValidator ??= load("rollback.schema.json")
  return rollbackValidator(document) === true
}
