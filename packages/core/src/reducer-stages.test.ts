import { describe, expect, it } from 'vitest'
import type { SpoutEvent } from './events.ts'
import {
  applyEvent,
  applyEvents,
  createState,
  dropRecords,
  getRecord,
  type JobState,
  pruneRecords,
} from './events-entry.ts'

const jobId = 'j1'
const start: SpoutEvent = {
  type: 'job-start',
  jobId,
  name: 'demo',
  model: 'm',
  host: 'h',
  startedAt: 't',
  stages: ['teacher', 'student'],
}
const recordStart = (stage: string, id: string, attempt = 1): SpoutEvent => ({
  type: 'record-start',
  jobId,
  recordId: `${stage}:${id}`,
  attempt,
  model: 'm',
  stage,
})
const chunk = (stage: string, id: string): SpoutEvent => ({
  type: 'chunk',
  jobId,
  recordId: `${stage}:${id}`,
  seq: 0,
  text: 'x',
  stage,
})
const recordEnd = (stage: string, id: string, outcome: 'ok' | 'failed' | 'skipped' = 'ok'): SpoutEvent => ({
  type: 'record-end',
  jobId,
  recordId: `${stage}:${id}`,
  response: 'x',
  attempts: 1,
  stage,
  ...(outcome === 'failed' ? { error: { code: 'SPOUT_FORMAT_ERROR', message: 'bad' } } : {}),
  ...(outcome === 'skipped' ? { skipped: true } : {}),
})

const none = { streaming: 0, ok: 0, failed: 0, filtered: 0, skipped: 0, passedOn: 0 }

const jobOf = (events: SpoutEvent[]): JobState => applyEvents(createState(), events).jobs[jobId]!

describe('stage counts', () => {
  it('counts each stage streaming, done and failed, a retry once, a skip not at all', () => {
    const job = jobOf([
      start,
      recordStart('teacher', 't1'),
      recordStart('teacher', 't2'),
      recordStart('teacher', 't2', 2),
      recordEnd('teacher', 't1'),
      recordStart('student', 't1.q1'),
      recordStart('student', 't1.q2'),
      recordEnd('student', 't1.q1', 'failed'),
      recordEnd('student', 't0.q1', 'skipped'),
    ])
    expect({ ...job.stageCounts }).toEqual({
      teacher: { ...none, streaming: 1, ok: 1, passedOn: 1 },
      student: { ...none, streaming: 1, failed: 1, skipped: 1, passedOn: 1 },
    })
    expect(job).toMatchObject({ streaming: 2, ok: 1, failed: 1, skipped: 1, retries: 1 })
  })

  it('counts a record first heard of by its chunk or its end, and no stage for unstaged events', () => {
    const job = jobOf([
      start,
      chunk('student', 'a'),
      recordEnd('student', 'b', 'failed'),
      chunk('student', 'c'),
    ])
    expect({ ...job.stageCounts }).toEqual({ student: { ...none, streaming: 2, failed: 1 } })
    const plain = jobOf([
      { ...start, stages: undefined },
      { type: 'record-start', jobId, recordId: 'a', attempt: 1, model: 'm' },
    ])
    expect(plain.stageCounts).toBeUndefined()
  })

  it('never changes the state it was given, and a stage named like a prototype key is a stage', () => {
    const before = applyEvents(createState(), [start, recordStart('teacher', 'a')])
    const table = before.jobs[jobId]!.stageCounts
    const after = applyEvents(before, [recordEnd('teacher', 'a'), recordStart('constructor', 'b')])
    expect({ ...before.jobs[jobId]!.stageCounts }).toEqual({ teacher: { ...none, streaming: 1 } })
    expect(before.jobs[jobId]!.stageCounts).toBe(table)
    expect({ ...after.jobs[jobId]!.stageCounts }).toEqual({
      teacher: { ...none, ok: 1, passedOn: 1 },
      constructor: { ...none, streaming: 1 },
    })
  })

  it('outlive the records they count when those are pruned', () => {
    let state = applyEvent(createState(), start)
    for (let index = 0; index < 50; index++) {
      state = applyEvents(state, [recordStart('teacher', `r${index}`), recordEnd('teacher', `r${index}`)])
      state = pruneRecords(state, jobId, { maxFinished: 2 })
    }
    const job = state.jobs[jobId]!
    expect(job.records.length).toBeLessThanOrEqual(6)
    expect(job.stageCounts?.teacher).toEqual({ ...none, ok: 50, passedOn: 50 })
  })
})

describe('stage counts of how records end', () => {
  const end = (id: string, extra: Record<string, unknown>): SpoutEvent =>
    ({ ...recordEnd('teacher', id), ...extra }) as SpoutEvent

  it('count what the filter dropped, what was skipped, and what went on (a split: its children)', () => {
    const job = jobOf([
      start,
      end('split', { children: 3 }),
      end('plain', {}),
      end('dropped', { filtered: 'too short' }),
      end('stored', { skipped: true, children: 2 }),
      end('in-output', { skipped: true, filtered: 'too short' }),
      end('broken', { error: { code: 'SPOUT_FORMAT_ERROR', message: 'bad' } }),
    ])
    expect(job.stageCounts?.teacher).toEqual({
      ...none,
      ok: 3,
      failed: 1,
      filtered: 1,
      skipped: 2,
      passedOn: 6,
    })
  })

  it('a record-end resent (a producer resynchronizing a hub) counts once', () => {
    const job = jobOf([
      start,
      end('a', { children: 3 }),
      end('b', { filtered: 'too short' }),
      end('a', { children: 3 }),
      end('b', { filtered: 'too short' }),
    ])
    expect(job.stageCounts?.teacher).toEqual({ ...none, ok: 2, filtered: 1, passedOn: 3 })
  })
})

describe('dropRecords', () => {
  it('drops the finished records picked, keeps running and queued ones, and the counters', () => {
    const state = applyEvents(createState(), [
      start,
      recordStart('teacher', 'a'),
      recordStart('teacher', 'b'),
      { type: 'record-queued', jobId, recordId: 'teacher:c', stage: 'teacher' },
      recordEnd('teacher', 'a'),
    ])
    expect(dropRecords(state, jobId, () => false)).toBe(state)
    expect(dropRecords(state, 'other', () => true)).toBe(state)
    const dropped = dropRecords(state, jobId, () => true)
    const job = dropped.jobs[jobId]!
    expect(job.records.map((record) => record.recordId)).toEqual(['teacher:b', 'teacher:c'])
    expect(getRecord(job, 'teacher:a')).toBeUndefined()
    expect(getRecord(job, 'teacher:c')).toMatchObject({ status: 'queued' })
    expect(job).toMatchObject({ ok: 1, streaming: 1, queued: 1, prunedRecords: 1 })
    expect(state.jobs[jobId]!.records).toHaveLength(3)
    // The job goes on after the drop: new records land at the right place.
    const later = applyEvents(dropped, [recordStart('teacher', 'd'), recordEnd('teacher', 'b')]).jobs[jobId]!
    expect(getRecord(later, 'teacher:d')).toMatchObject({ status: 'streaming' })
    expect(getRecord(later, 'teacher:b')).toMatchObject({ status: 'done' })
    expect(later.stageCounts?.teacher).toEqual({ ...none, streaming: 1, ok: 2, passedOn: 2 })
  })
})
