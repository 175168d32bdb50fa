// What a staged run's events tell a viewer: the stages in order (job-start), and per record the
// children a split made and the reason a filter dropped it (record-end). The reducer keeps them,
// and a resync (the events that rebuild a job) carries them again.
import { describe, expect, it } from 'vitest'
import { jobResync } from './event-builders.ts'
import { parseEvent } from './event-schema.ts'
import type { SpoutEvent } from './events.ts'
import { applyEvents, createState, getRecord } from './events-entry.ts'

const jobId = 'staged'
const events: SpoutEvent[] = [
  {
    type: 'job-start',
    jobId,
    name: 'topics.jsonl',
    model: 'a → b',
    host: 'http://127.0.0.1:11434',
    startedAt: '2026-01-01T00:00:00.000Z',
    total: 1,
    stages: ['teacher', 'student'],
  },
  { type: 'record-start', jobId, recordId: 'teacher:t1', attempt: 1, model: 'a', stage: 'teacher' },
  {
    type: 'record-end',
    jobId,
    recordId: 'teacher:t1',
    response: 'q?',
    attempts: 1,
    stage: 'teacher',
    children: 2,
  },
  { type: 'record-start', jobId, recordId: 'student:t1.1', attempt: 1, model: 'b', stage: 'student' },
  {
    type: 'record-end',
    jobId,
    recordId: 'student:t1.1',
    response: 'no',
    attempts: 1,
    stage: 'student',
    filtered: 'too short',
  },
]

describe('staged events', () => {
  it('are valid events, folded into the job and its records', () => {
    for (const event of events) expect(parseEvent(event)).toMatchObject({ ok: true })
    const job = applyEvents(createState(), events).jobs[jobId]!
    expect(job.stages).toEqual(['teacher', 'student'])
    expect(getRecord(job, 'teacher:t1')).toMatchObject({ status: 'done', children: 2 })
    expect(getRecord(job, 'student:t1.1')).toMatchObject({ status: 'done', filtered: 'too short' })
  })

  it('survive a resync', () => {
    const job = applyEvents(createState(), events).jobs[jobId]!
    const rebuilt = applyEvents(createState(), jobResync(job)).jobs[jobId]!
    expect(rebuilt.stages).toEqual(['teacher', 'student'])
    expect(getRecord(rebuilt, 'teacher:t1')?.children).toBe(2)
    expect(getRecord(rebuilt, 'student:t1.1')?.filtered).toBe('too short')
  })

  it('refuses a stage list that is not names', () => {
    expect(parseEvent({ ...events[0], stages: [''] })).toMatchObject({ ok: false })
  })
})
