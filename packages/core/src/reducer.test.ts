import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RecordEndEvent, SpoutEvent } from './events.ts'
import {
  applyEvent,
  applyEvents,
  createState,
  getRecord,
  type JobState,
  pruneRecords,
  removeJob,
  type SpoutState,
} from './events-entry.ts'
import { fromSnapshot, toSnapshot } from './hub-protocol.ts'

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

/** A record-end of job j1: `response` and `attempts`, and whatever else the test gives. */
function endEvent(
  recordId: string,
  response: string,
  attempts: number,
  fields: Partial<RecordEndEvent> = {},
): SpoutEvent {
  return { type: 'record-end', jobId: 'j1', recordId, response, attempts, ...fields }
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
      endEvent('a', 'full', 2),
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
      endEvent('a', 'ok', 1, { metrics: { eval_count: 7 } }),
      recordStart('b'),
      endEvent('b', '', 1, { error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } }),
      endEvent('c', 'old', 0, { skipped: true }),
      { type: 'job-end', jobId: 'j1', summary: { ok: 1, failed: 1, skipped: 1, tokens: 7, duration: 5 } },
    ])
    const job = state.jobs.j1!
    expect(job).toMatchObject({ ok: 1, failed: 1, skipped: 1, streaming: 0, tokens: 7, status: 'done' })
    expect(getRecord(job, 'b')?.error?.code).toBe('SPOUT_HTTP_ERROR')
  })

  it('replaces a record-end resent with another outcome whole: no error, tokens or filter of the first stay', () => {
    const state = applyEvents(createState(), [
      jobStart,
      recordStart('a'),
      endEvent('a', '', 1, {
        metrics: { eval_count: 5 },
        error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' },
        filtered: 'low',
        children: 0,
      }),
      endEvent('a', 'ok', 2, { metrics: { eval_count: 7 } }),
    ])
    const job = state.jobs.j1!
    const record = getRecord(job, 'a')!
    expect(record).toMatchObject({ status: 'done', text: 'ok', attempts: 2, metrics: { eval_count: 7 } })
    expect(record.error).toBeUndefined()
    expect(record.filtered).toBeUndefined()
    expect(record.children).toBeUndefined()
    expect(job).toMatchObject({ ok: 1, failed: 0, tokens: 7 })
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

  it('treats job ids such as constructor and __proto__ as jobs like any other', () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype']
    let state = createState()
    for (const jobId of names) {
      state = applyEvents(state, [
        { ...jobStart, jobId },
        { type: 'record-start', jobId, recordId: 'constructor', attempt: 1, model: 'm' },
        { type: 'chunk', jobId, recordId: 'constructor', seq: 0, text: jobId },
      ])
    }
    expect(state.jobOrder).toEqual(names)
    for (const jobId of names) {
      expect(Object.hasOwn(state.jobs, jobId)).toBe(true)
      expect(getRecord(state.jobs[jobId]!, 'constructor')?.text).toBe(jobId)
    }
    expect(Object.getPrototypeOf(state.jobs)).toBeNull()
    // Unknown ids are not found on any prototype either.
    expect(state.jobs.valueOf).toBeUndefined()
    const copied = fromSnapshot(createState(), { full: true, jobs: toSnapshot(state) })
    expect(copied.jobOrder).toEqual(names)
    const protoKey = names[1]!
    expect(getRecord(copied.jobs[protoKey]!, 'constructor')?.text).toBe('__proto__')
    const pruned = pruneRecords(state, 'constructor', { maxFinished: 0 })
    expect(pruned.jobs.constructor).toBe(state.jobs.constructor)
    const removed = removeJob(state, '__proto__')
    expect(removed.jobOrder).toEqual(names.filter((name) => name !== '__proto__'))
    expect(Object.hasOwn(removed.jobs, '__proto__')).toBe(false)
    expect(removeJob(createState(), 'constructor').jobOrder).toEqual([])
  })

  it('keeps the hosts of a pool from the last hosts event, then from the job-end summary', () => {
    const report = {
      host: 'http://a:11434',
      backend: 'ollama',
      state: 'up' as const,
      slots: 4,
      inFlight: 2,
      records: 1,
      failures: 0,
      tokens: 40,
      tokensPerSecond: 80,
    }
    let state = applyEvents(createState(), [
      jobStart,
      { type: 'hosts', jobId: 'j1', hosts: [report] },
      { type: 'hosts', jobId: 'j1', hosts: [{ ...report, state: 'down', reason: 'connection refused' }] },
    ])
    expect(state.jobs.j1!.hosts).toEqual([{ ...report, state: 'down', reason: 'connection refused' }])
    expect(state.jobs.j1!.status).toBe('running')
    state = applyEvents(state, [
      {
        type: 'job-end',
        jobId: 'j1',
        summary: {
          ok: 2,
          failed: 0,
          skipped: 0,
          tokens: 80,
          duration: 5,
          hosts: [{ ...report, inFlight: 0 }],
        },
      },
    ])
    expect(state.jobs.j1!.hosts).toEqual([{ ...report, inFlight: 0 }])
    // A snapshot carries them to a viewer that joins late.
    expect(
      fromSnapshot(createState(), { full: true, jobs: toSnapshot(state, ['j1']) }).jobs.j1!.hosts,
    ).toEqual([{ ...report, inFlight: 0 }])
  })

  it('removes a job', () => {
    const state = removeJob(applyEvent(createState(), jobStart), 'j1')
    expect(state.jobOrder).toEqual([])
    expect(state.jobs).toEqual({})
  })
})

function recordEnd(
  recordId: string,
  outcome: 'done' | 'failed' | 'skipped' = 'done',
  tokens = 1,
): SpoutEvent {
  return endEvent(recordId, `answer ${recordId}`, 1, {
    metrics: { eval_count: tokens },
    ...(outcome === 'failed' ? { error: { code: 'SPOUT_HTTP_ERROR', message: 'boom' } } : {}),
    ...(outcome === 'skipped' ? { skipped: true } : {}),
  })
}

/** A whole record's life: start, two chunks, end. */
function lifecycle(recordId: string, outcome: 'done' | 'failed' | 'skipped' = 'done'): SpoutEvent[] {
  return [
    recordStart(recordId),
    chunk(recordId, 0, 'answer '),
    chunk(recordId, 1, recordId),
    recordEnd(recordId, outcome, 3),
  ]
}

function counters(job: JobState) {
  const { ok, failed, skipped, streaming, retries, tokens, chunkCount, lastSequence, status } = job
  return { ok, failed, skipped, streaming, retries, tokens, chunkCount, lastSequence, status }
}

const ids = (job: JobState): string[] => job.records.map((record) => record.recordId)

describe('pruneRecords', () => {
  /** 30 done, every 5th failed, every 7th skipped, r30 retried, then 3 records still running. */
  function bigJob(): SpoutState {
    const events: SpoutEvent[] = [jobStart]
    for (let index = 1; index <= 30; index++) {
      const outcome = index % 5 === 0 ? 'failed' : index % 7 === 0 ? 'skipped' : 'done'
      const life = lifecycle(`r${index}`, outcome)
      if (index === 30) events.push(recordStart('r30'), recordStart('r30', 2), ...life.slice(1))
      else events.push(...life)
    }
    events.push(recordStart('s1'), chunk('s1', 0, 'so far'), recordStart('s2'), recordStart('s3'))
    return applyEvents(createState(), events)
  }

  it('keeps running records and the most recent finished ones, with exact counters', () => {
    const before = bigJob()
    const after = pruneRecords(before, 'j1', { maxFinished: 4, maxFailed: 2 })
    const job = after.jobs.j1!
    expect(counters(job)).toEqual(counters(before.jobs.j1!))
    expect(counters(job)).toMatchObject({
      ok: 20,
      failed: 6,
      skipped: 4,
      streaming: 3,
      retries: 1,
      tokens: 90,
    })
    // Done/skipped: r26, r27, r28 (skipped), r29; failed: r25, r30; all three running ones.
    expect(ids(job)).toEqual(['r25', 'r26', 'r27', 'r28', 'r29', 'r30', 's1', 's2', 's3'])
    expect(job.prunedRecords).toBe(24)
    expect(getRecord(job, 'r1')).toBeUndefined()
    expect(getRecord(job, 's1')?.text).toBe('so far')
    expect(getRecord(job, 'r30')).toMatchObject({ status: 'failed', attempt: 2 })
  })

  it('is pure and keeps the identity of every record it keeps', () => {
    const before = bigJob()
    const recordsBefore = before.jobs.j1!.records
    const after = pruneRecords(before, 'j1', { maxFinished: 4, maxFailed: 2 })
    expect(before.jobs.j1!.records).toBe(recordsBefore)
    expect(before.jobs.j1!.records).toHaveLength(33)
    expect(getRecord(before.jobs.j1!, 'r1')?.text).toBe('answer r1')
    for (const record of after.jobs.j1!.records)
      expect(record).toBe(getRecord(before.jobs.j1!, record.recordId))
    // The old state and the pruned one go on apart.
    const fromBefore = applyEvent(before, recordStart('n1'))
    const fromAfter = applyEvents(after, [...lifecycle('n2'), chunk('s1', 1, ' more')])
    expect(getRecord(fromBefore.jobs.j1!, 'n2')).toBeUndefined()
    expect(getRecord(fromAfter.jobs.j1!, 'n1')).toBeUndefined()
    expect(getRecord(fromAfter.jobs.j1!, 'n2')?.status).toBe('done')
    expect(getRecord(fromAfter.jobs.j1!, 's1')?.text).toBe('so far more')
    expect(getRecord(fromAfter.jobs.j1!, 'r29')).toBe(getRecord(before.jobs.j1!, 'r29'))
    expect(fromAfter.jobs.j1!.ok).toBe(21)
  })

  it('does nothing until the finished records pass 1.5 × the limits (amortized)', () => {
    const limits = { maxFinished: 8, maxFailed: 0 }
    let state = applyEvent(createState(), jobStart)
    const sizes: number[] = []
    for (let index = 1; index <= 40; index++) {
      const applied = applyEvents(state, lifecycle(`r${index}`))
      const pruned = pruneRecords(applied, 'j1', limits)
      if (index <= 12) expect(pruned).toBe(applied)
      sizes.push(pruned.jobs.j1!.records.length)
      state = pruned
    }
    // Up to 12 held, pruned back to 8 on the 13th: a pass every 5 records, not on each one.
    expect(Math.max(...sizes)).toBe(12)
    expect(sizes.slice(10, 20)).toEqual([11, 12, 8, 9, 10, 11, 12, 8, 9, 10])
    expect(state.jobs.j1!.ok).toBe(40)
    expect(state.jobs.j1!.prunedRecords).toBe(40 - sizes.at(-1)!)
    expect(pruneRecords(state, 'missing', limits)).toBe(state)
  })

  it('keeps failed records apart from the done ones; maxFailed defaults to maxFinished', () => {
    const events: SpoutEvent[] = [jobStart, ...lifecycle('f1', 'failed')]
    for (let index = 1; index <= 20; index++) events.push(...lifecycle(`r${index}`))
    const state = applyEvents(createState(), events)
    expect(ids(pruneRecords(state, 'j1', { maxFinished: 3, maxFailed: 1 }).jobs.j1!)).toEqual([
      'f1',
      'r18',
      'r19',
      'r20',
    ])
    expect(ids(pruneRecords(state, 'j1', { maxFinished: 3 }).jobs.j1!)).toEqual(['f1', 'r18', 'r19', 'r20'])
    expect(ids(pruneRecords(state, 'j1', { maxFinished: 0, maxFailed: 0 }).jobs.j1!)).toEqual([])
  })

  it('ignores replays after pruning, and a snapshot of a pruned job carries exact counters', () => {
    const events: SpoutEvent[] = [jobStart]
    for (let index = 1; index <= 50; index++) events.push(...lifecycle(`r${index}`))
    events.push(recordStart('live'), chunk('live', 0, 'partial'))
    const sequenced = events.map((event, index) => ({ ...event, sequence: index + 1 }))
    const whole = applyEvents(createState(), sequenced)
    const pruned = pruneRecords(whole, 'j1', { maxFinished: 5, maxFailed: 5 })
    expect(pruned.jobs.j1!.records).toHaveLength(6)
    const replayed = applyEvents(pruned, sequenced)
    expect(counters(replayed.jobs.j1!)).toEqual(counters(whole.jobs.j1!))
    expect(ids(replayed.jobs.j1!)).toEqual(ids(pruned.jobs.j1!))
    expect(replayed.jobs.j1!.records).toEqual(pruned.jobs.j1!.records)

    const viewer = fromSnapshot(createState(), { full: true, jobs: toSnapshot(pruned) })
    expect(counters(viewer.jobs.j1!)).toEqual(counters(whole.jobs.j1!))
    expect(viewer.jobs.j1!.prunedRecords).toBe(45)
    const next = { ...chunk('live', 1, ' more'), sequence: sequenced.length + 1 }
    const resumed = applyEvents(viewer, [sequenced[3]!, next])
    expect(getRecord(resumed.jobs.j1!, 'live')?.text).toBe('partial more')
    expect(resumed.jobs.j1!.ok).toBe(50)
  })

  it('never changes what the counters say, whenever and however it prunes (property)', () => {
    const outcome = fc.constantFrom('done' as const, 'failed' as const, 'skipped' as const)
    fc.assert(
      fc.property(
        fc.array(fc.record({ outcome, retry: fc.boolean(), pruneAfter: fc.boolean() }), {
          minLength: 1,
          maxLength: 80,
        }),
        fc.nat({ max: 6 }),
        fc.nat({ max: 4 }),
        (plan, maxFinished, maxFailed) => {
          let whole = applyEvent(createState(), jobStart)
          let pruned = whole
          plan.forEach((step, index) => {
            const id = `r${index}`
            const events = [...lifecycle(id, step.outcome)]
            if (step.retry) events.splice(1, 0, recordStart(id, 2))
            // A record still running when the next one starts: it must survive every prune.
            events.splice(events.length - 1, 1)
            whole = applyEvents(whole, events)
            pruned = applyEvents(pruned, events)
            if (step.pruneAfter) pruned = pruneRecords(pruned, 'j1', { maxFinished, maxFailed })
            const end = recordEnd(id, step.outcome, 3)
            whole = applyEvent(whole, end)
            pruned = applyEvent(pruned, end)
            pruned = pruneRecords(pruned, 'j1', { maxFinished, maxFailed })
          })
          const job = pruned.jobs.j1!
          expect(counters(job)).toEqual(counters(whole.jobs.j1!))
          const limit = maxFinished + maxFailed
          expect(job.records.length - job.streaming).toBeLessThanOrEqual(
            limit + Math.max(1, Math.ceil(limit / 2)),
          )
          expect(job.records.length + (job.prunedRecords ?? 0)).toBe(whole.jobs.j1!.records.length)
          for (const record of job.records) expect(record).toEqual(getRecord(whole.jobs.j1!, record.recordId))
        },
      ),
      { numRuns: 200 },
    )
  })
})
