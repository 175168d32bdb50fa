import { describe, expect, it } from 'vitest'
import { publishUrl } from './publish-url.ts'

describe('publishUrl', () => {
  it('derives the producer endpoint from the address `spout serve` prints', () => {
    expect(publishUrl('http://127.0.0.1:4317')).toBe('ws://127.0.0.1:4317/publish')
    expect(publishUrl('http://127.0.0.1:4317/')).toBe('ws://127.0.0.1:4317/publish')
    expect(publishUrl('https://hub.example/spout')).toBe('wss://hub.example/spout/publish')
    expect(publishUrl('ws://[::1]:4317')).toBe('ws://[::1]:4317/publish')
    expect(publishUrl('ws://127.0.0.1:4317/publish')).toBe('ws://127.0.0.1:4317/publish')
    expect(publishUrl('ws://127.0.0.1:4317/ws')).toBe('ws://127.0.0.1:4317/publish')
    expect(publishUrl('http://127.0.0.1:4317?token=t')).toBe('ws://127.0.0.1:4317/publish?token=t')
  })

  it('refuses what is not a hub address', () => {
    expect(() => publishUrl('127.0.0.1:4317')).toThrow(/hub address/)
    expect(() => publishUrl('ftp://x')).toThrow(/http\(s\) or ws\(s\)/)
  })
})
