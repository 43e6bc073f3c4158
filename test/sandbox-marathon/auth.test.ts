/**
 * @module auth.test — the sandbox behind DC/OS login (password and service account, tokens
 * expiring mid-run) and plain Marathon with a token or HTTP Basic.
 */
import { generateKeyPairSync, sign } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type MarathonSandbox, startMarathonSandbox } from "../../lib/sandbox/Marathon.ts"
import { call, shopApp } from "./support.ts"

const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url")

/** An RS256 service-login JWT as the DC/OS CLI makes it. */
const serviceLoginToken = (uid: string, privateKey: ReturnType<typeof generateKeyPairSync>["privateKey"], expSeconds: number) => {
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))
  const payload = b64url(JSON.stringify({ uid, exp: expSeconds }))
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), privateKey)
  return `${header}.${payload}.${b64url(signature)}`
}

describe("the sandbox as a DC/OS cluster", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
  // test credentials made up here, never printed
  const password = `pw-${Math.random().toString(36).slice(2)}`
  let sb: MarathonSandbox
  beforeAll(async () => {
    sb = await startMarathonSandbox({
      apps: [shopApp("/prod/shop/api", "registry.example/shop/api:41")],
      dcos: {
        users: { oncall: password },
        serviceAccounts: { "fleet-rollback": publicKey.export({ type: "spki", format: "pem" }).toString() }
      }
    })
  })
  afterAll(() => sb.stop())

  const login = (body: unknown) => call("POST", `${sb.clusterUrl}/acs/api/v1/auth/login`, body)

  it("serves Marathon under /service/marathon", () => {
    assert.strictEqual(sb.url, `${sb.clusterUrl}/service/marathon`)
  })

  it("without a token Marathon answers 401 with WWW-Authenticate: acsjwt", async () => {
    const r = await call("GET", `${sb.url}/v2/apps`)
    assert.strictEqual(r.status, 401)
    assert.strictEqual(r.headers.get("www-authenticate"), "acsjwt")
  })

  it("uid + password logs in and the token opens Marathon", async () => {
    const r = await login({ uid: "oncall", password })
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual(Object.keys(r.body), ["token"])
    const apps = await call("GET", `${sb.url}/v2/apps`, undefined, { authorization: `token=${r.body.token}` })
    assert.strictEqual(apps.status, 200)
    assert.deepStrictEqual(apps.body.apps.map((a: { id: string }) => a.id), ["/prod/shop/api"])
    // the old /marathon prefix is rewritten to the same service
    const legacy = await call("GET", `${sb.clusterUrl}/marathon/v2/info`, undefined, { authorization: `token=${r.body.token}` })
    assert.strictEqual(legacy.status, 200)
    // the request log masks the password
    const logged = sb.requests.find((q) => q.path === "/acs/api/v1/auth/login")
    assert.deepStrictEqual(logged?.body, { uid: "oncall", password: "***" })
  })

  it("a wrong password is 401 ERR_INVALID_CREDENTIALS", async () => {
    const r = await login({ uid: "oncall", password: `${password}-wrong` })
    assert.strictEqual(r.status, 401)
    assert.deepStrictEqual(Object.keys(r.body).sort(), ["code", "description", "title"])
    assert.strictEqual(r.body.code, "ERR_INVALID_CREDENTIALS")
    const unknown = await login({ uid: "nobody", password })
    assert.strictEqual(unknown.status, 401)
  })

  it("a service account logs in with an RS256 JWT {uid, exp} signed by its private key", async () => {
    const exp = Math.floor(Date.now() / 1000) + 300
    const r = await login({ uid: "fleet-rollback", token: serviceLoginToken("fleet-rollback", privateKey, exp) })
    assert.strictEqual(r.status, 200, r.text)
    const apps = await call("GET", `${sb.url}/v2/apps`, undefined, { authorization: `token=${r.body.token}` })
    assert.strictEqual(apps.status, 200)
  })

  it("a service login with an expired JWT, another key, or another uid is 401", async () => {
    const now = Math.floor(Date.now() / 1000)
    const expired = await login({ uid: "fleet-rollback", token: serviceLoginToken("fleet-rollback", privateKey, now - 10) })
    assert.strictEqual(expired.status, 401)
    assert.strictEqual(expired.body.code, "ERR_INVALID_CREDENTIALS")
    const wrongKey = await login({ uid: "fleet-rollback", token: serviceLoginToken("fleet-rollback", other.privateKey, now + 300) })
    assert.strictEqual(wrongKey.status, 401)
    const wrongUid = await login({ uid: "fleet-rollback", token: serviceLoginToken("someone-else", privateKey, now + 300) })
    assert.strictEqual(wrongUid.status, 401)
  })

  it("expireTokens: the token stops working mid-run (401) and logging in again works", async () => {
    const first = (await login({ uid: "oncall", password })).body.token as string
    const auth = { authorization: `token=${first}` }
    assert.strictEqual((await call("GET", `${sb.url}/v2/deployments`, undefined, auth)).status, 200)
    sb.expireTokens()
    const rejected = await call("GET", `${sb.url}/v2/deployments`, undefined, auth)
    assert.strictEqual(rejected.status, 401)
    assert.strictEqual(rejected.headers.get("www-authenticate"), "acsjwt")
    const second = (await login({ uid: "oncall", password })).body.token as string
    assert.strictEqual((await call("GET", `${sb.url}/v2/deployments`, undefined, { authorization: `token=${second}` })).status, 200)
  })

  it("tokens expire after tokenTtlMs", async () => {
    const ttlMs = 1500
    const short = await startMarathonSandbox({ dcos: { users: { oncall: password }, tokenTtlMs: ttlMs } })
    try {
      const token = (await call("POST", `${short.clusterUrl}/acs/api/v1/auth/login`, { uid: "oncall", password })).body.token
      const auth = { authorization: `token=${token}` }
      assert.strictEqual((await call("GET", `${short.url}/v2/apps`, undefined, auth)).status, 200)
      const afterLogin = Date.now()
      await new Promise((r) => setTimeout(r, Math.max(0, afterLogin + ttlMs + 100 - Date.now())))
      assert.strictEqual((await call("GET", `${short.url}/v2/apps`, undefined, auth)).status, 401)
    } finally {
      await short.stop()
    }
  })
})

describe("the sandbox as plain Marathon with authentication", () => {
  const secret = `tok-${Math.random().toString(36).slice(2)}`
  let sb: MarathonSandbox
  beforeAll(async () => {
    sb = await startMarathonSandbox({ marathonToken: secret, basicAuth: { username: "ops", password: secret } })
  })
  afterAll(() => sb.stop())

  it("accepts token=…, Bearer … and Basic; refuses anything else with 401; /ping stays open", async () => {
    assert.strictEqual(sb.url, sb.clusterUrl)
    const url = `${sb.url}/v2/apps`
    assert.strictEqual((await call("GET", url, undefined, { authorization: `token=${secret}` })).status, 200)
    assert.strictEqual((await call("GET", url, undefined, { authorization: `Bearer ${secret}` })).status, 200)
    const basic = `Basic ${Buffer.from(`ops:${secret}`).toString("base64")}`
    assert.strictEqual((await call("GET", url, undefined, { authorization: basic })).status, 200)
    const none = await call("GET", url)
    assert.strictEqual(none.status, 401)
    assert.deepStrictEqual(none.body, { message: "Invalid username or password." })
    assert.strictEqual((await call("GET", url, undefined, { authorization: "token=wrong" })).status, 401)
    assert.strictEqual((await call("GET", `${sb.url}/ping`)).text, "pong")
  })
})
