import { describe, expect, it } from 'vitest'
import { FormatError } from './errors.ts'
import { FormatChecker } from './format-check.ts'

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: { score: { type: 'integer', minimum: 1, maximum: 10 }, reason: { type: 'string' } },
  required: ['score', 'reason'],
}

describe('FormatChecker', () => {
  const checker = new FormatChecker()

  it('parses JSON that the schema accepts', () => {
    expect(checker.check(schema, '{"score":7,"reason":"ok"}', 'stop', 'r1')).toEqual({
      ok: true,
      parsed: { score: 7, reason: 'ok' },
    })
    expect(checker.check('json', '[1,2]', 'stop', 'r1')).toEqual({ ok: true, parsed: [1, 2] })
  })

  it('names the first schema error and its path', () => {
    const outcome = checker.check(schema, '{"score":42,"reason":"x"}', 'stop', 'topic-3.q2')
    expect(outcome.ok).toBe(false)
    const error = (outcome as { error: FormatError }).error
    expect(error).toBeInstanceOf(FormatError)
    expect(error.code).toBe('SPOUT_FORMAT_ERROR')
    expect(error.failure).toBe('schema')
    expect(error.path).toBe('/score')
    expect(error.message).toBe(
      'record topic-3.q2: response does not match the schema at /score: must be <= 10',
    )
  })

  it('refuses text that is not JSON, and a response cut off at the token limit', () => {
    const invalid = checker.check('json', 'Sure! {"a":', 'stop', '1')
    expect(invalid.ok || invalid.error.failure).toBe('invalid-json')
    expect(invalid.ok || invalid.error.message).toMatch(/^record 1: response is not valid JSON \(/)
    // Valid JSON that stopped at the limit is still refused: it may be a prefix of the answer.
    const cut = checker.check('json', '{"a":1}', 'length', '2')
    expect(cut.ok || cut.error.failure).toBe('length')
  })

  it('fails early on a schema it cannot compile', () => {
    expect(() => checker.prepare({ type: 'object', properties: { a: { type: 'no-such-type' } } })).toThrow(
      /^format: not a usable JSON schema/,
    )
    expect(() => checker.prepare('json')).not.toThrow()
  })
})
