import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { hubCloseCodes, parseResume, type SpoutEvent } from '@spout/core/events'
import { WebSocket, WebSocketServer } from 'ws'
import { hostAllowed } from './access.ts'
import { HubError } from './errors.ts'
import { admissionVerdict, type HubRole, refuseHandshake, roleOf } from './hub-admission.ts'
import { ControlChannel, controlGrant } from './hub-control.ts'
import { ProducerIntake } from './hub-intake.ts'
import { type HubRoutesContext, handleHubRequest } from './hub-routes.ts'
import { JobStore } from './job-store.ts'
import { HubMetrics } from './metrics.ts'
import { type HubOptions, type ResolvedHubOptions, resolveHubOptions } from './options.ts'
import { StaticFiles } from './static-files.ts'
import { TickThrottle } from './tick-throttle.ts'
import { type Viewer, ViewerFanOut } from './viewer-fanout.ts'

// The hub's lifecycle and its viewers. Its other parts each have a file: the HTTP routes
// (`hub-routes.ts`), who may connect (`hub-admission.ts`), the producers' frames (`hub-intake.ts`),
// the jobs it holds (`job-store.ts`) and the fan-out to viewers (`viewer-fanout.ts`).

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

const viewerMaxPayload = 4 * 1024
const closeGraceMs = 1000
const catchUpIntervalMs = 100
/** Share of one core the ticks may take (serializing and sending): sets the tick between its bounds. */
const fanOutShare = 0.1

interface Peer {
  readonly socket: WebSocket
  alive: boolean
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
  readonly #intake: ProducerIntake
  readonly #control: ControlChannel
  readonly #routes: HubRoutesContext
  readonly #flushes: TickThrottle
  readonly #http: Server
  readonly #viewerServer: WebSocketServer
  readonly #publishServer: WebSocketServer
  #heartbeat: NodeJS.Timeout | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  #catchUpTimer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  #address: AddressInfo | undefined
  /** Viewer handshakes that agreed on `permessage-deflate` as the hub serves it. */
  readonly #deflating = new WeakSet<IncomingMessage>()

  constructor(options: ResolvedHubOptions) {
    this.#options = options
    this.hubId = options.bus?.hubId ?? randomUUID()
    const bus = options.bus
    this.#store = new JobStore(options)
    this.#control = new ControlChannel(
      bus?.command && bus.listen && options.controlToken !== undefined
        ? {
            send: (command) => bus.command?.(command),
            running: (jobId) => this.#store.state.jobs[jobId]?.status === 'running',
          }
        : undefined,
    )
    this.#fanOut = new ViewerFanOut(options, this.#metrics)
    this.#intake = new ProducerIntake(this.#metrics, options.maxInvalidFrames, (events, producer) => {
      if (options.controlToken !== undefined) this.#control.noteJobs(producer.socket, events)
      this.#publish(events)
    })
    this.#flushes = new TickThrottle(
      { minMs: options.minTickMs, maxMs: options.tickMs, share: fanOutShare },
      () => this.#flush(),
    )
    this.#routes = {
      options,
      hubId: this.hubId,
      startedAt: Date.now(),
      metrics: this.#metrics,
      store: this.#store,
      fanOut: this.#fanOut,
      staticFiles: options.staticDir ? new StaticFiles(options.staticDir) : undefined,
      closing: () => this.#closing !== undefined,
      producers: () => this.#intake.producers.size,
      tickMs: () => this.#flushes.tickMs,
    }
    this.#http = createServer((request, response) => {
      handleHubRequest(this.#routes, request, response).catch(() => {
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
    this.#viewerServer = new WebSocketServer({
      ...common,
      maxPayload: viewerMaxPayload,
      // Negotiated only: the hub compresses each tick once itself (text-frame.ts); `ws` compresses nothing.
      perMessageDeflate: options.compression
        ? { serverNoContextTakeover: true, threshold: Number.POSITIVE_INFINITY }
        : false,
    })
    this.#publishServer = new WebSocketServer({ ...common, maxPayload: options.maxPublishPayload })
    for (const server of [this.#viewerServer, this.#publishServer]) {
      server.on('headers', (headers, request) => {
        headers.push(`${hubIdHeader}: ${this.hubId}`)
        if (server === this.#viewerServer && deflateAgreed(headers)) this.#deflating.add(request)
      })
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
      // Commands from controlling viewers on any hub of the bus, for this hub's producers (with a control token only).
      if (this.#options.controlToken !== undefined)
        await this.#options.bus?.listen?.((command) => this.#control.forward(command))
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
    this.#flushes.runNow()
    const peers: Peer[] = [...this.#fanOut.viewers, ...this.#intake.producers]
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

  // ---- WebSocket handshakes -------------------------------------------------------------------

  #handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (this.#closing || !hostAllowed(request, this.#options.loopback, this.#options.allowedHosts)) {
      refuseHandshake(socket, '403 Forbidden')
      return
    }
    const url = new URL(request.url ?? '/', 'http://hub.invalid')
    const role = roleOf(url.pathname)
    if (!role) {
      refuseHandshake(socket, '404 Not Found')
      return
    }
    const server = role === 'viewer' ? this.#viewerServer : this.#publishServer
    server.handleUpgrade(request, socket, head, (webSocket) => {
      webSocket.on('error', () => webSocket.terminate())
      try {
        this.#admit(role, webSocket, request, url, socket)
      } catch {
        webSocket.terminate()
      }
    })
  }

  #admit(role: HubRole, webSocket: WebSocket, request: IncomingMessage, url: URL, wire: Socket): void {
    const verdict = admissionVerdict(role, request, url, this.#options)
    if (verdict === 'forbidden-origin') {
      this.#metrics.rejectedOrigin += 1
      webSocket.close(hubCloseCodes.forbiddenOrigin, 'origin not allowed')
    } else if (verdict === 'unauthorized') {
      this.#metrics.rejectedUnauthorized += 1
      webSocket.close(hubCloseCodes.unauthorized, 'missing or wrong token')
    } else if (role === 'producer') {
      this.#intake.accept(webSocket)
    } else {
      this.#acceptViewer(webSocket, url, wire, this.#deflating.has(request))
    }
  }

  // ---- Viewers --------------------------------------------------------------------------------

  #acceptViewer(socket: WebSocket, url: URL, wire: Socket, deflate: boolean): void {
    const viewer: Viewer = this.#fanOut.add(socket, wire, deflate)
    socket.on('pong', () => {
      viewer.alive = true
    })
    // Viewers have nothing to say, except those holding the control token: their commands go to
    // the producers (see hub-control.ts). Anything else a viewer sends is ignored.
    const control = controlGrant(url, this.#options)
    socket.on('message', (data) => {
      viewer.alive = true
      if (!control?.allowed) return
      const refused = this.#control.command(data as Buffer | ArrayBuffer | Buffer[])
      if (refused && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(refused))
    })
    if (control) socket.send(JSON.stringify(control))
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

  // ---- Producers' events ---------------------------------------------------------------------

  /** A producer's valid frame: stamped here, or on the bus (and back through #deliver on every hub). */
  #publish(events: SpoutEvent[]): void {
    if (this.#options.bus) {
      this.#options.bus.publish(events)
      return
    }
    const now = Date.now()
    for (const event of events) this.#store.stamp(event, now)
    this.#scheduleFlush()
  }

  /** Events stamped on the bus (from any hub's producers), in the bus's order. */
  #deliver(events: SpoutEvent[]): void {
    const now = Date.now()
    for (const event of events) this.#store.take(event, now)
    this.#scheduleFlush()
  }

  // ---- Fan-out --------------------------------------------------------------------------------

  #scheduleFlush(): void {
    if (!this.#closing) this.#flushes.schedule()
  }

  /** Sends what the store gathered since the last tick to every viewer that keeps up. */
  #flush(): void {
    const started = performance.now()
    const batch = this.#store.flush(Date.now())
    if (!batch) return
    const tick = { frame: Buffer.from(batch.frame), events: batch.events, jobIds: batch.jobIds }
    this.#fanOut.broadcast(tick, this.#catchUpSnapshot)
    this.#flushes.noteCost(performance.now() - started)
  }

  #beat(): void {
    for (const peer of [...this.#fanOut.viewers, ...this.#intake.producers] as Peer[]) {
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

/**
 * Whether the handshake's answer agreed on `permessage-deflate` with the hub's side at the full
 * window (15 bits): the window the hub compresses its ticks with. A client that asked for a smaller
 * one gets its ticks uncompressed, which the extension allows.
 */
function deflateAgreed(headers: readonly string[]): boolean {
  const agreed = headers.find((header) => header.toLowerCase().startsWith('sec-websocket-extensions:'))
  if (!agreed?.includes('permessage-deflate')) return false
  const window = /server_max_window_bits=(\d+)/.exec(agreed)?.[1]
  return window === undefined || window === '15'
}
