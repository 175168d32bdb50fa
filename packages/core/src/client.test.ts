import { getEventListeners } from 'node:events'
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { OllamaClient } from './client.ts'
import {
  ConnectionError,
  HttpError,
  IncompleteStreamError,
  ParseError,
  SpoutError,
  StreamError,
  TimeoutError,
} from './errors.ts'
import type { ChatResponse, GenerateResponse } from './types.ts'

let sim: Simulator
let client: OllamaClient
const quickRetry = { attempts: 3, baseDelay: 5, maxDelay: 20 }

beforeAll(async () => {
  sim = await startSimulator()
  client = new OllamaClient({ host: sim.url, retry: quickRetry })
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** A server that records what it receives and answers with `reply`. */
async function startRecorder(
  reply: (body: string, respond: (status: number, type: string, body: string) => void) => void,
): Promise<{
  server: Server
  url: string
  seen: { headers: IncomingHttpHeaders; body: string; url: string }[]
}> {
  const seen: { headers: IncomingHttpHeaders; body: string; url: string }[] = []
  const server = createHttpServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({ headers: request.headers, body, url: request.url ?? '' })
      reply(body, (status, type, text) => {
        response.writeHead(status, { 'content-type': type })
        response.end(text)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { server, url: `http://127.0.0.1:${address.port}`, seen }
}

function stopServer(server: Server | TcpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

describe('endpoints', () => {
  it('generate streams the whole text, then a final object with done_reason and metrics', async () => {
    const request = { model: 'llama3.2', prompt: 'Why is the sky blue?' }
    const chunks = await collect(client.generate(request))
    const expected = sim.expectedResponse(request)
    expect(chunks.map((chunk) => chunk.response).join('')).toBe(expected.response)
    expect(chunks.length).toBeGreaterThan(2)
    const final = chunks.at(-1)!
    expect(final).toMatchObject({ done: true, done_reason: 'stop', model: 'llama3.2' })
    expect(final.eval_count).toBeGreaterThan(0)
    expect(typeof final.total_duration).toBe('number')
    expect(Array.isArray(final.context)).toBe(true)
    expect(chunks.slice(0, -1).every((chunk) => chunk.done === false)).toBe(true)
  })

  for (const chunking of ['byte', 'random', 'coalesce'] as const) {
    it(`generate decodes the same text when the server cuts bytes as '${chunking}'`, async () => {
      const request = { model: 'llama3.2', prompt: `Tell me about ünïcödé 👋 [sim:chunking=${chunking}]` }
      const chunks = await collect(client.generate(request))
      expect(chunks.map((chunk) => chunk.response).join('')).toBe(sim.expectedResponse(request).response)
      expect(chunks.at(-1)!.done).toBe(true)
    })
  }

  it('chat streams thinking and content of a thinking model', async () => {
    const request = { model: 'qwen3', messages: [{ role: 'user', content: 'Plan a picnic.' }] }
    const chunks: ChatResponse[] = await collect(client.chat(request))
    const expected = sim.expectedResponse(request)
    expect(chunks.map((chunk) => chunk.message.content).join('')).toBe(expected.response)
    expect(chunks.map((chunk) => chunk.message.thinking ?? '').join('')).toBe(expected.thinking)
    expect(chunks.at(-1)).toMatchObject({ done: true, done_reason: 'stop', message: { role: 'assistant' } })
  })

  it('chat with tools streams the tool call of a tools-capable model', async () => {
    const request = {
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Weather in a city?' }],
      tools: [
        {
          type: 'function' as const,
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
          },
        },
      ],
    }
    const chunks = await collect(client.chat(request))
    const calls = chunks.flatMap((chunk) => chunk.message.tool_calls ?? [])
    expect(calls).toEqual(sim.expectedResponse(request).toolCalls)
    expect(calls[0]!.function.name).toBe('get_weather')
    expect(chunks.at(-1)!.done).toBe(true)
  })

  it('num_predict caps the tokens and ends with done_reason "length"', async () => {
    const request = { model: 'llama3.2', prompt: 'Count to a hundred.', options: { num_predict: 3 } }
    const chunks = await collect(client.generate(request))
    expect(chunks.at(-1)!.done_reason).toBe('length')
    expect(chunks.map((chunk) => chunk.response).join('')).toBe(sim.expectedResponse(request).response)
  })

  it('stream: false returns one aggregated object (generate and chat)', async () => {
    const generateRequest = { model: 'llama3.2', prompt: 'One line please.', stream: false as const }
    const generated: GenerateResponse = await client.generate(generateRequest)
    expect(generated.response).toBe(sim.expectedResponse(generateRequest).response)
    expect(generated.done).toBe(true)

    const chatRequest = {
      model: 'qwen3',
      messages: [{ role: 'user', content: 'Hi!' }],
      stream: false as const,
    }
    const chatted: ChatResponse = await client.chat(chatRequest)
    expect(chatted.message.content).toBe(sim.expectedResponse(chatRequest).response)
    expect(chatted.done).toBe(true)
  })

  it('pull streams progress until success; stream: false gives the last object', async () => {
    const progress = await collect(client.pull({ model: 'llama3.2' }))
    expect(progress[0]).toEqual({ status: 'pulling manifest' })
    expect(progress.at(-1)).toEqual({ status: 'success' })
    expect(progress.some((item) => typeof item.total === 'number' && typeof item.digest === 'string')).toBe(
      true,
    )
    expect(await client.pull({ model: 'llama3.2', stream: false })).toEqual({ status: 'success' })
  })

  it('pull of an unknown model fails mid-stream with StreamError', async () => {
    const error = await failure(() => collect(client.pull({ model: 'no-such-model' })))
    expect(error).toBeInstanceOf(StreamError)
    expect(error).toMatchObject({ code: 'SPOUT_STREAM_ERROR', chunks: 1 })
  })

  it('list, show, ps, version and embed return their objects', async () => {
    const list = await client.list()
    expect(list.models.map((model) => model.name)).toContain('llama3.2:latest')
    expect(list.models[0]!.details.family).toBeTypeOf('string')

    const show = await client.show({ model: 'qwen3' })
    expect(show.capabilities).toEqual(expect.arrayContaining(['completion', 'thinking', 'tools']))

    await collect(client.generate({ model: 'llama3.2', prompt: 'warm up' }))
    const ps = await client.ps()
    expect(ps.models.map((model) => model.name)).toContain('llama3.2:latest')

    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+/)

    const embedded = await client.embed({ model: 'nomic-embed-text', input: ['a', 'b'] })
    expect(embedded.embeddings).toHaveLength(2)
    expect(embedded.embeddings[0]!.length).toBeGreaterThan(0)
  })
})

describe('errors', () => {
  it('an HTTP error before streaming is an HttpError with status, server text, method and URL', async () => {
    const error = await failure(() => collect(client.generate({ model: 'missing-model', prompt: 'x' })))
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toBeInstanceOf(SpoutError)
    expect(error).toMatchObject({
      code: 'SPOUT_HTTP_ERROR',
      status: 404,
      method: 'POST',
      url: `${sim.url}/api/generate`,
      body: "model 'missing-model' not found",
    })
    expect((error as Error).message).toBe(
      `[POST ${sim.url}/api/generate] 404: model 'missing-model' not found`,
    )
  })

  it('a 500 before streaming is an HttpError (also for non-streaming calls)', async () => {
    const error = await failure(() =>
      client.generate({ model: 'llama3.2', prompt: '[sim:fault=http-500]', stream: false }),
    )
    expect(error).toMatchObject({ code: 'SPOUT_HTTP_ERROR', status: 500 })
  })

  it('a non-JSON error body from a proxy is kept as text', async () => {
    const proxy = await startRecorder((_body, respond) =>
      respond(502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>'),
    )
    const proxied = new OllamaClient({ host: proxy.url, retry: false })
    try {
      const error = await failure(() => proxied.version())
      expect(error).toBeInstanceOf(HttpError)
      expect((error as HttpError).body).toBe('<html><body><h1>502 Bad Gateway</h1></body></html>')
      expect((error as Error).message).toContain('502: <html>')
    } finally {
      await proxied.close()
      await stopServer(proxy.server)
    }
  })

  it('an {"error"} line mid-stream is a StreamError carrying the text received so far', async () => {
    const request = { model: 'llama3.2', prompt: 'Explain tides. [sim:fault=midstream-error,after=3]' }
    const seen: string[] = []
    const error = await failure(async () => {
      for await (const chunk of client.generate(request)) seen.push(chunk.response)
    })
    expect(error).toBeInstanceOf(StreamError)
    expect(error).toMatchObject({ code: 'SPOUT_STREAM_ERROR', chunks: 3, received: seen.join('') })
    expect((error as StreamError).serverMessage).toBe('an error was encountered while running the model')
    expect(sim.expectedResponse(request).response.startsWith(seen.join(''))).toBe(true)
  })

  it('a body that ends without done: true is an IncompleteStreamError with the text so far', async () => {
    const request = { model: 'llama3.2', prompt: 'Explain rain. [sim:fault=drop,after=2]' }
    const seen: string[] = []
    const error = await failure(async () => {
      for await (const chunk of client.generate(request)) seen.push(chunk.response)
    })
    expect(error).toBeInstanceOf(IncompleteStreamError)
    expect(error).toMatchObject({ code: 'SPOUT_STREAM_INCOMPLETE', received: seen.join('') })
    expect(seen.length).toBe(2)
  })

  it('a body that ends cleanly but early is an IncompleteStreamError too', async () => {
    const truncated = await startRecorder((_body, respond) =>
      respond(200, 'application/x-ndjson', '{"model":"m","response":"par","done":false}\n'),
    )
    const truncatedClient = new OllamaClient({ host: truncated.url })
    try {
      const error = await failure(() => collect(truncatedClient.generate({ model: 'm', prompt: 'x' })))
      expect(error).toBeInstanceOf(IncompleteStreamError)
      expect(error).toMatchObject({ received: 'par', chunks: 1 })
    } finally {
      await truncatedClient.close()
      await stopServer(truncated.server)
    }
  })

  it('a malformed line is a ParseError with its line number and byte offset', async () => {
    const request = { model: 'llama3.2', prompt: 'Explain snow. [sim:fault=malformed-line,after=2]' }
    const error = await failure(() => collect(client.generate(request)))
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toMatchObject({ code: 'SPOUT_PARSE_ERROR', line: 3 })
    expect((error as ParseError).offset).toBeGreaterThan(0)
    expect((error as Error).message).toContain(`${sim.url}/api/generate`)
  })

  it('a line over maxLineLength fails with SPOUT_LINE_TOO_LONG; the default limit takes it', async () => {
    const request = { model: 'llama3.2', prompt: 'Long one. [sim:fault=long-line,bytes=200000,after=1]' }
    const small = new OllamaClient({ host: sim.url, maxLineLength: 64 * 1024 })
    try {
      const error = await failure(() => collect(small.generate(request)))
      expect(error).toBeInstanceOf(ParseError)
      expect(error).toMatchObject({ code: 'SPOUT_LINE_TOO_LONG', line: 2 })
    } finally {
      await small.close()
    }
    const chunks = await collect(client.generate(request))
    expect(chunks.map((chunk) => chunk.response).join('')).toBe(sim.expectedResponse(request).response)
  })

  it('connection refused is a ConnectionError naming the URL', async () => {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await stopServer(probe)
    const refused = new OllamaClient({ host: `127.0.0.1:${port}`, retry: quickRetry })
    try {
      const error = await failure(() => refused.version())
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).toMatchObject({
        code: 'SPOUT_CONNECTION_ERROR',
        attempts: 3,
        reason: 'connection refused',
      })
      expect((error as Error).message).toBe(
        `cannot reach Ollama at http://127.0.0.1:${port}: connection refused (3 attempts)`,
      )
      expect((error as ConnectionError).connected).toBe(false)
    } finally {
      await refused.close()
    }
  })
})

describe('cancellation', () => {
  it('an already-aborted signal rejects with its reason and sends nothing', async () => {
    const reason = new Error('never mind')
    const error = await failure(() =>
      collect(client.generate({ model: 'llama3.2', prompt: 'x' }, { signal: AbortSignal.abort(reason) })),
    )
    expect(error).toBe(reason)
    expect(sim.counters.requests).toBe(0)
  })

  it('stream.abort() before iterating rejects the first next() with the reason and sends nothing', async () => {
    const stream = client.generate({ model: 'llama3.2', prompt: 'Never sent.' })
    const reason = new Error('changed my mind')
    stream.abort(reason)
    expect(await failure(() => stream.next())).toBe(reason)
    expect(await stream.next()).toEqual({ value: undefined, done: true })
    expect(sim.counters.requests).toBe(0)
  })

  it('aborts while connecting', async () => {
    const { server, port } = await startSilentTcpServer()
    // TLS to a server that never answers the handshake: the connection never comes up.
    const hanging = new OllamaClient({ host: `https://127.0.0.1:${port}`, timeouts: { connect: 0 } })
    const controller = new AbortController()
    const reason = new Error('user gave up')
    try {
      const pending = failure(() => hanging.version({ signal: controller.signal }))
      await vi.waitFor(() => expect(server.connections).toBeGreaterThan(0), { timeout: 10_000 })
      controller.abort(reason)
      expect(await pending).toBe(reason)
    } finally {
      await hanging.close()
      await server.close()
    }
  })

  it('aborts while the model loads (before any header) and the server sees the connection close', async () => {
    const controller = new AbortController()
    const reason = new Error('too slow')
    const stream = client.generate(
      { model: 'llama3.2', prompt: 'Load me. [sim:fault=slow-start,ms=60000]' },
      { signal: controller.signal },
    )
    const pending = failure(() => collect(stream))
    await vi.waitFor(() => expect(sim.counters.byPath['/api/generate']).toBe(1), { timeout: 10_000 })
    controller.abort(reason)
    expect(await pending).toBe(reason)
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })

  it('aborts while streaming, with stream.abort() as well as with a signal', async () => {
    const slow = await startSimulator({ tokensPerSecond: 20 })
    const slowClient = new OllamaClient({ host: slow.url })
    try {
      const controller = new AbortController()
      const reason = new Error('enough')
      let received = 0
      const error = await failure(async () => {
        for await (const _chunk of slowClient.generate(
          { model: 'llama3.2', prompt: 'Go on.' },
          { signal: controller.signal },
        )) {
          received++
          if (received === 2) controller.abort(reason)
        }
      })
      expect(error).toBe(reason)
      expect(received).toBe(2)
      await vi.waitFor(() => expect(slow.counters.cancelled).toBe(1), { timeout: 10_000 })

      const stream = slowClient.generate({ model: 'llama3.2', prompt: 'Go on again.' })
      const first = await stream.next()
      expect(first.done).toBe(false)
      stream.abort()
      const aborted = await failure(() => stream.next())
      expect((aborted as Error).name).toBe('AbortError')
      await vi.waitFor(() => expect(slow.counters.cancelled).toBe(2), { timeout: 10_000 })
    } finally {
      await slowClient.close()
      await slow.close()
    }
  })

  it('break out of for await closes the connection, and Ollama stops generating', async () => {
    const slow = await startSimulator({ tokensPerSecond: 20 })
    const slowClient = new OllamaClient({ host: slow.url })
    try {
      for await (const chunk of slowClient.generate({ model: 'llama3.2', prompt: 'Keep talking.' })) {
        expect(chunk.done).toBe(false)
        break
      }
      await vi.waitFor(() => expect(slow.counters.cancelled).toBe(1), { timeout: 10_000 })
      expect(slow.counters.completed).toBe(0)
    } finally {
      await slowClient.close()
      await slow.close()
    }
  })

  it('return() while a next() is waiting ends that next() and closes the connection', async () => {
    const stream = client.generate({ model: 'llama3.2', prompt: 'Wait. [sim:fault=stall,after=1,ms=60000]' })
    expect((await stream.next()).done).toBe(false)
    const waiting = stream.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await stream.return()
    expect(await waiting).toEqual({ value: undefined, done: true })
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })

  it('one signal shared by many calls holds one listener however many calls used it, and still cancels', async () => {
    const controller = new AbortController()
    for (let index = 0; index < 20; index++) {
      await collect(
        client.generate({ model: 'llama3.2', prompt: `Call ${index}.` }, { signal: controller.signal }),
      )
      await client.version({ signal: controller.signal })
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    const stream = client.generate(
      { model: 'llama3.2', prompt: 'Then one that is cut. [sim:fault=stall,after=1,ms=60000]' },
      { signal: controller.signal },
    )
    await stream.next()
    controller.abort(new Error('stop now'))
    await expect(stream.next()).rejects.toThrow('stop now')
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })

  it('aborts a non-streaming call', async () => {
    const controller = new AbortController()
    const reason = new Error('stop waiting')
    const pending = failure(() =>
      client.generate(
        { model: 'llama3.2', prompt: 'Slow. [sim:fault=slow-start,ms=60000]', stream: false },
        { signal: controller.signal },
      ),
    )
    await vi.waitFor(() => expect(sim.counters.byPath['/api/generate']).toBe(1), { timeout: 10_000 })
    controller.abort(reason)
    expect(await pending).toBe(reason)
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })
})

/** A TCP server that accepts connections and never writes a byte. */
async function startSilentTcpServer(): Promise<{
  server: { connections: number; close(): Promise<void> }
  port: number
}> {
  const sockets = new Set<Socket>()
  const state = { connections: 0 }
  const tcp = createTcpServer((socket) => {
    state.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
  const port = (tcp.address() as { port: number }).port
  return {
    port,
    server: {
      get connections() {
        return state.connections
      },
      async close() {
        for (const socket of sockets) socket.destroy()
        await stopServer(tcp)
      },
    },
  }
}

describe('timeouts', () => {
  it('connect: a connection that does not come up fails with SPOUT_CONNECT_TIMEOUT', async () => {
    const { server, port } = await startSilentTcpServer()
    const hanging = new OllamaClient({ host: `https://127.0.0.1:${port}`, timeouts: { connect: 300 } })
    try {
      const error = await failure(() => hanging.version())
      expect(error).toBeInstanceOf(TimeoutError)
      expect(error).toMatchObject({ code: 'SPOUT_CONNECT_TIMEOUT', phase: 'connect', timeout: 300 })
    } finally {
      await hanging.close()
      await server.close()
    }
  })

  it('first byte: no response in time fails with SPOUT_FIRST_BYTE_TIMEOUT and closes the request', async () => {
    const error = await failure(() =>
      collect(
        client.generate(
          { model: 'llama3.2', prompt: 'Load slowly. [sim:fault=slow-start,ms=60000]' },
          { timeouts: { firstByte: 300 } },
        ),
      ),
    )
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'SPOUT_FIRST_BYTE_TIMEOUT', phase: 'first-byte', timeout: 300 })
    expect((error as Error).message).toContain('timeouts.firstByte')
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })

  it('idle: a silent gap mid-stream fails with SPOUT_IDLE_TIMEOUT', async () => {
    let received = 0
    const error = await failure(async () => {
      const stream = client.generate(
        { model: 'llama3.2', prompt: 'Pause. [sim:fault=stall,after=2,ms=60000]' },
        { timeouts: { idle: 300 } },
      )
      for await (const _chunk of stream) received++
    })
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'SPOUT_IDLE_TIMEOUT', phase: 'idle', timeout: 300 })
    expect(received).toBe(2)
    await vi.waitFor(() => expect(sim.counters.cancelled).toBe(1), { timeout: 10_000 })
  })

  it('a slow consumer is not an idle server: waiting in the caller does not count', async () => {
    const stream = client.generate(
      { model: 'llama3.2', prompt: 'Take your time.' },
      { timeouts: { idle: 50 } },
    )
    const first = await stream.next()
    expect(first.done).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const rest = await collect(stream)
    expect(rest.at(-1)!.done).toBe(true)
  })
})

describe('retries', () => {
  it('retries a connection closed before any response, then succeeds', async () => {
    const request = { model: 'llama3.2', prompt: 'Flaky. [sim:fault=flaky-connect,times=2]' }
    const chunks = await collect(client.generate(request))
    expect(chunks.map((chunk) => chunk.response).join('')).toBe(sim.expectedResponse(request).response)
    expect(sim.counters.byPath['/api/generate']).toBe(3)
  })

  it('says the connection was lost, not that Ollama is unreachable, when the server took it and closed it', async () => {
    const request = { model: 'llama3.2', prompt: 'Flaky. [sim:fault=flaky-connect,times=5]' }
    const error = await failure(() => collect(client.generate(request)))
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({ code: 'SPOUT_CONNECTION_ERROR', attempts: 3, connected: true })
    expect((error as Error).message).toMatch(
      /^lost the connection to Ollama at http:\/\/127\.0\.0\.1:\d+: connection (closed before a response|reset) \(3 attempts\)$/,
    )
  })

  it("retries 503 'server busy' before the first byte", async () => {
    const request = {
      model: 'llama3.2',
      prompt: 'Busy. [sim:fault=http-503,times=1]',
      stream: false as const,
    }
    const result = await client.generate(request)
    expect(result.response).toBe(sim.expectedResponse(request).response)
    expect(sim.counters.rejected503).toBe(1)
    expect(sim.counters.byPath['/api/generate']).toBe(2)
  })

  it('gives up after the configured attempts, and retry: false turns retries off', async () => {
    const request = { model: 'llama3.2', prompt: 'Always busy. [sim:fault=http-503]' }
    const error = await failure(() => collect(client.generate(request, { retry: { attempts: 2 } })))
    expect(error).toMatchObject({ code: 'SPOUT_HTTP_ERROR', status: 503 })
    expect(sim.counters.byPath['/api/generate']).toBe(2)
    sim.resetCounters()
    await failure(() => collect(client.generate(request, { retry: false })))
    expect(sim.counters.byPath['/api/generate']).toBe(1)
  })

  it('nothing is retried once the first chunk has arrived', async () => {
    const request = { model: 'llama3.2', prompt: 'Drop late. [sim:fault=drop,after=2,times=1]' }
    const error = await failure(() => collect(client.generate(request)))
    expect(error).toBeInstanceOf(IncompleteStreamError)
    expect(sim.counters.byPath['/api/generate']).toBe(1)
  })
})

describe('configuration', () => {
  it('reads OLLAMA_HOST (host:port, 0.0.0.0 meaning this machine) when no host is given', async () => {
    const port = new URL(sim.url).port
    vi.stubEnv('OLLAMA_HOST', `0.0.0.0:${port}`)
    const fromEnvironment = new OllamaClient()
    try {
      expect(fromEnvironment.host).toBe(`http://127.0.0.1:${port}`)
      expect((await fromEnvironment.version()).version).toBeTypeOf('string')
    } finally {
      vi.unstubAllEnvs()
      await fromEnvironment.close()
    }
    vi.stubEnv('OLLAMA_HOST', '')
    try {
      expect(new OllamaClient().host).toBe('http://127.0.0.1:11434')
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('sends Accept, Content-Type, custom and per-call headers, and base64 images; never mutates the request', async () => {
    const recorder = await startRecorder((_body, respond) =>
      respond(
        200,
        'application/x-ndjson',
        '{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"ok"},"done":true,"done_reason":"stop"}\n',
      ),
    )
    const withHeaders = new OllamaClient({
      host: recorder.url,
      headers: { Authorization: 'Bearer proxy-token', 'User-Agent': 'my-app/1.0' },
    })
    try {
      const request = deepFreeze({
        model: 'm',
        messages: [{ role: 'user', content: 'What is this?', images: [Uint8Array.of(1, 2, 3)] }],
        options: { temperature: 0 },
      })
      const snapshot = structuredClone(request)
      const chunks = await collect(withHeaders.chat(request, { headers: { 'X-Trace': 'abc' } }))
      expect(chunks[0]!.message.content).toBe('ok')
      expect(request).toEqual(snapshot)
      expect(request.messages[0]!.images[0]).toBeInstanceOf(Uint8Array)

      const [seen] = recorder.seen
      expect(seen!.url).toBe('/api/chat')
      expect(seen!.headers.accept).toBe('application/x-ndjson')
      expect(seen!.headers['content-type']).toBe('application/json')
      expect(seen!.headers.authorization).toBe('Bearer proxy-token')
      expect(seen!.headers['user-agent']).toBe('my-app/1.0')
      expect(seen!.headers['x-trace']).toBe('abc')
      expect(JSON.parse(seen!.body)).toEqual({
        model: 'm',
        messages: [{ role: 'user', content: 'What is this?', images: ['AQID'] }],
        options: { temperature: 0 },
        stream: true,
      })
    } finally {
      await withHeaders.close()
      await stopServer(recorder.server)
    }
  })

  it('keeps a path prefix for reverse proxies', async () => {
    const recorder = await startRecorder((_body, respond) =>
      respond(200, 'application/json', '{"version":"9.9.9"}'),
    )
    const proxied = new OllamaClient({ host: `${recorder.url}/ollama/` })
    try {
      expect(await proxied.version()).toEqual({ version: '9.9.9' })
      expect(recorder.seen[0]!.url).toBe('/ollama/api/version')
    } finally {
      await proxied.close()
      await stopServer(recorder.server)
    }
  })
})
