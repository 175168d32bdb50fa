import { describe, expect, it } from 'vitest'
import { defaultRetry, noRetry, parseRetryAfter, requestRetryDelay, resolveRetry } from './request-retry.ts'

describe('requestRetryDelay', () => {
  const options = { attempts: 5, baseDelay: 100, maxDelay: 1000 }

  it('doubles each retry, with jitter in the upper half, capped at maxDelay', () => {
    expect(requestRetryDelay(1, options, undefined, () => 0)).toBe(50)
    expect(requestRetryDelay(1, options, undefined, () => 1)).toBe(100)
    expect(requestRetryDelay(3, options, undefined, () => 1)).toBe(400)
    expect(requestRetryDelay(10, options, undefined, () => 1)).toBe(1000)
    expect(requestRetryDelay(10, options, undefined, () => 0)).toBe(500)
  })

  it("waits at least the server's Retry-After, but never longer than maxDelay", () => {
    expect(requestRetryDelay(1, options, 700, () => 0)).toBe(700)
    expect(requestRetryDelay(1, options, 60_000, () => 0)).toBe(1000)
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000)
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(5000)
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })
})

describe('resolveRetry', () => {
  it('merges per-call settings over the client settings; false turns retries off', () => {
    expect(resolveRetry(defaultRetry, undefined)).toBe(defaultRetry)
    expect(resolveRetry(defaultRetry, false)).toBe(noRetry)
    expect(resolveRetry(defaultRetry, { attempts: 5 })).toEqual({ ...defaultRetry, attempts: 5 })
    expect(() => resolveRetry(defaultRetry, { attempts: 0 })).toThrow(RangeError)
  })
})
