import type { SpoutEvent } from '@spout/core'
import { applyEvents, createState } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { JobStats } from './job-stats.ts'
import { JobView } from './job-view.ts'

const jobId = 'job-1'
const events = {
  start: (total: number): SpoutEvent => ({
    type: 'job-start',
    jobId,
    name: 'test',
    model: 'llama3.2',
    host: 'http://127.0.0.1:11434',
    startedAt: new Date(0).toISOString(),
    total,
  }),
  recordStart: (recordId: string, attempt = 1): SpoutEvent => ({
    type: 'record-start',
    jobId,
    recordId,
    attempt,
    model: 'llama3.2',
  }),
  chunk: (recordId: string, seq: number, text: string): SpoutEvent => ({
    type: 'chunk',
    jobId,
    recordId,
    seq,
    text,
  }),
  end: (recordId: string, response: string, extra: object = {}): SpoutEvent => ({
    type: 'record-end',
    jobId,
    recordId,
    response,
    attempts: 1,
    ...extra,
  }),
}

describe('JobView', () => {
  it('counts records, retries and chunks, and forgets a record when it ends', () => {
    const view = new JobView()
    for (const event of [
      events.start(3),
      events.end('done-before', '', { skipped: true }),
      events.recordStart('a'),
      events.chunk('a', 0, 'Hel'),
      events.chunk('a', 0, 'Hel'), // replayed: ignored
      events.recordStart('a', 2), // a retry starts the text over
      events.chunk('a', 0, 'Hello'),
      events.recordStart('b'),
      events.chunk('b', 0, 'Bye'),
    ]) {
      view.apply(event)
    }
    expect([...view.records()].map((record) => [record.recordId, record.attempt, record.text])).toEqual([
      ['a', 2, 'Hello'],
      ['b', 1, 'Bye'],
    ])
    view.apply(events.end('a', 'Hello', { attempts: 2 }))
    view.apply(events.end('b', '', { error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } }))
    expect(view.retained).toBe(0)
    expect(view.job).toMatchObject({
      total: 3,
      streaming: 0,
      ok: 1,
      failed: 1,
      skipped: 1,
      retries: 1,
      chunkCount: 3,
    })
    expect(view.takeFailures()).toEqual([
      { recordId: 'b', error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } },
    ])
    expect(view.takeFailures()).toEqual([])
  })

  it('keeps ended records with their final text until released, when asked to', () => {
    const view = new JobView({ keepEnded: true })
    view.apply(events.recordStart('a'))
    view.apply(events.chunk('a', 0, 'Hel'))
    view.apply(events.end('a', 'Hello', { metrics: { eval_count: 2 } }))
    const [record] = [...view.records()]
    expect(record).toMatchObject({
      recordId: 'a',
      status: 'done',
      text: 'Hello',
      attempts: 1,
      metrics: { eval_count: 2 },
    })
    view.release('b') // not held: nothing happens
    expect(view.retained).toBe(1)
    view.release('a')
    expect(view.retained).toBe(0)
    expect(view.job).toMatchObject({ ok: 1, prunedRecords: 1 })
  })

  it('takes a failure once, also while the failed record is kept for printing', () => {
    const view = new JobView({ keepEnded: true })
    view.apply([
      events.recordStart('a'),
      events.end('a', '', { error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } }),
    ])
    view.apply(events.recordStart('b'))
    expect(view.takeFailures()).toEqual([
      { recordId: 'a', error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } },
    ])
    view.apply(events.chunk('b', 0, 'x'))
    expect(view.takeFailures()).toEqual([])
    expect(view.records().map((record) => record.recordId)).toEqual(['a', 'b'])
  })

  it("shows no queued record, and holds the same job as core's reducer", () => {
    const view = new JobView()
    const folded: SpoutEvent[] = [
      events.start(2),
      { type: 'record-queued', jobId, recordId: 'b' },
      events.recordStart('a'),
      events.chunk('a', 0, 'Hi'),
    ]
    view.apply(folded)
    expect(view.records().map((record) => record.recordId)).toEqual(['a'])
    const state = applyEvents(createState(), folded)
    expect(view.job).toEqual(state.jobs[jobId])
  })

  it('counts each stage of a staged run, and the status line shows them instead of a total', () => {
    const view = new JobView()
    const start = (stage: string, id: string): SpoutEvent => ({
      type: 'record-start',
      jobId,
      recordId: `${stage}:${id}`,
      attempt: 1,
      model: 'llama3.2',
      stage,
    })
    const end = (stage: string, id: string, failed = false): SpoutEvent => ({
      type: 'record-end',
      jobId,
      recordId: `${stage}:${id}`,
      response: '',
      attempts: 1,
      stage,
      ...(failed ? { error: { code: 'SPOUT_FORMAT_ERROR', message: 'x' } } : {}),
    })
    for (const event of [
      events.start(2),
      start('teacher', 't1'),
      start('teacher', 't2'),
      end('teacher', 't1'),
      start('student', 't1.q1'),
      start('student', 't1.q2'),
      end('student', 't1.q1', true),
    ])
      view.apply(event)
    expect({ ...view.job!.stageCounts }).toMatchObject({
      teacher: { streaming: 1, ok: 1, failed: 0 },
      student: { streaming: 1, ok: 0, failed: 1 },
    })
    const line = new JobStats().statusLine(view.job!, 2000, 0)
    expect(line).toMatch(/^teacher 1 ✓ 1 … · student 0 ✓ 1 ✗ 1 … · 1 failed · /)
    expect(line).not.toMatch(/ETA|\/2/)
  })
})
