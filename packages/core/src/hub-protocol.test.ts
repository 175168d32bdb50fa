import { describe, expect, it } from 'vitest'
import type { SpoutEvent } from './events.ts'
import { applyEvents, createState, getRecord } from './events-entry.ts'
import { formatResume, fromSnapshot, parseResume, toSnapshot } from './hub-protocol.ts'

const events: SpoutEvent[] = [
  { type: 'job-start', jobId: 'job 1', name: 'n', model: 'm', host: 'h', startedAt: 't', sequence: 1 },
  { type: 'record-start', jobId: 'job 1', recordId: 'a', attempt: 1, model: 'm', sequence: 2 },
  { type: 'chunk', jobId: 'job 1', recordId: 'a', seq: 0, text: 'He', sequence: 3 },
  { type: 'chunk', jobId: 'job 1', recordId: 'a', seq: 1, text: 'llo', sequence: 4 },
]

describe('hub snapshots', () => {
  it('round-trips through JSON and goes on with live events', () => {
    const hubState = applyEvents(createState(), events)
    const frame = JSON.parse(JSON.stringify({ full: true, jobs: toSnapshot(hubState) }))
    const viewer = fromSnapshot(createState(), frame)
    expect(getRecord(viewer.jobs['job 1']!, 'a')?.text).toBe('Hello')
    const next = applyEvents(viewer, [
      { type: 'chunk', jobId: 'job 1', recordId: 'a', seq: 1, text: 'llo', sequence: 4 },
      { type: 'chunk', jobId: 'job 1', recordId: 'a', seq: 2, text: '!', sequence: 5 },
    ])
    expect(getRecord(next.jobs['job 1']!, 'a')?.text).toBe('Hello!')
  })

  it('replaces only the jobs a partial snapshot carries', () => {
    const viewer = applyEvents(createState(), [
      { type: 'job-start', jobId: 'other', name: 'o', model: 'm', host: 'h', startedAt: 't' },
    ])
    const merged = fromSnapshot(viewer, { full: false, jobs: toSnapshot(applyEvents(createState(), events)) })
    expect(merged.jobOrder).toEqual(['other', 'job 1'])
    expect(fromSnapshot(viewer, { full: true, jobs: [] }).jobOrder).toEqual([])
  })

  it('formats and parses resume positions', () => {
    const state = applyEvents(createState(), events)
    const value = formatResume(state)
    expect(value).toBe('job%201:4')
    expect(parseResume(value)).toEqual(new Map([['job 1', 4]]))
    expect(parseResume('a:1,bad,b:x,:3,c:-1,d%ZZ:2,e:2')).toEqual(
      new Map([
        ['a', 1],
        ['e', 2],
      ]),
    )
  })
})
