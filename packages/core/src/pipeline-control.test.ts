import { describe, expect, it } from 'vitest'
import { recordEndEvent } from './event-builders.ts'
import { eventSink } from './event-sink.ts'
import type { SpoutEvent } from './events.ts'
import { type PipelineClient, runPipeline } from './pipeline.ts'
import type { JobControl, RecordResult, SpoutPlugin } from './plugin.ts'
import type { GenerateResponse } from './types.ts'

/** A client whose every stream sends one token, then waits until released (or aborted). */
function heldClient() {
  const waiting = new Map<string, () => void>()
  const client: PipelineClient = {
    kind: 'ollama',
    host: 'http://127.0.0.1:1',
    generate: (request, options) => ({
      async *[Symbol.asyncIterator]() {
        const prompt = request.prompt ?? ''
        yield {
          model: request.model,
          created_at: '',
          response: `<${prompt}>`,
          done: false,
        } as GenerateResponse
        await new Promise<void>((resolve, reject) => {
          waiting.set(prompt, resolve)
          const signal = options.signal
          if (signal?.aborted) reject(signal.reason)
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
        })
        waiting.delete(prompt)
        yield {
          model: request.model,
          created_at: '',
          response: '',
          done: true,
          eval_count: 1,
        } as GenerateResponse
      },
    }),
    chat: () => {
      throw new Error('not used')
    },
  }
  return {
    client,
    release: (prompt: string) => waiting.get(prompt)?.(),
    isWaiting: (prompt: string) => waiting.has(prompt),
  }
}

function observer() {
  const events: SpoutEvent[] = []
  const results: RecordResult[] = []
  let control: JobControl | undefined
  const plugin: SpoutPlugin = {
    ...eventSink((event, context) => {
      control ??= context.control
      events.push(event)
    }),
    name: 'observer',
    recordEnd(result, context) {
      results.push(result)
      events.push(recordEndEvent(context.job.jobId, result))
    },
  }
  return {
    plugin,
    events,
    results,
    get control() {
      return control!
    },
  }
}

const until = async (check: () => boolean) => {
  for (let tries = 0; !check(); tries++) {
    if (tries > 500) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

const input = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: `r${index + 1}`, prompt: `p${index + 1}` }))

describe('runPipeline read-ahead and control', () => {
  it('announces records read ahead as queued, before they start, bounded by readAhead', async () => {
    const held = heldClient()
    const seen = observer()
    const job = runPipeline({
      client: held.client,
      model: 'm',
      input: input(6),
      concurrency: 1,
      readAhead: 2,
      plugins: seen.plugin,
    })
    await until(() => held.isWaiting('p1'))
    const queuedIds = () =>
      seen.events.filter((event) => event.type === 'record-queued').map((event) => event.recordId)
    expect(queuedIds()).toEqual(['r2', 'r3'])
    held.release('p1')
    await until(() => held.isWaiting('p2'))
    expect(queuedIds()).toEqual(['r2', 'r3', 'r4'])
    for (const prompt of ['p2', 'p3', 'p4', 'p5', 'p6']) {
      await until(() => held.isWaiting(prompt))
      held.release(prompt)
    }
    const summary = await job
    expect(summary.ok).toBe(6)
    const types = seen.events
      .filter((event) => 'recordId' in event && event.recordId === 'r3')
      .map((event) => event.type)
    expect(types).toEqual(['record-queued', 'record-start', 'chunk', 'record-end'])
  })

  it('aborts one running record with SPOUT_ABORTED and goes on with the others', async () => {
    const held = heldClient()
    const seen = observer()
    const job = runPipeline({
      client: held.client,
      model: 'm',
      input: input(2),
      concurrency: 2,
      plugins: seen.plugin,
    })
    await until(() => held.isWaiting('p1') && held.isWaiting('p2'))
    expect(seen.control.abortRecord('r1', 'stopped from the viewer')).toBe(true)
    held.release('p2')
    const summary = await job
    expect(summary).toMatchObject({ ok: 1, failed: 1 })
    expect(summary.interrupted).toBeUndefined()
    const r1 = seen.results.find((result) => result.id === 'r1')!
    expect(r1.error).toEqual({
      code: 'SPOUT_ABORTED',
      message: 'record r1: aborted: stopped from the viewer',
    })
    expect(r1.attempts).toBe(1)
    expect(seen.control.abortRecord('r1', 'again')).toBe(false)
  })

  it('aborts a queued record before it starts', async () => {
    const held = heldClient()
    const seen = observer()
    const job = runPipeline({
      client: held.client,
      model: 'm',
      input: input(3),
      readAhead: 2,
      plugins: seen.plugin,
    })
    await until(
      () =>
        held.isWaiting('p1') &&
        seen.events.some((event) => event.type === 'record-queued' && event.recordId === 'r3'),
    )
    expect(seen.control.abortRecord('r2', 'not needed')).toBe(true)
    held.release('p1')
    await until(() => held.isWaiting('p3'))
    held.release('p3')
    const summary = await job
    expect(summary).toMatchObject({ ok: 2, failed: 1 })
    const r2 = seen.results.find((result) => result.id === 'r2')!
    expect(r2).toMatchObject({ attempts: 0, error: { code: 'SPOUT_ABORTED' } })
    expect(seen.events.some((event) => event.type === 'record-start' && event.recordId === 'r2')).toBe(false)
  })

  it('stops the whole job: in-flight and queued records end SPOUT_ABORTED, none is lost', async () => {
    const held = heldClient()
    const seen = observer()
    const job = runPipeline({
      client: held.client,
      model: 'm',
      input: input(10),
      readAhead: 3,
      plugins: seen.plugin,
    })
    await until(
      () =>
        held.isWaiting('p1') && seen.events.filter((event) => event.type === 'record-queued').length === 3,
    )
    seen.control.stopJob('stopped from the viewer')
    const summary = await job
    expect(summary).toMatchObject({ ok: 0, failed: 4, interrupted: true })
    expect(seen.results.map((result) => result.id)).toEqual(['r1', 'r2', 'r3', 'r4'])
    for (const result of seen.results) expect(result.error?.code).toBe('SPOUT_ABORTED')
    expect(seen.results[0]!.error?.message).toBe('job stopped: stopped from the viewer')
  })
})
