/**
 * @module NodeHttp — the Node `HttpClient` for registries: an undici `Agent` with keep-alive
 * connection pools, the system CAs plus an optional CA file, and certificate checks turned off
 * only on explicit request (with a loud warning). Runtime-specific, so it lives outside lib/registry.
 */
import * as fs from "node:fs"
import * as tls from "node:tls"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer } from "effect"
import type { HttpClient } from "effect/http"
import { RegistryError } from "../registry/RegistryError.ts"

/** Options of {@link nodeHttpClientLayer}. */
export interface NodeHttpOptions {
  /** PEM file with extra CA certificates (added to the system and bundled ones). */
  readonly caFile?: string | undefined
  /** Turn TLS certificate verification off. Dangerous; logs a warning. */
  readonly insecureSkipVerify?: boolean | undefined
  /** Keep-alive connections per origin; default 8. */
  readonly connectionsPerHost?: number | undefined
}

/** The trusted CAs: Node's bundle (plus NODE_EXTRA_CA_CERTS), the operating system's, and `extra`. */
const trustedCas = (extra: string | undefined): Array<string> => {
  const get = (tls as { getCACertificates?: (type: string) => ReadonlyArray<string> }).getCACertificates
  const base = get === undefined
    ? [...tls.rootCertificates]
    : [...new Set([...get("default"), ...get("system")])]
  return extra === undefined ? base : [...base, extra]
}

/**
 * Undici closes the connection after every `HEAD` (in case a broken server sends a body anyway),
 * so `--verify-tags`, one HEAD per tag, paid a TCP connect per tag. Registries answer HEAD
 * correctly, so connections are kept; were a server to send a body after all, the next answer on
 * that connection would not parse and that request would fail and be retried, never misread.
 */
const keepConnectionsAfterHead = Layer.succeed(NodeHttpClient.UndiciOptions, { reset: false })

/**
 * A Layer providing `HttpClient` backed by an undici Agent (keep-alive pool; CA from file added to
 * system CAs; insecure only when asked, logging a loud warning). Fails with `RegistryError`
 * reason `Tls` when the CA file cannot be read or holds no certificate.
 */
export const nodeHttpClientLayer = (
  options: NodeHttpOptions = {}
): Layer.Layer<HttpClient.HttpClient, RegistryError> =>
  Layer.unwrap(
    Effect.gen(function*() {
      let extra: string | undefined
      if (options.caFile !== undefined && options.caFile !== "") {
        const caFile = options.caFile
        extra = yield* Effect.try({
          try: () => fs.readFileSync(caFile, "utf8"),
          catch: (cause) =>
            new RegistryError({
              reason: "Tls",
              message: `cannot read the CA file ${caFile} (--ca-file): ${(cause as Error).message}`,
              cause
            })
        })
        if (!extra.includes("-----BEGIN CERTIFICATE-----")) {
          return yield* new RegistryError({
            reason: "Tls",
            message: `the CA file ${caFile} (--ca-file) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`
          })
        }
      }
      if (options.insecureSkipVerify === true) {
        yield* Effect.logWarning(
          "!!! TLS CERTIFICATE VERIFICATION IS OFF (insecureSkipVerify): anyone between here and the registry can " +
            "forge images and read credentials. Use --ca-file with the registry's CA instead. !!!"
        )
      }
      return NodeHttpClient.layerUndiciOptions({
        connections: Math.max(1, options.connectionsPerHost ?? 8),
        keepAliveTimeout: 30_000,
        connect: {
          ca: trustedCas(extra),
          rejectUnauthorized: options.insecureSkipVerify !== true
        }
      }).pipe(Layer.provide(keepConnectionsAfterHead))
    })
  )
