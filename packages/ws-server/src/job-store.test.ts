import type { SpoutEvent } from '@spout/core'
import {
  applyEvents,
  createState,
  formatResume,
  fromSnapshot,
  getRecord,
  type HubSnapshotFrame,
  type JobState,
  parseResume,
  type SpoutState,
  toSnapshot,
} from '@spout/core/events'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HistoryRing } from './history.ts'
import { JobStore } from './job-store.ts'

const limits = {
  historySize: 10_000,
  historyBytes: 1 << 24,
  maxFinishedJobs: 20,
  finishedJobTtlMs: 3_600_000,
  maxJobs: 200,
}

/** A job's events: start, records streaming interleaved, ends. Chunk texts are unique so doubling shows. */
function jobScript(jobId: string, chunksPerRecord: number[]): SpoutEvent[] {
  const events: SpoutEvent[] = [
    { type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' },
  ]
  chunksPerRecord.forEach((_, index) => {
    events.push({ type: 'record-start', jobId, recordId: `r${index}`, attempt: 1, model: 'm' })
  })
  const longest = Math.max(0, ...chunksPerRecord)
  for (let seq = 0; seq < longest; seq++) {
    chunksPerRecord.forEach((count, index) => {
      if (seq < count)
        events.push({ type: 'chunk', jobId, recordId: `r${index}`, seq, text: `<${index}.${seq}>` })
    })
  }
  return events
}

function viewerApply(state: SpoutState, frame: string): SpoutState {
  const parsed = JSON.parse(frame) as SpoutEvent | SpoutEvent[] | HubSnapshotFrame
  if (Array.isArray(parsed)) return applyEvents(state, parsed)
  if (parsed.type === 'hub-snapshot') return fromSnapshot(state, parsed)
  return applyEvents(state, [parsed as SpoutEvent])
}

describe('JobStore resume', () => {
  it('brings any disconnected viewer back to exactly the hub state (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 60 }),
        (jobs, batchSizes, connectAt, leaveAfter, historySize) => {
          // Interleave the jobs' events round-robin, as concurrent producers would.
          const scripts = jobs.map((chunks, index) => jobScript(`job${index}`, chunks))
          const events: SpoutEvent[] = []
          for (let position = 0; scripts.some((script) => position < script.length); position++) {
            for (const script of scripts) if (position < script.length) events.push({ ...script[position]! })
          }
          const store = new JobStore({ ...limits, historySize })
          let viewer: SpoutState | undefined
          let connected = false
          let flushes = 0
          let next = 0
          const hubId = 'hub'
          for (const size of [...batchSizes, events.length]) {
            for (const event of events.slice(next, next + size)) store.stamp(event, 0)
            next = Math.min(events.length, next + size)
            const batch = store.flush(0)
            flushes += 1
            if (viewer && connected && batch) viewer = viewerApply(viewer, batch.frame)
            if (!viewer && flushes > connectAt) {
              viewer = viewerApply(createState(), store.snapshotJson(hubId, true))
              connected = true
            }
            if (connected && flushes > connectAt + leaveAfter) connected = false
            if (next >= events.length && !batch) break
          }
          viewer ??= viewerApply(createState(), store.snapshotJson(hubId, true))
          // Reconnect with what the viewer has.
          const catchUp = store.catchUp(parseResume(formatResume(viewer)))
          viewer = viewerApply(viewer, store.snapshotJson(hubId, false, catchUp.snapshotJobIds))
          if (catchUp.replay.length > 0) viewer = viewerApply(viewer, `[${catchUp.replay.join(',')}]`)
          expect(toSnapshot(viewer)).toEqual(toSnapshot(store.state))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('replays from history when it reaches back, and snapshots the job when it does not', () => {
    const store = new JobStore({ ...limits, historySize: 4 })
    for (const event of jobScript('j', [3])) store.stamp(event, 0)
    store.flush(0)
    expect(store.state.jobs.j?.lastSequence).toBe(5)
    expect(store.catchUp(new Map([['j', 3]]))).toEqual({
      snapshotJobIds: [],
      replay: [expect.stringContaining('"sequence":4'), expect.stringContaining('"sequence":5')],
    })
    expect(store.catchUp(new Map([['j', 0]]))).toEqual({ snapshotJobIds: ['j'], replay: [] })
    expect(store.catchUp(new Map([['j', 5]]))).toEqual({ snapshotJobIds: [], replay: [] })
    expect(store.catchUp(new Map([['j', 9]]))).toEqual({ snapshotJobIds: ['j'], replay: [] })
    expect(store.catchUp(new Map())).toEqual({ snapshotJobIds: ['j'], replay: [] })
  })
})

/**
 * A job whose records start, stream and end at staggered times (every third fails, the last
 * `running` never end), so finished records pile up while others are still running.
 */
function endingJobScript(jobId: string, records: number, running: number): SpoutEvent[] {
  const events: SpoutEvent[] = [
    { type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' },
  ]
  for (let index = 0; index < records + 2; index++) {
    if (index < records) {
      const recordId = `r${index}`
      events.push({ type: 'record-start', jobId, recordId, attempt: 1, model: 'm', prompt: recordId })
      events.push({ type: 'chunk', jobId, recordId, seq: 0, text: `<${recordId}.0>` })
    }
    const ending = index - 2
    if (ending >= 0 && ending < records - running) {
      const recordId = `r${ending}`
      events.push({ type: 'chunk', jobId, recordId, seq: 1, text: `<${recordId}.1>` })
      const end: SpoutEvent = {
        type: 'record-end',
        jobId,
        recordId,
        response: `<${recordId}.0><${recordId}.1>`,
        attempts: 1,
        metrics: { eval_count: 2 },
      }
      if (ending % 3 === 2) end.error = { code: 'SPOUT_HTTP_ERROR', message: 'boom' }
      events.push(end)
    }
  }
  return events
}

function counts(job: JobState | undefined) {
  if (!job) return undefined
  const { ok, failed, skipped, streaming, retries, tokens, chunkCount, lastSequence, status } = job
  return { ok, failed, skipped, streaming, retries, tokens, chunkCount, lastSequence, status }
}

describe('JobStore record limits', () => {
  it('snapshots the most recent finished records and every running one, with exact counts', () => {
    const store = new JobStore({ ...limits, maxFinishedRecords: 4, maxFailedRecords: 2 })
    const events = endingJobScript('j', 60, 3)
    for (const event of events) store.stamp({ ...event }, 0)
    store.flush(0)
    const whole = applyEvents(createState(), events).jobs.j!
    const job = store.state.jobs.j!
    expect(counts(job)).toEqual({ ...counts(whole), lastSequence: events.length })
    expect(counts(job)).toMatchObject({ ok: 38, failed: 19, streaming: 3, chunkCount: 117 })
    // One flush of the whole job: pruned once, down to the limits exactly.
    expect(job.records.map((record) => `${record.recordId}:${record.status}`)).toEqual([
      'r51:done',
      'r52:done',
      'r53:failed',
      'r54:done',
      'r55:done',
      'r56:failed',
      'r57:streaming',
      'r58:streaming',
      'r59:streaming',
    ])
    expect(job.prunedRecords).toBe(51)
    expect(store.recordsHeld).toBe(9)
    const snapshot = JSON.parse(store.snapshotJson('hub', true)) as HubSnapshotFrame
    const viewer = fromSnapshot(createState(), snapshot).jobs.j!
    expect(counts(viewer)).toEqual(counts(job))
    expect(getRecord(viewer, 'r59')?.text).toBe('<r59.0>')
  })

  it('stays within its limits however the events are batched, and every record it holds is exact', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 40 }),
        fc.nat({ max: 5 }),
        fc.nat({ max: 3 }),
        (records, batchSizes, maxFinishedRecords, maxFailedRecords) => {
          const events = endingJobScript('j', records, Math.min(records, 2))
          const store = new JobStore({ ...limits, maxFinishedRecords, maxFailedRecords })
          const bound = maxFinishedRecords + maxFailedRecords
          let next = 0
          for (let turn = 0; next < events.length; turn++) {
            const size = batchSizes[turn % batchSizes.length]!
            for (const event of events.slice(next, next + size)) store.stamp({ ...event }, 0)
            next += size
            store.flush(0)
            const job = store.state.jobs.j!
            expect(job.records.length - job.streaming).toBeLessThanOrEqual(
              bound + Math.max(1, Math.ceil(bound / 2)),
            )
          }
          const whole = applyEvents(createState(), events).jobs.j!
          const job = store.state.jobs.j!
          expect(counts(job)).toEqual({ ...counts(whole), lastSequence: events.length })
          for (const record of job.records) expect(record).toEqual(getRecord(whole, record.recordId))
          expect(job.records.length + (job.prunedRecords ?? 0)).toBe(whole.records.length)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('brings a reconnecting viewer to the hub counts and records, by replay or by snapshot (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 30 }),
        fc.nat({ max: 30 }),
        fc.nat({ max: 30 }),
        fc.nat({ max: 80 }),
        fc.nat({ max: 4 }),
        (records, batchSizes, connectAt, leaveAfter, historySize, maxFinishedRecords) => {
          const events = endingJobScript('j', records, 1)
          const store = new JobStore({ ...limits, historySize, maxFinishedRecords, maxFailedRecords: 1 })
          let viewer: SpoutState | undefined
          let connected = false
          let next = 0
          for (let turn = 0; next < events.length; turn++) {
            const size = batchSizes[turn % batchSizes.length]!
            for (const event of events.slice(next, next + size)) store.stamp({ ...event }, 0)
            next += size
            const batch = store.flush(0)
            if (viewer && connected && batch) viewer = viewerApply(viewer, batch.frame)
            if (!viewer && turn >= connectAt) {
              viewer = viewerApply(createState(), store.snapshotJson('hub', true))
              connected = true
            }
            if (connected && turn >= connectAt + leaveAfter) connected = false
          }
          viewer ??= viewerApply(createState(), store.snapshotJson('hub', true))
          const catchUp = store.catchUp(parseResume(formatResume(viewer)))
          viewer = viewerApply(viewer, store.snapshotJson('hub', false, catchUp.snapshotJobIds))
          if (catchUp.replay.length > 0) viewer = viewerApply(viewer, `[${catchUp.replay.join(',')}]`)
          const hubJob = store.state.jobs.j!
          const viewerJob = viewer.jobs.j!
          expect(counts(viewerJob)).toEqual(counts(hubJob))
          // The viewer may hold more (it does not prune), never less, and never different.
          for (const record of hubJob.records) expect(getRecord(viewerJob, record.recordId)).toEqual(record)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('HistoryRing', () => {
  const entry = (jobId: string, sequence: number, size = 10) => ({ jobId, sequence, json: 'x'.repeat(size) })

  it('keeps the newest entries within its count and byte bounds', () => {
    const ring = new HistoryRing(3, 1000)
    for (let sequence = 1; sequence <= 5; sequence++) ring.push(entry('a', sequence))
    expect(ring.length).toBe(3)
    expect(ring.bytes).toBe(30)
    expect(ring.since(new Map([['a', 1]]), () => 5).get('a')).toBeUndefined()
    expect(ring.since(new Map([['a', 2]]), () => 5).get('a')).toHaveLength(3)
    expect(ring.since(new Map([['a', 3]]), () => 5).get('a')).toHaveLength(2)

    const bytes = new HistoryRing(100, 25)
    for (let sequence = 1; sequence <= 4; sequence++) bytes.push(entry('a', sequence))
    expect(bytes.length).toBe(2)
    expect(bytes.bytes).toBeLessThanOrEqual(25)
  })

  it('treats an entry too big to keep as a gap', () => {
    const ring = new HistoryRing(10, 50)
    ring.push(entry('a', 1))
    ring.push(entry('a', 2, 60))
    ring.push(entry('a', 3))
    expect(ring.since(new Map([['a', 1]]), () => 3).get('a')).toBeUndefined()
    expect(ring.since(new Map([['a', 2]]), () => 3).get('a')).toHaveLength(1)
  })
})
