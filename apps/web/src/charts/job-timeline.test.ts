import type { SpoutEvent } from '@spout/core/events'
import { applyEvents, createState } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { histogram, JobTimeline } from './job-timeline.ts'

const startedAt = Date.parse('2026-01-01T00:00:00Z')

function jobAfter(events: SpoutEvent[]) {
  return applyEvents(createState(), [
    {
      type: 'job-start',
      jobId: 'j',
      name: 'n',
      model: 'm',
      host: 'h',
      total: 10,
      startedAt: new Date(startedAt).toISOString(),
    },
    ...events,
  ]).jobs.j!
}

const chunks = (recordId: string, count: number, from = 0): SpoutEvent[] =>
  Array.from({ length: count }, (_, index) => ({
    type: 'chunk',
    jobId: 'j',
    recordId,
    seq: from + index,
    text: 'x',
  }))

const end = (
  recordId: string,
  extra: Partial<Extract<SpoutEvent, { type: 'record-end' }>> = {},
): SpoutEvent => ({
  type: 'record-end',
  jobId: 'j',
  recordId,
  response: 'x',
  attempts: 1,
  metrics: { total_duration: 300e6, eval_duration: 200e6, eval_count: 10, tokens_per_second: 50 },
  ...extra,
})

describe('JobTimeline', () => {
  it('samples tokens per second, records done, failures and retries at most once per interval', () => {
    const timeline = new JobTimeline(1_000)
    const start: SpoutEvent = { type: 'record-start', jobId: 'j', recordId: 'a', attempt: 1, model: 'm' }
    expect(timeline.sample(jobAfter([start, ...chunks('a', 5)]), startedAt + 1_000)).toBe(true)
    expect(timeline.sample(jobAfter([start, ...chunks('a', 8)]), startedAt + 1_500)).toBe(false)
    const retry: SpoutEvent = { type: 'record-start', jobId: 'j', recordId: 'b', attempt: 2, model: 'm' }
    const failed = end('b', { error: { code: 'SPOUT_HTTP_ERROR', message: 'no' }, metrics: undefined })
    expect(
      timeline.sample(jobAfter([start, ...chunks('a', 25), end('a'), retry, failed]), startedAt + 3_000),
    ).toBe(true)
    const { series } = timeline
    // The job's start, then two samples.
    expect(series.time).toEqual([startedAt / 1000, startedAt / 1000 + 1, startedAt / 1000 + 3])
    expect(series.tokensPerSecond).toEqual([null, null, 10])
    expect(series.finished).toEqual([0, 0, 2])
    expect(series.failed).toEqual([0, 0, 1])
    expect(series.retries).toEqual([0, 0, 1])
    expect(timeline.values.ttftMs).toEqual([100])
    expect(timeline.values.tokensPerSecond).toEqual([50])
  })

  it('samples an ended job once more, then stops; counts each record once', () => {
    const timeline = new JobTimeline(1_000)
    const running = jobAfter([end('a')])
    timeline.sample(running, startedAt + 1_000)
    timeline.sample(jobAfter([end('a')]), startedAt + 2_000)
    const ended = jobAfter([
      end('a'),
      { type: 'job-end', jobId: 'j', summary: { ok: 1, failed: 0, skipped: 0, tokens: 10, duration: 2_100 } },
    ])
    expect(timeline.sample(ended, startedAt + 2_100)).toBe(true)
    expect(timeline.sample(ended, startedAt + 9_000)).toBe(false)
    expect(timeline.values.ttftMs).toHaveLength(1)
  })

  it('keeps tokens per second per host when record-start events name hosts', () => {
    const timeline = new JobTimeline(1_000, 'j')
    const startOn = (recordId: string, host: string): SpoutEvent => ({
      type: 'record-start',
      jobId: 'j',
      recordId,
      attempt: 1,
      model: 'm',
      host,
    })
    const events = [startOn('a', 'http://one'), ...chunks('a', 4)]
    timeline.observe(events)
    timeline.observe([{ ...startOn('x', 'http://other-job'), jobId: 'k' }])
    timeline.sample(jobAfter(events), startedAt + 1_000)
    const more = [startOn('b', 'http://two'), ...chunks('b', 6), ...chunks('a', 2, 4), end('a')]
    timeline.observe(more)
    timeline.observe(chunks('a', 3, 6))
    timeline.sample(jobAfter([...events, ...more]), startedAt + 3_000)
    expect(timeline.series.time).toHaveLength(3)
    expect(timeline.series.hosts.get('http://one')).toEqual([null, null, 1])
    expect(timeline.series.hosts.get('http://two')).toEqual([null, null, 3])
    expect(timeline.series.hosts.has('http://other-job')).toBe(false)
  })

  it('estimates the end from the pace so far', () => {
    const timeline = new JobTimeline()
    const job = jobAfter([end('a'), end('b')])
    expect(timeline.eta(job, startedAt + 4_000)).toEqual({ at: startedAt + 4_000 + 16_000, total: 10 })
  })
})

describe('histogram', () => {
  it('counts values into equal bins', () => {
    expect(histogram([0, 1, 2, 3, 10], 2)).toEqual({ centers: [2.5, 7.5], counts: [4, 1] })
    expect(histogram([5, 5], 4)).toEqual({ centers: [5.5], counts: [2] })
    expect(histogram([])).toEqual({ centers: [], counts: [] })
  })
})
