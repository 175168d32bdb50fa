import { connect, createServer, type Socket } from 'node:net'
import type { SpoutEvent } from '@spout/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { createHub, type Hub } from './hub.ts'
import { HubPublisher } from './hub-publisher.ts'
import { eventually, jobEvents, readMetrics, TestViewer, tokensOf } from './testing/support.ts'

const hubs: Hub[] = []
const cleanups: (() => unknown)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
})

async function startHub(options: Parameters<typeof createHub>[0] = {}): Promise<Hub> {
  const hub = await createHub({ port: 0, ...options })
  hubs.push(hub)
  return hub
}

function watch(hub: Hub): TestViewer {
  const viewer = TestViewer.connect(hub.url)
  cleanups.push(() => viewer.close())
  return viewer
}

function publisher(options: ConstructorParameters<typeof HubPublisher>[0]): HubPublisher {
  const instance = new HubPublisher({ reconnectDelayMs: 20, maxReconnectDelayMs: 200, ...options })
  cleanups.push(() => instance.close())
  return instance
}

function recorder() {
  const warnings: string[] = []
  return { warnings, logger: { warn: (message: string) => warnings.push(message) } }
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A TCP proxy in front of a hub whose connections the test can cut (the hub itself stays up). */
async function cuttableProxy(hubPort: number) {
  const sockets = new Set<Socket>()
  let refusing = false
  const server = createServer((client) => {
    if (refusing) return void client.destroy()
    const upstream = connect(hubPort, '127.0.0.1')
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', drop)
      socket.on('close', drop)
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      refusing = true
      for (const socket of sockets) socket.destroy()
    },
    restore() {
      refusing = false
    },
  }
}

/** One whole record: start, one chunk, end (every fifth fails). */
function finishedRecord(jobId: string, index: number): SpoutEvent[] {
  const recordId = `r${index}`
  const end: SpoutEvent = {
    type: 'record-end',
    jobId,
    recordId,
    response: `text of ${recordId}`,
    attempts: 1,
  }
  if (index % 5 === 0) end.error = { code: 'SPOUT_HTTP_ERROR', message: 'boom' }
  return [
    { type: 'record-start', jobId, recordId, attempt: 1, model: 'm', prompt: recordId },
    { type: 'chunk', jobId, recordId, seq: 0, text: `text of ${recordId}` },
    end,
  ]
}

const records = [
  { id: 'a', tokens: tokensOf('alpha', 30) },
  { id: 'b', tokens: tokensOf('beta', 12) },
  { id: 'c', tokens: tokensOf('gamma', 45) },
]

describe('HubPublisher', () => {
  it('publishes a job and closes after flushing at job end', async () => {
    const hub = await startHub()
    const viewer = watch(hub)
    const { warnings, logger } = recorder()
    const producer = publisher({ url: hub.url })
    for (const event of jobEvents('job', records)) producer.publish(event, logger)
    await producer.end()
    await viewer.jobDone('job')
    for (const record of records) expect(viewer.text('job', record.id)).toBe(record.tokens.join(''))
    expect(warnings).toEqual([])
    await eventually(
      async () => (await readMetrics(hub.url)).get('spout_hub_connections{role="producer"}') === 0,
      'the producer to disconnect',
    )
  })

  it('goes on while the hub is down, warns once, and delivers everything when it comes up', async () => {
    const port = await freePort()
    const { warnings, logger } = recorder()
    const producer = publisher({ url: `http://127.0.0.1:${port}` })
    const events = jobEvents('late-hub', records)
    const started = Date.now()
    for (const event of events.slice(0, 40)) producer.publish(event, logger)
    await eventually(async () => warnings.length > 0, 'a warning')
    expect(Date.now() - started).toBeLessThan(10_000) // publish never waited for the hub
    const hub = await startHub({ port })
    const viewer = watch(hub)
    for (const event of events.slice(40)) producer.publish(event, logger)
    await producer.end()
    await viewer.jobDone('late-hub')
    for (const record of records) expect(viewer.text('late-hub', record.id)).toBe(record.tokens.join(''))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/unreachable.*the run goes on/)
  })

  it('resynchronizes a restarted hub: running records carry their text so far, nothing doubled', async () => {
    const first = await startHub()
    const port = first.port
    const before = watch(first)
    const { warnings, logger } = recorder()
    const producer = publisher({ url: first.url })
    const events = jobEvents('restart', records)
    // 'b' ends as soon as its last chunk is out (while the hub is away, below).
    const endOfB = events.findIndex((event) => event.type === 'record-end' && event.recordId === 'b')
    const [recordEndB] = events.splice(endOfB, 1)
    const lastChunkOfB = events.findIndex(
      (event) => event.type === 'chunk' && event.recordId === 'b' && event.seq === 11,
    )
    events.splice(lastChunkOfB + 1, 0, recordEndB!)
    const chunkIndex = (recordId: string, seq: number) =>
      events.findIndex((event) => event.type === 'chunk' && event.recordId === recordId && event.seq === seq)
    const cut = chunkIndex('a', 10)
    for (const event of events.slice(0, cut)) producer.publish(event, logger)
    await before.waitFor(() => before.text('restart', 'a') === records[0]!.tokens.slice(0, 10).join(''))
    await first.close()
    hubs.splice(hubs.indexOf(first), 1)

    // The batch goes on while the hub is away: 'b' finishes, 'a' and 'c' keep streaming.
    const resume = chunkIndex('a', 20)
    for (const event of events.slice(cut, resume)) producer.publish(event, logger)
    const second = await startHub({ port })
    const after = watch(second)
    await after.waitFor(
      () => after.text('restart', 'a') === records[0]!.tokens.slice(0, 20).join(''),
      'the resync of record a',
    )
    const job = after.state.jobs.restart!
    expect(job.name).toBe('restart')
    expect(after.text('restart', 'b')).toBe(records[1]!.tokens.join(''))
    expect(job.ok).toBe(1)
    expect(after.text('restart', 'c')).toBe(records[2]!.tokens.slice(0, 20).join(''))

    for (const event of events.slice(resume, -3)) producer.publish(event, logger)
    await after.waitFor(() => after.text('restart', 'c') === records[2]!.tokens.join(''), 'the rest of c')
    // Live chunks after the resync extend the text, they do not double it.
    expect(after.text('restart', 'a')).toBe(records[0]!.tokens.join(''))
    for (const event of events.slice(-3)) producer.publish(event, logger)
    await producer.end()
    await after.jobDone('restart')
    expect(after.state.jobs.restart!.ok).toBe(3)
    expect(warnings).toHaveLength(1)
  })

  it('bounds its buffer: past the limit it drops the queue and resynchronizes from state', async () => {
    const port = await freePort()
    const { logger } = recorder()
    const producer = publisher({ url: `http://127.0.0.1:${port}`, maxBufferedBytes: 4096 })
    const big = [{ id: 'long', tokens: tokensOf('x'.repeat(100), 200) }]
    const events = jobEvents('bounded', big)
    for (const event of events.slice(0, -2)) producer.publish(event, logger)
    const hub = await startHub({ port })
    const viewer = watch(hub)
    await viewer.waitFor(() => viewer.text('bounded', 'long') === big[0]!.tokens.join(''), 'the resync')
    // Resync sent the text as one chunk, not 200.
    expect(viewer.events.filter((event) => event.type === 'chunk').length).toBeLessThan(5)
    for (const event of events.slice(-2)) producer.publish(event, logger)
    await producer.end()
    await viewer.jobDone('bounded')
  })

  it('keeps only running records and a bounded tail of finished ones for a resync', async () => {
    const port = await freePort()
    const { logger } = recorder()
    const producer = publisher({
      url: `http://127.0.0.1:${port}`,
      maxBufferedBytes: 1024,
      maxFinishedRecords: 3,
      maxFailedRecords: 1,
    })
    const jobId = 'tail'
    producer.publish({ type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' }, logger)
    for (let index = 0; index < 50; index++) {
      const recordId = `r${index}`
      producer.publish(
        { type: 'record-start', jobId, recordId, attempt: 1, model: 'm', prompt: recordId },
        logger,
      )
      producer.publish({ type: 'chunk', jobId, recordId, seq: 0, text: `text of ${recordId}` }, logger)
      if (index >= 48) continue // r48 and r49 are still running
      const end: SpoutEvent = {
        type: 'record-end',
        jobId,
        recordId,
        response: `text of ${recordId}`,
        attempts: 1,
      }
      if (index % 5 === 0) end.error = { code: 'SPOUT_HTTP_ERROR', message: 'boom' }
      producer.publish(end, logger)
      // Let the publisher fold what it has, as it does once per tick in a live batch.
      if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 40))
    }
    // The hub comes up: the queue overflowed long ago, so it gets the resync from the state.
    const hub = await startHub({ port })
    const viewer = watch(hub)
    await viewer.waitFor(() => viewer.text(jobId, 'r49') === 'text of r49', 'the resync')
    const job = viewer.state.jobs[jobId]!
    const ids = job.records.map((record) => record.recordId)
    // Between the limits (3 done + 1 failed) and 1.5 × them, plus both running records.
    expect(ids.length).toBeGreaterThanOrEqual(4 + 2)
    expect(ids.length).toBeLessThanOrEqual(6 + 2)
    expect(ids.slice(-6)).toEqual(['r44', 'r45', 'r46', 'r47', 'r48', 'r49'])
    expect(ids).not.toContain('r0')
    expect(viewer.text(jobId, 'r47')).toBe('text of r47')
    // The documented price: a restarted hub counts only the records resent.
    expect(job.ok + job.failed).toBe(ids.length - 2)
    producer.publish(
      { type: 'record-end', jobId, recordId: 'r48', response: 'text of r48', attempts: 1 },
      logger,
    )
    await viewer.waitFor(() => viewer.state.jobs[jobId]?.streaming === 1, 'the end of r48')
  })

  it('keeps what a hub that stayed up missed during an outage, so its counts stay exact', async () => {
    const hub = await startHub()
    const viewer = watch(hub)
    const proxy = await cuttableProxy(hub.port)
    const { logger } = recorder()
    const producer = publisher({ url: proxy.url, maxFinishedRecords: 3, maxFailedRecords: 1 })
    const jobId = 'outage'
    producer.publish({ type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' }, logger)
    for (let index = 1; index <= 10; index++)
      for (const event of finishedRecord(jobId, index)) producer.publish(event, logger)
    await viewer.waitFor(() => viewer.state.jobs[jobId]?.ok === 8, 'the first ten records')
    proxy.cut()
    await eventually(async () => !producer.connected, 'the producer to notice the cut')
    // Forty records finish while the hub cannot be reached: far more than the producer's tail (3 + 1).
    for (let index = 11; index <= 50; index++) {
      for (const event of finishedRecord(jobId, index)) producer.publish(event, logger)
      if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 20)) // ticks fold them
    }
    producer.publish({ type: 'record-start', jobId, recordId: 'live', attempt: 1, model: 'm' }, logger)
    producer.publish({ type: 'chunk', jobId, recordId: 'live', seq: 0, text: 'so far' }, logger)
    proxy.restore()
    await viewer.waitFor(() => viewer.text(jobId, 'live') === 'so far', 'the resync')
    const job = viewer.state.jobs[jobId]!
    expect(job).toMatchObject({ ok: 40, failed: 10, streaming: 1 })
    expect(viewer.text(jobId, 'r11')).toBe('text of r11')
    expect(job.records).toHaveLength(51)
    // Back to its tail after the resync: a second cut resends only that, and counts nothing twice.
    const seen = viewer.events.length
    proxy.cut()
    await eventually(async () => !producer.connected, 'the second cut')
    producer.publish({ type: 'chunk', jobId, recordId: 'live', seq: 1, text: ' and more' }, logger)
    proxy.restore()
    await viewer.waitFor(() => viewer.text(jobId, 'live') === 'so far and more', 'the second resync')
    const resent = viewer.events.slice(seen).filter((event) => event.type === 'record-end')
    expect(resent.map((event) => (event.type === 'record-end' ? event.recordId : ''))).toEqual([
      'r47',
      'r48',
      'r49',
      'r50',
    ])
    expect(viewer.state.jobs[jobId]).toMatchObject({ ok: 40, failed: 10, streaming: 1 })
  })

  it('stops trying after the hub refuses its token, and the run goes on', async () => {
    const hub = await startHub({ token: 'right' })
    const { warnings, logger } = recorder()
    const producer = publisher({ url: hub.url, token: 'wrong', flushTimeoutMs: 200 })
    const event: SpoutEvent = {
      type: 'job-start',
      jobId: 'j',
      name: 'n',
      model: 'm',
      host: 'h',
      startedAt: 't',
    }
    producer.publish(event, logger)
    await eventually(async () => warnings.length > 0, 'a warning')
    expect(warnings[0]).toMatch(/refused the producer \(close 4401\)/)
    producer.publish({
      type: 'job-end',
      jobId: 'j',
      summary: { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0 },
    })
    await producer.end()
    expect(warnings).toHaveLength(1)
    expect(producer.connected).toBe(false)
  })
  it('sends the events of one event-loop turn as one frame, and those of the next turn apart', async () => {
    const stand = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise<void>((resolve) => stand.once('listening', () => resolve()))
    cleanups.push(() => stand.close())
    const frames: string[] = []
    stand.on('connection', (socket) => socket.on('message', (data) => frames.push(String(data))))
    const port = (stand.address() as { port: number }).port
    const producer = publisher({ url: `http://127.0.0.1:${port}` })
    const [start, ...events] = jobEvents('turns', [{ id: 'r', tokens: ['a', 'b', 'c'] }])
    producer.publish(start!)
    await eventually(async () => frames.length === 1, 'the first frame')
    // Three events in one turn (record-start and two chunks), then one in a later turn.
    for (const event of events.slice(0, 3)) producer.publish(event)
    await new Promise((resolve) => setImmediate(resolve))
    producer.publish(events[3]!)
    await eventually(async () => frames.length === 3, 'two more frames')
    const sizes = frames.map((frame) => (JSON.parse(frame) as unknown[]).length)
    expect(sizes).toEqual([1, 3, 1])
  })

  it('treats a hub that stops answering pings as gone and reconnects', async () => {
    // A stand-in hub that accepts connections but never answers pings.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false })
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()))
    cleanups.push(() => silent.close())
    let connections = 0
    const reconnected = new Promise<void>((resolve) =>
      silent.on('connection', () => {
        connections += 1
        if (connections === 2) resolve()
      }),
    )
    const port = (silent.address() as { port: number }).port
    const { logger } = recorder()
    const producer = publisher({ url: `http://127.0.0.1:${port}`, heartbeatMs: 50 })
    producer.publish(
      { type: 'job-start', jobId: 'j', name: 'n', model: 'm', host: 'h', startedAt: 't' },
      logger,
    )
    await reconnected
    expect(connections).toBeGreaterThanOrEqual(2)
    for (const client of silent.clients) client.terminate()
  })
  it('keeps its memory bounded while the hub stops reading', async () => {
    const stalled = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise<void>((resolve) => stalled.once('listening', () => resolve()))
    cleanups.push(() => stalled.close())
    const connected = new Promise<void>((resolve) =>
      stalled.on('connection', (socket) => {
        ;(socket as unknown as { _socket: { pause(): void } })._socket.pause()
        resolve()
      }),
    )
    const port = (stalled.address() as { port: number }).port
    const limit = 256 * 1024
    const producer = publisher({ url: `http://127.0.0.1:${port}`, maxBufferedBytes: limit, tickMs: 1 })
    const { logger } = recorder()
    producer.publish(
      { type: 'job-start', jobId: 'j', name: 'n', model: 'm', host: 'h', startedAt: 't' },
      logger,
    )
    producer.publish({ type: 'record-start', jobId: 'j', recordId: 'r', attempt: 1, model: 'm' }, logger)
    await connected
    const text = 'z'.repeat(1024)
    let most = 0
    for (let seq = 0; seq < 40_000; seq++) {
      producer.publish({ type: 'chunk', jobId: 'j', recordId: 'r', seq, text }, logger)
      if (seq % 500 === 499) {
        await new Promise((resolve) => setTimeout(resolve, 2)) // let ticks run
        most = Math.max(most, producer.pendingBytes)
      }
    }
    // 40 MiB published to a hub that reads nothing. What waits is the bounded queue, the socket's
    // buffer up to half the limit, and at most one resync (the job's text so far at the moment the
    // socket last had room, which only the operating system's socket buffers make possible).
    expect(most).toBeGreaterThan(limit / 2)
    expect(most).toBeLessThan(10 * 1024 * 1024)
    for (const client of stalled.clients) client.terminate()
  })
})
