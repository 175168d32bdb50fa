import { describe, expect, it } from 'vitest'
import type { SpoutEvent } from './events.ts'
import { applyEvents, createState, getRecord, type JobState, pruneRecords } from './events-entry.ts'

const jobId = 'j1'
const start: SpoutEvent = { type: 'job-start', jobId, name: 'demo', model: 'm', host: 'h', startedAt: 't' }
const queued = (recordId: string): SpoutEvent => ({ type: 'record-queued', jobId, recordId })
const recordStart = (recordId: string, attempt = 1): SpoutEvent => ({
  type: 'record-start',
  jobId,
  recordId,
  attempt,
  model: 'm',
})
const recordEnd = (recordId: string, error?: boolean): SpoutEvent => ({
  type: 'record-end',
  jobId,
  recordId,
  response: 'ok',
  attempts: error ? 0 : 1,
  ...(error ? { error: { code: 'SPOUT_ABORTED', message: 'aborted' } } : {}),
})

const jobOf = (events: SpoutEvent[]): JobState => applyEvents(createState(), events).jobs[jobId]!

describe('queued records', () => {
  it('shows a record read ahead as queued, in input order, until it starts', () => {
    const job = jobOf([start, recordStart('a'), queued('b'), queued('c')])
    expect(job.records.map((record) => [record.recordId, record.status])).toEqual([
      ['a', 'streaming'],
      ['b', 'queued'],
      ['c', 'queued'],
    ])
    expect(job).toMatchObject({ streaming: 1, queued: 2, retries: 0 })
    const started = applyEvents({ jobs: { [jobId]: job }, jobOrder: [jobId] }, [recordStart('b')]).jobs[
      jobId
    ]!
    expect(getRecord(started, 'b')).toMatchObject({ status: 'streaming', attempt: 1 })
    expect(started).toMatchObject({ streaming: 2, queued: 1, retries: 0 })
  })

  it('ignores a record-queued for a record it already has (a replay)', () => {
    const job = jobOf([start, queued('a'), recordStart('a'), queued('a'), recordEnd('a'), queued('a')])
    expect(getRecord(job, 'a')?.status).toBe('done')
    expect(job).toMatchObject({ ok: 1, streaming: 0, queued: 0 })
  })

  it('counts a queued record aborted before it started as failed', () => {
    const job = jobOf([start, queued('a'), recordEnd('a', true)])
    expect(getRecord(job, 'a')?.status).toBe('failed')
    expect(job).toMatchObject({ failed: 1, queued: 0, streaming: 0 })
  })

  it('drops queued records that never started when the job ends', () => {
    const summary = { ok: 1, failed: 0, skipped: 0, tokens: 0, duration: 1, interrupted: true }
    const job = jobOf([
      start,
      queued('a'),
      queued('b'),
      recordStart('a'),
      recordEnd('a'),
      { type: 'job-end', jobId, summary },
    ])
    expect(job.records.map((record) => record.recordId)).toEqual(['a'])
    expect(getRecord(job, 'b')).toBeUndefined()
    expect(job.queued).toBe(0)
  })

  it('never prunes queued records', () => {
    const events: SpoutEvent[] = [start]
    for (let index = 0; index < 20; index++) events.push(recordStart(`d${index}`), recordEnd(`d${index}`))
    events.push(queued('q1'), queued('q2'))
    const state = pruneRecords(applyEvents(createState(), events), jobId, { maxFinished: 2, maxFailed: 0 })
    const job = state.jobs[jobId]!
    expect(job.records.map((record) => record.recordId)).toEqual(['d18', 'd19', 'q1', 'q2'])
    expect(job.queued).toBe(2)
  })
})
