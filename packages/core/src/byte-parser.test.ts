import { describe, expect, it } from 'vitest'
import { PendingBytes } from './byte-parser.ts'

const bytes = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, index) => (index * 31 + seed) & 0xff)

/** Adds `pieces` in order, then takes them with `tail`: the result must be their concatenation. */
function roundTrip(pending: PendingBytes, pieces: Uint8Array[], tail: Uint8Array): Uint8Array {
  for (const piece of pieces) pending.add(piece, 0)
  return pending.take(tail, 0, tail.length)
}

function joined(parts: Uint8Array[]): number[] {
  return parts.flatMap((part) => [...part])
}

describe('PendingBytes', () => {
  it('joins short pieces and a tail in order, then starts empty', () => {
    const pending = new PendingBytes(false)
    const pieces = [bytes(3, 1), bytes(200, 2), bytes(1, 3)]
    const tail = bytes(10, 4)
    expect([...roundTrip(pending, pieces, tail)]).toEqual(joined([...pieces, tail]))
    expect(pending.length).toBe(0)
    expect([...pending.take(tail, 2, 5)]).toEqual([...tail.subarray(2, 5)])
  })

  it('keeps a line that grows past the reused buffer whole (pieces joined once)', () => {
    const pending = new PendingBytes(true)
    const pieces = Array.from({ length: 40 }, (_, index) => bytes(4096, index))
    const tail = bytes(7, 99)
    const result = roundTrip(pending, pieces, tail)
    expect(result.length).toBe(40 * 4096 + 7)
    expect([...result]).toEqual(joined([...pieces, tail]))
    // Short lines after a long one use the reused buffer again.
    expect([...roundTrip(pending, [bytes(5, 7)], bytes(2, 8))]).toEqual(joined([bytes(5, 7), bytes(2, 8)]))
  })

  it('copies pieces when told to, so a source may reuse its buffer', () => {
    for (const size of [16, 70_000]) {
      const pending = new PendingBytes(true)
      const buffer = bytes(size, 5)
      const expected = [...buffer]
      pending.add(buffer, 0)
      buffer.fill(0)
      expect([...pending.take()]).toEqual(expected)
    }
  })

  it('takes nothing as an empty array, and clear() forgets', () => {
    const pending = new PendingBytes(false)
    expect(pending.take().length).toBe(0)
    pending.add(bytes(10, 1), 4)
    expect(pending.length).toBe(6)
    pending.clear()
    expect(pending.length).toBe(0)
    expect(pending.take().length).toBe(0)
  })
})
