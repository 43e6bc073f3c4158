/**
 * @module test/target/JsonLines — event streams as orchestrators send them: one JSON value a line,
 * in chunks that split lines (and multi-byte characters) anywhere.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { readJsonLines } from "../../lib/target/JsonLines.ts"

const values = [{ type: "MODIFIED", object: { metadata: { name: "api" } } }, { Action: "update", Actor: { Attributes: { "updatestate.new": "completed", note: "größe ✓ 🚀" } } }, 42]
const text = values.map((v) => JSON.stringify(v)).join("\n") + "\n"
const bytes = new TextEncoder().encode(text)

async function* chunked(data: Uint8Array, cuts: ReadonlyArray<number>) {
  let at = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield data.subarray(at, cut)
    at = cut
  }
  yield data.subarray(at)
}

const read = async (body: AsyncIterable<unknown>) => {
  const seen: Array<unknown> = []
  await readJsonLines(body, (v) => seen.push(v))
  return seen
}

describe("readJsonLines", () => {
  it("whole lines, blank lines skipped, a last line without its newline still read", async () => {
    assert.deepStrictEqual(await read(chunked(new TextEncoder().encode(`{"a":1}\n\n  \n{"b":2}`), [])), [{ a: 1 }, { b: 2 }])
  })

  it("a line split inside a multi-byte character is read whole", async () => {
    const rocket = text.indexOf("🚀")
    const cut = new TextEncoder().encode(text.slice(0, rocket)).length + 2 // inside the emoji's four bytes
    assert.deepStrictEqual(await read(chunked(bytes, [cut])), values)
  })

  it("any split of the bytes gives the same values, in order", async () => {
    await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), async (cuts) => {
      assert.deepStrictEqual(await read(chunked(bytes, cuts)), values)
    }))
  })
})
