import type { SpoutEvent } from '@spout/core/events'
import { applyEvents, createState, pruneRecords } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { ancestryOf, childrenOf, parentOf, stagedId, stageProgress } from './stage-view.ts'

const jobId = 'j'
const stages = ['teacher', 'student', 'judge']
const start = (recordId: string): SpoutEvent => ({
  type: 'record-start',
  jobId,
  recordId,
  attempt: 1,
  model: 'm',
  stage: recordId.split(':')[0]!,
})
const end = (
  recordId: string,
  extra: Partial<Extract<SpoutEvent, { type: 'record-end' }>> = {},
): SpoutEvent => ({
  type: 'record-end',
  jobId,
  recordId,
  response: `answer of ${recordId}`,
  attempts: 1,
  stage: recordId.split(':')[0]!,
  ...extra,
})

/** A staged job; `total: null` for an input of unknown size. */
function job(events: SpoutEvent[], total: number | null = 2) {
  return applyEvents(createState(), [
    {
      type: 'job-start',
      jobId,
      name: 'topics',
      model: 'a → b → c',
      host: 'h',
      startedAt: '2026-01-01T00:00:00.000Z',
      stages,
      ...(total === null ? {} : { total }),
    },
    ...events,
  ]).jobs[jobId]!
}

// Two topics; t1 split in three questions (one still being answered), t2 still with the teacher.
const events: SpoutEvent[] = [
  start('teacher:t1'),
  end('teacher:t1', { children: 3 }),
  start('teacher:t2'),
  start('student:t1.q1'),
  end('student:t1.q1'),
  start('student:t1.q2'),
  end('student:t1.q2', { error: { code: 'SPOUT_HTTP_ERROR', message: 'no' } }),
  start('student:t1.q3'),
  start('judge:t1.q1'),
  end('judge:t1.q1', { filtered: 'score 2 < 5' }),
]

describe('stageProgress', () => {
  it('counts each stage, with the totals known so far', () => {
    expect(stageProgress(job(events))).toEqual([
      { name: 'teacher', done: 1, failed: 0, filtered: 0, skipped: 0, running: 1, total: 2, settled: true },
      { name: 'student', done: 1, failed: 1, filtered: 0, skipped: 0, running: 1, total: 3, settled: false },
      { name: 'judge', done: 0, failed: 0, filtered: 1, skipped: 0, running: 0, total: 1, settled: false },
    ])
  })

  it('settles the totals once the stages before have ended every record', () => {
    const progress = stageProgress(
      job([...events, end('teacher:t2', { children: 1 }), end('student:t1.q3')], 2),
    )!
    expect(progress.map((stage) => [stage.total, stage.settled])).toEqual([
      [2, true],
      [4, true],
      [2, false],
    ])
  })

  it('counts what a resumed run did not ask again: stored results go on, records already written do not', () => {
    const resumed = job([
      end('teacher:t1', { skipped: true, children: 3 }),
      end('student:t1.q1', { skipped: true, children: 0 }),
      end('student:t1.q2', { skipped: true }),
      start('student:t1.q3'),
      start('judge:t1.q2'),
    ])
    expect(
      stageProgress(resumed)!.map(({ name, skipped, running, total }) => ({ name, skipped, running, total })),
    ).toEqual([
      { name: 'teacher', skipped: 1, running: 0, total: 2 },
      { name: 'student', skipped: 2, running: 1, total: 3 },
      { name: 'judge', skipped: 0, running: 1, total: 1 },
    ])
  })

  it('stays exact when the page has let finished records go (a long batch), and reads old states from records', () => {
    const whole = applyEvents(createState(), [
      { type: 'job-start', jobId, name: 'n', model: 'm', host: 'h', startedAt: 't', stages, total: 2 },
      ...events,
    ])
    const pruned = pruneRecords(whole, jobId, { maxFinished: 0, maxFailed: 0 }).jobs[jobId]!
    expect(pruned.records.length).toBeLessThan(whole.jobs[jobId]!.records.length)
    expect(stageProgress(pruned)).toEqual(stageProgress(whole.jobs[jobId]!))
    // Stage counts from before filtered, skipped and passed-on were counted: the records say.
    const old = { ...whole.jobs[jobId]!, stageCounts: { teacher: { streaming: 1, ok: 1, failed: 0 } } }
    expect(stageProgress(old)).toEqual(stageProgress(whole.jobs[jobId]!))
  })

  it('has no totals when the input size is unknown, and nothing for a job without stages', () => {
    expect(stageProgress(job(events, null))!.map((stage) => stage.total)).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    const plain = applyEvents(createState(), [
      { type: 'job-start', jobId, name: 'n', model: 'm', host: 'h', startedAt: '2026-01-01T00:00:00.000Z' },
      { type: 'record-start', jobId, recordId: 'a:b', attempt: 1, model: 'm' },
    ]).jobs[jobId]!
    expect(stageProgress(plain)).toBeUndefined()
  })
})

describe('lineage', () => {
  const staged = job(events)

  it('splits a record id into its stage and lineage id', () => {
    expect(stagedId(stages, 'student:t1.q2')).toEqual({ stage: 'student', index: 1, id: 't1.q2' })
    expect(stagedId(stages, 'other:t1')).toBeUndefined()
  })

  it('links an answer to its question and a verdict to its answer', () => {
    expect(parentOf(staged, 'student:t1.q2')?.recordId).toBe('teacher:t1')
    expect(parentOf(staged, 'judge:t1.q1')?.recordId).toBe('student:t1.q1')
    expect(parentOf(staged, 'teacher:t1')).toBeUndefined()
    expect(ancestryOf(staged, 'judge:t1.q1').map((record) => record.recordId)).toEqual([
      'teacher:t1',
      'student:t1.q1',
      'judge:t1.q1',
    ])
  })

  it('lists what came of a record in the next stage', () => {
    expect(childrenOf(staged, 'teacher:t1').map((record) => record.recordId)).toEqual([
      'student:t1.q1',
      'student:t1.q2',
      'student:t1.q3',
    ])
    expect(childrenOf(staged, 'student:t1.q1').map((record) => record.recordId)).toEqual(['judge:t1.q1'])
    expect(childrenOf(staged, 'teacher:t2')).toEqual([])
  })

  it('does not take a record whose id merely starts alike for a child', () => {
    const alike = job([
      start('teacher:t1'),
      end('teacher:t1'),
      start('teacher:t10'),
      end('teacher:t10'),
      start('student:t10'),
    ])
    expect(childrenOf(alike, 'teacher:t1')).toEqual([])
    expect(parentOf(alike, 'student:t10')?.recordId).toBe('teacher:t10')
  })
})
