import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseFormat, parseKeepAlive, parseOptionPairs, parseThink } from './request-options.ts'

describe('parseOptionPairs', () => {
  it('keeps numbers as numbers and types booleans and JSON', () => {
    expect(
      parseOptionPairs(['temperature=0.2', 'num_ctx=8192', 'seed=-1', 'mirostat=false', 'name=abc', 'x=1e3']),
    ).toEqual({ temperature: 0.2, num_ctx: 8192, seed: -1, mirostat: false, name: 'abc', x: 1000 })
  })

  it('collects repeated stop sequences into a list', () => {
    expect(parseOptionPairs(['stop=END', 'stop=###'])).toEqual({ stop: ['END', '###'] })
    expect(parseOptionPairs(['stop=["a","b"]'])).toEqual({ stop: ['a', 'b'] })
  })

  it('keeps "=" inside values and rejects pairs without a key', () => {
    expect(parseOptionPairs(['note=a=b'])).toEqual({ note: 'a=b' })
    expect(() => parseOptionPairs(['temperature'])).toThrow(/key=value/)
    expect(() => parseOptionPairs(['=1'])).toThrow(/key=value/)
  })

  it('refuses keys of Object.prototype instead of changing the options object', () => {
    expect(() => parseOptionPairs(['__proto__={"polluted":1}'])).toThrow(
      '--option __proto__: not an Ollama model option',
    )
    expect(() => parseOptionPairs(['constructor=1'])).toThrow(/not an Ollama model option/)
    expect(parseOptionPairs(['seed=1'])).toEqual({ seed: 1 })
  })
})

describe('parseThink', () => {
  it('maps the flag forms to what Ollama takes', () => {
    expect(parseThink(true)).toBe(true)
    expect(parseThink(false)).toBe(false)
    expect(parseThink('high')).toBe('high')
    expect(parseThink(undefined)).toBeUndefined()
    expect(parseThink('max')).toBe('max')
    expect(() => parseThink('huge')).toThrow(/low, medium, high or max/)
  })
})

describe('parseFormat', () => {
  it('takes "json", a schema file or inline schema', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'spout-format-'))
    try {
      await writeFile(
        join(directory, 'schema.json'),
        '{"type":"object","properties":{"a":{"type":"number"}}}',
      )
      expect(await parseFormat('json', directory)).toBe('json')
      expect(await parseFormat('schema.json', directory)).toEqual({
        type: 'object',
        properties: { a: { type: 'number' } },
      })
      expect(await parseFormat('{"type":"array"}', directory)).toEqual({ type: 'array' })
      await expect(parseFormat('missing.json', directory)).rejects.toThrow(/cannot read missing\.json/)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('parseKeepAlive', () => {
  it('passes durations as strings and plain numbers as numbers', () => {
    expect(parseKeepAlive('10m')).toBe('10m')
    expect(parseKeepAlive('-1')).toBe(-1)
    expect(parseKeepAlive('0')).toBe(0)
  })
})
