/**
 * @module ServiceAccountToken.test — the DC/OS service-login JWT made with WebCrypto verifies with
 * the account's public key, carries `{uid, exp: now + 300}` from the Effect Clock, accepts PKCS#8
 * and PKCS#1 PEM, and a bad key fails without showing the key.
 */
import { assert, describe, it } from "@effect/vitest"
import { generateKeyPairSync, verify } from "node:crypto"
import { Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { makeServiceAccountToken, pemToPkcs8 } from "../../lib/targets/marathon/ServiceAccountToken.ts"

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 })
const pkcs8Pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
const pkcs1Pem = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString()

const decodePart = (part: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>

describe("service-account login token", () => {
  for (const [name, pem] of [["PKCS#8", pkcs8Pem], ["PKCS#1", pkcs1Pem]] as const) {
    it.effect(`an RS256 JWT {uid, exp = now + 300 s} signed with a ${name} key`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2024, 4, 1, 12, 0, 0))
        const jwt = yield* makeServiceAccountToken("fleet-rollback", Redacted.make(pem))
        const [h, p, s] = jwt.split(".") as [string, string, string]
        assert.deepStrictEqual(decodePart(h), { alg: "RS256", typ: "JWT" })
        assert.deepStrictEqual(decodePart(p), { uid: "fleet-rollback", exp: Date.UTC(2024, 4, 1, 12, 5, 0) / 1000 })
        assert.isTrue(verify("RSA-SHA256", Buffer.from(`${h}.${p}`), keys.publicKey, Buffer.from(s, "base64url")))
      }))
  }

  it.effect("a file that is not a private key fails as Unauthorized naming DCOS_PRIVATE_KEY_FILE, key not shown", () =>
    Effect.gen(function*() {
      const garbage = "-----BEGIN PRIVATE KEY-----\nTUlJQ-not-a-key-c2VjcmV0\n-----END PRIVATE KEY-----\n"
      for (const pem of [garbage, "just some secret text", keys.publicKey.export({ type: "spki", format: "pem" }).toString()]) {
        const error = yield* Effect.flip(makeServiceAccountToken("svc", Redacted.make(pem)))
        assert.strictEqual(error.reason, "Unauthorized")
        assert.include(error.message, "DCOS_PRIVATE_KEY_FILE")
        assert.notInclude(error.message, "c2VjcmV0")
        assert.notInclude(error.message, "secret text")
      }
    }))

  it("PKCS#1 is wrapped into the same PKCS#8 bytes Node exports", () => {
    const der = keys.privateKey.export({ type: "pkcs8", format: "der" })
    assert.deepStrictEqual(Buffer.from(pemToPkcs8(pkcs1Pem)!), der)
    assert.deepStrictEqual(Buffer.from(pemToPkcs8(pkcs8Pem)!), der)
  })
})
