import { describe, expect, it } from 'vitest'
import type { SpoutEvent } from './events.ts'
import { applyEvent, applyEvents, createState, getRecord, removeJob } from './reducer.ts'

const jobStart: SpoutEvent = {
  type: 'job-start',
  jobId: 'j1',
  name: 'demo',
  model: 'llama3.2',
  host: 'http://127.0.0.1:11434',
  total: 2,
  startedAt: '2026-01-01T00:00:00.000Z',
}

function recordStart(recordId: string, attempt = 1): SpoutEvent {
  return { type: 'record-start', jobId: 'j1', recordId, attempt, model: 'llama3.2', prompt: `q ${recordId}` }
}

function chunk(recordId: string, seq: number, text: string): SpoutEvent {
  return { type: 'chunk', jobId: 'j1', recordId, seq, text }
}

describe('applyEvent', () => {
  it('folds a job into records with their text so far', () => {
    const state = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      chunk('a', 0, 'Hel'),
      chunk('a', 1, 'lo'),
      recordStart('b'),
      chunk('b', 0, 'Hi'),
    ])
    const job = state.jobs.j1!
    expect(job.name).toBe('demo')
    expect(job.streaming).toBe(2)
    expect(getRecord(job, 'a')?.text).toBe('Hello')
    expect(getRecord(job, 'b')?.text).toBe('Hi')
    expect(job.records.map((record) => record.recordId)).toEqual(['a', 'b'])
  })

  it('never changes the state it is given, and keeps untouched records by identity', () => {
    const before = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      recordStart('b'),
      chunk('a', 0, 'x'),
    ])
    const recordB = getRecord(before.jobs.j1!, 'b')
    const after = applyEvent(before, chunk('a', 1, 'y'))
    expect(getRecord(before.jobs.j1!, 'a')?.text).toBe('x')
    expect(getRecord(after.jobs.j1!, 'a')?.text).toBe('xy')
    expect(getRecord(after.jobs.j1!, 'b')).toBe(recordB)
  })

  it('ignores replayed chunks and replayed hub sequences', () => {
    let state = applyEvents(createState(), [jobStart, recordStart('a'), chunk('a', 0, 'x')])
    state = applyEvent(state, chunk('a', 0, 'x'))
    expect(getRecord(state.jobs.j1!, 'a')?.text).toBe('x')
    const sequenced = applyEvents(createState(), [
      { ...jobStart, sequence: 1 },
      { ...recordStart('a'), sequence: 2 },
      { ...chunk('a', 0, 'x'), sequence: 3 },
    ])
    const replayed = applyEvents(sequenced, [
      { ...chunk('a', 0, 'x'), sequence: 3 },
      { ...chunk('a', 1, 'y'), sequence: 4 },
    ])
    expect(getRecord(replayed.jobs.j1!, 'a')?.text).toBe('xy')
    expect(replayed.jobs.j1!.lastSequence).toBe(4)
  })

  it('starts the text over on a retry and counts it', () => {
    const state = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      chunk('a', 0, 'partial'),
      recordStart('a', 2),
      chunk('a', 0, 'full'),
      { type: 'record-end', jobId: 'j1', recordId: 'a', response: 'full', attempts: 2 },
    ])
    const job = state.jobs.j1!
    expect(getRecord(job, 'a')).toMatchObject({ text: 'full', status: 'done', attempts: 2 })
    expect(job).toMatchObject({ retries: 1, ok: 1, streaming: 0 })
  })

  it('counts a retry once when a record-start is resent', () => {
    const state = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      recordStart('a', 2),
      recordStart('a', 2),
    ])
    expect(state.jobs.j1!.retries).toBe(1)
    const late = applyEvents(createState(), [jobStart, recordStart('b', 3)])
    expect(late.jobs.j1!.retries).toBe(2)
  })

  it('ends records as done, failed or skipped and ends the job', () => {
    const state = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      {
        type: 'record-end',
        jobId: 'j1',
        recordId: 'a',
        response: 'ok',
        attempts: 1,
        metrics: { eval_count: 7 },
      },
      recordStart('b'),
      {
        type: 'record-end',
        jobId: 'j1',
        recordId: 'b',
        response: '',
        attempts: 1,
        error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' },
      },
      { type: 'record-end', jobId: 'j1', recordId: 'c', response: 'old', attempts: 0, skipped: true },
      { type: 'job-end', jobId: 'j1', summary: { ok: 1, failed: 1, skipped: 1, tokens: 7, duration: 5 } },
    ])
    const job = state.jobs.j1!
    expect(job).toMatchObject({ ok: 1, failed: 1, skipped: 1, streaming: 0, tokens: 7, status: 'done' })
    expect(getRecord(job, 'b')?.error?.code).toBe('SPOUT_HTTP_ERROR')
  })

  it('keeps branches from one ancestor apart', () => {
    const base = applyEvents(createState(), [jobStart, recordStart('a')])
    const left = applyEvent(base, recordStart('x'))
    const right = applyEvent(base, recordStart('y'))
    expect(getRecord(left.jobs.j1!, 'x')?.recordId).toBe('x')
    expect(getRecord(left.jobs.j1!, 'y')).toBeUndefined()
    expect(getRecord(right.jobs.j1!, 'y')?.recordId).toBe('y')
    expect(getRecord(right.jobs.j1!, 'x')).toBeUndefined()
    const rightMore = applyEvent(right, recordStart('x'))
    expect(getRecord(rightMore.jobs.j1!, 'x')?.recordId).toBe('x')
    expect(getRecord(left.jobs.j1!, 'x')?.recordId).toBe('x')
  })

  it('removes a job', () => {
    const state = removeJob(applyEvent(createState(), jobStart), 'j1')
    expect(state.jobOrder).toEqual([])
    expect(state.jobs).toEqual({})
  })
})
