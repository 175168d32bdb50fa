import {
  applyEvents,
  type ControlCommand,
  createState,
  pruneRecords,
  type RecordLimits,
  removeJob,
  type SpoutEvent,
  type SpoutState,
} from '@spout/core/events'
import { HubConnection } from './hub-connection.ts'
import { publishUrl } from './publish-url.ts'
import { fitForHub, frames, resyncEvents } from './publisher-frames.ts'

export interface HubPublisherOptions {
  /** The hub's base address (`http://127.0.0.1:4317`) or its `ws://…/publish` endpoint. */
  url: string
  /** The hub's token, sent as `Authorization: Bearer T`. */
  token?: string
  /** Called with each command a viewer sent on the hub's control channel (`broadcastSink` acts on it). */
  onControl?: (command: ControlCommand) => void
  /** Bytes of events held while the hub is away or slow; past it they are dropped and the hub is resynchronized. Default 8 MiB. */
  maxBufferedBytes?: number
  /**
   * Events sent within this window go out as one frame, ms. Default `0`: the events published in
   * one turn of the event loop go out together at its end (`setImmediate`), so no event waits for a
   * timer; the hub coalesces again for its viewers (its own tick), so a window here only adds to
   * every token's latency.
   */
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

/** How long a publisher whose hub reads slowly waits before it looks at the socket again, ms. */
const slowHubRetryMs = 4

/** Record limits of the producer's own state (see `HubPublisherOptions`). */
export const publisherRecordDefaults = { maxFinishedRecords: 1_000, maxFailedRecords: 100 } as const

export interface PublisherLogger {
  warn(message: string): void
}

/**
 * The producer side of the hub: takes events synchronously and never blocks or throws. It keeps a
 * reducer state of its jobs (running records and a bounded tail of finished ones, so its memory
 * stays flat over any batch), sends events in frames (those of one event-loop turn together), holds a bounded queue while
 * the hub is away or slow, reconnects with backoff and then resynchronizes the hub from the state.
 */
export class HubPublisher {
  readonly url: string
  readonly #maxBufferedBytes: number
  readonly #tickMs: number
  readonly #flushTimeoutMs: number
  readonly #recordLimits: RecordLimits
  readonly #connection: HubConnection

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
  #tickTimer: NodeJS.Timeout | undefined
  #tickImmediate: NodeJS.Immediate | undefined
  #ending = false
  #warned = false
  #logger: PublisherLogger | undefined

  constructor(options: HubPublisherOptions) {
    this.url = publishUrl(options.url)
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024
    this.#tickMs = options.tickMs ?? 0
    this.#flushTimeoutMs = options.flushTimeoutMs ?? 2000
    this.#recordLimits = {
      maxFinished: options.maxFinishedRecords ?? publisherRecordDefaults.maxFinishedRecords,
      maxFailed: options.maxFailedRecords ?? publisherRecordDefaults.maxFailedRecords,
    }
    const connection = {
      url: this.url,
      token: options.token,
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 5000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
    }
    this.#connection = new HubConnection(connection, {
      open: () => this.#tick(),
      lost: () => {
        // Whatever was in flight may be lost: rebuild the hub's view after reconnecting.
        if (!this.#needsResync) this.#missedBytes = this.#queueBytes
        this.#dropQueue()
        this.#needsResync = true
      },
      refused: () => this.#dropQueue(),
      warn: (message) => this.#warnOnce(message),
      ...(options.onControl ? { control: options.onControl } : {}),
    })
  }

  /** True while a connection to the hub is open. */
  get connected(): boolean {
    return this.#connection.open
  }

  /** Bytes waiting for the hub: queued here plus buffered in the socket. Bounded by about 2.5 × `maxBufferedBytes`. */
  get pendingBytes(): number {
    return this.#queueBytes + this.#connection.bufferedAmount
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
    this.#connection.connect()
    this.#scheduleTick()
  }

  /**
   * Sends what is left, waiting at most `flushTimeoutMs` for the hub, then closes the connection
   * and forgets finished jobs. Never throws.
   */
  async end(): Promise<void> {
    this.#ending = true
    const deadline = Date.now() + this.#flushTimeoutMs
    while (!this.#drained() && Date.now() < deadline && !this.#connection.refused) {
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
    this.#cancelTick()
    this.#connection.stop()
    this.#dropQueue()
    this.#needsResync = false
    this.#missedBytes = 0
  }

  #drained(): boolean {
    return (
      this.#connection.open &&
      this.#queue.length === 0 &&
      !this.#needsResync &&
      this.#unapplied.length === 0 &&
      this.#connection.bufferedAmount === 0
    )
  }

  #warnOnce(message: string): void {
    if (this.#warned) return
    this.#warned = true
    this.#logger?.warn(message)
  }

  /** Sends what is queued after `delay` ms, or at the end of this turn of the event loop for 0. */
  #scheduleTick(delay = this.#tickMs): void {
    if (this.#tickTimer !== undefined || this.#tickImmediate !== undefined) return
    if (delay > 0) {
      this.#tickTimer = setTimeout(() => this.#tick(), delay)
      this.#tickTimer.unref()
    } else {
      this.#tickImmediate = setImmediate(() => this.#tick())
      this.#tickImmediate.unref()
    }
  }

  #cancelTick(): void {
    clearTimeout(this.#tickTimer)
    clearImmediate(this.#tickImmediate)
    this.#tickTimer = undefined
    this.#tickImmediate = undefined
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
    this.#cancelTick()
    this.#apply()
    const socket = this.#connection.socket
    if (!socket) return
    if (socket.bufferedAmount > this.#maxBufferedBytes / 2) {
      // The hub reads slowly: hold events here (bounded) and look again soon.
      this.#scheduleTick(Math.max(this.#tickMs, slowHubRetryMs))
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
