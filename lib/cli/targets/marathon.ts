/**
 * @module marathon — the builder of the `marathon` and `dcos` targets: `--marathon URL`
 * (`MARATHON_TOKEN`, or `MARATHON_USERNAME` + `MARATHON_PASSWORD`) or `--dcos URL` with
 * `--dcos-uid` (`DCOS_PASSWORD` or `DCOS_PRIVATE_KEY_FILE`); config `marathon.url` / `dcos.url`, or
 * `target: {kind: marathon|dcos, url, uid}`. TLS: `--ca-file`, `--insecure-skip-verify`.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import type { MarathonConfig } from "../../targets/marathon/Marathon.ts"
import { Marathon } from "../../targets/marathon/Marathon.ts"
import { describeMarathon, MarathonTarget } from "../../targets/marathon/MarathonTarget.ts"
import { badInput } from "../../workflow/RollbackError.ts"
import { CliPlatform } from "../CliPlatform.ts"
import { checkUrl, readSecret, readTextFile } from "../Settings.ts"
import { settingText } from "./Builder.ts"
import type { TargetBuilder } from "./Builder.ts"

/** Where the Marathon (or DC/OS cluster) is: from the report when accepted, else flags, then config. */
const whereIs = (input: Parameters<TargetBuilder>[0]) => {
  const { flags, config, settings, fromReport } = input
  if (fromReport !== undefined) {
    return fromReport.kind === "dcos"
      ? { dcosUrl: fromReport.url, marathonUrl: undefined, uid: Option.getOrUndefined(flags.dcosUid) ?? fromReport.dcosUid }
      : { dcosUrl: undefined, marathonUrl: fromReport.url, uid: undefined }
  }
  const marathonUrl = Option.getOrUndefined(flags.marathon) ?? config.marathon?.url ?? (input.kind === "marathon" ? settingText(settings["url"]) : undefined)
  const dcosUrl = input.kind === "marathon"
    ? undefined
    : Option.getOrUndefined(flags.dcos) ?? (Option.isNone(flags.marathon) ? config.dcos?.url ?? settingText(settings["url"]) : undefined)
  return { dcosUrl, marathonUrl, uid: Option.getOrUndefined(flags.dcosUid) ?? config.dcos?.uid ?? settingText(settings["uid"]) }
}

/** Where the URL came from, for messages: the flag, the report, or the config file's key. */
const urlSource = (input: Parameters<TargetBuilder>[0], flag: "--dcos" | "--marathon", key: string): string =>
  input.fromReport !== undefined
    ? "the report's target.url"
    : Option.isSome(flag === "--dcos" ? input.flags.dcos : input.flags.marathon)
    ? flag
    : key

/** The Marathon client's settings with the credentials from the environment. */
const marathonConfigOf = (input: Parameters<TargetBuilder>[0]) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const where = whereIs(input)
    if (where.dcosUrl !== undefined) {
      const uid = where.uid ?? platform.env.DCOS_UID
      if (uid === undefined) return yield* badInput("DC/OS needs a user id: give --dcos-uid, dcos.uid in the config, or DCOS_UID")
      const password = yield* readSecret("DCOS_PASSWORD")
      const keyFile = platform.env.DCOS_PRIVATE_KEY_FILE
      const privateKey = keyFile !== undefined && keyFile !== "" ? Option.some(Redacted.make(yield* readTextFile(keyFile, "DCOS_PRIVATE_KEY_FILE"))) : Option.none()
      if (Option.isNone(password) && Option.isNone(privateKey)) {
        return yield* badInput(`DC/OS login for ${uid} needs DCOS_PASSWORD (or DCOS_PASSWORD_FILE) or DCOS_PRIVATE_KEY_FILE (a service account's private key)`)
      }
      const config: MarathonConfig = {
        url: where.dcosUrl,
        dcos: { uid, ...(Option.isSome(password) ? { password: password.value } : {}), ...(Option.isSome(privateKey) ? { privateKeyPem: privateKey.value } : {}) }
      }
      return { config, flag: urlSource(input, "--dcos", "dcos.url (or target.url) in the config file") }
    }
    if (input.kind === "dcos") {
      return yield* badInput("where is the DC/OS cluster? give --dcos URL, or dcos.url (or target.url) in the config file")
    }
    if (where.marathonUrl === undefined) {
      return yield* badInput("where is Marathon? give --marathon URL (or --dcos URL for DC/OS), or marathon.url / dcos.url in the config file")
    }
    const token = yield* readSecret("MARATHON_TOKEN")
    const username = platform.env.MARATHON_USERNAME === "" ? undefined : platform.env.MARATHON_USERNAME
    const password = yield* readSecret("MARATHON_PASSWORD")
    // Basic needs both halves: one alone is a mistake, not a reason to go in without credentials.
    if (username !== undefined && Option.isNone(password)) {
      return yield* badInput(`MARATHON_USERNAME is set (${username}) but MARATHON_PASSWORD is not: set MARATHON_PASSWORD (or MARATHON_PASSWORD_FILE) for Basic auth, or unset MARATHON_USERNAME`)
    }
    if (username === undefined && Option.isSome(password)) {
      return yield* badInput("MARATHON_PASSWORD is set but MARATHON_USERNAME is not: set MARATHON_USERNAME for Basic auth, or unset MARATHON_PASSWORD")
    }
    const config: MarathonConfig = {
      url: where.marathonUrl,
      ...(Option.isSome(token) ? { token: token.value } : {}),
      ...(username !== undefined && Option.isSome(password) ? { basic: { username, password: password.value } } : {})
    }
    return { config, flag: urlSource(input, "--marathon", "marathon.url (or target.url) in the config file") }
  })

/** Builds the Marathon / DC/OS target. */
export const buildMarathonTarget: TargetBuilder = (input) =>
  Effect.gen(function*() {
    const platform = yield* CliPlatform
    const { config, flag } = yield* marathonConfigOf(input)
    yield* checkUrl(config.url, flag)
    const tls = {
      caFile: Option.getOrUndefined(input.flags.caFile) ?? input.config.marathon?.caFile,
      insecureSkipVerify: input.flags.insecureSkipVerify || input.config.marathon?.insecureSkipVerify === true
    }
    // How to reach this Marathon again (for the report, so that `undo` goes back there); no secret.
    const description = describeMarathon(config)
    const layer = MarathonTarget.layer(description).pipe(Layer.provide(Marathon.layer(config)), Layer.provide(platform.httpClient(tls)))
    return { layer, description, sendsCredentials: config.dcos !== undefined || config.token !== undefined || config.basic !== undefined }
  })
