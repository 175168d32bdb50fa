import { describe, expect, it } from 'vitest'
import { parseEvent } from './event-schema.ts'
import { eventSink } from './event-sink.ts'
import type { SpoutEvent } from './events.ts'
import type { PluginContext, RecordResult } from './plugin.ts'

const context = { job: { jobId: 'job-9', name: 'n', model: 'm', host: 'h' } } as PluginContext
type Call = (value: unknown, context: PluginContext) => void | Promise<void>

describe('eventSink', () => {
  it('hands every event to the function, turning results and summaries into events', async () => {
    const events: SpoutEvent[] = []
    const plugin = eventSink((event) => {
      events.push(event)
    })
    const hook = (name: keyof typeof plugin) => plugin[name] as unknown as Call
    await hook('jobStart')(
      { type: 'job-start', jobId: 'job-9', name: 'n', model: 'm', host: 'h', startedAt: 't' },
      context,
    )
    await hook('recordStart')(
      { type: 'record-start', jobId: 'job-9', recordId: '1', attempt: 1, model: 'm' },
      context,
    )
    await hook('writeChunk')({ type: 'chunk', jobId: 'job-9', recordId: '1', seq: 0, text: 'Hi' }, context)
    const result: RecordResult = {
      id: '1',
      input: {},
      model: 'm',
      backend: 'ollama',
      system: 'S',
      prompt: 'p',
      response: 'Hi',
      thinking: 'hmm',
      done_reason: 'stop',
      metrics: { eval_count: 1, eval_duration: 1e9, tokens_per_second: 1 },
      attempts: 2,
      started_at: 'a',
      ended_at: 'b',
    }
    await hook('recordEnd')(result, context)
    await hook('recordEnd')(
      { ...result, id: '2', response: '', done_reason: null, metrics: {}, attempts: 0, skipped: true },
      context,
    )
    await hook('jobEnd')({ ok: 1, failed: 0, skipped: 1, tokens: 1, duration: 5 }, context)
    expect(events.map((event) => event.type)).toEqual([
      'job-start',
      'record-start',
      'chunk',
      'record-end',
      'record-end',
      'job-end',
    ])
    expect(events[3]).toEqual({
      type: 'record-end',
      jobId: 'job-9',
      recordId: '1',
      response: 'Hi',
      thinking: 'hmm',
      doneReason: 'stop',
      metrics: { eval_count: 1, eval_duration: 1e9, tokens_per_second: 1 },
      attempts: 2,
    })
    expect(events[4]).toMatchObject({ recordId: '2', skipped: true, attempts: 0 })
    expect(events[5]).toMatchObject({ type: 'job-end', jobId: 'job-9', summary: { ok: 1, skipped: 1 } })
    for (const event of events) expect(parseEvent(event).ok).toBe(true)
  })
})
