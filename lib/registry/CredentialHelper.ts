/**
 * @module CredentialHelper — Docker credential helpers (`credHelpers`, `credsStore`): runs
 * `docker-credential-<name> get` with the registry's server address on stdin, as the Docker
 * client does, and reads `{"ServerURL", "Username", "Secret"}` from its stdout (`Username`
 * `<token>` means `Secret` is an identity token). A helper that is not on the PATH, fails, hangs
 * or answers something else is an error naming it and what to try — never its output, which may
 * hold a secret. "credentials not found in native keychain" (the helpers' own message) is not an
 * error: the helper has nothing for this registry.
 */
import { Duration, Effect, Redacted, Schema, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import type { Credentials } from "./Auth.ts"
import { RegistryError } from "./RegistryError.ts"

/** How long a helper may take (a keychain may ask for a passphrase first). */
const HELPER_TIMEOUT = Duration.seconds(30)

/** What docker-credential-helpers print (and exit 1 with) when they hold nothing for the server. */
const NOT_FOUND = "credentials not found in native keychain"

/** The username a helper answers with when `Secret` is an identity token. */
const IDENTITY_TOKEN_USERNAME = "<token>"

const HelperAnswer = Schema.fromJsonString(Schema.Struct({
  ServerURL: Schema.optional(Schema.NullOr(Schema.String)),
  Username: Schema.optional(Schema.NullOr(Schema.String)),
  Secret: Schema.String
}))

/** Where a helper is configured, for messages: `credHelpers` or `credsStore` of a file. */
export interface HelperOrigin {
  readonly field: "credHelpers" | "credsStore"
  readonly file: string
}

const helperError = (program: string, origin: HelperOrigin, what: string, cause?: unknown) =>
  new RegistryError({
    reason: "Unauthorized",
    message: `the Docker credential helper ${program} (${origin.field} in ${origin.file}) ${what}`,
    ...(cause === undefined ? {} : { cause })
  })

/** Runs `program get` with `server` on stdin; its exit code and stdout, or an error naming it. */
const runHelper = (
  program: string,
  server: string,
  origin: HelperOrigin,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<{ readonly code: number; readonly stdout: string }, RegistryError, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const command = ChildProcess.make(program, ["get"], {
      env: { ...env },
      extendEnv: false,
      stdin: Stream.make(new TextEncoder().encode(server)),
      stderr: "ignore"
    })
    return yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* spawner.spawn(command)
      const [stdout, code] = yield* Effect.all([handle.stdout.pipe(Stream.decodeText(), Stream.mkString), handle.exitCode], { concurrency: 2 })
      return { code: Number(code), stdout }
    }))
  }).pipe(
    Effect.timeoutOrElse({
      duration: HELPER_TIMEOUT,
      orElse: () => Effect.fail(helperError(program, origin, `did not answer within ${Duration.format(HELPER_TIMEOUT)} for ${server}: is it waiting for a passphrase or a desktop prompt? Unlock it, or give REGISTRY_USERNAME and REGISTRY_PASSWORD_FILE instead`))
    }),
    Effect.catchTag("PlatformError", (error) =>
      Effect.fail(
        error.reason._tag === "NotFound"
          ? helperError(program, origin, `is not on the PATH: install it, or remove it from ${origin.field} in ${origin.file}`, error)
          : helperError(program, origin, `could not be started (${error.reason._tag}): check that it is executable`, error)
      ))
  )

/**
 * Asks the helper `name` for the credentials of `server` (what Docker sends: the host, with its
 * port, or `https://index.docker.io/v1/` for Docker Hub). `undefined` when it has none. The
 * helper runs with `env` as its whole environment (PATH from it finds the helper).
 */
export const credentialsFromHelper = (
  name: string,
  server: string,
  origin: HelperOrigin,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<Credentials | undefined, RegistryError, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const program = `docker-credential-${name}`
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      return yield* helperError(program, origin, `is not a valid helper name: expected letters, digits, ".", "_" or "-"; fix ${origin.field} in ${origin.file}`)
    }
    const { code, stdout } = yield* runHelper(program, server, origin, env)
    if (code !== 0) {
      if (stdout.trim() === NOT_FOUND) return undefined
      return yield* helperError(
        program,
        origin,
        `failed (exit ${code}) for ${server}; its output is not shown, since it may hold a secret. Run \`printf %s ${server} | ${program} get\` to see why`
      )
    }
    const answer = yield* Schema.decodeUnknownEffect(HelperAnswer)(stdout).pipe(
      Effect.mapError(() => helperError(program, origin, `answered something that is not {"Username", "Secret"} JSON for ${server}; check the helper's version`))
    )
    const source = `${program} (${origin.field} in ${origin.file})`
    if (answer.Username === IDENTITY_TOKEN_USERNAME) {
      return { username: IDENTITY_TOKEN_USERNAME, password: Redacted.make(""), identityToken: Redacted.make(answer.Secret), source }
    }
    return { username: answer.Username ?? "", password: Redacted.make(answer.Secret), source }
  })
