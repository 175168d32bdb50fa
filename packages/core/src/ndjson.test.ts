import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ParseError } from './errors.ts'
import { decodeNdjson, NdjsonDecoderStream, NdjsonParser } from './ndjson.ts'

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

/** The same bytes as Node Buffers (views), as undici and Node streams hand them out: the Buffer path. */
function asBuffers(chunks: Uint8Array[]): Uint8Array[] {
  return chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
}

function oneBytePerRead(data: Uint8Array): Uint8Array[] {
  return Array.from(data, (byte) => Uint8Array.of(byte))
}

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk
}

async function decodeAll(chunks: Uint8Array[], options?: { maxLineLength?: number }): Promise<unknown[]> {
  const values: unknown[] = []
  for await (const value of decodeNdjson(fromChunks(chunks), options)) values.push(value)
  return values
}

async function decodeWithStream(chunks: Uint8Array[]): Promise<unknown[]> {
  const values: unknown[] = []
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  }).pipeThrough(new NdjsonDecoderStream())
  for await (const value of readable) values.push(value)
  return values
}

// Values JSON can carry exactly (no -0, no undefined, no NaN), with full Unicode strings.
const jsonValue = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })
const jsonObject = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), jsonValue, { maxKeys: 5 })

describe('decodeNdjson: property', () => {
  it('drops a UTF-8 BOM that opens the stream, from bytes and from Buffers alike', async () => {
    const data = bytes('\uFEFF{"a":1}\n{"b":2}\n')
    expect(await decodeAll([data])).toEqual([{ a: 1 }, { b: 2 }])
    expect(await decodeAll(asBuffers([data]))).toEqual([{ a: 1 }, { b: 2 }])
  })

  it('yields exactly the encoded objects for any cut of their bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonObject, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        async (objects, positions, ending, trailingNewline) => {
          let text = objects.map((object) => JSON.stringify(object)).join(ending)
          if (trailingNewline && objects.length > 0) text += ending
          const data = bytes(text)
          const expected = JSON.parse(JSON.stringify(objects))
          expect(await decodeAll(cut(data, positions))).toEqual(expected)
          expect(await decodeAll(asBuffers(cut(data, positions)))).toEqual(expected)
          expect(await decodeWithStream(cut(data, positions))).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('yields the same objects when every byte arrives in its own read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jsonObject, { minLength: 1, maxLength: 4 }), async (objects) => {
        const data = bytes(objects.map((object) => `${JSON.stringify(object)}\n`).join(''))
        expect(await decodeAll(oneBytePerRead(data))).toEqual(JSON.parse(JSON.stringify(objects)))
        expect(await decodeAll(asBuffers(oneBytePerRead(data)))).toEqual(JSON.parse(JSON.stringify(objects)))
      }),
      { numRuns: 100 },
    )
  })

  it('reports the line number and byte offset of a malformed line wherever the cut falls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonObject, { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (objects, positions) => {
          const good = objects.map((object) => `${JSON.stringify(object)}\n`).join('')
          const data = bytes(`${good}{"broken": \n{"after":1}\n`)
          for (const chunks of [cut(data, positions), asBuffers(cut(data, positions))]) {
            const error = await decodeAll(chunks).catch((caught: unknown) => caught)
            expect(error).toBeInstanceOf(ParseError)
            expect(error).toMatchObject({
              code: 'SPOUT_PARSE_ERROR',
              line: objects.length + 1,
              offset: bytes(good).length,
            })
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})

// Small named fixtures, each showing one thing a real stream does.
const fixtures = {
  'split-emoji': {
    // The 4-byte emoji is cut after its second byte, and the next read carries the rest.
    chunks: (() => {
      const data = bytes('{"response":"👋 hi"}\n{"done":true}\n')
      return [data.slice(0, 15), data.slice(15, 17), data.slice(17)]
    })(),
    expected: [{ response: '👋 hi' }, { done: true }],
  },
  'midstream-error': {
    chunks: [
      bytes('{"response":"a","done":false}\n{"response":"b","done":false}\n{"error":"model crashed"}\n'),
    ],
    expected: [{ response: 'a', done: false }, { response: 'b', done: false }, { error: 'model crashed' }],
  },
  'missing-trailing-newline': {
    chunks: [bytes('{"a":1}\n{"a'), bytes('":2}')],
    expected: [{ a: 1 }, { a: 2 }],
  },
  crlf: {
    chunks: [bytes('{"a":1}\r'), bytes('\n{"a":2}\r\n'), bytes('{"a":3}\r\n')],
    expected: [{ a: 1 }, { a: 2 }, { a: 3 }],
  },
  'blank-lines': {
    chunks: [bytes('\n\n{"a":1}\n\n   \n'), bytes('\r\n{"a":2}\n\n')],
    expected: [{ a: 1 }, { a: 2 }],
  },
  'many-objects-in-one-read': {
    chunks: [bytes(Array.from({ length: 100 }, (_, index) => `{"n":${index}}\n`).join(''))],
    expected: Array.from({ length: 100 }, (_, index) => ({ n: index })),
  },
  'object-split-inside-a-string': {
    chunks: [bytes('{"response":"hel'), bytes('lo \\"wor'), bytes('ld\\""}\n')],
    expected: [{ response: 'hello "world"' }],
  },
} satisfies Record<string, { chunks: Uint8Array[]; expected: unknown[] }>

describe('decodeNdjson: fixtures', () => {
  for (const [name, fixture] of Object.entries(fixtures)) {
    it(name, async () => {
      expect(await decodeAll(fixture.chunks)).toEqual(fixture.expected)
      expect(await decodeWithStream(fixture.chunks)).toEqual(fixture.expected)
    })
  }

  it('over-long line: fails with SPOUT_LINE_TOO_LONG instead of buffering it', async () => {
    const line = `{"response":"${'x'.repeat(5000)}"}\n`
    const chunks = [bytes('{"a":1}\n'), ...cut(bytes(line), [1000, 2000, 3000, 4000])]
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const value of decodeNdjson(fromChunks(chunks), { maxLineLength: 1024 })) seen.push(value)
    })().catch((caught: unknown) => caught)
    expect(seen).toEqual([{ a: 1 }])
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toMatchObject({ code: 'SPOUT_LINE_TOO_LONG', line: 2, offset: 8 })
    expect((error as Error).message).toContain('longer than 1024 bytes')
  })

  it('over-long line inside a single read is caught too', async () => {
    const data = bytes(`{"a":1}\n{"response":"${'y'.repeat(3000)}"}\n{"a":2}\n`)
    for (const chunks of [[data], asBuffers([data])]) {
      await expect(decodeAll(chunks, { maxLineLength: 1024 })).rejects.toMatchObject({
        code: 'SPOUT_LINE_TOO_LONG',
        line: 2,
        offset: 8,
      })
    }
  })

  it('a line of exactly maxLineLength bytes is accepted', async () => {
    const value = { response: 'z'.repeat(100) }
    const text = JSON.stringify(value)
    expect(await decodeAll([bytes(`${text}\n`)], { maxLineLength: text.length })).toEqual([value])
    expect(await decodeAll(asBuffers([bytes(`${text}\n`)]), { maxLineLength: text.length })).toEqual([value])
    expect(await decodeAll(cut(bytes(`${text}\n`), [7]), { maxLineLength: text.length })).toEqual([value])
  })

  it('the malformed-line error names the line, the byte offset and the source', () => {
    const parser = new NdjsonParser({ source: 'http://127.0.0.1:11434/api/generate' })
    const out: unknown[] = []
    let caught: unknown
    try {
      parser.push(bytes('{"a":"é"}\nnot json\n{"a":2}\n'), out)
    } catch (error) {
      caught = error
    }
    expect(out).toEqual([{ a: 'é' }])
    expect(caught).toBeInstanceOf(ParseError)
    expect((caught as ParseError).message).toBe(
      'invalid JSON "not json" at line 2 (byte 11) of http://127.0.0.1:11434/api/generate',
    )
  })

  it('one line spanning thousands of reads decodes (linear buffering)', async () => {
    const text = 'é'.repeat(200_000)
    const data = bytes(`${JSON.stringify({ response: text })}\n`)
    const chunks: Uint8Array[] = []
    for (let position = 0; position < data.length; position += 97)
      chunks.push(data.slice(position, position + 97))
    expect(chunks.length).toBeGreaterThan(4000)
    expect(await decodeAll(chunks)).toEqual([{ response: text }])
  })

  it('breaking out of the loop closes the source', async () => {
    let closed = false
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let index = 0; index < 100; index++) yield bytes(`{"n":${index}}\n`)
      } finally {
        closed = true
      }
    }
    for await (const value of decodeNdjson(source())) {
      expect(value).toEqual({ n: 0 })
      break
    }
    expect(closed).toBe(true)
  })
})
