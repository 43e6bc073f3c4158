/**
 * @module Slack — tells a Slack channel (incoming webhook) when a rollback starts, succeeds or
 * fails. A failure to notify is logged and never fails the rollback. The webhook URL is a
 * secret: it is never logged.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

/** What happened, for the message. */
export interface RollbackNotice {
  /** `started`, `succeeded`, `failed`. */
  readonly stage: "started" | "succeeded" | "failed"
  /** `run` or `undo`. */
  readonly kind: "run" | "undo"
  /** The point label or instant. */
  readonly point: string | null
  /** The environment. */
  readonly environment: string | null
  /** Who ran it. */
  readonly user: string
  /** The services and their images. */
  readonly services: ReadonlyArray<{ readonly service: string; readonly from: string | null; readonly to: string | null; readonly outcome?: string | undefined }>
  /** Extra text (the failure). */
  readonly detail?: string | undefined
}

/** What a {@link Notifier} does. */
export interface NotifierShape {
  /** Sends a notice; never fails (failures are logged). Returns whether it was delivered. */
  readonly notify: (notice: RollbackNotice) => Effect.Effect<boolean>
}

/** The base class of {@link Notifier}, declared with its type (JSR: no slow types). */
const Notifier_base: Context.ServiceClass<Notifier, "fleet-rollback/notify/Notifier", NotifierShape> = Context.Service<Notifier, NotifierShape>()("fleet-rollback/notify/Notifier")

/** Sends rollback notices somewhere people will see them. */
export class Notifier extends Notifier_base {
  /** A notifier that sends nothing (no webhook configured). */
  static readonly none: Layer.Layer<Notifier> = Layer.succeed(Notifier, Notifier.of({ notify: () => Effect.succeed(false) }))

  /** Slack incoming webhook. */
  static readonly slack = (options: { readonly webhookUrl: Redacted.Redacted<string>; readonly channel?: string | undefined }): Layer.Layer<Notifier, never, HttpClient.HttpClient> =>
    Layer.effect(
      Notifier,
      Effect.gen(function*() {
        const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
        const notify = Effect.fn("Notifier.notify")(function*(notice: RollbackNotice) {
          const body = { text: formatNotice(notice), ...(options.channel !== undefined ? { channel: options.channel } : {}) }
          return yield* client.execute(HttpClientRequest.post(Redacted.value(options.webhookUrl)).pipe(HttpClientRequest.bodyJsonUnsafe(body))).pipe(
            Effect.timeout("10 seconds"),
            Effect.as(true),
            Effect.catch((error) =>
              Effect.logWarning(`Slack notification failed (${describeFailure(error)}); the rollback goes on.`).pipe(Effect.as(false))
            )
          )
        })
        return Notifier.of({ notify })
      })
    )
}

/** Describes a notify failure without the webhook URL (which is a secret). */
const describeFailure = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String(error._tag) : "error"
    const status = "response" in error && typeof error.response === "object" && error.response !== null && "status" in error.response
      ? ` HTTP ${String(error.response.status)}`
      : ""
    return `${tag}${status}`
  }
  return "error"
}

const ICONS = { started: ":rewind:", succeeded: ":white_check_mark:", failed: ":x:" } as const

/** The Slack message text for a notice. */
export const formatNotice = (notice: RollbackNotice): string => {
  const what = notice.kind === "undo" ? "Undo of a rollback" : "Rollback"
  const where = notice.environment !== null ? ` of ${notice.environment}` : ""
  const to = notice.point !== null ? ` to ${notice.point}` : ""
  const lines = notice.services.map((s) => `• ${s.service}: ${s.from ?? "(none)"} → ${s.to ?? "(unchanged)"}${s.outcome !== undefined ? ` (${s.outcome})` : ""}`)
  return [`${ICONS[notice.stage]} ${what}${where}${to} ${notice.stage} — by ${notice.user}`, ...lines, ...(notice.detail !== undefined ? [notice.detail] : [])].join("\n")
}
