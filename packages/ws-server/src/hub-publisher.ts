import {
  applyEvents,
  backoffDelay,
  createState,
  type HubErrorFrame,
  hubCloseCodes,
  jobResync,
  pruneRecords,
  type RecordLimits,
  removeJob,
  type SpoutEvent,
  type SpoutState,
} from '@spout/core/events'
import { WebSocket } from 'ws'
import { publishUrl } from './publish-url.ts'

export interface HubPublisherOptions {
  /** The hub's base address (`http://127.0.0.1:4317`) or its `ws://…/publish` endpoint. */
  url: string
  /** The hub's token, sent as `Authorization: Bearer T`. */
  token?: string
  /** Bytes of events held while the hub is away or slow; past it they are dropped and the hub is resynchronized. Default 8 MiB. */
  maxBufferedBytes?: number
  /** Events sent within this window go out as one frame, ms. Default `16`. */
  tickMs?: number
  /** How long `end()` waits for the hub to take what is left, ms. Default `2000`. */
  flushTimeoutMs?: number
  /** First reconnect delay, ms; doubles up to `maxReconnectDelayMs`, with jitter. Default `100`. */
  reconnectDelayMs?: number
  /** Default `5000`. */
  maxReconnectDelayMs?: number
  /** Ping interval; a hub that has not answered the previous ping is treated as gone. Default `15000`. */
  heartbeatMs?: number
  /**
   * Done and skipped records of a running job kept (with prompt and text) to resynchronize a
   * restarted hub: the most recent ones. Running records are always kept. Default `1000`.
   * Keep 1.5 × (this + `maxFailedRecords`) below the hub's own record limits.
   */
  maxFinishedRecords?: number
  /** Failed records kept for a resync, apart from `maxFinishedRecords`. Default `100`. */
  maxFailedRecords?: number
}

/** Record limits of the producer's own state (see `HubPublisherOptions`). */
export const publisherRecordDefaults = { maxFinishedRecords: 1_000, maxFailedRecords: 100 } as const

export interface PublisherLogger {
  warn(message: string): void
}

/** Frames stay well under the hub's default 4 MiB `maxPayload`. */
const maxFrameBytes = 1024 * 1024
/** A record-start larger than this is sent without its images (the viewer does not show them). */
const maxRecordStartBytes = 256 * 1024

/**
 * The producer side of the hub: takes events synchronously and never blocks or throws. It keeps a
 * reducer state of its jobs (running records and a bounded tail of finished ones, so its memory
 * stays flat over any batch), sends events in frames once per tick, holds a bounded queue while
 * the hub is away or slow, reconnects with backoff and then resynchronizes the hub from the state.
 */
export class HubPublisher {
  readonly url: string
  readonly #token: string | undefined
  readonly #maxBufferedBytes: number
  readonly #tickMs: number
  readonly #flushTimeoutMs: number
  readonly #reconnectDelayMs: number
  readonly #maxReconnectDelayMs: number
  readonly #heartbeatMs: number
  readonly #recordLimits: RecordLimits

  #state: SpoutState = createState()
  #unapplied: SpoutEvent[] = []
  #queue: string[] = []
  #queueBytes = 0
  /** The queue no longer holds everything the hub lacks: rebuild the hub's view from the state. */
  #needsResync = false
  /**
   * JSON bytes of the events the hub lacks besides the queue (lost with a connection, or published
   * while a resync is due). While they fit in `maxBufferedBytes`, finished records are not pruned,
   * so that the resync brings back every record the hub missed.
   */
  #missedBytes = 0
  #socket: WebSocket | undefined
  #open = false
  #attempts = 0
  #reconnectTimer: NodeJS.Timeout | undefined
  #tickTimer: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #hubAlive = true
  #refused = false
  #ending = false
  #warned = false
  #logger: PublisherLogger | undefined

  constructor(options: HubPublisherOptions) {
    this.url = publishUrl(options.url)
    this.#token = options.token
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024
    this.#tickMs = options.tickMs ?? 16
    this.#flushTimeoutMs = options.flushTimeoutMs ?? 2000
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 100
    this.#maxReconnectDelayMs = options.maxReconnectDelayMs ?? 5000
    this.#heartbeatMs = options.heartbeatMs ?? 15_000
    this.#recordLimits = {
      maxFinished: options.maxFinishedRecords ?? publisherRecordDefaults.maxFinishedRecords,
      maxFailed: options.maxFailedRecords ?? publisherRecordDefaults.maxFailedRecords,
    }
  }

  /** True while a connection to the hub is open. */
  get connected(): boolean {
    return this.#open
  }

  /** Bytes waiting for the hub: queued here plus buffered in the socket. Bounded by about 2.5 × `maxBufferedBytes`. */
  get pendingBytes(): number {
    return this.#queueBytes + (this.#socket?.bufferedAmount ?? 0)
  }

  /** Queues one event for the hub. Never throws, never waits. */
  publish(event: SpoutEvent, logger?: PublisherLogger): void {
    if (logger) this.#logger = logger
    this.#ending = false
    this.#unapplied.push(event)
    if (!this.#needsResync) {
      const json = JSON.stringify(fitForHub(event))
      this.#queue.push(json)
      this.#queueBytes += json.length
      if (this.#queueBytes > this.#maxBufferedBytes) {
        // More than the budget is missing: the resync brings back the tail only.
        this.#missedBytes = this.#queueBytes
        this.#dropQueue()
        this.#needsResync = true
      }
    } else if (this.#holding) {
      this.#missedBytes += JSON.stringify(event).length
    }
    this.#connect()
    this.#scheduleTick()
  }

  /**
   * Sends what is left, waiting at most `flushTimeoutMs` for the hub, then closes the connection
   * and forgets finished jobs. Never throws.
   */
  async end(): Promise<void> {
    this.#ending = true
    const deadline = Date.now() + this.#flushTimeoutMs
    while (!this.#drained() && Date.now() < deadline && !this.#refused) {
      this.#tick()
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, this.#tickMs)))
    }
    if (!this.#ending) return // a new job started meanwhile: keep going
    this.#apply()
    for (const jobId of this.#state.jobOrder) {
      if (this.#state.jobs[jobId]?.status !== 'running') this.#state = removeJob(this.#state, jobId)
    }
    if (this.#state.jobOrder.length > 0) return
    this.#stop()
  }

  /** Closes at once, dropping what is queued. */
  close(): void {
    this.#ending = true
    this.#stop()
  }

  #stop(): void {
    clearTimeout(this.#reconnectTimer)
    clearTimeout(this.#tickTimer)
    clearInterval(this.#heartbeat)
    this.#reconnectTimer = undefined
    this.#tickTimer = undefined
    const socket = this.#socket
    this.#socket = undefined
    this.#open = false
    if (socket) {
      socket.removeAllListeners('close')
      socket.on('error', () => {})
      socket.close(1000, 'job ended')
    }
    this.#dropQueue()
    this.#needsResync = false
    this.#missedBytes = 0
    this.#attempts = 0
  }

  #drained(): boolean {
    return (
      this.#open &&
      this.#queue.length === 0 &&
      !this.#needsResync &&
      this.#unapplied.length === 0 &&
      (this.#socket?.bufferedAmount ?? 0) === 0
    )
  }

  #warnOnce(message: string): void {
    if (this.#warned) return
    this.#warned = true
    this.#logger?.warn(message)
  }

  #connect(): void {
    if (this.#socket || this.#reconnectTimer || this.#refused) return
    const headers: Record<string, string> = {}
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    const socket = new WebSocket(this.url, { headers, handshakeTimeout: 5000, perMessageDeflate: false })
    this.#socket = socket
    socket.on('open', () => {
      this.#open = true
      this.#attempts = 0
      this.#startHeartbeat(socket)
      this.#tick()
    })
    socket.on('pong', () => {
      this.#hubAlive = true
    })
    socket.on('message', (data) => {
      let frame: Partial<HubErrorFrame>
      try {
        frame = JSON.parse(String(data)) as HubErrorFrame
      } catch {
        return
      }
      if (frame.type === 'hub-error') this.#warnOnce(`hub at ${this.url} refused an event: ${frame.message}`)
    })
    socket.on('error', () => {}) // 'close' follows and handles it
    socket.on('close', (code) => this.#onClose(socket, code))
  }

  /** A hub that vanished without closing (a dead host, a cut cable) is noticed by its missing pong. */
  #startHeartbeat(socket: WebSocket): void {
    clearInterval(this.#heartbeat)
    if (this.#heartbeatMs <= 0) return
    this.#hubAlive = true
    this.#heartbeat = setInterval(() => {
      if (!this.#hubAlive) {
        socket.terminate()
        return
      }
      this.#hubAlive = false
      socket.ping()
    }, this.#heartbeatMs)
    this.#heartbeat.unref()
  }

  #onClose(socket: WebSocket, code: number): void {
    if (this.#socket !== socket) return
    clearInterval(this.#heartbeat)
    const wasOpen = this.#open
    this.#socket = undefined
    this.#open = false
    if (code === hubCloseCodes.unauthorized || code === hubCloseCodes.forbiddenOrigin) {
      this.#refused = true
      this.#dropQueue()
      this.#warnOnce(
        `hub at ${this.url} refused the producer (close ${code}): check the token; the run goes on`,
      )
      return
    }
    if (wasOpen) {
      // Whatever was in flight may be lost: rebuild the hub's view after reconnecting.
      if (!this.#needsResync) this.#missedBytes = this.#queueBytes
      this.#dropQueue()
      this.#needsResync = true
    }
    this.#warnOnce(
      `hub at ${this.url} is unreachable (close ${code}); the run goes on, events are buffered and sent on reconnect`,
    )
    this.#attempts += 1
    const delay = backoffDelay(this.#attempts, {
      base: this.#reconnectDelayMs,
      max: this.#maxReconnectDelayMs,
    })
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      this.#connect()
    }, delay)
    this.#reconnectTimer.unref()
  }

  #scheduleTick(): void {
    if (this.#tickTimer) return
    this.#tickTimer = setTimeout(() => this.#tick(), this.#tickMs)
    this.#tickTimer.unref()
  }

  /** A resync is due and what the hub missed fits the budget: keep every finished record for it. */
  get #holding(): boolean {
    return this.#needsResync && this.#missedBytes <= this.#maxBufferedBytes
  }

  /** Folds what was published into the state, keeping only a bounded tail of finished records. */
  #apply(): void {
    if (this.#unapplied.length === 0) return
    const events = this.#unapplied
    this.#unapplied = []
    this.#state = applyEvents(this.#state, events)
    if (this.#holding) return
    let previous: string | undefined
    for (const event of events) {
      if (event.jobId === previous) continue
      previous = event.jobId
      this.#state = pruneRecords(this.#state, event.jobId, this.#recordLimits)
    }
  }

  #pruneAll(): void {
    for (const jobId of this.#state.jobOrder) {
      this.#state = pruneRecords(this.#state, jobId, this.#recordLimits)
    }
  }

  #tick(): void {
    clearTimeout(this.#tickTimer)
    this.#tickTimer = undefined
    this.#apply()
    const socket = this.#socket
    if (!socket || !this.#open) return
    if (socket.bufferedAmount > this.#maxBufferedBytes / 2) {
      // The hub reads slowly: hold events here (bounded) and look again next tick.
      this.#scheduleTick()
      return
    }
    if (this.#needsResync) {
      this.#needsResync = false
      this.#dropQueue()
      for (const frame of frames(
        resyncEvents(this.#state).map((event) => JSON.stringify(fitForHub(event))),
      )) {
        socket.send(frame)
      }
      this.#missedBytes = 0
      this.#pruneAll()
      return
    }
    if (this.#queue.length === 0) return
    const queued = this.#queue
    this.#dropQueue()
    for (const frame of frames(queued)) socket.send(frame)
  }

  #dropQueue(): void {
    this.#queue = []
    this.#queueBytes = 0
  }
}

/** Groups event JSON into array frames of at most `maxFrameBytes` (a larger event goes alone). */
function* frames(events: string[]): Generator<string> {
  let start = 0
  let bytes = 2
  for (let index = 0; index < events.length; index++) {
    const size = events[index]!.length + 1
    if (index > start && bytes + size > maxFrameBytes) {
      yield `[${events.slice(start, index).join(',')}]`
      start = index
      bytes = 2
    }
    bytes += size
  }
  if (start < events.length) yield `[${events.slice(start).join(',')}]`
}

/** Leaves images out of a very large record-start: the viewer shows prompts, not pictures. */
function fitForHub(event: SpoutEvent): SpoutEvent {
  if (event.type !== 'record-start' || !event.messages?.some((message) => message.images?.length))
    return event
  if (JSON.stringify(event).length <= maxRecordStartBytes) return event
  return { ...event, messages: event.messages.map(({ images: _images, ...message }) => message) }
}

/**
 * The events that bring a hub (fresh or not) to this state: each job's start, the end of every
 * finished record the state still holds (the most recent ones, see `maxFinishedRecords`), each
 * running record's start plus one chunk with its text so far, and the job's end if it ended.
 * Replaying them on a hub that already had some of them doubles no text: a record-start starts the
 * record's text over, and a record-end for a record the hub holds changes no count. A restarted
 * hub's counts for the job cover only the records resent (a hub that only lost its connection gets
 * every record it missed, held unpruned within `maxBufferedBytes`); a job that ended carries its
 * exact `summary` in the resent job-end.
 */
export function resyncEvents(state: SpoutState): SpoutEvent[] {
  const events: SpoutEvent[] = []
  for (const jobId of state.jobOrder) {
    const job = state.jobs[jobId]
    if (job) events.push(...jobResync(job))
  }
  return events
}
