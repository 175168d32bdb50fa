import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HttpError, IncompleteStreamError, ParseError, StreamError } from './errors.ts'
import { OpenAIClient } from './openai-client.ts'
import type { ChatResponse, GenerateResponse } from './types.ts'

let sim: Simulator
let client: OpenAIClient
const quickRetry = { attempts: 3, baseDelay: 5, maxDelay: 20 }

beforeAll(async () => {
  sim = await startSimulator({ numParallel: 4 })
  client = new OpenAIClient({ host: `${sim.url}/v1`, retry: quickRetry })
})

afterAll(async () => {
  await client.close()
  await sim.close()
})

afterEach(() => {
  sim.resetCounters()
  sim.resetFaults()
})

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = []
  for await (const value of stream) values.push(value)
  return values
}

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

/** A server that records each request and answers with the given SSE text (or a status and body). */
async function scriptedServer(reply: { status?: number; body: string; contentType?: string }) {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: unknown }> = []
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = []
    request.on('data', (part: Buffer) => parts.push(part))
    request.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8')
      seen.push({
        url: request.url ?? '',
        headers: request.headers,
        body: text ? JSON.parse(text) : undefined,
      })
      response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/event-stream' })
      response.end(reply.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

function text(chunks: Array<GenerateResponse | ChatResponse>): string {
  return chunks.map((chunk) => ('message' in chunk ? chunk.message.content : chunk.response)).join('')
}

describe('OpenAIClient against the simulator', () => {
  it('streams a chat as Ollama-shaped chunks, ending with done, done_reason and measured metrics', async () => {
    const messages = [{ role: 'user' as const, content: 'Why is the sky blue?' }]
    const chunks = await collect(client.chat({ model: 'llama3.2', messages }))
    const expected = sim.expectedResponse({ model: 'llama3.2', messages })
    expect(text(chunks)).toBe(expected.response)
    expect(chunks.slice(0, -1).every((chunk) => chunk.done === false)).toBe(true)
    const final = chunks.at(-1)!
    expect(final).toMatchObject({ model: 'llama3.2', done: true, done_reason: 'stop' })
    expect(final.message).toEqual({ role: 'assistant', content: '' })
    expect(final.eval_count).toBe(expected.tokens.length)
    expect(final.prompt_eval_count).toBeGreaterThan(0)
    for (const duration of ['total_duration', 'prompt_eval_duration', 'eval_duration'] as const) {
      expect(final[duration]).toBeGreaterThanOrEqual(0)
    }
    expect(final.total_duration!).toBeGreaterThanOrEqual(final.eval_duration!)
    expect(Date.parse(final.created_at)).not.toBeNaN()
  })

  it('sends a bare prompt to /v1/completions, and a prompt with a system prompt to chat', async () => {
    const bare = await collect(client.generate({ model: 'llama3.2', prompt: 'Tell me a story' }))
    expect(text(bare)).toBe(sim.expectedResponse({ model: 'llama3.2', prompt: 'Tell me a story' }).response)
    expect(bare.at(-1)).toMatchObject({ done: true, done_reason: 'stop', response: '' })
    const withSystem = await collect(
      client.generate({ model: 'llama3.2', prompt: 'Tell me a story', system: 'Be terse.' }),
    )
    expect(text(withSystem)).toBe(
      sim.expectedResponse({ model: 'llama3.2', prompt: 'Tell me a story', system: 'Be terse.' }).response,
    )
    expect(withSystem.every((chunk) => 'response' in chunk && !('message' in chunk))).toBe(true)
    expect(sim.counters.byPath).toMatchObject({ '/v1/completions': 1, '/v1/chat/completions': 1 })
  })

  it('maps reasoning to thinking, tool calls to whole tool calls, max_tokens to length', async () => {
    const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }]
    const thought = await collect(client.chat({ model: 'qwen3', messages }))
    const expected = sim.expectedResponse({ model: 'qwen3', messages })
    expect(thought.map((chunk) => chunk.message.thinking ?? '').join('')).toBe(expected.thinking)
    const tool = {
      type: 'function' as const,
      function: {
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    }
    const called = await collect(client.chat({ model: 'qwen3', messages, tools: [tool] }))
    const calls = called.flatMap((chunk) => chunk.message.tool_calls ?? [])
    const expectedCall = sim.expectedResponse({ model: 'qwen3', messages, tools: [tool] }).toolCalls[0]!
    expect(calls).toEqual([
      {
        id: expectedCall.id,
        function: { index: 0, name: 'get_weather', arguments: expectedCall.function.arguments },
      },
    ])
    expect(called.at(-1)?.done_reason).toBe('tool_calls')
    const capped = await collect(
      client.generate({ model: 'llama3.2', prompt: 'Count', options: { num_predict: 2 } }),
    )
    expect(capped.at(-1)).toMatchObject({ done_reason: 'length', eval_count: 2 })
  })

  it('lists /v1/models', async () => {
    const list = await client.models()
    expect(list.data.map((model) => model.id)).toContain('llama3.2:latest')
  })

  it('turns an error body into HttpError with the server message, and a 503 into back-pressure', async () => {
    const missing = await failure(() =>
      collect(client.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })),
    )
    expect(missing).toBeInstanceOf(HttpError)
    expect(missing).toMatchObject({ code: 'SPOUT_HTTP_ERROR', status: 404 })
    expect((missing as Error).message).toBe(
      `[POST ${sim.url}/v1/chat/completions] 404: model 'nope' not found`,
    )
    const busy = await failure(() =>
      collect(client.generate({ model: 'llama3.2', prompt: '[sim:fault=http-503] x' }, { retry: false })),
    )
    expect(busy).toMatchObject({ code: 'SPOUT_HTTP_ERROR', status: 503 })
    const recovered = await collect(
      client.generate({ model: 'llama3.2', prompt: '[sim:fault=http-503,times=2] y' }),
    )
    expect(recovered.at(-1)?.done).toBe(true)
    expect(sim.counters.rejected503).toBe(3)
  })

  it('fails with StreamError on an error event, IncompleteStreamError on a cut, ParseError on bad JSON', async () => {
    const prompt = (fault: string) => ({ model: 'llama3.2', prompt: `[sim:fault=${fault},after=2] go` })
    const midstream = await failure(() => collect(client.generate(prompt('midstream-error'))))
    expect(midstream).toBeInstanceOf(StreamError)
    expect((midstream as StreamError).message).toContain('an error was encountered while running the model')
    const dropped = await failure(() => collect(client.generate(prompt('drop'))))
    expect(dropped).toBeInstanceOf(IncompleteStreamError)
    const malformed = await failure(() => collect(client.generate(prompt('malformed-line'))))
    expect(malformed).toBeInstanceOf(ParseError)
    expect(malformed).toMatchObject({ code: 'SPOUT_PARSE_ERROR' })
  })

  it('bounds an event with maxEventSize (SPOUT_EVENT_TOO_LONG)', async () => {
    const small = new OpenAIClient({ host: sim.url, maxEventSize: 4096 })
    const error = await failure(() =>
      collect(small.generate({ model: 'llama3.2', prompt: '[sim:fault=long-line,bytes=20000] go' })),
    )
    expect(error).toMatchObject({ code: 'SPOUT_EVENT_TOO_LONG' })
    await small.close()
  })

  it('breaking out of the loop closes the connection; an abort rejects with its reason', async () => {
    const slow = await startSimulator({ tokensPerSecond: 200 })
    const paced = new OpenAIClient({ host: slow.url })
    for await (const chunk of paced.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: '[sim:tokens=500] x' }],
    })) {
      expect(chunk.done).toBe(false)
      break
    }
    const controller = new AbortController()
    const reason = new Error('stop now')
    const aborted = await failure(async () => {
      for await (const _chunk of paced.generate(
        { model: 'llama3.2', prompt: '[sim:tokens=500] y' },
        { signal: controller.signal },
      ))
        controller.abort(reason)
    })
    expect(aborted).toBe(reason)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(slow.counters.cancelled).toBe(2)
    await paced.close()
    await slow.close()
  })
})

describe('OpenAIClient on other servers’ streams', () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`

  it('joins tool calls streamed in pieces by index (vLLM), reads reasoning_content, keeps usage', async () => {
    const body =
      ': keep-alive\n\n' +
      chunk({ role: 'assistant', reasoning_content: 'Let me see' }) +
      chunk({ content: 'Checking' }) +
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_', arguments: '' } }],
      }) +
      chunk({ tool_calls: [{ index: 0, function: { name: 'weather', arguments: '{"city":' } }] }) +
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'time', arguments: '{}' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }) +
      chunk({}, 'tool_calls') +
      `data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 } })}\n\n` +
      'data: [DONE]\n\n'
    const server = await scriptedServer({ body })
    const other = new OpenAIClient({ host: server.url, apiKey: 'sk-test' })
    const chunks = await collect(other.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }))
    expect(chunks.map((part) => part.message.thinking ?? '').join('')).toBe('Let me see')
    expect(text(chunks)).toBe('Checking')
    expect(chunks.flatMap((part) => part.message.tool_calls ?? [])).toEqual([
      { id: 'call_a', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } },
      { id: 'call_b', function: { index: 1, name: 'time', arguments: {} } },
    ])
    expect(chunks.at(-1)).toMatchObject({
      done: true,
      done_reason: 'tool_calls',
      prompt_eval_count: 7,
      eval_count: 9,
    })
    expect(server.seen[0]).toMatchObject({
      url: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-test', accept: 'text/event-stream' },
      body: { model: 'm', stream: true, stream_options: { include_usage: true } },
    })
    await other.close()
    await server.close()
  })

  it('ends incomplete without [DONE] and finish_reason; a finish_reason without [DONE] is enough', async () => {
    const cut = await scriptedServer({ body: chunk({ content: 'partial' }) })
    const error = await failure(() =>
      collect(
        new OpenAIClient({ host: cut.url }).chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      ),
    )
    expect(error).toBeInstanceOf(IncompleteStreamError)
    expect((error as IncompleteStreamError).received).toBe('partial')
    await cut.close()
    const finished = await scriptedServer({ body: chunk({ content: 'whole' }) + chunk({}, 'stop') })
    const chunks = await collect(
      new OpenAIClient({ host: `${finished.url}/v1/` }).chat({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
      }),
    )
    expect(chunks.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 1 })
    expect(finished.seen[0]?.url).toBe('/v1/chat/completions')
    await finished.close()
  })

  it('takes the key from OPENAI_API_KEY, and maps options, format and think to OpenAI fields', async () => {
    const server = await scriptedServer({ body: chunk({ content: 'a' }, 'stop') + 'data: [DONE]\n\n' })
    const saved = process.env.OPENAI_API_KEY
    process.env.OPENAI_API_KEY = 'sk-env'
    try {
      const other = new OpenAIClient({ host: server.url })
      await collect(
        other.chat({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          options: { temperature: 0.2, num_predict: 5, seed: 3, stop: ['\n'], top_k: 4, num_ctx: 99 },
          format: { type: 'object' },
          think: 'high',
        }),
      )
      await other.close()
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY
      else process.env.OPENAI_API_KEY = saved
    }
    expect(server.seen[0]?.headers.authorization).toBe('Bearer sk-env')
    expect(server.seen[0]?.body).toEqual({
      model: 'm',
      temperature: 0.2,
      max_tokens: 5,
      seed: 3,
      stop: ['\n'],
      top_k: 4,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'response', schema: { type: 'object' } } },
      reasoning_effort: 'high',
    })
    await server.close()
  })

  it('reads an OpenAI error object in an HTTP body and in the stream', async () => {
    const rejected = await scriptedServer({
      status: 401,
      contentType: 'application/json',
      body: JSON.stringify({
        error: { message: 'Incorrect API key provided', type: 'invalid_request_error' },
      }),
    })
    const error = await failure(() =>
      collect(new OpenAIClient({ host: rejected.url }).generate({ model: 'm', prompt: 'x' })),
    )
    expect(error).toMatchObject({ code: 'SPOUT_HTTP_ERROR', status: 401, body: 'Incorrect API key provided' })
    await rejected.close()
    const midway = await scriptedServer({
      body:
        chunk({ content: 'so far' }) + 'event: error\ndata: {"error":{"message":"CUDA out of memory"}}\n\n',
    })
    const streamError = await failure(() =>
      collect(
        new OpenAIClient({ host: midway.url }).chat({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
        }),
      ),
    )
    expect(streamError).toBeInstanceOf(StreamError)
    expect(streamError).toMatchObject({ code: 'SPOUT_STREAM_ERROR', received: 'so far' })
    expect((streamError as Error).message).toContain('CUDA out of memory')
    await midway.close()
  })
})
