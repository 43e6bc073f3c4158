/**
 * @module JsonLines — the event streams orchestrators answer with (a Kubernetes watch, the Docker
 * Engine's `/events`): one JSON value per line, arriving in chunks that split lines anywhere.
 */

/** Reads a body of JSON lines to its end, handing each value to `onValue` as its line completes. */
export const readJsonLines = async (body: AsyncIterable<unknown>, onValue: (value: unknown) => void): Promise<void> => {
  const decoder = new TextDecoder()
  let pending = ""
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : decoder.decode(chunk as Uint8Array, { stream: true })
    for (let eol = pending.indexOf("\n"); eol >= 0; eol = pending.indexOf("\n")) {
      const line = pending.slice(0, eol).trim()
      pending = pending.slice(eol + 1)
      if (line !== "") onValue(JSON.parse(line))
    }
  }
  const last = (pending + decoder.decode()).trim()
  if (last !== "") onValue(JSON.parse(last))
}
