import { describe, expect, it } from 'vitest'
import { RecordAborts } from './record-aborts.ts'

describe('RecordAborts', () => {
  it('aborts one record in flight by its id, with SPOUT_ABORTED, and leaves the others running', () => {
    const aborts = new RecordAborts()
    const a = aborts.start('a')
    const b = aborts.start('b')
    expect(aborts.abort('b', 'stopped from the viewer')).toBe(true)
    expect(a.aborted).toBe(false)
    expect(b.aborted).toBe(true)
    expect(b.reason).toMatchObject({
      code: 'SPOUT_ABORTED',
      message: 'record b: aborted: stopped from the viewer',
    })
  })

  it('finds no record once it ended', () => {
    const aborts = new RecordAborts()
    const signal = aborts.start('a')
    aborts.end('a', signal)
    expect(aborts.abort('a', 'late')).toBe(false)
    expect(signal.aborted).toBe(false)
  })

  it('ends the attempt that ended when a record id is in flight twice', () => {
    const aborts = new RecordAborts()
    const first = aborts.start('a')
    const second = aborts.start('a')
    aborts.end('a', first)
    expect(aborts.abort('a', 'again')).toBe(true)
    expect(first.aborted).toBe(false)
    expect(second.aborted).toBe(true)
  })

  it('aborts every record in flight and every later one with the job stop reason', () => {
    const aborts = new RecordAborts()
    const signals = ['a', 'b', 'c'].map((id) => aborts.start(id))
    aborts.end('b', signals[1]!)
    const reason = new Error('job stopped')
    aborts.abortAll(reason)
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false, true])
    expect(signals[0]!.reason).toBe(reason)
    const later = aborts.start('d')
    expect(later.aborted).toBe(true)
    expect(later.reason).toBe(reason)
    expect(aborts.abort('a', 'after the stop')).toBe(false)
  })
})
