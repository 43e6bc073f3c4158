/**
 * @module generate-json-schema — writes `docs/rollback.schema.json`, the JSON Schema of
 * `rollback.json` (versions 1 and 2), from the Effect Schema in `lib/core/RollbackFile.ts` (the one source of
 * truth). Run `npx tsx scripts/generate-json-schema.ts` after changing the schema and commit the
 * output; a test fails while the committed file and the Schema disagree.
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { RollbackFile } from "../lib/core/RollbackFile.ts"

/** Where the generated JSON Schema lives in the repository. */
export const ROLLBACK_SCHEMA_PATH = fileURLToPath(new URL("../docs/rollback.schema.json", import.meta.url))

/** The JSON Schema (draft 2020-12) of `rollback.json` (versions 1 and 2), as the exact text committed to `docs/`. */
export const rollbackJsonSchemaText = (): string => {
  const document = Schema.toJsonSchemaDocument(RollbackFile)
  const definitions = Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {}
  const jsonSchema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "urn:fleet-rollback:rollback.json",
    title: "fleet-rollback rollback.json",
    ...document.schema,
    ...definitions
  }
  return `${JSON.stringify(jsonSchema, null, 2)}\n`
}

if (import.meta.main) {
  writeFileSync(ROLLBACK_SCHEMA_PATH, rollbackJsonSchemaText())
  console.log(`wrote ${ROLLBACK_SCHEMA_PATH}`)
}
