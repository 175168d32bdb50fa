import { describe, expect, it } from 'vitest'
import { backoffDelay, sleep } from './backoff.ts'

describe('backoffDelay', () => {
  it('doubles from base up to max, with jitter between half and all of it (the default)', () => {
    const options = { base: 100, max: 1000 }
    expect(backoffDelay(1, options, () => 0)).toBe(50)
    expect(backoffDelay(1, options, () => 1)).toBe(100)
    expect(backoffDelay(3, options, () => 1)).toBe(400)
    expect(backoffDelay(10, options, () => 1)).toBe(1000)
    expect(backoffDelay(10, options, () => 0)).toBe(500)
  })

  it('grows exponentially up to the cap, with jitter between base and the ceiling (the viewer)', () => {
    const options = { base: 500, max: 10_000, jitter: 'from-base' as const }
    expect(backoffDelay(1, options, () => 0)).toBe(500)
    expect(backoffDelay(1, options, () => 1)).toBe(500)
    expect(backoffDelay(3, options, () => 1)).toBe(2000)
    expect(backoffDelay(3, options, () => 0.5)).toBe(1250)
    expect(backoffDelay(20, options, () => 1)).toBe(10_000)
    expect(backoffDelay(20, options, () => 0)).toBe(500)
  })
})

describe('sleep', () => {
  it('rejects with the signal reason when aborted', async () => {
    const controller = new AbortController()
    const pending = sleep(60_000, controller.signal)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    await expect(sleep(1, controller.signal)).rejects.toBe(reason)
  })
})
