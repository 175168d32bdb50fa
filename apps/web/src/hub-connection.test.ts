import type { SpoutEvent } from '@spout/core/events'
import { getRecord, hubCloseCodes } from '@spout/core/events'
import { describe, expect, it } from 'vitest'
import type { SocketLike } from './hub-connection.ts'
import { connectHub } from './hub-connection.ts'
import { ViewerStore } from './viewer-store.ts'

class FakeSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: MessageEvent) => void) | null = null
  onclose: ((event: CloseEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  closedWith: number | undefined
  readonly readyState = 1
  constructor(readonly url: string) {}
  open(): void {
    this.onopen?.(new Event('open'))
  }
  send(frame: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }))
  }
  drop(code = 1006, reason = ''): void {
    this.onclose?.(new CloseEvent('close', { code, reason }))
  }
  close(code?: number): void {
    this.closedWith = code
  }
}

function setUp() {
  const sockets: FakeSocket[] = []
  const timers: { callback: () => void; delay: number }[] = []
  const store = new ViewerStore({ scheduler: () => () => {} })
  const connection = connectHub({
    store,
    address: { socketUrl: 'ws://127.0.0.1:4317/ws' },
    createSocket: (url) => {
      const socket = new FakeSocket(url)
      sockets.push(socket)
      return socket
    },
    random: () => 0.5,
    isOnline: () => true,
    setTimer: (callback, delay) => {
      const timer = { callback, delay }
      timers.push(timer)
      return timer
    },
    clearTimer: (timer) => {
      timers.splice(timers.indexOf(timer as (typeof timers)[number]), 1)
    },
  })
  const runTimers = () => {
    for (const timer of timers.splice(0)) timer.callback()
  }
  return { sockets, timers, store, connection, runTimers }
}

const events: SpoutEvent[] = [
  {
    type: 'job-start',
    jobId: 'j',
    name: 'n',
    model: 'm',
    host: 'h',
    startedAt: '2026-01-01T00:00:00Z',
    sequence: 1,
  },
  { type: 'record-start', jobId: 'j', recordId: 'r', attempt: 1, model: 'm', sequence: 2 },
  { type: 'chunk', jobId: 'j', recordId: 'r', seq: 0, text: 'Hel', sequence: 3 },
  { type: 'chunk', jobId: 'j', recordId: 'r', seq: 1, text: 'lo', sequence: 4 },
  { type: 'chunk', jobId: 'j', recordId: 'r', seq: 2, text: ' world', sequence: 5 },
]

describe('connectHub', () => {
  it('connects, shows the state, and resumes after a drop from the last sequence', () => {
    const { sockets, store, runTimers, timers } = setUp()
    expect(sockets[0]!.url).toBe('ws://127.0.0.1:4317/ws')
    expect(store.getSnapshot().connection.status).toBe('connecting')
    sockets[0]!.open()
    expect(store.getSnapshot().connection.status).toBe('connected')
    sockets[0]!.send({ type: 'hub-snapshot', hubId: 'hub-1', full: true, jobs: [] })
    sockets[0]!.send(events.slice(0, 4))
    sockets[0]!.drop()
    expect(store.getSnapshot().connection).toMatchObject({ status: 'reconnecting', attempt: 1 })
    expect(timers[0]!.delay).toBeGreaterThanOrEqual(500)
    runTimers()
    const url = new URL(sockets[1]!.url)
    expect(url.searchParams.get('hub')).toBe('hub-1')
    expect(url.searchParams.get('resume')).toBe('j:4')
    sockets[1]!.open()
    // The hub replays from sequence 5; a repeated frame must not double the text.
    sockets[1]!.send(events.slice(3))
    store.flush()
    expect(getRecord(store.getSnapshot().state.jobs.j!, 'r')?.text).toBe('Hello world')
    expect(store.getSnapshot().connection).toMatchObject({ status: 'connected', attempt: 0 })
  })

  it('starts over when the hub restarted and sends a full snapshot with another id', () => {
    const { sockets, store, runTimers } = setUp()
    sockets[0]!.open()
    sockets[0]!.send({ type: 'hub-snapshot', hubId: 'hub-1', full: true, jobs: [] })
    sockets[0]!.send(events)
    sockets[0]!.drop(hubCloseCodes.goingAway, 'hub shutting down')
    expect(store.getSnapshot().connection.reason).toBe('the hub is restarting')
    runTimers()
    sockets[1]!.open()
    sockets[1]!.send({ type: 'hub-snapshot', hubId: 'hub-2', full: true, jobs: [] })
    store.flush()
    expect(store.getSnapshot().state.jobOrder).toEqual([])
    expect(store.getSnapshot().hubId).toBe('hub-2')
  })

  it('says offline after repeated failures and keeps trying with longer waits', () => {
    const { sockets, store, runTimers, timers } = setUp()
    const delays: number[] = []
    for (let attempt = 1; attempt <= 5; attempt++) {
      sockets.at(-1)!.drop()
      delays.push(timers[0]!.delay)
      runTimers()
    }
    expect(store.getSnapshot().connection).toMatchObject({ status: 'offline', attempt: 5 })
    expect(delays[4]!).toBeGreaterThan(delays[0]!)
    expect(sockets).toHaveLength(6)
  })

  it('stops retrying on a refused token until asked', () => {
    const { sockets, store, timers, connection } = setUp()
    sockets[0]!.drop(hubCloseCodes.unauthorized, 'missing or wrong token')
    expect(store.getSnapshot().connection.status).toBe('offline')
    expect(store.getSnapshot().connection.reason).toContain('token')
    expect(timers).toHaveLength(0)
    connection.reconnectNow()
    expect(sockets).toHaveLength(2)
  })

  it('closes for good', () => {
    const { sockets, timers, connection } = setUp()
    connection.close()
    expect(sockets[0]!.closedWith).toBe(1000)
    sockets[0]!.drop()
    expect(timers).toHaveLength(0)
  })
})
