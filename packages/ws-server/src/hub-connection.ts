import {
  backoffDelay,
  type ControlCommand,
  type HubErrorFrame,
  hubCloseCodes,
  parseControlCommand,
} from '@spout/core/events'
import { WebSocket } from 'ws'

/** What the connection tells the publisher that owns it. */
export interface HubConnectionEvents {
  /** The connection is open: send what is waiting. */
  open(): void
  /** An open connection was lost: what was in flight may be lost with it. */
  lost(): void
  /** The hub refused this producer (wrong token or origin): it will not try again. */
  refused(): void
  /** One line for the user (the publisher warns once). */
  warn(message: string): void
  /** A viewer's command the hub forwarded (its control channel). */
  control?(command: ControlCommand): void
}

export interface HubConnectionOptions {
  url: string
  token: string | undefined
  reconnectDelayMs: number
  maxReconnectDelayMs: number
  heartbeatMs: number
}

/**
 * One producer's connection to the hub: opens it on demand, pings it (a hub that vanished without
 * closing is noticed by its missing pong), reconnects with backoff, and gives up only when the
 * hub refuses the producer.
 */
export class HubConnection {
  readonly #options: HubConnectionOptions
  readonly #events: HubConnectionEvents
  #socket: WebSocket | undefined
  #open = false
  #attempts = 0
  #reconnectTimer: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #hubAlive = true
  #refused = false

  constructor(options: HubConnectionOptions, events: HubConnectionEvents) {
    this.#options = options
    this.#events = events
  }

  /** The open socket, if any. */
  get socket(): WebSocket | undefined {
    return this.#open ? this.#socket : undefined
  }

  get open(): boolean {
    return this.#open
  }

  get refused(): boolean {
    return this.#refused
  }

  /** Bytes the socket holds for the hub. */
  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0
  }

  /** Connects unless connected, connecting, waiting to reconnect, or refused. */
  connect(): void {
    if (this.#socket || this.#reconnectTimer || this.#refused) return
    const { url, token } = this.#options
    const headers: Record<string, string> = {}
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    const socket = new WebSocket(url, { headers, handshakeTimeout: 5000, perMessageDeflate: false })
    this.#socket = socket
    socket.on('open', () => {
      this.#open = true
      this.#attempts = 0
      this.#startHeartbeat(socket)
      this.#events.open()
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
      if (frame.type === 'hub-error') this.#events.warn(`hub at ${url} refused an event: ${frame.message}`)
      else if ((frame as { type?: unknown }).type === 'control') {
        const parsed = parseControlCommand(frame)
        if (parsed.ok) this.#events.control?.(parsed.command)
      }
    })
    socket.on('error', () => {}) // 'close' follows and handles it
    socket.on('close', (code) => this.#onClose(socket, code))
  }

  /** Closes the connection (1000) and stops reconnecting; `connect()` starts over. */
  stop(): void {
    clearTimeout(this.#reconnectTimer)
    clearInterval(this.#heartbeat)
    this.#reconnectTimer = undefined
    const socket = this.#socket
    this.#socket = undefined
    this.#open = false
    if (socket) {
      socket.removeAllListeners('close')
      socket.on('error', () => {})
      socket.close(1000, 'job ended')
    }
    this.#attempts = 0
  }

  #startHeartbeat(socket: WebSocket): void {
    clearInterval(this.#heartbeat)
    if (this.#options.heartbeatMs <= 0) return
    this.#hubAlive = true
    this.#heartbeat = setInterval(() => {
      if (!this.#hubAlive) {
        socket.terminate()
        return
      }
      this.#hubAlive = false
      socket.ping()
    }, this.#options.heartbeatMs)
    this.#heartbeat.unref()
  }

  #onClose(socket: WebSocket, code: number): void {
    if (this.#socket !== socket) return
    clearInterval(this.#heartbeat)
    const wasOpen = this.#open
    this.#socket = undefined
    this.#open = false
    const url = this.#options.url
    if (code === hubCloseCodes.unauthorized || code === hubCloseCodes.forbiddenOrigin) {
      this.#refused = true
      this.#events.refused()
      this.#events.warn(
        `hub at ${url} refused the producer (close ${code}): check the token; the run goes on`,
      )
      return
    }
    if (wasOpen) this.#events.lost()
    this.#events.warn(
      `hub at ${url} is unreachable (close ${code}); the run goes on, events are buffered and sent on reconnect`,
    )
    this.#attempts += 1
    const delay = backoffDelay(this.#attempts, {
      base: this.#options.reconnectDelayMs,
      max: this.#options.maxReconnectDelayMs,
    })
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      this.connect()
    }, delay)
    this.#reconnectTimer.unref()
  }
}
