import type { SpoutEvent } from '@spout/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createHub, type Hub } from './hub.ts'
import { readMetrics, TestProducer, TestViewer } from './testing/support.ts'

const hubs: Hub[] = []
const sockets: { close(): unknown }[] = []

async function startHub(options: Parameters<typeof createHub>[0]): Promise<Hub> {
  const hub = await createHub({ port: 0, ...options })
  hubs.push(hub)
  return hub
}

function viewer(hub: Hub): TestViewer {
  const client = TestViewer.connect(hub.url)
  sockets.push(client)
  return client
}

function producer(hub: Hub): TestProducer {
  const client = new TestProducer(hub.url)
  sockets.push(client)
  return client
}

/** The raw TCP socket under a `ws` client: pausing it stops reading, as a frozen tab does. */
function rawSocket(client: TestViewer): { pause(): void; resume(): void } {
  return (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
})

/** Sends 64 chunks of 4 KiB of job `flood`, record `r`, and waits until `healthy` has them all. */
class Flood {
  seq = 0
  readonly piece = 'x'.repeat(4096)
  readonly #source: TestProducer
  readonly #healthy: TestViewer

  constructor(source: TestProducer, healthy: TestViewer) {
    this.#source = source
    this.#healthy = healthy
    source.send({ type: 'job-start', jobId: 'flood', name: 'f', model: 'm', host: 'h', startedAt: 't' })
    source.send({ type: 'record-start', jobId: 'flood', recordId: 'r', attempt: 1, model: 'm' })
  }

  async batch(): Promise<void> {
    const batch: SpoutEvent[] = []
    for (let index = 0; index < 64; index++)
      batch.push({ type: 'chunk', jobId: 'flood', recordId: 'r', seq: this.seq++, text: this.piece })
    this.#source.send(batch)
    const expected = this.seq
    await this.#healthy.waitFor(
      () => (this.#healthy.state.jobs.flood?.records[0]?.chunks ?? 0) === expected,
      `${expected} chunks`,
    )
  }

  end(): void {
    this.#source.send([
      { type: 'record-end', jobId: 'flood', recordId: 'r', response: 'done', attempts: 1 },
      {
        type: 'job-end',
        jobId: 'flood',
        summary: { ok: 1, failed: 0, skipped: 0, tokens: 0, duration: 1 },
      },
    ])
  }
}

describe('a hub under overload', () => {
  it('skips a viewer that stops reading and brings it back with a snapshot; the other stays current', async () => {
    const hub = await startHub({ viewerLagBytes: 64 * 1024 })
    const stalled = viewer(hub)
    const healthy = viewer(hub)
    await Promise.all([stalled.opened, healthy.opened])
    await stalled.waitFor(() => stalled.snapshots.length === 1)
    rawSocket(stalled).pause()
    const source = producer(hub)
    await source.opened
    const flood = new Flood(source, healthy)
    let behind = 0
    for (let round = 0; round < 400 && behind === 0; round++) {
      await flood.batch()
      behind = (await readMetrics(hub.url)).get('spout_hub_viewers_behind') ?? 0
    }
    expect(behind).toBe(1)
    // Behind, it is skipped: what the hub holds for it stops growing while the others go on.
    const heldWhenBehind = (await readMetrics(hub.url)).get('spout_hub_viewer_buffered_bytes')!
    for (let round = 0; round < 20; round++) await flood.batch()
    const metrics = await readMetrics(hub.url)
    expect(metrics.get('spout_hub_viewer_buffered_bytes')).toBeLessThanOrEqual(heldWhenBehind)
    expect(metrics.get('spout_hub_dropped_total{reason="slow-viewer"}')).toBe(0)

    // Reading again, it drains and gets the jobs it missed as one snapshot, with no event flowing.
    rawSocket(stalled).resume()
    await stalled.waitFor(() => stalled.snapshots.length === 2, 'the catch-up snapshot')
    expect(stalled.snapshots[1]).toMatchObject({ full: false, hubId: stalled.hubId })
    expect(stalled.snapshots[1]!.jobs.map((job) => job.jobId)).toEqual(['flood'])
    // (Compared as booleans: a failing diff of megabytes of text would take minutes.)
    expect(stalled.text('flood', 'r') === flood.piece.repeat(flood.seq)).toBe(true)
    // It never got the ticks it skipped, and is live again afterwards.
    expect(stalled.events.length).toBeLessThan(healthy.events.length)
    await flood.batch()
    await stalled.waitFor(() => stalled.text('flood', 'r')?.length === healthy.text('flood', 'r')?.length)
    expect(stalled.text('flood', 'r') === healthy.text('flood', 'r')).toBe(true)
    flood.end()
    await Promise.all([stalled.jobDone('flood'), healthy.jobDone('flood')])
    expect(stalled.state.jobs.flood?.lastSequence).toBe(healthy.state.jobs.flood?.lastSequence)
    const after = await readMetrics(hub.url)
    expect(after.get('spout_hub_viewer_catch_up_total{step="caught-up"}')).toBeGreaterThanOrEqual(1)
    expect(after.get('spout_hub_viewers_behind')).toBe(0)
    expect(stalled.socket.readyState).toBe(WebSocket.OPEN)
  })

  it('keeps the bytes buffered for all viewers within maxBufferedBytes by cutting the heaviest', async () => {
    const budget = 1024 * 1024
    // Each viewer alone may lag far more than the hub's total allows.
    const hub = await startHub({ viewerLagBytes: 64 * 1024 * 1024, maxBufferedBytes: budget })
    const stalled = [viewer(hub), viewer(hub), viewer(hub)]
    const healthy = viewer(hub)
    await Promise.all([...stalled, healthy].map((each) => each.opened))
    await Promise.all(stalled.map((each) => each.waitFor(() => each.snapshots.length === 1)))
    for (const each of stalled) rawSocket(each).pause()
    const source = producer(hub)
    await source.opened
    const flood = new Flood(source, healthy)
    let peak = 0
    let dropped = 0
    for (let round = 0; round < 400 && dropped < stalled.length; round++) {
      await flood.batch()
      const metrics = await readMetrics(hub.url)
      peak = Math.max(peak, metrics.get('spout_hub_viewer_buffered_bytes')!)
      dropped = metrics.get('spout_hub_dropped_total{reason="slow-viewer"}')!
    }
    expect(dropped).toBe(stalled.length)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(budget)
    expect((await readMetrics(hub.url)).get('spout_hub_connections{role="viewer"}')).toBe(1)
    // The viewer that keeps up never missed a tick.
    await flood.batch()
    flood.end()
    await healthy.jobDone('flood')
    expect(healthy.snapshots).toHaveLength(1)
    expect(healthy.events.filter((event) => event.type === 'chunk')).toHaveLength(flood.seq)
  })

  it('gives a viewer that joins past the budget its full snapshot once there is room', async () => {
    const hub = await startHub({ viewerLagBytes: 256 * 1024, maxBufferedBytes: 512 * 1024 })
    const source = producer(hub)
    await source.opened
    const text = 'z'.repeat(64 * 1024)
    source.send([
      { type: 'job-start', jobId: 'big', name: 'b', model: 'm', host: 'h', startedAt: 't' },
      { type: 'record-start', jobId: 'big', recordId: 'r', attempt: 1, model: 'm' },
      { type: 'chunk', jobId: 'big', recordId: 'r', seq: 0, text },
    ])
    const holder = viewer(hub)
    await holder.waitFor(() => holder.text('big', 'r') === text, 'the text')
    rawSocket(holder).pause()
    // Fill the holder's buffer (the kernel takes some first): the next viewer's snapshot, megabytes
    // of text by then, does not fit beside it.
    // One piece per tick: a viewer that keeps up sees each piece before the next is sent. Several
    // pieces in one tick (a loaded machine) make one frame that can jump the holder from below the lag
    // mark (256 KiB) past the hub's budget (512 KiB): it would be cut, not skipped.
    const paced = viewer(hub)
    await paced.waitFor(() => paced.text('big', 'r') === text, 'the text')
    let length = text.length
    let behind = 0
    for (let seq = 1; seq < 1000 && behind === 0; seq++) {
      source.send({ type: 'chunk', jobId: 'big', recordId: 'r', seq, text })
      length += text.length
      await paced.waitFor(() => (paced.text('big', 'r') ?? '').length === length, `chunk ${seq}`)
      behind = (await readMetrics(hub.url)).get('spout_hub_viewers_behind')!
    }
    expect(behind).toBe(1)
    const late = viewer(hub)
    await late.opened
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(late.snapshots).toHaveLength(0)
    expect((await readMetrics(hub.url)).get('spout_hub_viewers_behind')).toBe(2)
    // Once the holder drains, the late viewer gets a full snapshot, then live events.
    rawSocket(holder).resume()
    await late.waitFor(() => late.snapshots.length === 1, 'the snapshot')
    expect(late.snapshots[0]!.full).toBe(true)
    source.send({ type: 'record-end', jobId: 'big', recordId: 'r', response: 'done', attempts: 1 })
    await late.waitFor(() => late.text('big', 'r') === 'done', 'a live event')
  })
})
