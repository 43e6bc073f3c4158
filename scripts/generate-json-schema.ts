/**
 * @module generate-json-schema — writes `docs/rollback.schema.json`, the JSON Schema of
 * `rollback.json` (versions 1 and 2), from the Effect Schema in `lib/core/RollbackFile.ts` (the one source of
 * truth), and `docs/report.schema.json`, that of the reports `run` and `undo` write, from
 * `lib/core/Report.ts`. Run `npx tsx scripts/generate-json-schema.ts` after changing the schema and commit the
 * output; a test fails while the committed file and the Schema disagree.
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { RollbackReport } from "../lib/core/Report.ts"
import { RollbackFile } from "../lib/core/RollbackFile.ts"

/** Where the generated JSON Schema lives in the repository. */
export const ROLLBACK_SCHEMA_PATH = fileURLToPath(new URL("../docs/rollback.schema.json", import.meta.url))

/** Where the generated JSON Schema of reports lives in the repository. */
export const REPORT_SCHEMA_PATH = fileURLToPath(new URL("../docs/report.schema.json", import.meta.url))

const jsonSchemaText = (schema: Schema.Top, id: string, title: string): string => {
  const document = Schema.toJsonSchemaDocument(schema)
  const definitions = Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {}
  const jsonSchema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: id,
    title,
    ...document.schema,
    ...definitions
  }
  return `${JSON.stringify(jsonSchema, null, 2)}\n`
}

/** The JSON Schema (draft 2020-12) of `rollback.json` (versions 1 and 2), as the exact text committed to `docs/`. */
export const rollbackJsonSchemaText = (): string => jsonSchemaText(RollbackFile, "urn:fleet-rollback:rollback.json", "fleet-rollback rollback.json")

/** The JSON Schema (draft 2020-12) of the reports of `run` and `undo`, as the exact text committed to `docs/`. */
export const reportJsonSchemaText = (): string => jsonSchemaText(RollbackReport, "urn:fleet-rollback:rollback-report.json", "fleet-rollback report")

if (import.meta.main) {
  writeFileSync(ROLLBACK_SCHEMA_PATH, rollbackJsonSchemaText())
  console.log(`wrote ${ROLLBACK_SCHEMA_PATH}`)
  writeFileSync(REPORT_SCHEMA_PATH, reportJsonSchemaText())
  console.log(`wrote ${REPORT_SCHEMA_PATH}`)
}
