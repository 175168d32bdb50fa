import { describe, expect, it } from 'vitest'
import { TickThrottle } from './tick-throttle.ts'

const range = { minMs: 4, maxMs: 16, share: 0.1 }

function settle(throttle: TickThrottle, cost: number): number {
  for (let sample = 0; sample < 60; sample++) throttle.noteCost(cost)
  return throttle.tickMs
}

describe('TickThrottle', () => {
  it('ticks at the shortest tick until a run costs more than its share', () => {
    const throttle = new TickThrottle(range, () => {})
    expect(throttle.tickMs).toBe(4)
    expect(settle(throttle, 0.05)).toBe(4)
  })

  it('lengthens the tick with the cost of a run, up to the longest', () => {
    const throttle = new TickThrottle(range, () => {})
    expect(settle(throttle, 1)).toBeCloseTo(10, 3)
    expect(settle(throttle, 5)).toBe(16)
    expect(settle(throttle, 0.2)).toBe(4)
  })

  it('follows a running average: one slow run does not stretch the tick to the longest', () => {
    const throttle = new TickThrottle(range, () => {})
    settle(throttle, 0.1)
    throttle.noteCost(3)
    expect(throttle.tickMs).toBeGreaterThan(4)
    expect(throttle.tickMs).toBeLessThan(16)
  })

  it('runs once per tick however often it is asked, the first call on the next turn', async () => {
    let runs = 0
    const throttle = new TickThrottle({ minMs: 60_000, maxMs: 60_000, share: 0.1 }, () => {
      runs += 1
    })
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
    throttle.schedule()
    throttle.schedule()
    expect(runs).toBe(0)
    await nextTurn()
    expect(runs).toBe(1)
    // Within the tick: due at its end, not on the next turn.
    throttle.schedule()
    throttle.schedule()
    await nextTurn()
    expect(runs).toBe(1)
    throttle.runNow()
    expect(runs).toBe(2)
    throttle.cancel()
  })
})
