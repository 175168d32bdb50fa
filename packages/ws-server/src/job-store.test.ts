import {
  applyEvents,
  createState,
  formatResume,
  fromSnapshot,
  type HubSnapshotFrame,
  parseResume,
  type SpoutEvent,
  type SpoutState,
  toSnapshot,
} from '@spout/core'
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
