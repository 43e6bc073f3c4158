/**
 * @module test/core/ConfigFile — the config file's limits: a key twice in one mapping is refused
 * naming the key and its line (checked in one pass, not by the YAML parser's quadratic check),
 * and a file over MAX_CONFIG_CHARS is refused before it is parsed, saying what to do.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { MAX_CONFIG_CHARS, parseConfigFile } from "../../lib/core/ConfigFile.ts"

const services = (n: number): string =>
  "services:\n" + Array.from({ length: n }, (_, i) => `  s${i}: { repository: shop/s${i} }`).join("\n") + "\n"

const messageOf = (result: ReturnType<typeof parseConfigFile>): string => {
  if (Result.isSuccess(result)) throw new Error("expected the config to be refused")
  return result.failure.message
}

describe("config file: duplicate keys", () => {
  it("a service named twice is refused with the key and the line of the second", () => {
    const message = messageOf(parseConfigFile("services:\n  api: {repository: shop/api}\n  web: {repository: shop/web}\n  api: {repository: shop/other}\n", "fleet.yaml"))
    assert.strictEqual(message, "fleet.yaml is not valid YAML: the key \"api\" appears twice in one mapping (line 4); keep one")
  })

  it("a nested key twice (registry.url) is refused too", () => {
    assert.include(messageOf(parseConfigFile("registry:\n  url: https://a.example.com\n  url: https://b.example.com\n", "fleet.yaml")), "the key \"url\" appears twice in one mapping (line 3)")
  })

  it("the same key in two different mappings is fine", () => {
    const result = parseConfigFile("environments:\n  prod: {tagFilter: master}\n  dev: {tagFilter: develop}\nservices:\n  api: {repository: shop/api}\n", "fleet.yaml")
    assert.isTrue(Result.isSuccess(result))
  })

  it("20,000 services parse, every one of them", () => {
    const result = parseConfigFile(services(20_000), "fleet.yaml")
    assert.isTrue(Result.isSuccess(result))
    if (Result.isSuccess(result)) assert.strictEqual(Object.keys(result.success.services ?? {}).length, 20_000)
  })
})

describe("config file: size", () => {
  it(`a file over ${MAX_CONFIG_CHARS} characters is refused before parsing, saying how to split it`, () => {
    const text = services(40_000)
    assert.isAbove(text.length, MAX_CONFIG_CHARS)
    const message = messageOf(parseConfigFile(text, "huge.yaml"))
    assert.include(message, "huge.yaml is 1.4 MiB; a config file may be at most 1 MiB")
    assert.include(message, "--config")
  })
})
