import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { hubCloseCodes, parseEvent, parseResume, type SpoutEvent } from '@spout/core/events'
import { WebSocket, WebSocketServer } from 'ws'
import { hostAllowed, originAllowed, presentedToken, tokenMatches } from './access.ts'
import { HubError } from './errors.ts'
import { JobStore } from './job-store.ts'
import { formatMetrics, HubMetrics } from './metrics.ts'
import { type HubOptions, type ResolvedHubOptions, resolveHubOptions } from './options.ts'
import { StaticFiles } from './static-files.ts'
import { type Viewer, ViewerFanOut } from './viewer-fanout.ts'

/** A running hub. */
export interface Hub {
  /** Base address, e.g. `http://127.0.0.1:4317`: viewers at `/` and `/ws`, producers at `/publish`. */
  readonly url: string
  /** Identifies this run of the hub (sent in every `hub-snapshot` and the `x-spout-hub-id` header). */
  readonly hubId: string
  readonly host: string
  readonly port: number
  /** Sends what is pending, closes every connection (1001) and stops listening. */
  close(): Promise<void>
}

/** Header the hub adds to every WebSocket handshake response, so producers can tell a restart. */
export const hubIdHeader = 'x-spout-hub-id'

/** Error codes of `hub-error` frames. */
export const hubErrorCodes = {
  invalidJson: 'invalid-json',
  invalidEvent: 'invalid-event',
  invalidFrame: 'invalid-frame',
} as const

const viewerMaxPayload = 4 * 1024
const closeGraceMs = 1000
const catchUpIntervalMs = 100

interface Peer {
  readonly socket: WebSocket
  alive: boolean
}

interface Producer extends Peer {
  invalidFrames: number
}

/**
 * Starts the hub: one HTTP server that serves the viewer build, `/healthz` and `/metrics`, and
 * takes WebSocket upgrades on `/ws` (viewers) and `/publish` (producers).
 */
export async function createHub(options: HubOptions = {}): Promise<Hub> {
  const resolved = resolveHubOptions(options)
  const hub = new HubServer(resolved)
  await hub.start()
  return hub
}

class HubServer implements Hub {
  readonly hubId: string
  readonly #options: ResolvedHubOptions
  readonly #store: JobStore
  readonly #metrics = new HubMetrics()
  readonly #fanOut: ViewerFanOut
  readonly #producers = new Set<Producer>()
  readonly #http: Server
  readonly #viewerServer: WebSocketServer
  readonly #publishServer: WebSocketServer
  readonly #staticFiles: StaticFiles | undefined
  readonly #startedAt = Date.now()
  #flushTimeout: NodeJS.Timeout | undefined
  #flushImmediate: NodeJS.Immediate | undefined
  #lastFlush = 0
  #heartbeat: NodeJS.Timeout | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  #catchUpTimer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  #address: AddressInfo | undefined

  constructor(options: ResolvedHubOptions) {
    this.#options = options
    this.hubId = options.bus?.hubId ?? randomUUID()
    this.#store = new JobStore(options)
    this.#fanOut = new ViewerFanOut(options, this.#metrics)
    this.#staticFiles = options.staticDir ? new StaticFiles(options.staticDir) : undefined
    this.#http = createServer((request, response) => {
      this.#handleRequest(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500)
        response.end()
      })
    })
    this.#http.on('upgrade', (request, socket, head) => {
      // One connection's trouble must never take the hub down.
      try {
        this.#handleUpgrade(request, socket as Socket, head)
      } catch {
        socket.destroy()
      }
    })
    this.#http.on('clientError', (_error, socket) => socket.destroy())
    const common = { noServer: true, clientTracking: false, perMessageDeflate: false } as const
    this.#viewerServer = new WebSocketServer({ ...common, maxPayload: viewerMaxPayload })
    this.#publishServer = new WebSocketServer({ ...common, maxPayload: options.maxPublishPayload })
    for (const server of [this.#viewerServer, this.#publishServer]) {
      server.on('headers', (headers) => headers.push(`${hubIdHeader}: ${this.hubId}`))
    }
  }

  get host(): string {
    return this.#address?.address ?? this.#options.host
  }

  get port(): number {
    return this.#address?.port ?? this.#options.port
  }

  get url(): string {
    const host = this.#options.host
    const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    return `http://${shown}:${this.port}`
  }

  async start(): Promise<void> {
    // With a bus, the hub first learns what the bus holds, so its first viewer sees every job.
    await this.#options.bus?.start((events) => this.#deliver(events))
    try {
      await this.#listen()
    } catch (error) {
      await this.#options.bus?.close()
      throw error
    }
  }

  async #listen(): Promise<void> {
    const { host, port } = this.#options
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          new HubError(
            'SPOUT_HUB_LISTEN',
            `[hub] cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
            {
              cause: error,
            },
          ),
        )
      }
      this.#http.once('error', onError)
      this.#http.listen(port, host, () => {
        this.#http.off('error', onError)
        resolve()
      })
    })
    this.#address = this.#http.address() as AddressInfo
    if (this.#options.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatMs)
      this.#heartbeat.unref()
    }
    this.#pruneTimer = setInterval(() => this.#store.prune(Date.now()), 10_000)
    this.#pruneTimer.unref()
    // Viewers that fell behind come back at the next tick, or here when no events flow.
    this.#catchUpTimer = setInterval(() => {
      if (this.#fanOut.behind > 0) this.#fanOut.broadcast(undefined, this.#catchUpSnapshot)
    }, catchUpIntervalMs)
    this.#catchUpTimer.unref()
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown()
    return this.#closing
  }

  async #shutDown(): Promise<void> {
    clearInterval(this.#heartbeat)
    clearInterval(this.#pruneTimer)
    clearInterval(this.#catchUpTimer)
    this.#cancelFlush()
    this.#flush()
    const peers: Peer[] = [...this.#fanOut.viewers, ...this.#producers]
    this.#fanOut.viewers.clear()
    const closed = peers.map(
      (peer) =>
        new Promise<void>((resolve) => {
          if (peer.socket.readyState === WebSocket.CLOSED) return resolve()
          peer.socket.once('close', () => resolve())
          peer.socket.close(hubCloseCodes.goingAway, 'hub shutting down')
        }),
    )
    let graceTimer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, closeGraceMs)
      }),
    ])
    clearTimeout(graceTimer)
    for (const peer of peers) peer.socket.terminate()
    this.#viewerServer.close()
    this.#publishServer.close()
    await this.#options.bus?.close()
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve())
      this.#http.closeAllConnections()
    })
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async #handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(request, this.#options.loopback, this.#options.allowedHosts)) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
      response.end('forbidden host\n')
      return
    }
    const url = new URL(request.url ?? '/', 'http://hub.invalid')
    switch (url.pathname) {
      case '/healthz': {
        const body = JSON.stringify({
          status: this.#closing ? 'closing' : 'ok',
          hubId: this.hubId,
          uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
          viewers: this.#fanOut.viewers.size,
          producers: this.#producers.size,
        })
        response.writeHead(this.#closing ? 503 : 200, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        })
        response.end(body)
        return
      }
      case '/metrics': {
        const counts = this.#store.jobCounts()
        const body = formatMetrics(this.#metrics, {
          viewers: this.#fanOut.viewers.size,
          viewersBehind: this.#fanOut.behind,
          viewerBufferedBytes: this.#fanOut.bufferedBytes(),
          producers: this.#producers.size,
          jobsRunning: counts.running,
          jobsFinished: counts.finished,
          recordsHeld: this.#store.recordsHeld,
          historyEvents: this.#store.historyLength,
          historyBytes: this.#store.historyBytes,
        })
        response.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          'cache-control': 'no-store',
        })
        response.end(body)
        return
      }
      case '/ws':
      case '/publish':
        response.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain; charset=utf-8' })
        response.end('this endpoint takes WebSocket connections\n')
        return
    }
    if (this.#staticFiles) {
      await this.#staticFiles.handle(request, response, url.pathname)
      return
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
    response.end('not found: this hub serves no viewer build (start it with staticDir)\n')
  }

  // ---- WebSocket handshakes -------------------------------------------------------------------

  #handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (this.#closing || !hostAllowed(request, this.#options.loopback, this.#options.allowedHosts)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    const url = new URL(request.url ?? '/', 'http://hub.invalid')
    const server =
      url.pathname === '/ws'
        ? this.#viewerServer
        : url.pathname === '/publish'
          ? this.#publishServer
          : undefined
    if (!server) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    server.handleUpgrade(request, socket, head, (webSocket) => {
      webSocket.on('error', () => webSocket.terminate())
      try {
        this.#admit(server, webSocket, request, url)
      } catch {
        webSocket.terminate()
      }
    })
  }

  #admit(server: WebSocketServer, webSocket: WebSocket, request: IncomingMessage, url: URL): void {
    if (!originAllowed(request, this.#options.allowedOrigins)) {
      this.#metrics.rejectedOrigin += 1
      webSocket.close(hubCloseCodes.forbiddenOrigin, 'origin not allowed')
      return
    }
    const token = presentedToken(request, url)
    if (server === this.#publishServer) {
      const expected = this.#options.token
      if (expected !== undefined && !tokenMatches(token, expected)) this.#refuse(webSocket)
      else this.#acceptProducer(webSocket)
      return
    }
    const { viewerToken, token: publishToken } = this.#options
    const viewerAllowed =
      viewerToken === undefined ||
      tokenMatches(token, viewerToken) ||
      (publishToken !== undefined && tokenMatches(token, publishToken))
    if (viewerAllowed) this.#acceptViewer(webSocket, url)
    else this.#refuse(webSocket)
  }

  #refuse(webSocket: WebSocket): void {
    this.#metrics.rejectedUnauthorized += 1
    webSocket.close(hubCloseCodes.unauthorized, 'missing or wrong token')
  }

  // ---- Viewers --------------------------------------------------------------------------------

  #acceptViewer(socket: WebSocket, url: URL): void {
    const viewer: Viewer = this.#fanOut.add(socket)
    socket.on('pong', () => {
      viewer.alive = true
    })
    socket.on('message', () => {
      viewer.alive = true // viewers have nothing to say; anything they send is ignored
    })
    const positions = parseResume(url.searchParams.get('resume'))
    const frames: { data: Buffer; events: number }[] = []
    if (url.searchParams.get('hub') === this.hubId && positions.size > 0) {
      const catchUp = this.#store.catchUp(positions)
      const snapshot = this.#store.snapshotJson(this.hubId, false, catchUp.snapshotJobIds)
      frames.push({ data: Buffer.from(snapshot), events: 0 })
      if (catchUp.replay.length > 0) {
        const frame = catchUp.replay.length === 1 ? catchUp.replay[0]! : `[${catchUp.replay.join(',')}]`
        frames.push({ data: Buffer.from(frame), events: catchUp.replay.length })
      }
    } else {
      frames.push({ data: Buffer.from(this.#store.snapshotJson(this.hubId, true)), events: 0 })
    }
    this.#fanOut.admit(viewer, frames)
  }

  readonly #catchUpSnapshot = (full: boolean, jobIds: readonly string[]): Buffer =>
    Buffer.from(this.#store.snapshotJson(this.hubId, full, full ? undefined : jobIds))

  // ---- Producers ------------------------------------------------------------------------------

  #acceptProducer(socket: WebSocket): void {
    const producer: Producer = { socket, alive: true, invalidFrames: 0 }
    this.#producers.add(producer)
    socket.on('pong', () => {
      producer.alive = true
    })
    socket.on('close', () => this.#producers.delete(producer))
    socket.on('message', (data, isBinary) => {
      producer.alive = true
      try {
        this.#receive(producer, data as Buffer | Buffer[] | ArrayBuffer, isBinary)
      } catch {
        socket.terminate()
      }
    })
  }

  #receive(producer: Producer, data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): undefined {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    this.#metrics.framesIn += 1
    this.#metrics.bytesIn += bytes.length
    if (isBinary)
      return this.#reject(producer, hubErrorCodes.invalidFrame, 'frames must be JSON text, not binary')
    let value: unknown
    try {
      value = JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      return this.#reject(
        producer,
        hubErrorCodes.invalidJson,
        `frame is not JSON: ${(error as Error).message}`,
      )
    }
    const items = Array.isArray(value) ? value : [value]
    if (items.length === 0)
      return this.#reject(producer, hubErrorCodes.invalidFrame, 'frame is an empty array')
    const events: SpoutEvent[] = new Array(items.length)
    for (let index = 0; index < items.length; index++) {
      const result = parseEvent(items[index])
      if (!result.ok) {
        const where = Array.isArray(value) ? `event ${index}: ` : ''
        return this.#reject(producer, hubErrorCodes.invalidEvent, `${where}${result.message} (frame dropped)`)
      }
      events[index] = result.event
    }
    this.#metrics.eventsIn += events.length
    if (this.#options.bus) {
      this.#options.bus.publish(events) // stamped on the bus; back through #deliver, on every hub
      return undefined
    }
    const now = Date.now()
    for (const event of events) this.#store.stamp(event, now)
    this.#scheduleFlush()
    return undefined
  }

  /** Events stamped on the bus (from any hub's producers), in the bus's order. */
  #deliver(events: SpoutEvent[]): void {
    const now = Date.now()
    for (const event of events) this.#store.take(event, now)
    this.#scheduleFlush()
  }

  #reject(producer: Producer, code: string, message: string): undefined {
    this.#metrics.invalidFrames += 1
    producer.invalidFrames += 1
    const socket = producer.socket
    if (socket.readyState !== WebSocket.OPEN) return undefined
    socket.send(JSON.stringify({ type: 'hub-error', code, message }))
    if (producer.invalidFrames > this.#options.maxInvalidFrames) {
      socket.close(hubCloseCodes.invalidFrames, 'too many invalid frames')
    }
    return undefined
  }

  // ---- Fan-out --------------------------------------------------------------------------------

  /** Throttle with a leading edge: an event after a quiet spell goes out at once, a busy stream once per tick. */
  #scheduleFlush(): void {
    if (this.#flushTimeout !== undefined || this.#flushImmediate !== undefined || this.#closing) return
    const wait = this.#lastFlush + this.#options.tickMs - performance.now()
    if (wait <= 0) {
      this.#flushImmediate = setImmediate(() => this.#flush())
    } else {
      this.#flushTimeout = setTimeout(() => this.#flush(), wait)
    }
  }

  #cancelFlush(): void {
    clearTimeout(this.#flushTimeout)
    clearImmediate(this.#flushImmediate)
    this.#flushTimeout = undefined
    this.#flushImmediate = undefined
  }

  #flush(): void {
    this.#flushTimeout = undefined
    this.#flushImmediate = undefined
    this.#lastFlush = performance.now()
    const batch = this.#store.flush(Date.now())
    if (!batch) return
    const tick = { frame: Buffer.from(batch.frame), events: batch.events, jobIds: batch.jobIds }
    this.#fanOut.broadcast(tick, this.#catchUpSnapshot)
  }

  #beat(): void {
    for (const peer of [...this.#fanOut.viewers, ...this.#producers] as Peer[]) {
      if (!peer.alive) {
        this.#metrics.peersDroppedDead += 1
        peer.socket.terminate()
        continue
      }
      peer.alive = false
      peer.socket.ping()
    }
  }
}
