import { type Backoff, backoffDelay, type ControlCommand, hubCloseCodes } from '@spout/core/events'
import { readFrame } from './frame.ts'
import type { HubAddress } from './hub-address.ts'
import { socketUrlFor } from './hub-address.ts'
import type { ViewerStore } from './viewer-store.ts'

/** Many viewers of a restarted hub must not all come back in the same instant: jitter from `base` up. */
const viewerBackoff: Backoff = { base: 500, max: 10_000, jitter: 'from-base' }

/** The part of the browser's `WebSocket` the connection uses (a fake one in tests). */
export interface SocketLike {
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  onerror: ((event: Event) => void) | null
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface HubConnectionOptions {
  store: ViewerStore
  address: HubAddress
  createSocket?: (url: string) => SocketLike
  /** Reconnect delays; default 500 ms doubling to 10 s, jittered from `base` up. */
  backoff?: Backoff
  random?: () => number
  /** Failed attempts in a row after which the page says "offline" instead of "reconnecting". */
  offlineAfter?: number
  isOnline?: () => boolean
  setTimer?: (callback: () => void, delay: number) => unknown
  clearTimer?: (timer: unknown) => void
  now?: () => number
}

export interface HubConnection {
  /** Skips the wait and tries again now (the "Reconnect" button, or the browser going online). */
  reconnectNow(): void
  /** Sends a control command (stop a job or a record); false when the hub is not connected. */
  send(command: ControlCommand): boolean
  /** Closes the socket for good. */
  close(): void
}

/** Close codes after which retrying cannot help: the page waits for the user. */
const finalCloseCodes: ReadonlyMap<number, string> = new Map([
  [hubCloseCodes.unauthorized, 'the hub refused the viewer token (add ?token=… to the page address)'],
  [hubCloseCodes.forbiddenOrigin, 'the hub refused this page’s origin'],
])

/**
 * Keeps one WebSocket to the hub's viewer endpoint open. Every frame goes into the store's queue.
 * When the socket drops it retries with jittered backoff and resumes from the store's position
 * (hub id + each job's last sequence), so the hub sends exactly what the page missed.
 */
export function connectHub(options: HubConnectionOptions): HubConnection {
  const { store, address } = options
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url))
  const setTimer = options.setTimer ?? ((callback: () => void, delay: number) => setTimeout(callback, delay))
  const clearTimer = options.clearTimer ?? ((timer: unknown) => clearTimeout(timer as number))
  const isOnline = options.isOnline ?? (() => (typeof navigator === 'undefined' ? true : navigator.onLine))
  const now = options.now ?? Date.now
  const offlineAfter = options.offlineAfter ?? 4
  let socket: SocketLike | undefined
  let timer: unknown
  let attempt = 0
  let closed = false

  const open = (): void => {
    timer = undefined
    if (closed) return
    const current = createSocket(socketUrlFor(address, store.resumePosition()))
    socket = current
    current.onopen = () => {
      if (socket !== current) return
      attempt = 0
      store.setConnection({ status: 'connected', attempt: 0 })
    }
    current.onmessage = (event) => {
      if (socket !== current || typeof event.data !== 'string') return
      const frame = readFrame(event.data)
      if (frame) store.receive(frame)
    }
    current.onerror = () => {}
    current.onclose = (event) => {
      if (socket !== current) return
      socket = undefined
      if (closed) return
      const final = finalCloseCodes.get(event.code)
      if (final) {
        store.setConnection({ status: 'offline', attempt, reason: `${final} (close code ${event.code})` })
        return
      }
      attempt += 1
      const delay = backoffDelay(attempt, { ...viewerBackoff, ...options.backoff }, options.random)
      const reason = describeClose(event)
      const status = attempt >= offlineAfter || !isOnline() ? 'offline' : 'reconnecting'
      store.setConnection({ status, attempt, retryAt: now() + delay, ...(reason ? { reason } : {}) })
      timer = setTimer(open, delay)
    }
  }

  const reconnectNow = (): void => {
    if (closed || socket) return
    if (timer !== undefined) clearTimer(timer)
    store.setConnection({ status: 'reconnecting', attempt })
    open()
  }

  const onOnline = (): void => reconnectNow()
  if (typeof window !== 'undefined') window.addEventListener('online', onOnline)
  open()

  return {
    reconnectNow,
    send(command) {
      // 1: WebSocket.OPEN (the constant is not on the test's fake sockets).
      if (socket?.readyState !== 1) return false
      socket.send(JSON.stringify(command))
      return true
    },
    close() {
      closed = true
      if (timer !== undefined) clearTimer(timer)
      if (typeof window !== 'undefined') window.removeEventListener('online', onOnline)
      socket?.close(1000, 'viewer closed')
      socket = undefined
    },
  }
}

function describeClose(event: CloseEvent): string | undefined {
  if (event.code === hubCloseCodes.goingAway) return 'the hub is restarting'
  if (event.code === hubCloseCodes.slowViewer) return 'the page fell behind and the hub dropped it'
  if (event.code === 1006) return 'connection lost'
  return event.reason ? `${event.reason} (close code ${event.code})` : `closed with code ${event.code}`
}
