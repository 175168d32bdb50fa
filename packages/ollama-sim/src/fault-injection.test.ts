import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from './server.ts'
import { parseLines, rawRequest, streamedText } from './testing/support.ts'
import { longLineText } from './text.ts'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const generate = (prompt: string, extra: Record<string, unknown> = {}) =>
  rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', prompt, ...extra } })

const errorLine = '{"error":"an error was encountered while running the model"}'

describe('faults', () => {
  it('midstream-error: N chunks, then an error line and the end of the stream, status 200', async () => {
    const prompt = 'story [sim:fault=midstream-error,after=3]'
    const reply = await generate(prompt)
    expect(reply.status).toBe(200)
    const lines = reply.text.slice(0, -1).split('\n')
    expect(lines).toHaveLength(4)
    expect(lines.at(-1)).toBe(errorLine)
    const chunks = lines.slice(0, 3).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(streamedText(chunks)).toBe(
      sim.expectedResponse({ model: 'llama3.2', prompt }).tokens.slice(0, 3).join(''),
    )
    expect(chunks.every((chunk) => chunk.done === false)).toBe(true)
  })

  it('midstream-error before any chunk is a 500 with application/json, as Ollama answers it', async () => {
    const reply = await generate('x [sim:fault=midstream-error,after=0]')
    expect([reply.status, reply.headers['content-type'], reply.text]).toEqual([
      500,
      'application/json',
      errorLine,
    ])
  })

  it('midstream-error with stream:false is a 500 JSON reply', async () => {
    const reply = await generate('x [sim:fault=midstream-error]', { stream: false })
    expect([reply.status, reply.headers['content-type'], reply.text]).toEqual([
      500,
      'application/json; charset=utf-8',
      errorLine,
    ])
  })

  it('drop: N complete lines, then the connection breaks without a done object', async () => {
    const reply = await generate('x [sim:fault=drop,after=2]')
    expect(reply.status).toBe(200)
    expect(reply.aborted).toBe(true)
    const lines = parseLines(reply.text)
    expect(lines).toHaveLength(2)
    expect(lines.every((line) => line.done === false)).toBe(true)
  })

  it("http-500 and http-503 answer before streaming with Ollama's bodies", async () => {
    const failed = await generate('x [sim:fault=http-500]')
    expect(failed.status).toBe(500)
    expect(failed.headers['content-type']).toBe('application/json')
    expect(JSON.parse(failed.text).error).toMatch(/^model runner has unexpectedly stopped/)
    const before = sim.counters.rejected503
    const busy = await generate('x [sim:fault=http-503]')
    expect([busy.status, busy.headers['content-type'], busy.text]).toEqual([
      503,
      'application/json; charset=utf-8',
      '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
    ])
    expect(sim.counters.rejected503).toBe(before + 1)
  })

  it('slow-start delays the first line by ms (reported in prompt_eval_duration), then streams normally', async () => {
    const prompt = 'x [sim:fault=slow-start,ms=60]'
    const lines = parseLines((await generate(prompt)).text)
    expect(streamedText(lines)).toBe(sim.expectedResponse({ model: 'llama3.2', prompt }).response)
    expect(lines.at(-1)!.prompt_eval_duration).toBeGreaterThanOrEqual(55_000_000)
  })

  it('stall pauses after N chunks, then finishes the stream', async () => {
    const prompt = 'x [sim:fault=stall,after=2,ms=80]'
    const lines = parseLines((await generate(prompt)).text)
    expect(streamedText(lines)).toBe(sim.expectedResponse({ model: 'llama3.2', prompt }).response)
    const gap = Date.parse(lines[2]!.created_at as string) - Date.parse(lines[1]!.created_at as string)
    expect(gap).toBeGreaterThanOrEqual(75)
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' })
  })

  it('long-line sends one 16 MiB chunk that expectedResponse includes', async () => {
    const bytes = 16 * 1024 * 1024
    const prompt = `x [sim:tokens=4] [sim:fault=long-line,bytes=${bytes},after=1]`
    const reply = await generate(prompt)
    const lines = parseLines(reply.text)
    expect(lines).toHaveLength(6)
    expect(lines[1]!.response).toBe(longLineText(bytes))
    expect(reply.text.split('\n')[1]!.length).toBeGreaterThan(bytes)
    expect(streamedText(lines)).toBe(sim.expectedResponse({ model: 'llama3.2', prompt }).response)
  })

  it('malformed-line writes one line that is not JSON after N chunks, then carries on', async () => {
    const reply = await generate('x [sim:fault=malformed-line,after=2]')
    const lines = reply.text.slice(0, -1).split('\n')
    expect(() => JSON.parse(lines[2]!)).toThrow()
    expect(lines.filter((_line, index) => index !== 2).every((line) => JSON.parse(line))).toBe(true)
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ done: true })
  })

  it('flaky-connect closes the connection before any response', async () => {
    await expect(generate('x [sim:fault=flaky-connect]')).rejects.toThrow()
  })

  it('times=K hits the first K requests with the same prompt, then succeeds', async () => {
    const prompt = 'retry me [sim:fault=http-500,times=2]'
    const statuses = []
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await generate(prompt)).status)
    expect(statuses).toEqual([500, 500, 200])
    expect((await generate('another prompt [sim:fault=http-500,times=2]')).status).toBe(500)
    const flaky = 'connect [sim:fault=flaky-connect,times=1]'
    await expect(generate(flaky)).rejects.toThrow()
    expect((await generate(flaky)).status).toBe(200)
  })

  it('applies to chat through the last message', async () => {
    const reply = await rawRequest(sim.url, '/api/chat', {
      body: {
        model: 'llama3.2',
        messages: [
          { role: 'user', content: '[sim:fault=http-500] earlier turns do not count' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'go [sim:fault=midstream-error,after=1]' },
        ],
      },
    })
    expect(reply.text.split('\n').slice(-2)).toEqual([errorLine, ''])
  })
})

describe('a simulator-wide fault', () => {
  it('hits every generate/chat request, and a directive in the prompt overrides it', async () => {
    const faulty = await startSimulator({ fault: { name: 'midstream-error', after: 1 } })
    try {
      const hit = await rawRequest(faulty.url, '/api/generate', { body: { model: 'llama3.2', prompt: 'a' } })
      expect(hit.text.endsWith(errorLine + '\n')).toBe(true)
      const overridden = await rawRequest(faulty.url, '/api/generate', {
        body: { model: 'llama3.2', prompt: 'a [sim:fault=stall,ms=0]' },
      })
      expect(parseLines(overridden.text).at(-1)).toMatchObject({ done: true })
    } finally {
      await faulty.close()
    }
  })

  it('makes sim.expectedResponse include a simulator-wide long line', async () => {
    const faulty = await startSimulator({ fault: { name: 'long-line', bytes: 1000 } })
    try {
      const prompt = 'with a long line'
      const lines = parseLines(
        (await rawRequest(faulty.url, '/api/generate', { body: { model: 'llama3.2', prompt } })).text,
      )
      const expected = faulty.expectedResponse({ model: 'llama3.2', prompt })
      expect(expected.tokens[1]).toBe(longLineText(1000))
      expect(streamedText(lines)).toBe(expected.response)
    } finally {
      await faulty.close()
    }
  })
})
