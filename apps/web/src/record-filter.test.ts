import type { RecordState } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import { createRecordMatcher, matchesStatus, retriesOf } from './record-filter.ts'

const record = (fields: Partial<RecordState> & Pick<RecordState, 'recordId'>): RecordState => ({
  status: 'done',
  attempt: 1,
  model: 'm',
  text: '',
  thinking: '',
  chunks: 0,
  ...fields,
})

const records: RecordState[] = [
  record({ recordId: 'q1', prompt: 'What is the capital of France?', text: 'Paris.' }),
  record({ recordId: 'q2', status: 'streaming', prompt: 'Name a prime', text: 'Seven' }),
  record({
    recordId: 'q3',
    status: 'failed',
    attempt: 3,
    attempts: 3,
    error: { code: 'X', message: 'model gone' },
  }),
  record({ recordId: 'q4', status: 'streaming', attempt: 2, system: 'You are TERSE.' }),
  record({ recordId: 'q5', status: 'skipped', messages: [{ role: 'user', content: 'hello there' }] }),
]

describe('record filters', () => {
  it('filters by state, counting retries from the attempt in progress or the final attempts', () => {
    const match = createRecordMatcher()
    expect(match(records, { status: 'all', search: '' })).toEqual(['q1', 'q2', 'q3', 'q4', 'q5'])
    expect(match(records, { status: 'streaming', search: '' })).toEqual(['q2', 'q4'])
    expect(match(records, { status: 'failed', search: '' })).toEqual(['q3'])
    expect(match(records, { status: 'retried', search: '' })).toEqual(['q3', 'q4'])
    expect(match(records, { status: 'skipped', search: '' })).toEqual(['q5'])
    expect(retriesOf(records[2]!)).toBe(2)
    expect(matchesStatus(records[0]!, 'done')).toBe(true)
  })

  it('searches prompts, system prompts, messages, responses and errors, ignoring case', () => {
    const match = createRecordMatcher()
    expect(match(records, { status: 'all', search: 'paris' })).toEqual(['q1'])
    expect(match(records, { status: 'all', search: 'PRIME' })).toEqual(['q2'])
    expect(match(records, { status: 'all', search: 'terse' })).toEqual(['q4'])
    expect(match(records, { status: 'all', search: 'hello' })).toEqual(['q5'])
    expect(match(records, { status: 'all', search: 'gone' })).toEqual(['q3'])
    expect(match(records, { status: 'streaming', search: 'seven' })).toEqual(['q2'])
    expect(match(records, { status: 'all', search: '  ' })).toHaveLength(5)
  })

  it('finds text that arrives in a record after the first search', () => {
    const match = createRecordMatcher()
    expect(match(records, { status: 'all', search: 'eleven' })).toEqual([])
    const grown = records.map((each) => (each.recordId === 'q2' ? { ...each, text: 'Seven, eleven' } : each))
    expect(match(grown, { status: 'all', search: 'eleven' })).toEqual(['q2'])
  })
})
