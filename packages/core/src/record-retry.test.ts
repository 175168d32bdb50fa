import { describe, expect, it } from 'vitest'
import {
  ConnectionError,
  HttpError,
  IncompleteStreamError,
  ParseError,
  StreamError,
  TimeoutError,
} from './errors.ts'
import { classifyFailure, recordRetryDelay } from './record-retry.ts'

const http = (status: number) =>
  new HttpError({ status, method: 'POST', url: 'http://h/api/generate', body: 'x' })

describe('classifyFailure', () => {
  it('treats 503 and 429 as busy, 5xx and lost streams as retryable, the rest as fatal', () => {
    expect(classifyFailure(http(503))).toBe('busy')
    expect(classifyFailure(http(429))).toBe('busy')
    expect(classifyFailure(http(500))).toBe('retry')
    expect(classifyFailure(http(502))).toBe('retry')
    expect(classifyFailure(http(404))).toBe('fatal')
    expect(classifyFailure(http(400))).toBe('fatal')
    const where = { method: 'POST', url: 'http://h/api/generate' }
    expect(
      classifyFailure(new StreamError({ ...where, serverMessage: 'oom', received: '', chunks: 1 })),
    ).toBe('retry')
    expect(classifyFailure(new IncompleteStreamError({ ...where, received: '', chunks: 2 }))).toBe('retry')
    expect(
      classifyFailure(
        new ConnectionError({ ...where, host: 'http://h', reason: 'connection refused', attempts: 1 }),
      ),
    ).toBe('retry')
    expect(classifyFailure(new TimeoutError({ ...where, phase: 'idle', timeout: 10 }))).toBe('retry')
    expect(
      classifyFailure(new ParseError({ code: 'SPOUT_PARSE_ERROR', message: 'bad', line: 1, offset: 0 })),
    ).toBe('fatal')
    expect(classifyFailure(new Error('plain'))).toBe('fatal')
    expect(classifyFailure(undefined)).toBe('fatal')
  })
})

describe('recordRetryDelay', () => {
  it('doubles from base up to max, with jitter between half and all of it', () => {
    for (let retry = 1; retry <= 10; retry += 1) {
      const ceiling = Math.min(1000, 10 * 2 ** (retry - 1))
      const delay = recordRetryDelay(retry, { base: 10, max: 1000 })
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(delay).toBeLessThanOrEqual(ceiling)
    }
  })
})
