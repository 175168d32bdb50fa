// Child process of the hub bench: runs one hub, either ours (`createHub`, defaults: validation,
// sequence numbers, history on), a reference relay (one array frame per 16 ms tick, serialized
// once, a slow viewer's ticks skipped), or a naive `ws` relay that sends each producer frame to
// each viewer as it comes. Reports its port; the bench reads its CPU time from /proc.
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createHub, type HubOptions, hubDefaults } from '@spout/ws-server'
import { type WebSocket, WebSocketServer } from 'ws'

/** `shared`: our hub on a Redis bus (`@spout/redis`); the bench runs two of them. */
export type HubKind = 'hub' | 'shared' | 'reference' | 'naive'

export type ServerMessage =
  | { type: 'ready'; port: number }
  /** Event-loop delay since `start`, in milliseconds, and the highest RSS sampled since then (MiB). */
  | { type: 'loop'; p99: number; max: number; rssPeakMiB: number; tickMs: number }

export type ServerCommand = { type: 'start' } | { type: 'stop' }

function reply(message: ServerMessage): void {
  process.send?.(message)
}

async function naiveHub(): Promise<{ port: number }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const viewers = new Set<WebSocket>()
  server.on('connection', (socket, request) => {
    if (request.url === '/publish') {
      socket.on('message', (data, isBinary) => {
        for (const viewer of viewers) viewer.send(data, { binary: isBinary })
      })
    } else {
      viewers.add(socket)
      socket.on('close', () => viewers.delete(socket))
    }
  })
  return { port: (server.address() as AddressInfo).port }
}

/**
 * The reference: what any tick-based relay does. Producer frames are kept as text; every 16 ms
 * they go out as one array frame, serialized once; a viewer whose send buffer holds more than
 * our hub's lag threshold skips the tick (and simply misses its events). No validation, no
 * sequence numbers, no state, no history.
 */
async function referenceHub(): Promise<{ port: number }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const viewers = new Set<WebSocket>()
  let pending: string[] = []
  setInterval(() => {
    if (pending.length === 0) return
    const frame = Buffer.from(`[${pending.join(',')}]`)
    pending = []
    for (const viewer of viewers) {
      if (viewer.bufferedAmount > hubDefaults.viewerLagBytes) continue
      viewer.send(frame, { binary: false })
    }
  }, hubDefaults.tickMs)
  server.on('connection', (socket, request) => {
    if (request.url === '/publish') {
      socket.on('message', (data) => {
        pending.push(String(data))
      })
    } else {
      viewers.add(socket)
      socket.on('close', () => viewers.delete(socket))
    }
  })
  return { port: (server.address() as AddressInfo).port }
}

async function ourHub(redisUrl?: string): Promise<{ port: number }> {
  const bus = redisUrl ? await (await import('@spout/redis')).redisHubBus({ url: redisUrl }) : undefined
  // Options for our hub, e.g. `{"tickMs":8,"minTickMs":8}` for a fixed 8 ms tick.
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
  const options = JSON.parse(process.env.SPOUT_BENCH_HUB_OPTIONS ?? '{}') as HubOptions
  const hub = await createHub({ ...options, port: 0, ...(bus ? { bus } : {}) })
  return { port: hub.port }
}

const kind = process.argv[2] as HubKind
const server =
  kind === 'naive'
    ? await naiveHub()
    : kind === 'reference'
      ? await referenceHub()
      : await ourHub(kind === 'shared' ? process.argv[3] : undefined)
/** Our hub's tick when the load ended (from its `/metrics`), ms; the other hubs tick every 16 ms or not at all. */
async function ourTickMs(): Promise<number> {
  if (kind === 'naive') return Number.NaN
  if (kind === 'reference') return hubDefaults.tickMs
  const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
  return 1000 * Number(/^spout_hub_tick_seconds (\S+)$/m.exec(metrics)?.[1])
}
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
let rssPeak = 0
let rssSampler: NodeJS.Timeout | undefined
process.on('message', (command: ServerCommand) => {
  if (command.type === 'start') {
    loopDelay.reset()
    loopDelay.enable()
    rssSampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    }, 100)
  } else {
    loopDelay.disable()
    clearInterval(rssSampler)
    const rssPeakMiB = Math.max(rssPeak, process.memoryUsage.rss()) / 2 ** 20
    const p99 = loopDelay.percentile(99) / 1e6
    const max = loopDelay.max / 1e6
    ourTickMs().then((tickMs) => reply({ type: 'loop', p99, max, rssPeakMiB, tickMs }))
  }
})
// The bench gone (finished or killed): go too.
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready', port: server.port })
// Killed at the end of a phase: exit, so that a `--cpu-prof` profile is written.
process.on('SIGTERM', () => process.exit(0))
