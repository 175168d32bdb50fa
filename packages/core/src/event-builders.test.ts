import { describe, expect, it } from 'vitest'
import { PipelineError } from './errors.ts'
import {
  chunkEvent,
  hostsEvent,
  jobEndEvent,
  jobResync,
  jobStartEvent,
  recordStartEvent,
  toEventError,
} from './event-builders.ts'
import type { SpoutEvent } from './events.ts'
import { applyEvents, createState } from './events-entry.ts'

const start = jobStartEvent({
  jobId: 'j1',
  name: 'demo',
  model: 'm',
  host: 'http://127.0.0.1:11434',
  startedAt: '2026-01-01T00:00:00.000Z',
  total: 3,
})

function live(): SpoutEvent[] {
  return [
    start,
    recordStartEvent('j1', 'a', { attempt: 1, model: 'm', system: 'be brief', prompt: 'q a' }),
    chunkEvent('j1', 'a', 0, 'Hel', 'hm'),
    chunkEvent('j1', 'a', 1, 'lo'),
    { type: 'record-end', jobId: 'j1', recordId: 'a', response: 'Hello', attempts: 1, doneReason: 'stop' },
    { type: 'record-end', jobId: 'j1', recordId: 'b', response: '', attempts: 0, skipped: true },
    recordStartEvent('j1', 'c', { attempt: 2, model: 'm', system: null, prompt: 'q c' }),
    chunkEvent('j1', 'c', 0, 'par'),
    chunkEvent('j1', 'c', 1, 'tial', 'thinking'),
  ]
}

describe('event builders', () => {
  it('leave out the fields that are not there', () => {
    expect(recordStartEvent('j1', 'a', { attempt: 1, model: 'm', system: null })).toEqual({
      type: 'record-start',
      jobId: 'j1',
      recordId: 'a',
      attempt: 1,
      model: 'm',
    })
    expect(chunkEvent('j1', 'a', 0, 'x', '')).toEqual({
      type: 'chunk',
      jobId: 'j1',
      recordId: 'a',
      seq: 0,
      text: 'x',
    })
    expect('endedAt' in jobEndEvent('j1', { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0 })).toBe(
      false,
    )
  })

  it('turn any thrown value into an event error', () => {
    expect(toEventError(new PipelineError('SPOUT_INVALID_RECORD', 'record 1: not an object'))).toEqual({
      code: 'SPOUT_INVALID_RECORD',
      message: 'record 1: not an object',
    })
    expect(toEventError('boom')).toEqual({ code: 'SPOUT_ERROR', message: 'boom' })
  })
})

describe('jobResync', () => {
  it('rebuilds a running job: a fresh state folds its events into the same records', () => {
    const state = applyEvents(createState(), live())
    const rebuilt = applyEvents(createState(), jobResync(state.jobs.j1!))
    const job = rebuilt.jobs.j1!
    expect(
      job.records.map((record) => [record.recordId, record.status, record.text, record.thinking]),
    ).toEqual(
      state.jobs.j1!.records.map((record) => [record.recordId, record.status, record.text, record.thinking]),
    )
    expect(job.status).toBe('running')
    expect(job.total).toBe(3)
  })

  it('replayed over the state it came from, doubles no text and changes no count', () => {
    const state = applyEvents(createState(), live())
    const again = applyEvents(state, jobResync(state.jobs.j1!))
    const before = state.jobs.j1!
    const after = again.jobs.j1!
    expect([after.ok, after.skipped, after.failed]).toEqual([before.ok, before.skipped, before.failed])
    expect(after.records.map((record) => record.text)).toEqual(before.records.map((record) => record.text))
  })

  it('ends an ended job with its exact summary', () => {
    const summary = { ok: 1, failed: 0, skipped: 1, tokens: 5, duration: 9, interrupted: true }
    const events = [...live(), jobEndEvent('j1', summary, '2026-01-01T00:01:00.000Z')]
    const state = applyEvents(createState(), events)
    const resent = jobResync(state.jobs.j1!)
    expect(resent.at(-1)).toEqual({
      type: 'job-end',
      jobId: 'j1',
      summary,
      endedAt: '2026-01-01T00:01:00.000Z',
    })
  })

  it('resync of a running job on a pool ends with its hosts', () => {
    const hosts = [
      {
        host: 'http://a:11434',
        backend: 'ollama',
        state: 'up' as const,
        slots: 2,
        inFlight: 1,
        records: 0,
        failures: 0,
        tokens: 0,
        tokensPerSecond: 0,
      },
    ]
    const state = applyEvents(createState(), [...live(), hostsEvent('j1', hosts)])
    const events = jobResync(state.jobs.j1!)
    expect(events.filter((event) => event.type === 'hosts')).toEqual([{ type: 'hosts', jobId: 'j1', hosts }])
    expect(applyEvents(createState(), events).jobs.j1!.hosts).toEqual(hosts)
  })
})
