import { describe, expect, it } from 'vitest'
import { HubError } from './errors.ts'
import { isLoopbackHost, resolveHubOptions } from './options.ts'

describe('hub options', () => {
  it('knows which addresses only this machine can reach', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true)
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '127.0.0.1.example.com']) {
      expect(isLoopbackHost(host), host).toBe(false)
    }
  })

  it('refuses a public bind without a token, unless insecure', () => {
    expect(() => resolveHubOptions({ host: '0.0.0.0' })).toThrow(HubError)
    expect(() => resolveHubOptions({ host: '0.0.0.0' })).toThrow(/refusing to bind 0\.0\.0\.0/)
    expect(resolveHubOptions({ host: '0.0.0.0', token: 't' }).loopback).toBe(false)
    expect(resolveHubOptions({ host: '0.0.0.0', insecure: true }).host).toBe('0.0.0.0')
  })

  it('checks ports, tokens and limits with one-line messages', () => {
    expect(() => resolveHubOptions({ port: 70_000 })).toThrow(
      '[hub] port must be an integer from 0 to 65535, got 70000',
    )
    expect(() => resolveHubOptions({ token: '' })).toThrow('[hub] token must not be empty')
    expect(() => resolveHubOptions({ tickMs: -1 })).toThrow(/tickMs must be a non-negative number/)
    expect(resolveHubOptions({})).toMatchObject({ host: '127.0.0.1', port: 4317, tickMs: 16, loopback: true })
    expect(resolveHubOptions({})).toMatchObject({ maxFinishedRecords: 10_000, maxFailedRecords: 1_000 })
    expect(resolveHubOptions({ maxFinishedRecords: Number.POSITIVE_INFINITY }).maxFinishedRecords).toBe(
      Number.POSITIVE_INFINITY,
    )
    expect(() => resolveHubOptions({ maxFailedRecords: Number.POSITIVE_INFINITY })).toThrow(
      /maxFailedRecords must be a non-negative number/,
    )
  })
})
