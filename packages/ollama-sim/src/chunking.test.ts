import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chunkingModes } from './faults.ts'
import { type Simulator, startSimulator } from './server.ts'
import { parseLines, rawRequest, streamedText } from './testing/support.ts'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

/** Lines without the fields that change from run to run (time stamps, durations). */
function stable(text: string): Array<Record<string, unknown>> {
  return parseLines(text).map((line) => {
    const copy = { ...line }
    for (const key of Object.keys(copy))
      if (key === 'created_at' || key.endsWith('_duration')) delete copy[key]
    return copy
  })
}

const hasSplitCharacter = (chunks: Buffer[]): boolean =>
  chunks.some((chunk) => {
    const last = chunk.at(-1)
    return last !== undefined && last >= 0xc0
  })

describe('chunking', () => {
  const prompt = 'Chunk this'

  it.each(chunkingModes)('%s: the bytes reassemble to the same lines', async (mode) => {
    const local = await startSimulator({ chunking: mode })
    try {
      const body = { model: 'qwen3', messages: [{ role: 'user', content: prompt }] }
      const baseline = stable((await rawRequest(sim.url, '/api/chat', { body })).text)
      const lines = stable((await rawRequest(local.url, '/api/chat', { body })).text)
      expect(lines).toEqual(baseline)
      const expected = local.expectedResponse({ model: 'qwen3', messages: body.messages })
      expect(streamedText(lines)).toBe(expected.response)
      expect(streamedText(lines, 'thinking')).toBe(expected.thinking)
    } finally {
      await local.close()
    }
  })

  it('byte: one byte per write, so multi-byte characters arrive split', async () => {
    const reply = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'llama3.2', prompt: 'bytes [sim:chunking=byte]' },
    })
    expect(reply.chunks.length).toBeGreaterThan(parseLines(reply.text).length * 10)
    expect(hasSplitCharacter(reply.chunks)).toBe(true)
  })

  it('random: cuts land inside UTF-8 characters and lines', async () => {
    const local = await startSimulator({ chunking: 'random' })
    try {
      const reply = await rawRequest(local.url, '/api/generate', {
        body: { model: 'llama3.2', prompt: 'random cuts [sim:tokens=400]' },
      })
      const lines = parseLines(reply.text)
      expect(streamedText(lines)).toBe(
        local.expectedResponse({ model: 'llama3.2', prompt: 'random cuts [sim:tokens=400]' }).response,
      )
      expect(hasSplitCharacter(reply.chunks)).toBe(true)
      expect(reply.chunks.some((chunk) => chunk.at(-1) !== 0x0a)).toBe(true)
    } finally {
      await local.close()
    }
  })

  it('random: for any prompt, the cut bytes decode to exactly the expected text', async () => {
    const local = await startSimulator({ chunking: 'random' })
    try {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), async (text) => {
          const prompt = text.replaceAll('[sim:', '(sim:')
          const reply = await rawRequest(local.url, '/api/generate', { body: { model: 'qwen3', prompt } })
          const lines = parseLines(reply.text)
          const expected = local.expectedResponse({ model: 'qwen3', prompt })
          expect(streamedText(lines)).toBe(expected.response)
          expect(streamedText(lines, 'thinking')).toBe(expected.thinking)
        }),
        { numRuns: 25 },
      )
    } finally {
      await local.close()
    }
  })

  it('coalesce: many lines per write', async () => {
    const local = await startSimulator({ chunking: 'coalesce' })
    try {
      const reply = await rawRequest(local.url, '/api/generate', {
        body: { model: 'llama3.2', prompt: 'together [sim:tokens=2000]' },
      })
      const lines = parseLines(reply.text)
      expect(lines).toHaveLength(2001)
      expect(reply.chunks.length).toBeLessThan(lines.length / 10)
    } finally {
      await local.close()
    }
  })

  it('rejects an unknown simulator-wide mode', async () => {
    await expect(startSimulator({ chunking: 'words' as never })).rejects.toThrow(RangeError)
  })
})
