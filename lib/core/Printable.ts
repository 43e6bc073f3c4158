/**
 * @module Printable — text from other systems (tag names, registry and Marathon error details,
 * app ids, labels) made safe for a terminal or a Jenkins log: control characters, escape
 * sequences and the Unicode characters that reorder or hide text are shown as `\n`, `\u001b`…
 * instead of acting. Pure.
 */

/** C0 and C1 controls, DEL, line/paragraph separators, and the bidirectional overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

const escapeOne = (c: string): string => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * `text` on one line with every control character escaped (`bad\ntag` → `bad\\ntag`, ESC →
 * `\\u001b`): for table cells, tag names, app ids, labels.
 */
export const printable = (text: string): string => text.replace(UNPRINTABLE, escapeOne)

/**
 * `text` with every control character escaped except the line breaks between lines (`\n`), which
 * stay: for messages of several lines that may quote other systems.
 */
export const printableLines = (text: string): string => text.split("\n").map(printable).join("\n")
