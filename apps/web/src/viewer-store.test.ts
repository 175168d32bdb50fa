import type { SpoutEvent } from '@spout/core/events'
import { getRecord } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { ViewerStore } from './viewer-store.ts'

const jobStart: SpoutEvent = {
  type: 'job-start',
  jobId: 'job',
  name: 'questions',
  model: 'llama3.2',
  host: 'http://127.0.0.1:11434',
  startedAt: '2026-01-01T00:00:00.000Z',
  total: 2,
  sequence: 1,
}

function manualScheduler() {
  const pending: (() => void)[] = []
  return {
    pending,
    scheduler: (flush: () => void) => {
      pending.push(flush)
      return () => {
        const index = pending.indexOf(flush)
        if (index !== -1) pending.splice(index, 1)
      }
    },
    runFrame() {
      const flushes = pending.splice(0)
      for (const flush of flushes) flush()
    },
  }
}

describe('ViewerStore', () => {
  it('applies every frame that arrived within one animation frame in a single update', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({ scheduler: frames.scheduler })
    let notified = 0
    store.subscribe(() => {
      notified += 1
    })
    store.receive({ kind: 'events', events: [jobStart] })
    store.receive({
      kind: 'events',
      events: [{ type: 'record-start', jobId: 'job', recordId: 'a', attempt: 1, model: 'm', sequence: 2 }],
    })
    for (let seq = 0; seq < 50; seq++) {
      store.receive({
        kind: 'events',
        events: [{ type: 'chunk', jobId: 'job', recordId: 'a', seq, text: `${seq} `, sequence: 3 + seq }],
      })
    }
    expect(frames.pending).toHaveLength(1)
    expect(store.getSnapshot().state.jobOrder).toEqual([])
    frames.runFrame()
    expect(notified).toBe(1)
    const job = store.getSnapshot().state.jobs.job!
    expect(getRecord(job, 'a')?.chunks).toBe(50)
    expect(store.getSnapshot().flushes).toBe(1)
  })

  it('keeps a bounded tail of finished records with exact counters on a long job', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({
      scheduler: frames.scheduler,
      recordLimits: { maxFinished: 10, maxFailed: 2 },
    })
    store.receive({ kind: 'events', events: [jobStart] })
    let sequence = 2
    for (let index = 0; index < 200; index++) {
      const recordId = `r${index}`
      store.receive({
        kind: 'events',
        events: [
          { type: 'record-start', jobId: 'job', recordId, attempt: 1, model: 'm', sequence: sequence++ },
          { type: 'chunk', jobId: 'job', recordId, seq: 0, text: 'x', sequence: sequence++ },
          { type: 'record-end', jobId: 'job', recordId, response: 'x', attempts: 1, sequence: sequence++ },
        ],
      })
      frames.runFrame()
    }
    store.receive({
      kind: 'events',
      events: [
        {
          type: 'record-start',
          jobId: 'job',
          recordId: 'live',
          attempt: 1,
          model: 'm',
          sequence: sequence++,
        },
      ],
    })
    frames.runFrame()
    const job = store.getSnapshot().state.jobs.job!
    expect(job.ok).toBe(200)
    expect(job.records.length).toBeLessThanOrEqual(10 + 2 + Math.ceil(12 / 2) + 1)
    expect(getRecord(job, 'r199')?.text).toBe('x')
    expect(getRecord(job, 'live')?.status).toBe('streaming')
    expect(getRecord(job, 'r0')).toBeUndefined()
  })

  it('keeps a finished record the same object while another record streams', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({ scheduler: frames.scheduler })
    store.receive({
      kind: 'events',
      events: [
        jobStart,
        { type: 'record-start', jobId: 'job', recordId: 'a', attempt: 1, model: 'm', sequence: 2 },
        { type: 'record-end', jobId: 'job', recordId: 'a', response: 'done', attempts: 1, sequence: 3 },
        { type: 'record-start', jobId: 'job', recordId: 'b', attempt: 1, model: 'm', sequence: 4 },
      ],
    })
    frames.runFrame()
    const before = getRecord(store.getSnapshot().state.jobs.job!, 'a')
    store.receive({
      kind: 'events',
      events: [{ type: 'chunk', jobId: 'job', recordId: 'b', seq: 0, text: 'x', sequence: 5 }],
    })
    frames.runFrame()
    const job = store.getSnapshot().state.jobs.job!
    expect(getRecord(job, 'a')).toBe(before)
    expect(getRecord(job, 'b')?.text).toBe('x')
  })

  it('applies snapshots and events in arrival order and remembers the hub id', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({ scheduler: frames.scheduler })
    store.receive({ kind: 'events', events: [{ ...jobStart, jobId: 'old' }] })
    store.receive({
      kind: 'snapshot',
      snapshot: { type: 'hub-snapshot', hubId: 'hub-1', full: true, jobs: [] },
    })
    store.receive({ kind: 'events', events: [jobStart] })
    frames.runFrame()
    const snapshot = store.getSnapshot()
    expect(snapshot.state.jobOrder).toEqual(['job'])
    expect(snapshot.hubId).toBe('hub-1')
  })

  it('gives a resume position that includes frames still queued', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({ scheduler: frames.scheduler })
    store.receive({
      kind: 'snapshot',
      snapshot: { type: 'hub-snapshot', hubId: 'hub-1', full: true, jobs: [] },
    })
    store.receive({
      kind: 'events',
      events: [
        jobStart,
        { type: 'record-start', jobId: 'job', recordId: 'a', attempt: 1, model: 'm', sequence: 2 },
      ],
    })
    expect(store.resumePosition()).toEqual({ hubId: 'hub-1', resume: 'job:2' })
    expect(frames.pending).toHaveLength(0)
  })

  it('does not double text when the hub replays events the page already has', () => {
    const frames = manualScheduler()
    const store = new ViewerStore({ scheduler: frames.scheduler })
    const events: SpoutEvent[] = [
      jobStart,
      { type: 'record-start', jobId: 'job', recordId: 'a', attempt: 1, model: 'm', sequence: 2 },
      { type: 'chunk', jobId: 'job', recordId: 'a', seq: 0, text: 'Hel', sequence: 3 },
      { type: 'chunk', jobId: 'job', recordId: 'a', seq: 1, text: 'lo', sequence: 4 },
    ]
    store.receive({ kind: 'events', events })
    store.receive({ kind: 'events', events: events.slice(2) })
    store.receive({
      kind: 'events',
      events: [{ type: 'chunk', jobId: 'job', recordId: 'a', seq: 2, text: '!', sequence: 5 }],
    })
    frames.runFrame()
    expect(getRecord(store.getSnapshot().state.jobs.job!, 'a')?.text).toBe('Hello!')
  })

  it('reports connection changes at once and keeps the time the status began', () => {
    let now = 1000
    const store = new ViewerStore({ scheduler: manualScheduler().scheduler, now: () => now })
    store.setConnection({ status: 'reconnecting', attempt: 1 })
    now = 2000
    store.setConnection({ status: 'reconnecting', attempt: 2 })
    expect(store.getSnapshot().connection).toEqual({ status: 'reconnecting', attempt: 2, since: 1000 })
    store.setConnection({ status: 'connected', attempt: 0 })
    expect(store.getSnapshot().connection.since).toBe(2000)
  })
})
