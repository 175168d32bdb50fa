import { describe, expect, it } from 'vitest'
import { expectedResponse, longLineText } from './text.ts'

const utf8Length = (text: string): number => Buffer.byteLength(text)

describe('expectedResponse', () => {
  it('is a pure function of model and prompt, with or without :latest', () => {
    const first = expectedResponse({ model: 'llama3.2', prompt: 'Why is the sky blue?' })
    expect(expectedResponse({ model: 'llama3.2:latest', prompt: 'Why is the sky blue?' })).toEqual(first)
    expect(expectedResponse({ model: 'llama3.2', prompt: 'Why is the sea blue?' }).response).not.toBe(
      first.response,
    )
    expect(expectedResponse({ model: 'qwen3', prompt: 'Why is the sky blue?' }).response).not.toBe(
      first.response,
    )
    expect(first.tokens.join('')).toBe(first.response)
    expect(first.tokens.length).toBeGreaterThanOrEqual(24)
    expect(first.doneReason).toBe('stop')
  })

  it('produces multi-byte UTF-8 (2, 3 and 4 byte characters) across prompts', () => {
    const text = Array.from(
      { length: 20 },
      (_, index) => expectedResponse({ model: 'llama3.2', prompt: `p${index}` }).response,
    ).join('')
    expect(text).toMatch(/[\u0080-\u07ff]/)
    expect(text).toMatch(/[\u0800-\uffff]/)
    expect(text).toMatch(/[\u{10000}-\u{10ffff}]/u)
    expect(utf8Length(text)).toBeGreaterThan(text.length)
  })

  it('treats a generate request as a chat with system + user messages', () => {
    const generate = expectedResponse({ model: 'llama3.2', system: 'Be brief.', prompt: 'Hi' })
    const chat = expectedResponse({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    })
    expect(chat).toEqual(generate)
  })

  it('thinks only for thinking models, unless think is false', () => {
    expect(expectedResponse({ model: 'llama3.2', prompt: 'x' }).thinking).toBe('')
    const qwen = expectedResponse({ model: 'qwen3', prompt: 'x' })
    expect(qwen.thinking.startsWith('Okay,')).toBe(true)
    expect(qwen.thinkingTokens.join('')).toBe(qwen.thinking)
    expect(expectedResponse({ model: 'qwen3', prompt: 'x', think: false }).thinking).toBe('')
    expect(expectedResponse({ model: 'qwen3', prompt: 'x', think: false }).response).toBe(qwen.response)
  })

  it('caps thinking + response tokens at num_predict with done reason "length"', () => {
    const full = expectedResponse({ model: 'qwen3', prompt: 'x' })
    const capped = expectedResponse({
      model: 'qwen3',
      prompt: 'x',
      options: { num_predict: full.thinkingTokens.length + 3 },
    })
    expect(capped.doneReason).toBe('length')
    expect(capped.thinking).toBe(full.thinking)
    expect(capped.tokens).toEqual(full.tokens.slice(0, 3))
    const roomy = expectedResponse({ model: 'qwen3', prompt: 'x', options: { num_predict: 10_000 } })
    expect(roomy).toEqual(full)
  })

  it('honours [sim:tokens=N] and puts the long-line chunk into the text', () => {
    expect(expectedResponse({ model: 'llama3.2', prompt: '[sim:tokens=1000]' }).tokens).toHaveLength(1000)
    const long = expectedResponse({
      model: 'llama3.2',
      prompt: '[sim:tokens=5][sim:fault=long-line,bytes=4096,after=2]',
    })
    expect(long.tokens).toHaveLength(6)
    expect(long.tokens[2]).toBe(longLineText(4096))
    expect(utf8Length(long.tokens[2]!)).toBe(4096)
  })

  it('answers chat tools with one deterministic tool call and no text, unless the last message is a tool result', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
        },
      },
    ]
    const call = expectedResponse({
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
    })
    expect(call.response).toBe('')
    expect(call.toolCalls).toHaveLength(1)
    expect(call.toolCalls[0]!.id).toMatch(/^call_[a-z0-9]{8}$/)
    expect(call.toolCalls[0]!.function).toMatchObject({ index: 0, name: 'get_weather' })
    expect(Object.keys(call.toolCalls[0]!.function.arguments)).toEqual(['city', 'days'])
    const answer = expectedResponse({
      model: 'qwen3',
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'tool', content: '{"temp":20}' },
      ],
      tools,
    })
    expect(answer.toolCalls).toEqual([])
    expect(answer.response).not.toBe('')
    expect(
      expectedResponse({ model: 'llama3.2', messages: [{ role: 'user', content: 'Weather?' }], tools })
        .toolCalls,
    ).toEqual([])
  })

  it('answers format "json" or a schema with JSON text following the schema, cut into small tokens', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' } },
        kind: { enum: ['a', 'b'] },
      },
    }
    const structured = expectedResponse({ model: 'llama3.2', prompt: 'Describe', format: schema })
    const value = JSON.parse(structured.response) as Record<string, unknown>
    expect(Object.keys(value)).toEqual(['name', 'age', 'tags', 'kind'])
    expect(typeof value.name).toBe('string')
    expect(Number.isInteger(value.age)).toBe(true)
    expect(Array.isArray(value.tags)).toBe(true)
    expect(['a', 'b']).toContain(value.kind)
    expect(structured.tokens.length).toBeGreaterThan(3)
    const json = expectedResponse({ model: 'llama3.2', prompt: 'Describe', format: 'json' })
    expect(Object.keys(JSON.parse(json.response))).toEqual(['answer'])
  })
})
