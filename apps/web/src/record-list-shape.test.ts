import type { RecordState } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { noFilter } from './record-filter.ts'
import { createListShape, sameRows, sameShape } from './record-list-shape.ts'

const record = (recordId: string, status: RecordState['status']): RecordState =>
  ({ recordId, status, text: '', chunks: 0, attempt: 1 }) as unknown as RecordState

const records = [record('a', 'done'), record('b', 'streaming'), record('c', 'queued'), record('d', 'queued')]

describe('the record list shape', () => {
  it('shows queued records as one group after the rows', () => {
    expect(createListShape()(records, noFilter)).toEqual({ ids: ['a', 'b'], queued: ['c', 'd'] })
  })

  it('shows them as rows when the filter asks for queued records', () => {
    expect(createListShape()(records, { status: 'queued', search: '' })).toEqual({
      ids: ['c', 'd'],
      queued: [],
    })
  })

  it('searches queued records too', () => {
    expect(createListShape()(records, { status: 'all', search: 'd' })).toEqual({ ids: [], queued: ['d'] })
  })

  it('is the same shape while no record moved between rows and the group', () => {
    const shape = createListShape()
    const before = shape(records, noFilter)
    const after = shape([...records.slice(0, 2), record('c', 'queued'), record('d', 'queued')], noFilter)
    expect(sameShape(before, after)).toBe(true)
    const started = shape([...records.slice(0, 2), record('c', 'streaming'), record('d', 'queued')], noFilter)
    expect(sameShape(before, started)).toBe(false)
    expect(started).toEqual({ ids: ['a', 'b', 'c'], queued: ['d'] })
  })
})

describe('sameRows', () => {
  it('ignores records joining or leaving the queued group while it stays non-empty', () => {
    const shape = createListShape()
    const before = shape(records, noFilter)
    const more = shape([...records, record('e', 'queued')], noFilter)
    expect(sameRows(before, more)).toBe(true)
    expect(sameRows(before, shape(records.slice(0, 2), noFilter))).toBe(false)
  })
})
