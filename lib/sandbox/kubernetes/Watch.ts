/**
 * @module Watch — `?watch=true` on a list URL, as the API server streams it: one JSON object per
 * line, `{"type":"ADDED|MODIFIED|DELETED","object":{…}}`. Without a resourceVersion (or "0") the
 * current objects come first as ADDED; with one, every change after it (410 Gone as an ERROR
 * event when the log no longer reaches back); `sendInitialEvents=true` ends the initial objects
 * with a BOOKMARK annotated `k8s.io/initial-events-end`; `timeoutSeconds` ends the stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { apiVersionOf, type ResourceType, withKind } from "./Discovery.ts"
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./Selectors.ts"
import { statusBody, StatusError } from "./Status.ts"
import type { KubeObject, Store, WatchEvent } from "./Store.ts"

/** Serves one watch until the client goes, the timeout ends it, or the server closes. */
export const serveWatch = (
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  query: URLSearchParams,
  request: IncomingMessage,
  response: ServerResponse,
  onClose: (close: () => void) => () => void
): void => {
  const labels = parseLabelSelector(query.get("labelSelector") ?? "")
  const fields = parseFieldSelector(query.get("fieldSelector") ?? "")
  const matches = (object: KubeObject) =>
    (namespace === undefined || (object.metadata.namespace ?? "") === namespace) &&
    matchesLabels(labels, object.metadata.labels) && matchesFields(fields, object.metadata)
  response.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private" })
  // The API server answers a watch at once (headers sent), events or not: a client waits for them.
  response.flushHeaders()
  const send = (type_: string, object: KubeObject) => response.write(`${JSON.stringify({ type: type_, object })}\n`)
  const rv = query.get("resourceVersion") ?? ""
  const initial = query.get("sendInitialEvents") === "true"
  if (rv === "" || rv === "0" || initial) {
    for (const object of store.list(type.resource, namespace)) if (matches(object)) send("ADDED", withKind(type, object))
    if (initial) {
      send("BOOKMARK", { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.resourceVersion), annotations: { "k8s.io/initial-events-end": "true" } } })
    }
  } else {
    const since = store.eventsSince(Number(rv))
    if (since === undefined) {
      send("ERROR", statusBody(new StatusError("Gone", `too old resource version: ${rv} (${store.resourceVersion})`)))
      response.end()
      return
    }
    for (const event of since) if (event.resource === type.resource && matches(event.object)) send(event.type, withKind(type, event.object))
  }
  const listener = (event: WatchEvent) => {
    if (event.resource === type.resource && matches(event.object)) send(event.type, withKind(type, event.object))
  }
  const unsubscribe = store.subscribe(listener)
  const timeout = Number(query.get("timeoutSeconds") ?? "0")
  let timer: ReturnType<typeof setTimeout> | undefined
  const end = () => {
    unsubscribe()
    if (timer !== undefined) clearTimeout(timer)
    removeClose()
    if (!response.writableEnded) response.end()
  }
  const removeClose = onClose(end)
  if (timeout > 0) timer = setTimeout(end, timeout * 1000)
  response.on("close", end)
  void request
}
