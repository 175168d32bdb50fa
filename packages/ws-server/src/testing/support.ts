// Test helpers shared by this package's tests: real `ws` clients acting as viewers and producers.
import type { SpoutEvent } from '@spout/core'
import {
  applyEvents,
  createState,
  fromSnapshot,
  getRecord,
  type HubErrorFrame,
  type HubFrame,
  type HubSnapshotFrame,
  type SpoutState,
} from '@spout/core/events'
import { WebSocket } from 'ws'

export interface Closed {
  code: number
  reason: string
}

interface Waiter {
  predicate: () => boolean
  resolve: () => void
}

export interface ViewerOptions {
  headers?: Record<string, string>
  /** What the viewer offers (`ws`'s default: `permessage-deflate`, as browsers do). */
  perMessageDeflate?: boolean | { serverMaxWindowBits?: number }
}

/** A viewer that rebuilds the hub's state from what it receives, like the browser does. */
export class TestViewer {
  state: SpoutState = createState()
  hubId: string | undefined
  readonly snapshots: HubSnapshotFrame[] = []
  /** Every event received (live or replayed), in order. */
  readonly events: SpoutEvent[] = []
  frames = 0
  readonly socket: WebSocket
  readonly closed: Promise<Closed>
  readonly opened: Promise<void>
  #waiters: Waiter[] = []

  /** The connection under the socket: its `bytesRead` is what came over the wire. */
  wire: { readonly bytesRead: number } | undefined

  constructor(url: string, options: ViewerOptions = {}) {
    const { perMessageDeflate = true, headers } = options
    this.socket = new WebSocket(url, { headers, perMessageDeflate })
    this.socket.once('upgrade', (response) => {
      this.wire = response.socket
    })
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('error', reject)
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        this.#check()
      })
    })
    this.socket.on('error', () => {})
    this.socket.on('message', (data) => this.#receive(JSON.parse(String(data)) as HubFrame))
  }

  static connect(base: string, query = '', options: ViewerOptions = {}): TestViewer {
    return new TestViewer(`${base.replace(/^http/, 'ws')}/ws${query}`, options)
  }

  text(jobId: string, recordId: string): string | undefined {
    const job = this.state.jobs[jobId]
    return job ? getRecord(job, recordId)?.text : undefined
  }

  /** Resolves once `predicate` holds (checked after every frame); rejects if the socket closes first. */
  waitFor(predicate: () => boolean, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate: () => {
          if (predicate()) return true
          if (this.socket.readyState === WebSocket.CLOSED) {
            reject(new Error(`viewer closed while waiting for ${what}`))
            return true
          }
          return false
        },
        resolve,
      }
      this.#waiters.push(waiter)
    })
  }

  jobDone(jobId: string): Promise<void> {
    return this.waitFor(() => this.state.jobs[jobId]?.status === 'done', `job ${jobId} to end`)
  }

  close(): Promise<Closed> {
    this.socket.close()
    return this.closed
  }

  #receive(frame: HubFrame): void {
    this.frames += 1
    if (Array.isArray(frame)) {
      this.events.push(...frame)
      this.state = applyEvents(this.state, frame)
    } else if (frame.type === 'hub-snapshot') {
      this.hubId = frame.hubId
      this.snapshots.push(frame)
      this.state = fromSnapshot(this.state, frame)
    } else if (frame.type !== 'hub-error') {
      this.events.push(frame)
      this.state = applyEvents(this.state, [frame])
    }
    this.#check()
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate()) return true
      waiter.resolve()
      return false
    })
  }
}

/** A raw producer on `/publish`: sends whatever it is given and collects `hub-error` frames. */
export class TestProducer {
  readonly socket: WebSocket
  readonly errors: HubErrorFrame[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<Closed>
  #errorWaiters: (() => void)[] = []

  constructor(
    base: string,
    options: { token?: string; query?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers }
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    this.socket = new WebSocket(`${base.replace(/^http/, 'ws')}/publish${options.query ?? ''}`, { headers })
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('error', reject)
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    this.socket.on('error', () => {})
    this.socket.on('message', (data) => {
      this.errors.push(JSON.parse(String(data)) as HubErrorFrame)
      for (const wake of this.#errorWaiters.splice(0)) wake()
    })
  }

  send(frame: SpoutEvent | SpoutEvent[] | string | Buffer): void {
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame))
  }

  async nextError(count = this.errors.length + 1): Promise<HubErrorFrame> {
    while (this.errors.length < count) await new Promise<void>((resolve) => this.#errorWaiters.push(resolve))
    return this.errors[count - 1]!
  }

  close(): Promise<Closed> {
    this.socket.close()
    return this.closed
  }
}

export interface ScriptRecord {
  id: string
  tokens: string[]
}

/** The events of a job whose records stream `tokens`, records interleaved token by token. */
export function jobEvents(jobId: string, records: ScriptRecord[]): SpoutEvent[] {
  const events: SpoutEvent[] = [
    { type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: new Date(0).toISOString() },
  ]
  for (const record of records) {
    events.push({
      type: 'record-start',
      jobId,
      recordId: record.id,
      attempt: 1,
      model: 'm',
      prompt: record.id,
    })
  }
  const longest = Math.max(...records.map((record) => record.tokens.length))
  for (let seq = 0; seq < longest; seq++) {
    for (const record of records) {
      const text = record.tokens[seq]
      if (text !== undefined) events.push({ type: 'chunk', jobId, recordId: record.id, seq, text })
    }
  }
  for (const record of records) {
    events.push({
      type: 'record-end',
      jobId,
      recordId: record.id,
      response: record.tokens.join(''),
      attempts: 1,
    })
  }
  events.push({
    type: 'job-end',
    jobId,
    summary: { ok: records.length, failed: 0, skipped: 0, tokens: 0, duration: 1 },
  })
  return events
}

export function tokensOf(seed: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${seed}${index} `)
}

/** Parses `/metrics` text into `name{labels}` → value. */
export async function readMetrics(base: string): Promise<Map<string, number>> {
  const response = await fetch(`${base}/metrics`)
  const metrics = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    metrics.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return metrics
}

/** Polls until `check` holds; for conditions the hub exposes only over HTTP (metrics). */
export async function eventually(check: () => Promise<boolean>, what: string, attempts = 400): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`gave up waiting for ${what}`)
}

/** Per job, the hub sequences an event list carries must strictly increase (no duplicates, no reordering). */
export function sequencesStrictlyIncrease(events: SpoutEvent[]): boolean {
  const last = new Map<string, number>()
  for (const event of events) {
    const previous = last.get(event.jobId) ?? 0
    if (event.sequence === undefined || event.sequence <= previous) return false
    last.set(event.jobId, event.sequence)
  }
  return true
}
