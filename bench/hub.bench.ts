// Hub fan-out: events/s and latency from one producer to N viewers through @spout/ws-server,
// side by side with a bare `ws` broadcast loop (no validation, no state, no coalescing) in the
// same process. Run: `pnpm bench` (builds first), or `node bench/hub.bench.ts` after a build.
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createHub } from '@spout/ws-server'
import { WebSocket, WebSocketServer } from 'ws'

type Socket = InstanceType<typeof WebSocket>

interface Target {
  name: string
  publishUrl: string
  viewerUrl: string
  close(): Promise<void>
}

interface Measure {
  events: number
  seconds: number
  eventsPerSecond: number
  deliveredPerSecond: number
  frames: number
}

interface Latency {
  p50: number
  p99: number
  max: number
}

export interface HubBenchRow {
  viewers: number
  hub: Measure & { latency: Latency }
  bare: Measure & { latency: Latency }
  throughputRatio: number
}

async function hubTarget(): Promise<Target> {
  const hub = await createHub({ port: 0, maxViewerBufferedBytes: 256 * 1024 * 1024 })
  const base = hub.url.replace('http', 'ws')
  return { name: 'hub', publishUrl: `${base}/publish`, viewerUrl: `${base}/ws`, close: () => hub.close() }
}

/** The peer: what a minimal relay on `ws` does, sending each producer frame to every viewer as it comes. */
async function bareTarget(): Promise<Target> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const viewers = new Set<Socket>()
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
  const port = (server.address() as AddressInfo).port
  return {
    name: 'bare ws',
    publishUrl: `ws://127.0.0.1:${port}/publish`,
    viewerUrl: `ws://127.0.0.1:${port}/ws`,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resolve())
      }),
  }
}

interface Viewer {
  socket: Socket
  events: number
  frames: number
  latencies: number[]
}

async function connectViewers(url: string, count: number): Promise<Viewer[]> {
  const viewers: Viewer[] = []
  await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = new WebSocket(url)
      const viewer: Viewer = { socket, events: 0, frames: 0, latencies: [] }
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as unknown
        viewer.frames += 1
        const events = Array.isArray(frame) ? frame : [frame]
        const now = performance.now()
        for (const event of events as { type?: string; text?: string }[]) {
          if (event.type !== 'chunk') continue
          viewer.events += 1
          if (event.text?.startsWith('@')) viewer.latencies.push(now - Number(event.text.slice(1)))
        }
      })
      await new Promise((resolve) => socket.once('open', resolve))
      viewers.push(viewer)
    }),
  )
  return viewers
}

async function connectProducer(url: string): Promise<Socket> {
  const socket = new WebSocket(url)
  await new Promise((resolve) => socket.once('open', resolve))
  return socket
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setImmediate(poll))
    poll()
  })
}

const jobId = 'bench'
const records = 8

function chunk(seq: number, text: string): string {
  return JSON.stringify({
    type: 'chunk',
    jobId,
    recordId: `r${seq % records}`,
    seq: Math.floor(seq / records),
    text,
  })
}

async function prepare(producer: Socket): Promise<void> {
  producer.send(
    JSON.stringify({ type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' }),
  )
  for (let index = 0; index < records; index++) {
    producer.send(
      JSON.stringify({ type: 'record-start', jobId, recordId: `r${index}`, attempt: 1, model: 'm' }),
    )
  }
}

/** Throughput: `events` chunk events, one per producer frame (as a naive producer sends), as fast as the socket takes them. */
async function throughput(target: Target, viewerCount: number, events: number): Promise<Measure> {
  const viewers = await connectViewers(target.viewerUrl, viewerCount)
  const producer = await connectProducer(target.publishUrl)
  await prepare(producer)
  const started = performance.now()
  for (let seq = 0; seq < events; seq++) {
    producer.send(chunk(seq, ' token'))
    if (seq % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
  }
  await until(() => viewers.every((viewer) => viewer.events >= events))
  const seconds = (performance.now() - started) / 1000
  const frames = viewers.reduce((sum, viewer) => sum + viewer.frames, 0) / viewers.length
  producer.terminate()
  for (const viewer of viewers) viewer.socket.terminate()
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    deliveredPerSecond: (events * viewerCount) / seconds,
    frames,
  }
}

/** Latency at a realistic pace: one token every 2 ms (500 tokens/s, several records), stamped with the send time. */
async function latency(target: Target, viewerCount: number, events: number): Promise<Latency> {
  const viewers = await connectViewers(target.viewerUrl, viewerCount)
  const producer = await connectProducer(target.publishUrl)
  await prepare(producer)
  for (let seq = 0; seq < events; seq++) {
    producer.send(chunk(seq, `@${performance.now()}`))
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await until(() => viewers.every((viewer) => viewer.latencies.length >= events))
  const all = viewers.flatMap((viewer) => viewer.latencies).sort((a, b) => a - b)
  producer.terminate()
  for (const viewer of viewers) viewer.socket.terminate()
  const at = (quantile: number) => all[Math.min(all.length - 1, Math.floor(quantile * all.length))]!
  return { p50: at(0.5), p99: at(0.99), max: all[all.length - 1]! }
}

async function measure(make: () => Promise<Target>, viewers: number, events: number) {
  // A fresh server per measurement, so one run's history does not weigh on the next.
  let target = await make()
  await throughput(target, viewers, Math.min(2000, events)) // warm-up
  await target.close()
  target = await make()
  const result = await throughput(target, viewers, events)
  await target.close()
  target = await make()
  const lag = await latency(target, viewers, 300)
  await target.close()
  return { ...result, latency: lag }
}

type Result = Measure & { latency: Latency }

/** The run with the median delivered rate (the machine may be shared: one outlier must not decide). */
function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.deliveredPerSecond - b.deliveredPerSecond)[
    Math.floor(results.length / 2)
  ]!
}

export async function run(
  options: { viewers?: number[]; events?: number; repeats?: number } = {},
): Promise<HubBenchRow[]> {
  const rows: HubBenchRow[] = []
  const events = options.events ?? 20_000
  const repeats = options.repeats ?? 3
  for (const viewers of options.viewers ?? [1, 10, 50]) {
    const hubRuns: Result[] = []
    const bareRuns: Result[] = []
    // Alternate the two, so a burst of load elsewhere on the machine hits both alike.
    for (let round = 0; round < repeats; round++) {
      hubRuns.push(await measure(hubTarget, viewers, events))
      bareRuns.push(await measure(bareTarget, viewers, events))
    }
    const hub = median(hubRuns)
    const bare = median(bareRuns)
    rows.push({ viewers, hub, bare, throughputRatio: hub.deliveredPerSecond / bare.deliveredPerSecond })
  }
  const format = (value: number, digits = 0) => value.toFixed(digits)
  console.log(
    `\nhub fan-out (${events} chunk events, one per producer frame; latency at 500 events/s; median of ${repeats})`,
  )
  console.log(
    'viewers | hub delivered ev/s | bare delivered ev/s | ratio | hub frames/viewer | hub p50/p99 ms | bare p50/p99 ms',
  )
  for (const row of rows) {
    console.log(
      [
        row.viewers,
        format(row.hub.deliveredPerSecond),
        format(row.bare.deliveredPerSecond),
        `${format(row.throughputRatio, 2)}x`,
        format(row.hub.frames),
        `${format(row.hub.latency.p50, 2)}/${format(row.hub.latency.p99, 2)}`,
        `${format(row.bare.latency.p50, 2)}/${format(row.bare.latency.p99, 2)}`,
      ].join(' | '),
    )
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
