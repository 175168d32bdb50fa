import { describe, expect, it } from 'vitest'
import { HttpError, StreamError } from './errors.ts'
import { eventSink } from './event-sink.ts'
import type { ChunkEvent, SpoutEvent } from './events.ts'
import { type PipelineClient, recordId, runPipeline } from './pipeline.ts'
import type { InputRecord, PipelineRequest, RecordResult, SpoutPlugin } from './plugin.ts'
import { templatePrompt } from './template-prompt.ts'
import type { ChatResponse, GenerateResponse } from './types.ts'

type Reply = string[] | Error | ((attempt: number) => string[] | Error)

/**
 * A scripted client: each prompt (or last message) answers with its tokens, or throws. It records
 * every request and how many parts the pipeline pulled, so tests can see pacing and cancellation.
 */
function scriptedClient(
  replies: Record<string, Reply> = {},
  fallback: (text: string) => string[] = (text) => [`<${text}>`],
) {
  const requests: PipelineRequest[] = []
  const attempts = new Map<string, number>()
  let pulled = 0
  let cancelled = 0
  function stream<T>(
    request: PipelineRequest,
    signal: AbortSignal | undefined,
    make: (text: string, done: boolean) => T,
  ) {
    requests.push(request)
    const key =
      'messages' in request && request.messages
        ? (request.messages.at(-1)?.content ?? '')
        : ((request as { prompt?: string }).prompt ?? '')
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    const scripted = replies[key]
    const reply = typeof scripted === 'function' ? scripted(attempt) : (scripted ?? fallback(key))
    return {
      async *[Symbol.asyncIterator]() {
        let finished = false
        try {
          if (reply instanceof Error) throw reply
          for (const token of reply) {
            await Promise.resolve()
            if (signal?.aborted) throw signal.reason
            pulled += 1
            yield make(token, false)
          }
          pulled += 1
          finished = true
          yield make('', true)
        } finally {
          if (!finished) cancelled += 1
        }
      },
    }
  }
  const final = { done_reason: 'stop', eval_count: 3, eval_duration: 1_500_000_000, total_duration: 2e9 }
  const client: PipelineClient = {
    kind: 'ollama',
    host: 'http://127.0.0.1:1',
    generate: (request, options) =>
      stream(request, options.signal, (text, done) =>
        done
          ? ({ model: request.model, created_at: '', response: '', done: true, ...final } as GenerateResponse)
          : ({ model: request.model, created_at: '', response: text, done: false } as GenerateResponse),
      ),
    chat: (request, options) =>
      stream(request, options.signal, (text, done) =>
        done
          ? ({
              model: request.model,
              created_at: '',
              message: { role: 'assistant', content: '' },
              done: true,
              ...final,
            } as ChatResponse)
          : ({
              model: request.model,
              created_at: '',
              message: { role: 'assistant', content: text },
              done: false,
            } as ChatResponse),
      ),
  }
  return {
    client,
    requests,
    get pulled() {
      return pulled
    },
    get cancelled() {
      return cancelled
    },
  }
}

function collect(): { plugin: SpoutPlugin; events: SpoutEvent[]; results: RecordResult[] } {
  const events: SpoutEvent[] = []
  const results: RecordResult[] = []
  const plugin: SpoutPlugin = {
    ...eventSink((event) => void events.push(event)),
    name: 'collector',
    recordEnd(result, context) {
      results.push(result)
      events.push({
        type: 'record-end',
        jobId: context.job.jobId,
        recordId: result.id,
        response: result.response,
        attempts: result.attempts,
      })
    },
  }
  return { plugin, events, results }
}

const noDelay = { base: 1, max: 2 }

describe('runPipeline', () => {
  it('runs the hooks in order and writes one result per record', async () => {
    const { client } = scriptedClient({ 'Say hi': ['Hel', 'lo', '!'] })
    const calls: string[] = []
    const tracer: SpoutPlugin = {
      name: 'tracer',
      jobStart: (event) => void calls.push(`jobStart ${event.model} ${event.total}`),
      buildPrompt: (request, record) => {
        calls.push(`buildPrompt ${record.id}`)
        return { ...request, system: 'Be kind.' }
      },
      recordStart: (event) => void calls.push(`recordStart ${event.recordId} #${event.attempt}`),
      writeChunk: (chunk) => void calls.push(`writeChunk ${chunk.seq} ${chunk.text}`),
      recordEnd: (result) => void calls.push(`recordEnd ${result.id}`),
      jobEnd: (summary) => void calls.push(`jobEnd ok=${summary.ok}`),
    }
    const { plugin, results } = collect()
    const summary = await runPipeline({
      client,
      model: 'llama3.2',
      request: { options: { temperature: 0 } },
      input: [{ id: 'a', prompt: 'Say hi' }],
      plugins: [tracer, plugin],
    })
    expect(calls).toEqual([
      'jobStart llama3.2 1',
      'buildPrompt a',
      'recordStart a #1',
      'writeChunk 0 Hel',
      'writeChunk 1 lo',
      'writeChunk 2 !',
      'recordEnd a',
      'jobEnd ok=1',
    ])
    expect(summary).toMatchObject({ ok: 1, failed: 0, skipped: 0, tokens: 3 })
    expect(summary.error).toBeUndefined()
    expect(summary.interrupted).toBeUndefined()
    const [result] = results
    expect(result).toMatchObject({
      id: 'a',
      input: { id: 'a', prompt: 'Say hi' },
      model: 'llama3.2',
      system: 'Be kind.',
      prompt: 'Say hi',
      response: 'Hello!',
      done_reason: 'stop',
      metrics: { eval_count: 3, eval_duration: 1_500_000_000, total_duration: 2e9, tokens_per_second: 2 },
      attempts: 1,
    })
    expect(Date.parse(result!.ended_at)).toBeGreaterThanOrEqual(Date.parse(result!.started_at))
    expect(result!.error).toBeUndefined()
  })

  it('writes the backend on every result line, and the route of the last attempt when one is reported', async () => {
    const { client } = scriptedClient({
      routed: (attempt) =>
        attempt === 1 ? new HttpError({ status: 503, method: 'POST', url: 'u', body: 'busy' }) : ['ok'],
    })
    let routed = 0
    const pool: PipelineClient = {
      kind: 'pool',
      host: 'pool(2)',
      generate(request, options) {
        if (request.prompt === 'routed') {
          routed += 1
          options.onRoute?.({ backend: 'openai', host: `http://b${routed}` })
        }
        return client.generate(request, options)
      },
      chat: (request, options) => client.chat(request, options),
    }
    const { plugin, results } = collect()
    await runPipeline({
      client: pool,
      model: 'm',
      input: [
        { id: 'a', prompt: 'plain' },
        { id: 'b', prompt: 'routed' },
      ],
      plugins: [plugin],
      retryDelay: noDelay,
    })
    const byId = Object.fromEntries(results.map((result) => [result.id, result]))
    expect(byId.a).toMatchObject({ backend: 'pool' })
    expect(byId.a!.host).toBeUndefined()
    expect(byId.b).toMatchObject({ backend: 'openai', host: 'http://b2', attempts: 2, response: 'ok' })
    expect(Object.keys(byId.b!).slice(0, 6)).toEqual(['id', 'input', 'model', 'backend', 'host', 'system'])
    const single = collect()
    await runPipeline({ client, model: 'm', input: [{ prompt: 'x' }], plugins: [single.plugin] })
    expect(single.results[0]).toMatchObject({ backend: 'ollama' })
  })

  it('names records by id field, else by position, and sends records with messages to chat', async () => {
    const scripted = scriptedClient()
    const { plugin, results, events } = collect()
    await runPipeline({
      client: scripted.client,
      model: 'm',
      request: { system: 'S' },
      input: [
        { key: 7, prompt: 'one' },
        { prompt: 'two' },
        { key: 'x', messages: [{ role: 'user', content: 'three' }] },
      ],
      idField: 'key',
      plugins: plugin,
    })
    expect(results.map((result) => result.id)).toEqual(['7', '2', 'x'])
    expect(results[2]).toMatchObject({
      system: 'S',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'three' },
      ],
      response: '<three>',
    })
    expect(results[2]!.prompt).toBeUndefined()
    expect(scripted.requests[2]).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'three' },
      ],
      stream: true,
    })
    const chunks = events.filter((event): event is ChunkEvent => event.type === 'chunk')
    expect(chunks.every((chunk) => chunk.seq === 0)).toBe(true)
    expect(recordId({ id: null }, 'id', 4)).toBe('4')
  })

  it('sends a record prompt as a user message when chat is forced', async () => {
    const scripted = scriptedClient()
    const { plugin, results } = collect()
    await runPipeline({
      client: scripted.client,
      model: 'm',
      endpoint: 'chat',
      input: [{ prompt: 'hey' }],
      plugins: plugin,
    })
    expect(scripted.requests[0]).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hey' }],
      stream: true,
    })
    expect(results[0]).toMatchObject({
      messages: [{ role: 'user', content: 'hey' }],
      response: '<hey>',
      system: null,
    })
  })

  it('fails a record whose prompt builder or sink throws, not the job', async () => {
    const scripted = scriptedClient({ 'long one': ['a', 'b', 'c', 'd', 'e'] })
    const { plugin, results } = collect()
    const picky: SpoutPlugin = {
      name: 'picky-sink',
      writeChunk(chunk) {
        if (chunk.recordId === '2' && chunk.seq === 1) throw new Error('no room')
      },
    }
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ q: 'fine' }, { q: 'long one' }, { other: 1 }, { q: 'also fine' }],
      plugins: [templatePrompt({ template: '{{q}}' }), picky, plugin],
      retryDelay: noDelay,
    })
    expect(summary).toMatchObject({ ok: 2, failed: 2 })
    expect(summary.error).toBeUndefined()
    expect(results.map((result) => [result.id, result.error?.code ?? 'ok'])).toEqual([
      ['1', 'ok'],
      ['2', 'SPOUT_PLUGIN_ERROR'],
      ['3', 'SPOUT_PLUGIN_ERROR'],
      ['4', 'ok'],
    ])
    expect(results[1]!.error!.message).toBe('[plugin picky-sink] writeChunk: no room')
    expect(results[1]!.attempts).toBe(1)
    expect(results[2]!.error!.message).toBe(
      "[plugin template-prompt] buildPrompt: the record has no field 'q' (used as {{q}})",
    )
    expect(results[2]!.attempts).toBe(0)
    // The sink failure cancelled that record's stream; the template failure sent no request.
    expect(scripted.cancelled).toBe(1)
    expect(scripted.requests).toHaveLength(3)
  })

  it('fails the job before any request when jobStart throws, and still runs jobEnd', async () => {
    const scripted = scriptedClient()
    const ends: string[] = []
    let read = 0
    const input = (function* () {
      read += 1
      yield { prompt: 'x' }
    })()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input,
      plugins: [
        { name: 'opener', jobStart: () => Promise.reject(new Error('cannot open')) },
        { name: 'closer', recordEnd: () => void ends.push('record'), jobEnd: () => void ends.push('job') },
      ],
    })
    expect(summary.error).toEqual({
      code: 'SPOUT_PLUGIN_ERROR',
      message: '[plugin opener] jobStart: cannot open',
    })
    expect(summary).toMatchObject({ ok: 0, failed: 0 })
    expect(ends).toEqual(['job'])
    expect(read).toBe(0)
    expect(scripted.requests).toHaveLength(0)
  })

  it('stops the job when a recordEnd hook throws, so that a resume redoes what may be missing', async () => {
    const scripted = scriptedClient()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'a' }, { prompt: 'b' }, { prompt: 'c' }],
      plugins: { name: 'writer', recordEnd: () => Promise.reject(new Error('disk full')) },
    })
    expect(summary.error).toEqual({
      code: 'SPOUT_PLUGIN_ERROR',
      message: '[plugin writer] recordEnd: disk full',
    })
    expect(scripted.requests).toHaveLength(1)
  })

  it('reports records in skip as skipped without a request', async () => {
    const scripted = scriptedClient()
    const { plugin, results, events } = collect()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [
        { id: 1, prompt: 'a' },
        { id: 2, prompt: 'b' },
        { id: 3, prompt: 'c' },
      ],
      skip: new Set(['1', '3']),
      plugins: plugin,
    })
    expect(summary).toMatchObject({ ok: 1, failed: 0, skipped: 2 })
    expect(scripted.requests.map((request) => (request as { prompt: string }).prompt)).toEqual(['b'])
    expect(results.map((result) => [result.id, result.skipped ?? false])).toEqual([
      ['1', true],
      ['2', false],
      ['3', true],
    ])
    expect(events.filter((event) => event.type === 'record-start')).toHaveLength(1)
  })

  it('retries a transient failure as a new attempt and says how many it took', async () => {
    const lost = new StreamError({
      method: 'POST',
      url: 'u',
      serverMessage: 'lost',
      received: 'par',
      chunks: 1,
    })
    const scripted = scriptedClient({ flaky: (attempt) => (attempt < 3 ? lost : ['ok']) })
    const { plugin, results, events } = collect()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'flaky' }],
      retries: 2,
      retryDelay: noDelay,
      plugins: plugin,
    })
    expect(summary).toMatchObject({ ok: 1, failed: 0 })
    expect(results[0]).toMatchObject({ response: 'ok', attempts: 3 })
    expect(
      events
        .filter((event) => event.type === 'record-start')
        .map((event) => (event as { attempt: number }).attempt),
    ).toEqual([1, 2, 3])
  })

  it('gives up after the configured retries, and fails at once on a client error', async () => {
    const broken = new HttpError({ status: 500, method: 'POST', url: 'u', body: 'boom' })
    const bad = new HttpError({ status: 400, method: 'POST', url: 'u', body: 'invalid options' })
    const scripted = scriptedClient({ down: broken, wrong: bad })
    const { plugin, results } = collect()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'down' }, { prompt: 'wrong' }],
      retries: 1,
      retryDelay: noDelay,
      plugins: plugin,
    })
    expect(summary).toMatchObject({ ok: 0, failed: 2 })
    expect(results.map((result) => [result.attempts, result.error?.message])).toEqual([
      [2, '[POST u] 500: boom'],
      [1, '[POST u] 400: invalid options'],
    ])
  })

  it('waits out busy answers without using up retries', async () => {
    const busy = new HttpError({
      status: 503,
      method: 'POST',
      url: 'u',
      body: 'server busy, please try again.  maximum pending requests exceeded',
    })
    const scripted = scriptedClient({ crowded: (attempt) => (attempt <= 3 ? busy : ['in']) })
    const { plugin, results } = collect()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'crowded' }],
      retries: 0,
      busyRetries: 3,
      retryDelay: noDelay,
      plugins: plugin,
    })
    expect(summary.ok).toBe(1)
    expect(results[0]).toMatchObject({ response: 'in', attempts: 4 })
    const hopeless = scriptedClient({ crowded: busy })
    const failed = await runPipeline({
      client: hopeless.client,
      model: 'm',
      input: [{ prompt: 'crowded' }],
      busyRetries: 2,
      retryDelay: noDelay,
    })
    expect(failed.failed).toBe(1)
    expect(hopeless.requests).toHaveLength(3)
  })

  it('fails only the record when a model chosen by a prompt builder is missing', async () => {
    const missing = new HttpError({ status: 404, method: 'POST', url: 'u', body: "model 'other' not found" })
    const scripted = scriptedClient({ special: missing })
    const { plugin, results } = collect()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'special' }, { prompt: 'plain' }],
      plugins: [
        {
          name: 'router',
          buildPrompt: (request) =>
            (request as { prompt: string }).prompt === 'special' ? { ...request, model: 'other' } : undefined,
        },
        plugin,
      ],
    })
    expect(summary).toMatchObject({ ok: 1, failed: 1 })
    expect(summary.error).toBeUndefined()
    expect(results.map((result) => [result.model, result.error?.code ?? 'ok'])).toEqual([
      ['other', 'SPOUT_HTTP_ERROR'],
      ['m', 'ok'],
    ])
  })

  it('fails a record it cannot send, and the job when the input throws, keeping the records read', async () => {
    const scripted = scriptedClient()
    const { plugin, results } = collect()
    const input = (async function* () {
      yield { prompt: 'fine' }
      yield { text: 'no prompt here' }
      throw new Error('line 3 of input.jsonl: not JSON')
    })()
    const summary = await runPipeline({ client: scripted.client, model: 'm', input, plugins: plugin })
    expect(summary).toMatchObject({
      ok: 1,
      failed: 1,
      error: { code: 'SPOUT_ERROR', message: 'line 3 of input.jsonl: not JSON' },
    })
    expect(results.map((result) => result.error?.code ?? 'ok')).toEqual(['ok', 'SPOUT_INVALID_RECORD'])
    expect(results[1]!.error!.message).toMatch(/^record 2: no prompt/)
  })

  it('fails the job before any hook when a plugin is invalid', async () => {
    const scripted = scriptedClient()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'x' }],
      plugins: [{ name: 'broken', writeChunk: 'yes' } as unknown as SpoutPlugin],
    })
    expect(summary.error).toEqual({
      code: 'SPOUT_PLUGIN_ERROR',
      message: '[plugin broken] writeChunk: the hook must be a function or `{ handler: function, order }`',
    })
    expect(scripted.requests).toHaveLength(0)
  })

  it('reports a failing jobEnd in the summary and still resolves', async () => {
    const { client } = scriptedClient()
    const summary = await runPipeline({
      client,
      model: 'm',
      input: [{ prompt: 'x' }],
      plugins: { name: 'closer', jobEnd: () => Promise.reject(new Error('cannot flush')) },
    })
    expect(summary).toMatchObject({
      ok: 1,
      error: { code: 'SPOUT_PLUGIN_ERROR', message: '[plugin closer] jobEnd: cannot flush' },
    })
  })

  it('reads the input lazily: never more records than free slots', async () => {
    const scripted = scriptedClient()
    let read = 0
    let maxAhead = 0
    let ended = 0
    const input = (async function* () {
      for (let index = 0; index < 20; index += 1) {
        read += 1
        maxAhead = Math.max(maxAhead, read - ended)
        yield { prompt: `p${index}` }
      }
    })()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input,
      concurrency: 3,
      plugins: {
        name: 'counter',
        recordEnd() {
          ended += 1
        },
      },
    })
    expect(summary.ok).toBe(20)
    expect(maxAhead).toBeLessThanOrEqual(3)
  })

  it('paces the stream by the slowest sink: the next chunk is read only after every sink took the last one', async () => {
    const scripted = scriptedClient({ go: ['1', '2', '3', '4'] })
    const pulledAtWrite: number[] = []
    let release!: () => void
    const summaryPromise = runPipeline({
      client: scripted.client,
      model: 'm',
      input: [{ prompt: 'go' }],
      plugins: [
        { name: 'fast', writeChunk() {} },
        {
          name: 'slow',
          writeChunk() {
            pulledAtWrite.push(scripted.pulled)
            return new Promise<void>((resolve) => {
              release = resolve
            })
          },
        },
      ],
    })
    for (let chunk = 1; chunk <= 4; chunk += 1) {
      await expect.poll(() => pulledAtWrite.length).toBe(chunk)
      expect(scripted.pulled).toBe(chunk)
      release()
    }
    expect((await summaryPromise).ok).toBe(1)
    expect(pulledAtWrite).toEqual([1, 2, 3, 4])
  })

  it('on abort: stops taking records, cancels the request, runs the end hooks, reports interrupted', async () => {
    const controller = new AbortController()
    const scripted = scriptedClient({ second: ['a', 'b', 'c'] })
    const { plugin, results } = collect()
    let jobEnded = false
    let read = 0
    const input = (function* () {
      for (const prompt of ['first', 'second', 'third', 'fourth']) {
        read += 1
        yield { prompt }
      }
    })()
    const summary = await runPipeline({
      client: scripted.client,
      model: 'm',
      input,
      signal: controller.signal,
      plugins: [
        plugin,
        {
          name: 'stopper',
          writeChunk(chunk) {
            if (chunk.recordId === '2' && chunk.seq === 1) controller.abort()
          },
          jobEnd() {
            jobEnded = true
          },
        },
      ],
    })
    expect(summary).toMatchObject({ ok: 1, failed: 1, interrupted: true })
    expect(summary.error).toBeUndefined()
    expect(jobEnded).toBe(true)
    expect(read).toBe(2)
    expect(scripted.cancelled).toBe(1)
    expect(results.map((result) => [result.id, result.error?.code ?? 'ok'])).toEqual([
      ['1', 'ok'],
      ['2', 'SPOUT_ABORTED'],
    ])
    expect(results[1]!.response).toBe('')
  })

  it('rejects bad options with a typed error', async () => {
    const { client } = scriptedClient()
    await expect(runPipeline({ client, model: 'm', input: [], concurrency: 0 })).rejects.toMatchObject({
      code: 'SPOUT_INVALID_OPTION',
      message: 'concurrency must be a positive integer, not 0',
    })
  })

  it('hands plugins a context with the job, a signal and a prefixed logger', async () => {
    const { client } = scriptedClient()
    const messages: string[] = []
    const records: InputRecord[] = [{ prompt: 'x' }]
    await runPipeline({
      client,
      model: 'm',
      name: 'nightly',
      jobId: 'job-42',
      input: records,
      logger: {
        info: (message) => messages.push(`info ${message}`),
        warn: (message) => messages.push(`warn ${message}`),
      },
      plugins: {
        name: 'talker',
        jobStart(_event, context) {
          expect(context.job).toEqual({
            jobId: 'job-42',
            name: 'nightly',
            model: 'm',
            host: 'http://127.0.0.1:1',
          })
          expect(context.signal.aborted).toBe(false)
          context.logger.warn('careful')
          context.logger.info('hello')
        },
      },
    })
    expect(messages).toEqual(['warn [plugin talker] careful', 'info [plugin talker] hello'])
  })
})
