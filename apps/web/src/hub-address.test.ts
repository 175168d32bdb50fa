import { describe, expect, it } from 'vitest'
import { resolveHubAddress, socketUrlFor } from './hub-address.ts'

describe('resolveHubAddress', () => {
  it('uses the page origin when the page is served by the hub', () => {
    expect(resolveHubAddress(new URL('http://127.0.0.1:4317/'))).toEqual({
      socketUrl: 'ws://127.0.0.1:4317/ws',
    })
    expect(resolveHubAddress(new URL('https://spout.example/viewer/?x=1#top'))).toEqual({
      socketUrl: 'wss://spout.example/ws',
    })
  })

  it('takes ?hub= over the build-time fallback, in any of the usual spellings', () => {
    const page = (hub: string) => new URL(`http://localhost:5173/?hub=${encodeURIComponent(hub)}`)
    expect(resolveHubAddress(page('ws://127.0.0.1:4317'), 'ws://other:1').socketUrl).toBe(
      'ws://127.0.0.1:4317/ws',
    )
    expect(resolveHubAddress(page('http://127.0.0.1:4317/')).socketUrl).toBe('ws://127.0.0.1:4317/ws')
    expect(resolveHubAddress(page('https://hub.example')).socketUrl).toBe('wss://hub.example/ws')
    expect(resolveHubAddress(page('127.0.0.1:4317')).socketUrl).toBe('ws://127.0.0.1:4317/ws')
    expect(resolveHubAddress(page('ws://127.0.0.1:4317/ws')).socketUrl).toBe('ws://127.0.0.1:4317/ws')
  })

  it('falls back to VITE_SPOUT_HUB during development', () => {
    expect(resolveHubAddress(new URL('http://localhost:5173/'), 'ws://127.0.0.1:4317').socketUrl).toBe(
      'ws://127.0.0.1:4317/ws',
    )
  })

  it('passes a viewer token on', () => {
    const address = resolveHubAddress(new URL('http://127.0.0.1:4317/?token=s3cret'))
    expect(address.token).toBe('s3cret')
    expect(socketUrlFor(address)).toBe('ws://127.0.0.1:4317/ws?token=s3cret')
  })
})

describe('socketUrlFor', () => {
  const address = { socketUrl: 'ws://127.0.0.1:4317/ws' }

  it('connects plainly the first time', () => {
    expect(socketUrlFor(address, { resume: '' })).toBe('ws://127.0.0.1:4317/ws')
  })

  it('resumes with the hub id and each job position', () => {
    const url = new URL(socketUrlFor(address, { hubId: 'h-1', resume: 'job%201:42,b:7' }))
    expect(url.searchParams.get('hub')).toBe('h-1')
    expect(url.searchParams.get('resume')).toBe('job%201:42,b:7')
  })
})
