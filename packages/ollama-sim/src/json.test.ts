import { describe, expect, it } from 'vitest'
import { goJson, goString } from './json.ts'

describe('goString', () => {
  it('escapes < > & and U+2028/U+2029 like Go, keeps other non-ASCII raw', () => {
    expect(goString('<b>&</b> café 🚀\u2028')).toBe('"\\u003cb\\u003e\\u0026\\u003c/b\\u003e café 🚀\\u2028"')
  })

  it('escapes control characters and quotes, and replaces lone surrogates with U+FFFD', () => {
    expect(goString('a\n"b"\\\t')).toBe('"a\\n\\"b\\"\\\\\\t"')
    expect(goString('x\uD800y')).toBe('"x\uFFFDy"')
  })
})

describe('goJson', () => {
  it('keeps key order, drops undefined members and writes compact JSON', () => {
    expect(goJson({ b: 1, a: [true, null, 'x'], skip: undefined, c: { d: '<' } })).toBe(
      '{"b":1,"a":[true,null,"x"],"c":{"d":"\\u003c"}}',
    )
  })
})
