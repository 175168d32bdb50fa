import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { SpoutEvent } from '@spout/core'
import { applyEvent, createState, fromSnapshot, type HubFrame, type SpoutState } from '@spout/core/events'

/** `ws://HOST:PORT` for a hub's `http://HOST:PORT`. */
export const webSocketBase = (hubUrl: string): string => hubUrl.replace(/^http/, 'ws')

/** Resolves with the close code once the socket closes (at most `timeout` ms, then rejects). */
export function closed(socket: WebSocket, timeout = 30_000): Promise<number> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(-1)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`socket to ${socket.url} did not close in ${timeout} ms`)),
      timeout,
    )
    socket.addEventListener('close', (event) => {
      clearTimeout(timer)
      resolve(event.code)
    })
  })
}

/** Resolves once the socket is open; rejects when it closes or fails first. */
export function opened(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.OPEN) return Promise.resolve()
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true })
    socket.addEventListener('close', (event) => reject(new Error(`closed before open (${event.code})`)), {
      once: true,
    })
  })
}

/**
 * A well-behaved viewer: folds every frame into a reducer state the way the web viewer does, and
 * measures each chunk's latency from the moment the pipeline handed it to its sinks.
 */
export class TestViewer {
  state: SpoutState = createState()
  readonly socket: WebSocket
  /** Chunk events received per `jobId/recordId/seq`, for the chunks listed in `sentAt` (gaps, duplicates). */
  readonly chunkCounts = new Map<string, number>()
  /** Chunk events received per job (all jobs). */
  readonly chunksPerJob = new Map<string, number>()
  readonly latencies: number[] = []
  readonly jobIds = new Set<string>()
  frames = 0
  closeCode: number | undefined
  readonly sentAt: ReadonlyMap<string, number>

  constructor(hubUrl: string, sentAt: ReadonlyMap<string, number>) {
    this.sentAt = sentAt
    this.socket = new WebSocket(`${webSocketBase(hubUrl)}/ws`)
    this.socket.addEventListener('message', (message) => this.#receive(String(message.data)))
    this.socket.addEventListener('close', (event) => {
      this.closeCode = event.code
    })
  }

  #receive(data: string): void {
    const now = performance.now()
    this.frames += 1
    const frame = JSON.parse(data) as HubFrame
    if (Array.isArray(frame)) {
      for (const event of frame) this.#apply(event, now)
      return
    }
    if (frame.type === 'hub-snapshot') {
      this.state = fromSnapshot(this.state, frame)
      for (const job of frame.jobs) this.jobIds.add(job.jobId)
      return
    }
    if (frame.type === 'hub-error') return
    this.#apply(frame, now)
  }

  #apply(event: SpoutEvent, now: number): void {
    this.jobIds.add(event.jobId)
    if (event.type === 'chunk') {
      this.chunksPerJob.set(event.jobId, (this.chunksPerJob.get(event.jobId) ?? 0) + 1)
      const key = `${event.jobId}/${event.recordId}/${event.seq}`
      const sent = this.sentAt.get(key)
      if (sent !== undefined) {
        this.chunkCounts.set(key, (this.chunkCounts.get(key) ?? 0) + 1)
        this.latencies.push(now - sent)
      }
    }
    this.state = applyEvent(this.state, event)
  }

  close(): Promise<number> {
    const done = closed(this.socket)
    this.socket.close()
    return done
  }
}

export type RawConnectMode =
  /** Complete the WebSocket handshake, then destroy the TCP socket without a close frame. */
  | 'abrupt'
  /** Send half a handshake request, then destroy the socket. */
  | 'half-handshake'
  /** Send random bytes instead of HTTP, then end. */
  | 'garbage'

/** One hostile TCP connection to the hub's port; resolves when it is gone. */
export function rawConnect(
  port: number,
  mode: RawConnectMode,
  garbage: Uint8Array = randomBytes(64),
): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const finish = () => {
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(finish, 10_000)
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
    socket.on('connect', () => {
      const request =
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      if (mode === 'abrupt') {
        socket.write(request)
        socket.once('data', () => finish())
      } else if (mode === 'half-handshake') {
        socket.write(request.slice(0, Math.floor(request.length / 2)), () => finish())
      } else {
        socket.end(garbage)
      }
    })
  })
}

/** Reads the gauges of `/metrics` (`spout_hub_connections{role="viewer"}` → `viewer`, …). */
export async function hubGauges(hubUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${hubUrl}/metrics`)).text()
  const gauges: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const match = /^spout_hub_(\w+?)(?:\{\w+="([\w-]+)"\})? (\d+(?:\.\d+)?)$/.exec(line)
    if (match) gauges[match[2] ? `${match[1]}.${match[2]}` : match[1]!] = Number(match[3])
  }
  return gauges
}
