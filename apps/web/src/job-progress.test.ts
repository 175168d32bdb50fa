import type { SpoutEvent } from '@spout/core/events'
import { applyEvents, createState, pruneRecords } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { formatDuration, formatRate } from './format.ts'
import { jobProgress } from './job-progress.ts'

const startedAt = '2026-01-01T00:00:00.000Z'
const start = Date.parse(startedAt)

function jobWith(events: SpoutEvent[]) {
  const state = applyEvents(createState(), [
    { type: 'job-start', jobId: 'j', name: 'n', model: 'm', host: 'h', startedAt, total: 10 },
    ...events,
  ])
  return state.jobs.j!
}

const finished = (recordId: string, tokens: number): SpoutEvent[] => [
  { type: 'record-start', jobId: 'j', recordId, attempt: 1, model: 'm' },
  { type: 'record-end', jobId: 'j', recordId, response: 'x', attempts: 1, metrics: { eval_count: tokens } },
]

describe('jobProgress', () => {
  it('gives progress, queued records, live tokens per second and an ETA while a job runs', () => {
    const job = jobWith([
      ...finished('a', 100),
      ...finished('b', 100),
      { type: 'record-start', jobId: 'j', recordId: 'c', attempt: 1, model: 'm' },
      { type: 'chunk', jobId: 'j', recordId: 'c', seq: 0, text: 'x' },
    ])
    const progress = jobProgress(job, start + 10_000)
    expect(progress).toMatchObject({ finished: 2, total: 10, queued: 7, fraction: 0.2, elapsedMs: 10_000 })
    expect(progress.tokensPerSecond).toBe(20) // 200 tokens of finished records over 10 s
    expect(progress.etaMs).toBe(40_000) // 8 left at 5 s each
  })

  it('counts queued records from the counts when the hub sent only the last finished records', () => {
    const events: SpoutEvent[] = []
    for (const recordId of ['a', 'b', 'c', 'd', 'e', 'f']) events.push(...finished(recordId, 10))
    events.push({ type: 'record-start', jobId: 'j', recordId: 'g', attempt: 1, model: 'm' })
    const pruned = pruneRecords({ jobs: { j: jobWith(events) }, jobOrder: ['j'] }, 'j', {
      maxFinished: 1,
      maxFailed: 0,
    })
    const job = pruned.jobs.j!
    expect(job.records).toHaveLength(2)
    expect(jobProgress(job, start + 10_000)).toMatchObject({ finished: 6, total: 10, queued: 3 })
  })

  it('uses the summary once the job ends, with no ETA', () => {
    const job = jobWith([
      ...finished('a', 300),
      {
        type: 'job-end',
        jobId: 'j',
        summary: { ok: 1, failed: 0, skipped: 0, tokens: 300, duration: 3000, interrupted: true },
        endedAt: '2026-01-01T00:00:03.000Z',
      },
    ])
    const progress = jobProgress(job, start + 60_000)
    expect(job.status).toBe('interrupted')
    expect(progress.elapsedMs).toBe(3000)
    expect(progress.tokensPerSecond).toBe(100)
    expect(progress.etaMs).toBeUndefined()
  })
})

describe('format', () => {
  it('writes durations and rates the way the page shows them', () => {
    expect(formatDuration(850)).toBe('850ms')
    expect(formatDuration(12_400)).toBe('12.4s')
    expect(formatDuration(185_000)).toBe('3m 05s')
    expect(formatDuration(3_720_000)).toBe('1h 02m')
    expect(formatDuration(undefined)).toBe('–')
    expect(formatRate(42.25)).toBe('42.3')
  })
})
