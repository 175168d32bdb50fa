import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from './server.ts'
import { parseLines, rawRequest, waitFor } from './testing/support.ts'

const simulators: Simulator[] = []
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()))
})

async function start(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const sim = await startSimulator(options)
  simulators.push(sim)
  return sim
}

interface OpenStream {
  outgoing: ClientRequest
  /** Resolves with the response once headers arrived. */
  response: Promise<IncomingMessage>
}

/** Starts a generate request and leaves it open; the test decides when to read or destroy it. */
function openGenerate(sim: Simulator, prompt: string): OpenStream {
  const payload = JSON.stringify({ model: 'llama3.2', prompt })
  const outgoing = httpRequest(new URL('/api/generate', sim.url), {
    method: 'POST',
    agent: false,
    headers: { 'Content-Length': Buffer.byteLength(payload) },
  })
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    outgoing.on('response', resolve)
    outgoing.on('error', reject)
  })
  response.catch(() => {})
  outgoing.end(payload)
  return { outgoing, response }
}

describe('parallel slots and the queue', () => {
  it('answers the exact 503 body once OLLAMA_MAX_QUEUE waiting requests are queued', async () => {
    const sim = await start({ numParallel: 1, maxQueue: 1, firstTokenDelayMs: 60_000 })
    const running = openGenerate(sim, 'first')
    await waitFor(() => sim.counters.inFlight === 1)
    const waiting = openGenerate(sim, 'second')
    await waitFor(() => sim.counters.queued === 1)
    const refused = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'llama3.2', prompt: 'third' },
    })
    expect(refused.status).toBe(503)
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(refused.text).toBe('{"error":"server busy, please try again.  maximum pending requests exceeded"}')
    expect(sim.counters.rejected503).toBe(1)
    running.outgoing.destroy()
    waiting.outgoing.destroy()
  })

  it('with maxQueue 0 refuses whatever cannot start at once', async () => {
    const sim = await start({ numParallel: 1, maxQueue: 0, firstTokenDelayMs: 60_000 })
    const running = openGenerate(sim, 'first')
    await waitFor(() => sim.counters.inFlight === 1)
    const refused = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'llama3.2', prompt: 'second' },
    })
    expect(refused.status).toBe(503)
    running.outgoing.destroy()
  })

  it('runs numParallel requests at once while the rest wait without a byte', async () => {
    const sim = await start({ numParallel: 2, firstTokenDelayMs: 60_000 })
    const streams = Array.from({ length: 6 }, (_, index) => openGenerate(sim, `p${index}`))
    await waitFor(() => sim.counters.inFlight === 2 && sim.counters.queued === 4)
    expect(sim.counters.maxInFlight).toBe(2)
    for (const stream of streams) stream.outgoing.destroy()
    await waitFor(
      () => sim.counters.cancelled === 6 && sim.counters.inFlight === 0 && sim.counters.queued === 0,
    )
    expect(sim.counters.maxInFlight).toBe(2)
  })

  it('runs queued requests in turn until all are answered', async () => {
    const sim = await start({ numParallel: 2, tokensPerSecond: 500 })
    const replies = Array.from({ length: 6 }, (_, index) =>
      rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', prompt: `p${index}` } }),
    )
    const results = await Promise.all(replies)
    expect(results.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 200])
    for (const reply of results) expect(parseLines(reply.text).at(-1)).toMatchObject({ done: true })
    expect(sim.counters.maxInFlight).toBeLessThanOrEqual(2)
    expect(sim.counters).toMatchObject({ completed: 6, inFlight: 0, queued: 0 })
  })
})

describe('cancellation', () => {
  it('stops a stream the client closes, counts it and frees the slot', async () => {
    const sim = await start({ numParallel: 1, tokensPerSecond: 100 })
    const stream = openGenerate(sim, 'long [sim:tokens=100000]')
    const response = await stream.response
    await new Promise((resolve) => response.once('data', resolve))
    stream.outgoing.destroy()
    await waitFor(() => sim.counters.cancelled === 1 && sim.counters.inFlight === 0)
    const next = await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', prompt: 'after' } })
    expect(parseLines(next.text).at(-1)).toMatchObject({ done: true })
    expect(sim.counters).toMatchObject({ cancelled: 1, completed: 1 })
  })

  it('counts a client that leaves during the first-token delay', async () => {
    const sim = await start({ firstTokenDelayMs: 60_000 })
    const stream = openGenerate(sim, 'slow')
    await waitFor(() => sim.counters.inFlight === 1)
    stream.outgoing.destroy()
    await waitFor(() => sim.counters.cancelled === 1 && sim.counters.inFlight === 0)
  })

  it('counts a client that leaves while queued, and removes it from the queue', async () => {
    const sim = await start({ numParallel: 1, firstTokenDelayMs: 60_000 })
    const running = openGenerate(sim, 'first')
    await waitFor(() => sim.counters.inFlight === 1)
    const waiting = openGenerate(sim, 'second')
    await waitFor(() => sim.counters.queued === 1)
    waiting.outgoing.destroy()
    await waitFor(() => sim.counters.cancelled === 1 && sim.counters.queued === 0)
    expect(sim.counters.inFlight).toBe(1)
    running.outgoing.destroy()
    await waitFor(() => sim.counters.cancelled === 2 && sim.counters.inFlight === 0)
  })
})

describe('pull cancellation', () => {
  it('counts a client that leaves a pull in progress', async () => {
    const sim = await start({ tokensPerSecond: 5 })
    const payload = JSON.stringify({ model: 'llama3.2' })
    const outgoing = httpRequest(new URL('/api/pull', sim.url), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Length': Buffer.byteLength(payload) },
    })
    outgoing.on('error', () => {})
    const response = new Promise<IncomingMessage>((resolve) => outgoing.on('response', resolve))
    outgoing.end(payload)
    const incoming = await response
    await new Promise((resolve) => incoming.once('data', resolve))
    outgoing.destroy()
    await waitFor(() => sim.counters.cancelled === 1)
  })
})

describe('back-pressure', () => {
  it('does not run ahead of a reader that stops reading', async () => {
    const sim = await start({})
    const stream = openGenerate(sim, 'big [sim:tokens=150000]')
    const response = await stream.response
    let received = 0
    response.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    response.pause()
    // Whatever the timing, a generator that honours back-pressure cannot finish while nobody reads.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(sim.counters.completed).toBe(0)
    expect(sim.counters.inFlight).toBe(1)
    const ended = new Promise((resolve) => response.on('end', resolve))
    response.resume()
    await ended
    expect(received).toBeGreaterThan(10_000_000)
    expect(sim.counters.completed).toBe(1)
  })
})
