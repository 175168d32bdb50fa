import { describe, expect, it } from 'vitest'
import { childId, StageError, splitResult } from './stage-split.ts'
import type { StageLine } from './stage-state.ts'

const result = (response: string, parsed?: unknown): StageLine =>
  ({ id: 't1', response, ...(parsed === undefined ? {} : { parsed }) }) as StageLine

describe('splitResult', () => {
  it('splits lines, dropping blanks and list markers', () => {
    expect(splitResult('teacher', 'lines', result('1. Why?\n\n- How?\n  * What?  \n2) Who?'), {})).toEqual([
      'Why?',
      'How?',
      'What?',
      'Who?',
    ])
  })

  it('splits a JSON array, or the one array of an object', () => {
    expect(splitResult('teacher', 'json-array', result('["a","b"]'), {})).toEqual(['a', 'b'])
    expect(splitResult('teacher', 'json-array', result('', { questions: ['x', 'y', 'z'] }), {})).toEqual([
      'x',
      'y',
      'z',
    ])
  })

  it('fails with SPOUT_SPLIT_ERROR naming the stage', () => {
    const attempt = () => splitResult('teacher', 'json-array', result('{"a":1}'), {})
    expect(attempt).toThrow(StageError)
    expect(attempt).toThrow("stage teacher: split 'json-array': the response is neither")
    expect(() => splitResult('teacher', 'json-array', result('nope'), {})).toThrow(/is not JSON/)
    expect(() => splitResult('teacher', () => 'x' as unknown as string[], result(''), {})).toThrow(
      'stage teacher: split must return an array',
    )
  })

  it('hands a split function the result and the record', () => {
    const items = splitResult('teacher', (done, record: { n: number }) => [done.id, record.n], result('r'), {
      n: 2,
    })
    expect(items).toEqual(['t1', 2])
  })

  it('derives child ids from the parent', () => {
    expect(childId('topic-3', 'q', 2)).toBe('topic-3.q2')
    expect(childId('topic-3.q2', '', 1)).toBe('topic-3.q2.1')
  })
})
