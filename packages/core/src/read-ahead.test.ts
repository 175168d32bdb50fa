import { describe, expect, it } from 'vitest'
import type { InputRecord } from './plugin.ts'
import { ReadAhead, type ReadEntry } from './read-ahead.ts'

function reader(
  input: Iterable<InputRecord> | AsyncIterable<InputRecord>,
  window: number,
  skip = new Set<string>(),
) {
  const queued: string[] = []
  const ahead = new ReadAhead(input, {
    window,
    idOf: (record, position) => String(record.id ?? position),
    queues: (entry) => !skip.has(entry.id),
    onQueued: (entry) => void queued.push(entry.id),
  })
  return { ahead, queued }
}

const records = (count: number): InputRecord[] =>
  Array.from({ length: count }, (_, index) => ({ id: `r${index + 1}` }))
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('ReadAhead', () => {
  it('holds at most `window` records ahead and announces each one that waits', async () => {
    let pulled = 0
    const input = (function* () {
      for (const record of records(10)) {
        pulled += 1
        yield record
      }
    })()
    const { ahead, queued } = reader(input, 3)
    ahead.start()
    await settle()
    expect(pulled).toBe(3)
    expect(queued).toEqual(['r1', 'r2', 'r3'])
    expect((await ahead.next())?.id).toBe('r1')
    await settle()
    expect(pulled).toBe(4)
    expect(ahead.held).toBe(3)
  })

  it('with a window of 0 reads only when asked and announces nothing', async () => {
    const { ahead, queued } = reader(records(3), 0)
    ahead.start()
    const ids: string[] = []
    for (let entry = await ahead.next(); entry; entry = await ahead.next()) ids.push(entry.id)
    expect(ids).toEqual(['r1', 'r2', 'r3'])
    expect(queued).toEqual([])
  })

  it('does not announce records resume skips', async () => {
    const { ahead, queued } = reader(records(4), 4, new Set(['r2']))
    ahead.start()
    await settle()
    expect(queued).toEqual(['r1', 'r3', 'r4'])
  })

  it("raises the input's error after the records read before it", async () => {
    const input = (async function* () {
      yield { id: 'a' }
      yield { id: 'b' }
      throw new Error('disk gone')
    })()
    const { ahead } = reader(input, 5)
    ahead.start()
    await settle()
    expect((await ahead.next())?.id).toBe('a')
    expect((await ahead.next())?.id).toBe('b')
    await expect(ahead.next()).rejects.toThrow('disk gone')
  })

  it('takes a waiting record out, and drains the rest in input order', async () => {
    const { ahead } = reader(records(5), 4)
    ahead.start()
    await settle()
    expect(ahead.remove('r2')?.id).toBe('r2')
    expect(ahead.remove('nope')).toBeUndefined()
    const left: ReadEntry[] = await ahead.drain()
    expect(left.map((entry) => entry.id)).toEqual(['r1', 'r3', 'r4', 'r5'])
    expect(await ahead.next()).toBeUndefined()
  })

  it('hands back a record whose read was in flight when it stopped, then closes the input', async () => {
    let release: (() => void) | undefined
    let closed = false
    const input = (async function* () {
      try {
        yield { id: 'a' }
        await new Promise<void>((resolve) => {
          release = resolve
        })
        yield { id: 'b' }
        yield { id: 'c' }
      } finally {
        closed = true
      }
    })()
    const { ahead } = reader(input, 0)
    expect((await ahead.next())?.id).toBe('a')
    const pending = ahead.next()
    await settle()
    const drained = ahead.drain()
    expect(await pending).toBeUndefined()
    release?.()
    expect((await drained).map((entry) => entry.id)).toEqual(['b'])
    await ahead.close()
    expect(closed).toBe(true)
  })
})
