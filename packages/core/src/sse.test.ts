import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ParseError } from './errors.ts'
import { decodeSse, SseDecoderStream, type SseEvent, SseParser } from './sse.ts'

const encoder = new TextEncoder()

function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Cuts `data` at the given positions (any byte, also inside a UTF-8 character). */
function cut(data: Uint8Array, positions: number[]): Uint8Array[] {
  const sorted = [...new Set(positions.map((position) => position % (data.length + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let previous = 0
  for (const position of sorted) {
    pieces.push(data.slice(previous, position))
    previous = position
  }
  pieces.push(data.slice(previous))
  return pieces
}

function oneBytePerRead(data: Uint8Array): Uint8Array[] {
  return Array.from(data, (byte) => Uint8Array.of(byte))
}

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk
}

async function decodeAll(chunks: Uint8Array[], options?: { maxEventSize?: number }): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  for await (const event of decodeSse(fromChunks(chunks), options)) events.push(event)
  return events
}

async function decodeWithStream(chunks: Uint8Array[]): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  }).pipeThrough(new SseDecoderStream())
  for await (const event of readable) events.push(event)
  return events
}

/** A field value: any Unicode but line endings (and NUL, which an `id` may not hold). */
const value = fc.string({ unit: 'grapheme', maxLength: 12 }).map((text) => text.replace(/[\r\n\u0000]/g, '_'))

interface Spec {
  type: string | undefined
  id: string | undefined
  data: string[]
  comment: string | undefined
}

const eventSpec: fc.Arbitrary<Spec> = fc.record({
  type: fc.option(
    value.filter((text) => text !== ''),
    { nil: undefined },
  ),
  id: fc.option(value, { nil: undefined }),
  data: fc.array(value, { minLength: 1, maxLength: 4 }),
  comment: fc.option(value, { nil: undefined }),
})

/** The wire form of events; `tight` drops the optional space after the colon where it may. */
function encode(specs: Spec[], ending: string, tight: boolean, lastBlank: boolean): string {
  const field = (name: string, text: string) =>
    tight && !text.startsWith(' ') ? `${name}:${text}` : `${name}: ${text}`
  return specs
    .map((spec, index) => {
      const lines: string[] = []
      if (spec.comment !== undefined) lines.push(`:${spec.comment}`)
      if (spec.type !== undefined) lines.push(field('event', spec.type))
      if (spec.id !== undefined) lines.push(field('id', spec.id))
      for (const line of spec.data) lines.push(field('data', line))
      const blank = index < specs.length - 1 || lastBlank ? ending : ''
      return lines.map((line) => line + ending).join('') + blank
    })
    .join('')
}

function expected(specs: Spec[]): SseEvent[] {
  let id = ''
  return specs.map((spec) => {
    if (spec.id !== undefined) id = spec.id
    return { event: spec.type ?? 'message', data: spec.data.join('\n'), id }
  })
}

describe('decodeSse: property', () => {
  it('yields exactly the encoded events for any cut of their bytes, with every line ending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventSpec, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.boolean(),
        async (specs, positions, ending, tight, lastBlank) => {
          const data = bytes(encode(specs, ending, tight, lastBlank))
          const want = expected(specs)
          expect(await decodeAll(cut(data, positions))).toEqual(want)
          expect(await decodeWithStream(cut(data, positions))).toEqual(want)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('yields the same events when every byte arrives in its own read', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventSpec, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (specs, ending) => {
          const data = bytes(encode(specs, ending, false, true))
          expect(await decodeAll(oneBytePerRead(data))).toEqual(expected(specs))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('fails an over-large event wherever the cut falls, after the events before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventSpec, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (specs, positions) => {
          const small = specs.map((spec) => ({
            ...spec,
            data: [Array.from(spec.data.join('')).slice(0, 10).join('')],
          }))
          const before = encode(small, '\n', false, true)
          const data = bytes(`${before}data: ${'x'.repeat(300)}\n\ndata: after\n\n`)
          const seen: SseEvent[] = []
          const error = await (async () => {
            for await (const event of decodeSse(fromChunks(cut(data, positions)), { maxEventSize: 256 }))
              seen.push(event)
          })().catch((caught: unknown) => caught)
          expect(seen).toEqual(expected(small))
          expect(error).toBeInstanceOf(ParseError)
          expect(error).toMatchObject({ code: 'SPOUT_EVENT_TOO_LONG', offset: bytes(before).length })
        },
      ),
      { numRuns: 200 },
    )
  })
})

// Small named fixtures, each showing one thing a real stream does.
const fixtures = {
  'openai-chat': {
    chunks: [
      bytes('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":'),
      bytes('{"content":"lo"}}]}\n\ndata: [DONE]\n\n'),
    ],
    expected: [
      { event: 'message', data: '{"choices":[{"delta":{"content":"Hel"}}]}', id: '' },
      { event: 'message', data: '{"choices":[{"delta":{"content":"lo"}}]}', id: '' },
      { event: 'message', data: '[DONE]', id: '' },
    ],
  },
  'split-emoji': {
    // The 4-byte emoji is cut after its second byte.
    chunks: (() => {
      const data = bytes('data: 👋 hi\n\n')
      return [data.slice(0, 8), data.slice(8, 10), data.slice(10)]
    })(),
    expected: [{ event: 'message', data: '👋 hi', id: '' }],
  },
  'keep-alive-comments': {
    chunks: [bytes(': ping\n\n: ping\ndata: a\n: inside\n\n:\n\n')],
    expected: [{ event: 'message', data: 'a', id: '' }],
  },
  'multi-line-data': {
    chunks: [bytes('data: one\ndata:two\ndata\ndata:  four\n\n')],
    expected: [{ event: 'message', data: 'one\ntwo\n\n four', id: '' }],
  },
  'event-and-id': {
    chunks: [bytes('event: error\nid: 7\ndata: {"error":"x"}\n\ndata: next\n\nid\ndata: cleared\n\n')],
    expected: [
      { event: 'error', data: '{"error":"x"}', id: '7' },
      { event: 'message', data: 'next', id: '7' },
      { event: 'message', data: 'cleared', id: '' },
    ],
  },
  'crlf-split-between-reads': {
    chunks: [bytes('data: a\r'), bytes('\n\r'), bytes('\ndata: b\r\r'), bytes('data: c\r\n\r\n')],
    expected: [
      { event: 'message', data: 'a', id: '' },
      { event: 'message', data: 'b', id: '' },
      { event: 'message', data: 'c', id: '' },
    ],
  },
  'mixed-line-endings': {
    chunks: [bytes('data: a\rdata: b\r\ndata: c\n\r\n')],
    expected: [{ event: 'message', data: 'a\nb\nc', id: '' }],
  },
  'last-event-without-blank-line': {
    chunks: [bytes('data: a\n\ndata: b')],
    expected: [
      { event: 'message', data: 'a', id: '' },
      { event: 'message', data: 'b', id: '' },
    ],
  },
  'no-data-no-event': {
    chunks: [bytes('event: ping\n\nid: 3\n\nretry: 100\n\ndata: x\n\n')],
    expected: [{ event: 'message', data: 'x', id: '3' }],
  },
  'many-events-in-one-read': {
    chunks: [bytes(Array.from({ length: 100 }, (_, index) => `data: {"n":${index}}\n\n`).join(''))],
    expected: Array.from({ length: 100 }, (_, index) => ({
      event: 'message',
      data: `{"n":${index}}`,
      id: '',
    })),
  },
} satisfies Record<string, { chunks: Uint8Array[]; expected: SseEvent[] }>

describe('decodeSse: fixtures', () => {
  for (const [name, fixture] of Object.entries(fixtures)) {
    it(name, async () => {
      expect(await decodeAll(fixture.chunks)).toEqual(fixture.expected)
      expect(await decodeWithStream(fixture.chunks)).toEqual(fixture.expected)
    })
  }

  it('an event of exactly maxEventSize bytes is accepted, one byte more is not', async () => {
    const line = `data: ${'z'.repeat(100)}`
    const size = line.length
    for (const chunks of [[bytes(`${line}\n\n`)], cut(bytes(`${line}\n\n`), [7, 50])]) {
      expect(await decodeAll(chunks, { maxEventSize: size })).toEqual([
        { event: 'message', data: 'z'.repeat(100), id: '' },
      ])
      await expect(decodeAll(chunks, { maxEventSize: size - 1 })).rejects.toMatchObject({
        code: 'SPOUT_EVENT_TOO_LONG',
      })
    }
  })

  it('counts an event over many lines and reads, in bytes (not characters)', async () => {
    const data = bytes(`data: ok\n\n${'data: éé\n'.repeat(20)}\n`)
    // Each `data: éé` line is 10 bytes: 20 of them are 200 bytes.
    await expect(decodeAll([data], { maxEventSize: 200 })).resolves.toHaveLength(2)
    for (const chunks of [[data], oneBytePerRead(data)]) {
      const error = await decodeAll(chunks, { maxEventSize: 199 }).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'SPOUT_EVENT_TOO_LONG', line: 3, offset: 10 })
    }
  })

  it('the over-large event error names the limit, the line, the byte offset and the source', () => {
    const parser = new SseParser({ maxEventSize: 16, source: 'http://127.0.0.1:8000/v1/chat/completions' })
    const out: unknown[] = []
    let caught: unknown
    try {
      parser.push(bytes('data: é\n\ndata: 0123456789abcdef\n\n'), out)
    } catch (error) {
      caught = error
    }
    expect(out).toEqual([{ event: 'message', data: 'é', id: '' }])
    expect(caught).toBeInstanceOf(ParseError)
    expect((caught as ParseError).message).toBe(
      'SSE event larger than 16 bytes (maxEventSize) at line 3 (byte 10) of http://127.0.0.1:8000/v1/chat/completions',
    )
  })

  it('one event spanning thousands of reads decodes (linear buffering)', async () => {
    const text = 'é'.repeat(200_000)
    const data = bytes(`data: ${text}\n\n`)
    const chunks: Uint8Array[] = []
    for (let position = 0; position < data.length; position += 97)
      chunks.push(data.slice(position, position + 97))
    expect(chunks.length).toBeGreaterThan(4000)
    expect(await decodeAll(chunks)).toEqual([{ event: 'message', data: text, id: '' }])
  })

  it('copies an unfinished line by default: the caller may reuse its buffer', () => {
    const buffer = bytes('data: abc')
    const parser = new SseParser()
    const out: unknown[] = []
    parser.push(buffer, out)
    buffer.fill(0x21)
    parser.push(bytes('\n\n'), out)
    expect(out).toEqual([{ event: 'message', data: 'abc', id: '' }])
  })

  it('breaking out of the loop closes the source', async () => {
    let closed = false
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let index = 0; index < 100; index++) yield bytes(`data: ${index}\n\n`)
      } finally {
        closed = true
      }
    }
    for await (const event of decodeSse(source())) {
      expect(event.data).toBe('0')
      break
    }
    expect(closed).toBe(true)
  })
})
