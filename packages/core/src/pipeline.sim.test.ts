import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expectedResponse } from '@spout/ollama-sim'
import { describe, expect, it } from 'vitest'
import { eventSink } from './event-sink.ts'
import type { RecordStartEvent, SpoutEvent } from './events.ts'
import { applyEvents, createState } from './events-entry.ts'
import { jsonlSink } from './jsonl-sink.ts'
import { runPipeline } from './pipeline.ts'
import type { InputRecord, RecordResult, SpoutPlugin } from './plugin.ts'
import { prepareResume } from './resume.ts'
import { templatePrompt } from './template-prompt.ts'
import { readLines, useSimulators } from './testing/simulators.ts'

const model = 'llama3.2'
const fast = { base: 1, max: 5 }

const simulators = useSimulators('spout-pipeline-')
const server = simulators.server

function recorder(): { plugin: SpoutPlugin; events: SpoutEvent[] } {
  const events: SpoutEvent[] = []
  return { plugin: eventSink((event) => void events.push(event)), events }
}

/** A full GC, so heap numbers count what is kept, not what is garbage yet. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

describe('runPipeline against the simulator', () => {
  it('streams every record into one result line whose response equals its chunks', async () => {
    const { client } = await server({ numParallel: 2, chunking: 'random' })
    const path = join(simulators.directory, 'basic.jsonl')
    const { plugin, events } = recorder()
    const input: InputRecord[] = [
      { id: 'q1', question: 'What is a river?' },
      { id: 'q2', question: 'Why is the sky blue?' },
      { id: 'q3', question: 'And you?', messages: [{ role: 'user', content: 'Hello there' }] },
      { id: 'q4', question: 'Name a prime.' },
    ]
    const summary = await runPipeline({
      client,
      model,
      input,
      concurrency: 2,
      plugins: [
        templatePrompt({ template: 'Answer briefly: {{question}}', system: 'You are a teacher.' }),
        jsonlSink(path),
        plugin,
      ],
    })
    expect(summary).toMatchObject({ ok: 4, failed: 0, skipped: 0 })
    const lines = await readLines<RecordResult>(path)
    expect(lines.map((line) => line.id).sort()).toEqual(['q1', 'q2', 'q3', 'q4'])
    const state = applyEvents(createState(), events)
    const job = Object.values(state.jobs)[0]!
    expect(job.status).toBe('done')
    for (const line of lines) {
      const expected = expectedResponse({
        model,
        prompt: line.prompt,
        system: line.system ?? undefined,
        messages: line.messages,
      })
      expect(line.response).toBe(expected.response)
      expect(line.system).toBe('You are a teacher.')
      expect(line.done_reason).toBe('stop')
      expect(line.metrics.eval_count).toBe(expected.tokens.length)
      expect(line.metrics.tokens_per_second).toBeGreaterThan(0)
      const chunks = events.filter((event) => event.type === 'chunk' && event.recordId === line.id)
      expect(chunks.map((chunk) => (chunk as { text: string }).text).join('')).toBe(line.response)
      expect(job.records.find((record) => record.recordId === line.id)?.text).toBe(line.response)
    }
    expect(lines.find((line) => line.id === 'q1')!.prompt).toBe('Answer briefly: What is a river?')
    // The chat record got the template as a new user message after its own.
    expect(lines.find((line) => line.id === 'q3')!.messages).toEqual([
      { role: 'system', content: 'You are a teacher.' },
      { role: 'user', content: 'Hello there' },
      { role: 'user', content: 'Answer briefly: And you?' },
    ])
  })

  it('records thinking and tool calls beside the response', async () => {
    const { client } = await server()
    const { plugin, events } = recorder()
    const path = join(simulators.directory, 'thinking.jsonl')
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ]
    const summary = await runPipeline({
      client,
      model: 'qwen3',
      input: [
        { id: 'think', prompt: 'Why is the sea salty?' },
        { id: 'tool', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools },
      ],
      plugins: [
        jsonlSink(path),
        plugin,
        {
          name: 'tools',
          buildPrompt: (request, record) => (record.tools ? { ...request, tools } : undefined),
        },
      ],
    })
    expect(summary).toMatchObject({ ok: 2, failed: 0 })
    const [thinking, tool] = await readLines<RecordResult>(path)
    const expected = expectedResponse({ model: 'qwen3', prompt: 'Why is the sea salty?' })
    expect(expected.thinking).not.toBe('')
    expect(thinking).toMatchObject({ id: 'think', response: expected.response, thinking: expected.thinking })
    const thoughts = events.filter((event) => event.type === 'chunk' && event.recordId === 'think')
    expect(thoughts.map((chunk) => (chunk as { thinking?: string }).thinking ?? '').join('')).toBe(
      expected.thinking,
    )
    expect(tool!.tool_calls).toHaveLength(1)
    expect(tool!.tool_calls![0]).toMatchObject({ function: { name: 'get_weather' } })
  })

  it('keeps at most `concurrency` requests in flight', async () => {
    const { sim, client } = await server({ numParallel: 8, tokensPerSecond: 2000 })
    // Hold every record's first chunk until three records stream at once: proves three run together.
    const streaming = new Set<string>()
    let release!: () => void
    const allThree = new Promise<void>((resolve) => {
      release = resolve
    })
    const barrier: SpoutPlugin = {
      name: 'barrier',
      async writeChunk(chunk) {
        if (chunk.seq !== 0) return
        streaming.add(chunk.recordId)
        if (streaming.size >= 3) release()
        await allThree
      },
    }
    const input = Array.from({ length: 12 }, (_, index) => ({ prompt: `record ${index} [sim:tokens=20]` }))
    const summary = await runPipeline({ client, model, input, concurrency: 3, plugins: barrier })
    expect(summary.ok).toBe(12)
    expect(sim.counters.maxInFlight).toBe(3)
    expect(sim.counters.completed).toBe(12)
  })

  it('retries a record whose stream broke, as a new attempt, and says how many it took', async () => {
    const { client } = await server()
    const { plugin, events } = recorder()
    const path = join(simulators.directory, 'retry.jsonl')
    const summary = await runPipeline({
      client,
      model,
      input: [
        { id: 'drop', prompt: 'one [sim:fault=drop,after=3,times=2]' },
        { id: 'error', prompt: 'two [sim:fault=midstream-error,after=2,times=1]' },
        { id: 'server', prompt: 'three [sim:fault=http-500,times=1]' },
      ],
      retries: 2,
      retryDelay: fast,
      plugins: [jsonlSink(path), plugin],
    })
    expect(summary).toMatchObject({ ok: 3, failed: 0 })
    const lines = await readLines<RecordResult>(path)
    expect(Object.fromEntries(lines.map((line) => [line.id, line.attempts]))).toEqual({
      drop: 3,
      error: 2,
      server: 2,
    })
    for (const line of lines)
      expect(line.response).toBe(expectedResponse({ model, prompt: line.prompt }).response)
    const starts = events.filter((event): event is RecordStartEvent => event.type === 'record-start')
    expect(starts.filter((event) => event.recordId === 'drop').map((event) => event.attempt)).toEqual([
      1, 2, 3,
    ])
    const job = Object.values(applyEvents(createState(), events).jobs)[0]!
    expect(job.retries).toBe(4)
    expect(job.records.map((record) => record.text).sort()).toEqual(lines.map((line) => line.response).sort())
  })

  it('fails a record that keeps failing, after its retries, and keeps going', async () => {
    const { client } = await server()
    const path = join(simulators.directory, 'exhausted.jsonl')
    const summary = await runPipeline({
      client,
      model,
      input: [{ prompt: 'always [sim:fault=drop,after=1]' }, { prompt: 'fine' }],
      retries: 1,
      retryDelay: fast,
      plugins: jsonlSink(path),
    })
    expect(summary).toMatchObject({ ok: 1, failed: 1 })
    const [broken, fine] = await readLines<RecordResult>(path)
    expect(broken).toMatchObject({ id: '1', attempts: 2, response: '', done_reason: null })
    expect(broken!.error!.code).toBe('SPOUT_STREAM_INCOMPLETE')
    expect(fine).toMatchObject({ id: '2', attempts: 1 })
  })

  it('closes the connection of a record whose sink throws, and goes on with the next', async () => {
    const { sim, client } = await server({ tokensPerSecond: 500 })
    const path = join(simulators.directory, 'sink-throws.jsonl')
    const summary = await runPipeline({
      client,
      model,
      input: [{ prompt: 'stop me [sim:tokens=200]' }, { prompt: 'fine [sim:tokens=5]' }],
      plugins: [
        jsonlSink(path),
        {
          name: 'picky',
          writeChunk(chunk) {
            if (chunk.recordId === '1' && chunk.seq === 3) throw new Error('seen enough')
          },
        },
      ],
    })
    expect(summary).toMatchObject({ ok: 1, failed: 1 })
    await expect.poll(() => sim.counters.cancelled).toBe(1)
    expect(sim.counters.completed).toBe(1)
    const [stopped, fine] = await readLines<RecordResult>(path)
    expect(stopped!.error).toEqual({
      code: 'SPOUT_PLUGIN_ERROR',
      message: '[plugin picky] writeChunk: seen enough',
    })
    expect(stopped!.attempts).toBe(1)
    expect(fine!.response).toBe(expectedResponse({ model, prompt: 'fine [sim:tokens=5]' }).response)
  })

  it('treats 503 as back-pressure: waits and tries again (not using up retries) until every record is done', async () => {
    const { sim, client } = await server({ numParallel: 1, maxQueue: 0, tokensPerSecond: 200 })
    const path = join(simulators.directory, 'busy.jsonl')
    const input = Array.from({ length: 8 }, (_, index) => ({ prompt: `busy ${index} [sim:tokens=10]` }))
    const summary = await runPipeline({
      client,
      model,
      input,
      concurrency: 4,
      retries: 0,
      busyRetries: 50,
      retryDelay: { base: 2, max: 20 },
      plugins: jsonlSink(path),
    })
    expect(summary).toMatchObject({ ok: 8, failed: 0 })
    expect(sim.counters.rejected503).toBeGreaterThan(0)
    expect(sim.counters.completed).toBe(8)
    const lines = await readLines<RecordResult>(path)
    expect(lines).toHaveLength(8)
    expect(lines.some((line) => line.attempts > 1)).toBe(true)
  })

  it('fails the job early with one message when the model is missing; a resume finishes it', async () => {
    const { sim, client } = await server()
    const path = join(simulators.directory, 'missing.jsonl')
    const input = Array.from({ length: 20 }, (_, index) => ({ id: `r${index}`, prompt: `p${index}` }))
    const summary = await runPipeline({
      client,
      model: 'nope',
      input,
      concurrency: 2,
      plugins: jsonlSink(path),
    })
    expect(summary.error?.code).toBe('SPOUT_HTTP_ERROR')
    expect(summary.error?.message).toMatch(/404: model '?nope'? not found/)
    expect(summary.interrupted).toBeUndefined()
    const lines = await readLines<RecordResult>(path)
    // Only the records already read got a line, each failed with that error.
    expect(lines.length).toBeGreaterThanOrEqual(1)
    expect(lines.length).toBeLessThanOrEqual(2)
    for (const line of lines) expect(line.error).toEqual(summary.error)
    expect(sim.counters.byPath['/api/generate']).toBeLessThanOrEqual(2)

    const resume = await prepareResume(path)
    expect(resume.done.size).toBe(0)
    const resumed = await runPipeline({
      client,
      model,
      input,
      skip: resume.done,
      plugins: jsonlSink(path, { append: true }),
    })
    expect(resumed).toMatchObject({ ok: 20, failed: 0 })
    expect((await readLines<RecordResult>(path)).map((line) => line.id)).toEqual(
      input.map((record) => record.id),
    )
  })

  it('paces the server by the slowest sink: a blocked sink stops the stream, nothing piles up', async () => {
    const { sim, client } = await server()
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let blocked = false
    let chunks = 0
    const slow: SpoutPlugin = {
      name: 'slow-sink',
      async writeChunk() {
        chunks += 1
        if (chunks === 1) {
          blocked = true
          await gate
        }
      },
    }
    // ~100,000 tokens: about 10 MB of NDJSON that would sit in memory if the pipeline read ahead.
    const prompt = 'a long answer [sim:tokens=100000]'
    const running = runPipeline({ client, model, input: [{ prompt }], plugins: slow })
    await expect.poll(() => blocked).toBe(true)
    collectGarbage()
    const heapBefore = process.memoryUsage().heapUsed
    await new Promise((resolve) => setTimeout(resolve, 300))
    collectGarbage()
    // The sink holds chunk 1: the server cannot have finished writing the answer.
    expect(sim.counters.completed).toBe(0)
    expect(chunks).toBe(1)
    // What stays reachable, not the window's garbage (which varies with load): a read-ahead keeps ~10 MB.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(8 * 1024 * 1024)
    release()
    const summary = await running
    expect(summary.ok).toBe(1)
    expect(chunks).toBe(100_000)
    expect(sim.counters.completed).toBe(1)
  })

  it('on abort: cancels the request (closing the connection), runs the end hooks, and resume finishes exactly once', async () => {
    const { sim, client } = await server({ tokensPerSecond: 200 })
    const path = join(simulators.directory, 'abort.jsonl')
    const controller = new AbortController()
    // Record 3 is long (1 s after the abort at its third token), so the abort reaches the simulator
    // while it still streams, however loaded the machine is.
    const input = Array.from({ length: 6 }, (_, index) => ({
      id: index + 1,
      prompt: `abort ${index} [sim:tokens=${index === 2 ? 200 : 8}]`,
    }))
    let jobEnded = false
    const summary = await runPipeline({
      client,
      model,
      input,
      signal: controller.signal,
      plugins: [
        jsonlSink(path),
        {
          name: 'stopper',
          writeChunk(chunk) {
            if (chunk.recordId === '3' && chunk.seq === 2) controller.abort()
          },
          jobEnd() {
            jobEnded = true
          },
        },
      ],
    })
    expect(summary).toMatchObject({ ok: 2, failed: 1, interrupted: true })
    expect(jobEnded).toBe(true)
    await expect.poll(() => sim.counters.cancelled).toBe(1)
    const lines = await readLines<RecordResult>(path)
    expect(lines.map((line) => [line.id, line.error?.code ?? 'ok'])).toEqual([
      ['1', 'ok'],
      ['2', 'ok'],
      ['3', 'SPOUT_ABORTED'],
    ])

    const resume = await prepareResume(path)
    expect(resume).toMatchObject({ kept: 2, dropped: 1 })
    const requested: string[] = []
    const resumed = await runPipeline({
      client,
      model,
      input,
      skip: resume.done,
      plugins: [
        jsonlSink(path, { append: true }),
        { name: 'spy', recordStart: (event) => void requested.push(event.recordId) },
      ],
    })
    expect(resumed).toMatchObject({ ok: 4, skipped: 2 })
    expect(requested).toEqual(['3', '4', '5', '6'])
    const ids = (await readLines<RecordResult>(path)).map((line) => line.id)
    expect(ids.sort()).toEqual(['1', '2', '3', '4', '5', '6'])
  })
})
