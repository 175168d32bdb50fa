import { describe, expect, it } from 'vitest'
import { ConcurrencyLimit } from './concurrency-limit.ts'

describe('ConcurrencyLimit', () => {
  it('lets at most max requests in flight and hands permits out in order', async () => {
    const limit = new ConcurrencyLimit(2)
    const first = await limit.acquire()
    const second = await limit.acquire()
    const order: number[] = []
    const third = limit.acquire().then((permit) => {
      order.push(3)
      return permit
    })
    const fourth = limit.acquire().then((permit) => {
      order.push(4)
      return permit
    })
    await Promise.resolve()
    expect(limit.inFlight).toBe(2)
    expect(order).toEqual([])
    limit.release(first, 'ok')
    await third
    expect(order).toEqual([3])
    limit.release(second, 'ok')
    await fourth
    expect(order).toEqual([3, 4])
  })

  it('halves the limit once per burst of busy answers, then recovers one step per limit successes', async () => {
    const limit = new ConcurrencyLimit(8)
    const permits = await Promise.all(Array.from({ length: 8 }, () => limit.acquire()))
    // Every request of the burst answers 503: one decrease, not eight.
    for (const permit of permits) limit.release(permit, 'busy')
    expect(limit.limit).toBe(4)
    let successes = 0
    while (limit.limit < 8) {
      const permit = await limit.acquire()
      limit.release(permit, 'ok')
      successes += 1
    }
    expect(successes).toBe(4 + 5 + 6 + 7)
    const again = await limit.acquire()
    limit.release(again, 'busy')
    expect(limit.limit).toBe(1)
  })

  it('never goes below one request', async () => {
    const limit = new ConcurrencyLimit(1)
    const permit = await limit.acquire()
    limit.release(permit, 'busy')
    expect(limit.limit).toBe(1)
    const next = await limit.acquire()
    expect(limit.inFlight).toBe(1)
    limit.release(next, 'error')
    expect(limit.inFlight).toBe(0)
  })

  it('rejects waiting and later acquires once closed', async () => {
    const limit = new ConcurrencyLimit(1)
    await limit.acquire()
    const waiting = limit.acquire()
    const reason = new Error('stopped')
    limit.close(reason)
    await expect(waiting).rejects.toBe(reason)
    await expect(limit.acquire()).rejects.toBe(reason)
  })
})
