import { request as httpRequest } from 'node:http'
import type { SpoutEvent } from '@spout/core'
import { applyEvents, formatResume, hubCloseCodes } from '@spout/core/events'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createHub, type Hub } from './hub.ts'
import {
  eventually,
  jobEvents,
  readMetrics,
  sequencesStrictlyIncrease,
  TestProducer,
  TestViewer,
  tokensOf,
} from './testing/support.ts'

const hubs: Hub[] = []
const sockets: { close(): unknown }[] = []

async function startHub(options: Parameters<typeof createHub>[0] = {}): Promise<Hub> {
  const hub = await createHub({ port: 0, ...options })
  hubs.push(hub)
  return hub
}

function viewer(hub: Hub, query = '', headers?: Record<string, string>): TestViewer {
  const client = TestViewer.connect(hub.url, query, { headers })
  sockets.push(client)
  return client
}

function producer(hub: Hub, options: ConstructorParameters<typeof TestProducer>[1] = {}): TestProducer {
  const client = new TestProducer(hub.url, options)
  sockets.push(client)
  return client
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
})

describe('createHub', () => {
  it('fans several producers out to several viewers, each record text equal to its response', async () => {
    const hub = await startHub()
    const viewers = [viewer(hub), viewer(hub), viewer(hub)]
    await Promise.all(viewers.map((each) => each.waitFor(() => each.hubId !== undefined)))
    const jobs = ['job-a', 'job-b'].map((jobId) =>
      jobEvents(jobId, [
        { id: '1', tokens: tokensOf(`${jobId}-x`, 40) },
        { id: '2', tokens: tokensOf(`${jobId}-y`, 25) },
        { id: 'ünï', tokens: ['🙂', ' é', '\n"quoted"'] },
      ]),
    )
    const producers = [producer(hub), producer(hub)]
    await Promise.all(producers.map((each) => each.opened))
    // One producer sends event by event, the other in array frames.
    for (const event of jobs[0]!) producers[0]!.send(event)
    for (let index = 0; index < jobs[1]!.length; index += 7)
      producers[1]!.send(jobs[1]!.slice(index, index + 7))
    for (const each of viewers) {
      await each.jobDone('job-a')
      await each.jobDone('job-b')
      expect(each.text('job-a', '1')).toBe(tokensOf('job-a-x', 40).join(''))
      expect(each.text('job-b', '2')).toBe(tokensOf('job-b-y', 25).join(''))
      expect(each.text('job-b', 'ünï')).toBe('🙂 é\n"quoted"')
      // Chunks alone (before record-end overwrote the text) add up to the response.
      const chunks = each.events.filter(
        (event): event is Extract<SpoutEvent, { type: 'chunk' }> =>
          event.type === 'chunk' && event.jobId === 'job-a' && event.recordId === '1',
      )
      expect(chunks.map((chunk) => chunk.text).join('')).toBe(tokensOf('job-a-x', 40).join(''))
      expect(sequencesStrictlyIncrease(each.events)).toBe(true)
      expect(each.events.filter((event) => event.jobId === 'job-a').length).toBe(jobs[0]!.length)
    }
    // Frames carry many events at once when the producer is busy.
    expect(viewers[0]!.frames).toBeLessThan(jobs[0]!.length + jobs[1]!.length)
    const metrics = await readMetrics(hub.url)
    expect(metrics.get('spout_hub_connections{role="viewer"}')).toBe(3)
    expect(metrics.get('spout_hub_connections{role="producer"}')).toBe(2)
    expect(metrics.get('spout_hub_events_in_total')).toBe(jobs[0]!.length + jobs[1]!.length)
    expect(metrics.get('spout_hub_events_out_total')).toBe(3 * (jobs[0]!.length + jobs[1]!.length))
    // The tick follows the fan-out's cost, between the shortest and the longest (8 and 16 ms).
    expect(metrics.get('spout_hub_tick_seconds')).toBeGreaterThanOrEqual(0.008)
    expect(metrics.get('spout_hub_tick_seconds')).toBeLessThanOrEqual(0.016)
  })

  it('serves jobs named like Object.prototype members (constructor, __proto__) as ordinary jobs', async () => {
    // Job ids come from producers: found by the hostile-client test, a chunk for a job named
    // "constructor" used to reach Object.prototype and crash the hub's flush.
    const hub = await startHub({ maxFinishedRecords: 1 })
    const early = viewer(hub)
    const source = producer(hub)
    await source.opened
    const names = ['constructor', '__proto__', 'toString']
    for (const name of names) {
      source.send({ type: 'chunk', jobId: name, recordId: 'orphan', seq: 0, text: 'before any start' })
      for (const event of jobEvents(
        name,
        [1, 2, 3, 4].map((index) => ({ id: `r${index}`, tokens: ['a', 'b'] })),
      ))
        source.send(event)
    }
    for (const name of names) {
      await early.jobDone(name)
      expect(early.text(name, 'r4')).toBe('ab')
    }
    const late = viewer(hub)
    await late.waitFor(() => late.snapshots.length === 1, 'the snapshot')
    for (const name of names) expect(late.state.jobs[name]?.status).toBe('done')
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200)
  })

  it('gives a late joiner the text so far, then the rest without doubling it', async () => {
    const hub = await startHub()
    const early = viewer(hub)
    const source = producer(hub)
    await source.opened
    const tokens = tokensOf('t', 30)
    const events = jobEvents('late', [{ id: 'r', tokens }])
    const half = events.findIndex((event) => event.type === 'chunk' && event.seq === 15)
    for (const event of events.slice(0, half)) source.send(event)
    await early.waitFor(() => early.text('late', 'r') === tokens.slice(0, 15).join(''))
    const late = viewer(hub)
    await late.waitFor(() => late.snapshots.length === 1)
    expect(late.snapshots[0]!.full).toBe(true)
    expect(late.text('late', 'r')).toBe(tokens.slice(0, 15).join(''))
    for (const event of events.slice(half, -2)) source.send(event)
    await late.waitFor(() => late.text('late', 'r') === tokens.join(''))
    // Before record-end: the text grew from chunks alone, so nothing was replayed twice.
    expect(late.events.every((event) => event.type !== 'chunk' || event.seq >= 15)).toBe(true)
    expect(sequencesStrictlyIncrease(late.events)).toBe(true)
  })

  it('resumes a viewer from its sequence with exactly the events it missed', async () => {
    const hub = await startHub()
    const source = producer(hub)
    await source.opened
    const tokens = tokensOf('r', 40)
    const events = jobEvents('resume', [{ id: 'r', tokens }])
    const first = viewer(hub)
    for (const event of events.slice(0, 12)) source.send(event)
    await first.waitFor(() => first.state.jobs.resume?.lastSequence === 12)
    await first.close()
    for (const event of events.slice(12, 30)) source.send(event)
    const watcher = viewer(hub)
    await watcher.waitFor(() => watcher.state.jobs.resume?.lastSequence === 30)

    const resumed = viewer(hub, `?hub=${first.hubId}&resume=${formatResume(first.state)}`)
    await resumed.waitFor(() => resumed.state.jobs.resume?.lastSequence === 30)
    expect(resumed.snapshots).toHaveLength(1)
    expect(resumed.snapshots[0]).toMatchObject({ full: false, jobs: [] })
    expect(resumed.events.map((event) => event.sequence)).toEqual(
      Array.from({ length: 18 }, (_, index) => 13 + index),
    )
    // The resumed viewer's state (its old state plus the replay) holds the text exactly once.
    resumed.state = applyEvents(first.state, resumed.events)
    const chunkTexts = events.slice(0, 30).filter((event) => event.type === 'chunk')
    expect(resumed.text('resume', 'r')).toBe(
      chunkTexts.map((event) => (event as { text: string }).text).join(''),
    )
  })

  it('sends a snapshot instead when history no longer reaches back, or the hub id is another', async () => {
    const hub = await startHub({ historySize: 5 })
    const source = producer(hub)
    await source.opened
    const events = jobEvents('short', [{ id: 'r', tokens: tokensOf('s', 20) }])
    const first = viewer(hub)
    for (const event of events.slice(0, 3)) source.send(event)
    await first.waitFor(() => first.state.jobs.short?.lastSequence === 3)
    await first.close()
    for (const event of events.slice(3, 20)) source.send(event)
    const watcher = viewer(hub)
    await watcher.waitFor(() => watcher.state.jobs.short?.lastSequence === 20)

    const resumed = viewer(hub, `?hub=${first.hubId}&resume=${formatResume(first.state)}`)
    await resumed.waitFor(() => resumed.snapshots.length === 1)
    expect(resumed.snapshots[0]!.full).toBe(false)
    expect(resumed.snapshots[0]!.jobs.map((job) => job.jobId)).toEqual(['short'])
    expect(resumed.text('short', 'r')).toBe(watcher.text('short', 'r'))

    const stranger = viewer(hub, `?hub=another-hub&resume=${formatResume(first.state)}`)
    await stranger.waitFor(() => stranger.snapshots.length === 1)
    expect(stranger.snapshots[0]!.full).toBe(true)
    expect(stranger.events).toHaveLength(0)
  })

  it('drops a viewer that stops reading when its lag threshold is past the cut', async () => {
    // With a lag threshold past the cut, a stalled viewer is buffered for until the cut (4408).
    const hub = await startHub({ maxViewerBufferedBytes: 256 * 1024, viewerLagBytes: 64 * 1024 * 1024 })
    const stalled = viewer(hub)
    const healthy = viewer(hub)
    await Promise.all([stalled.opened, healthy.opened])
    await stalled.waitFor(() => stalled.snapshots.length === 1)
    ;(stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause()
    const source = producer(hub)
    await source.opened
    source.send({ type: 'job-start', jobId: 'flood', name: 'f', model: 'm', host: 'h', startedAt: 't' })
    source.send({ type: 'record-start', jobId: 'flood', recordId: 'r', attempt: 1, model: 'm' })
    const piece = 'x'.repeat(4096)
    let seq = 0
    let dropped = 0
    for (let round = 0; round < 400 && dropped === 0; round++) {
      const batch: SpoutEvent[] = []
      for (let index = 0; index < 64; index++)
        batch.push({ type: 'chunk', jobId: 'flood', recordId: 'r', seq: seq++, text: piece })
      source.send(batch)
      const expected = seq
      await healthy.waitFor(() => (healthy.state.jobs.flood?.records[0]?.chunks ?? 0) === expected)
      dropped = (await readMetrics(hub.url)).get('spout_hub_dropped_total{reason="slow-viewer"}') ?? 0
    }
    expect(dropped).toBe(1)
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN)
    expect(healthy.text('flood', 'r')).toBe(piece.repeat(seq))
    ;(stalled.socket as unknown as { _socket: { resume(): void } })._socket.resume()
    expect((await stalled.closed).code).toBe(hubCloseCodes.slowViewer)
    const metrics = await readMetrics(hub.url)
    expect(metrics.get('spout_hub_connections{role="viewer"}')).toBe(1)
  })

  it('lets a large snapshot drain without taking it for a slow viewer', async () => {
    // The history holds all 16 MiB, so its event count tells when every event is in the hub's state.
    const hub = await startHub({
      maxViewerBufferedBytes: 64 * 1024,
      viewerLagBytes: 64 * 1024 * 1024,
      historyBytes: 64 * 1024 * 1024,
    })
    const source = producer(hub)
    await source.opened
    const piece = 'y'.repeat(1024 * 1024)
    source.send({ type: 'job-start', jobId: 'big', name: 'b', model: 'm', host: 'h', startedAt: 't' })
    source.send({ type: 'record-start', jobId: 'big', recordId: 'r', attempt: 1, model: 'm' })
    for (let seq = 0; seq < 16; seq++)
      source.send({ type: 'chunk', jobId: 'big', recordId: 'r', seq, text: piece })
    // Flushed into the state, not only received: otherwise, on a slow machine, the viewer could join
    // before the flush and get the 16 MiB as a live frame, which no snapshot allowance covers.
    await eventually(
      async () => (await readMetrics(hub.url)).get('spout_hub_history_events') === 18,
      'events flushed into the state',
    )
    const late = viewer(hub)
    await late.opened
    // Keep the 16 MiB snapshot in the hub's send buffer while the next frame goes out.
    const raw = (late.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket
    raw.pause()
    const framesBefore = (await readMetrics(hub.url)).get('spout_hub_frames_out_total') ?? 0
    source.send({ type: 'chunk', jobId: 'big', recordId: 'r', seq: 16, text: 'end' })
    await eventually(async () => {
      const metrics = await readMetrics(hub.url)
      return (
        (metrics.get('spout_hub_frames_out_total') ?? 0) >= framesBefore + 1 ||
        (metrics.get('spout_hub_dropped_total{reason="slow-viewer"}') ?? 0) > 0
      )
    }, 'the live frame')
    raw.resume()
    await late.waitFor(() => late.text('big', 'r')?.endsWith('end') === true, 'the live chunk')
    expect(late.text('big', 'r')?.length).toBe(16 * piece.length + 3)
    expect(late.socket.readyState).toBe(WebSocket.OPEN)
  })

  it('answers malformed frames with hub-error and keeps its state clean', async () => {
    const hub = await startHub({ maxInvalidFrames: 4 })
    const watcher = viewer(hub)
    const source = producer(hub)
    await source.opened
    source.send('{not json')
    expect(await source.nextError()).toMatchObject({ type: 'hub-error', code: 'invalid-json' })
    source.send(JSON.stringify({ type: 'chunk', jobId: 'j', recordId: 'r', seq: -1, text: 'x' }))
    const invalid = await source.nextError()
    expect(invalid.code).toBe('invalid-event')
    expect(invalid.message).toContain('seq')
    // One bad event drops its whole frame: the good one before it is not applied either.
    source.send([
      { type: 'job-start', jobId: 'j', name: 'n', model: 'm', host: 'h', startedAt: 't' },
      { type: 'made-up', jobId: 'j' } as unknown as SpoutEvent,
    ])
    expect((await source.nextError()).message).toMatch(/^event 1: /)
    source.send(Buffer.from([1, 2, 3]))
    // ws sends a Buffer as binary
    expect((await source.nextError()).code).toBe('invalid-frame')
    source.send({ type: 'job-start', jobId: 'ok', name: 'n', model: 'm', host: 'h', startedAt: 't' })
    await watcher.waitFor(() => watcher.state.jobs.ok !== undefined)
    expect(Object.keys(watcher.state.jobs)).toEqual(['ok'])
    expect(watcher.state.jobs.ok?.lastSequence).toBe(1)
    // The fifth invalid frame passes maxInvalidFrames (4): the producer is closed.
    source.send('[]')
    expect((await source.closed).code).toBe(hubCloseCodes.invalidFrames)
    expect((await readMetrics(hub.url)).get('spout_hub_invalid_frames_total')).toBe(5)
  })

  it('closes a producer that sends a frame over maxPayload with 1009', async () => {
    const hub = await startHub({ maxPublishPayload: 2048 })
    const source = producer(hub)
    await source.opened
    source.send({ type: 'chunk', jobId: 'j', recordId: 'r', seq: 0, text: 'x'.repeat(4096) })
    expect((await source.closed).code).toBe(1009)
    const watcher = viewer(hub)
    await watcher.waitFor(() => watcher.snapshots.length === 1)
    expect(watcher.snapshots[0]!.jobs).toEqual([])
  })

  it('needs the token to publish and the viewer token to watch', async () => {
    const hub = await startHub({ token: 'publish-secret', viewerToken: 'watch-secret' })
    expect((await producer(hub).closed).code).toBe(hubCloseCodes.unauthorized)
    expect((await producer(hub, { token: 'wrong' }).closed).code).toBe(hubCloseCodes.unauthorized)
    expect((await viewer(hub).closed).code).toBe(hubCloseCodes.unauthorized)
    expect((await viewer(hub, '?token=wrong').closed).code).toBe(hubCloseCodes.unauthorized)

    const byHeader = producer(hub, { token: 'publish-secret' })
    const byQuery = producer(hub, { query: '?token=publish-secret' })
    await Promise.all([byHeader.opened, byQuery.opened])
    const watcher = viewer(hub, '?token=watch-secret')
    byHeader.send({ type: 'job-start', jobId: 'a', name: 'n', model: 'm', host: 'h', startedAt: 't' })
    byQuery.send({ type: 'job-start', jobId: 'b', name: 'n', model: 'm', host: 'h', startedAt: 't' })
    await watcher.waitFor(() => watcher.state.jobOrder.length === 2)
    const metrics = await readMetrics(hub.url)
    expect(metrics.get('spout_hub_rejected_total{reason="unauthorized"}')).toBe(4)
  })

  it("checks a browser's Origin against the hub's own and guards the Host header", async () => {
    const hub = await startHub()
    const foreign = viewer(hub, '', { origin: 'http://evil.example' })
    expect((await foreign.closed).code).toBe(hubCloseCodes.forbiddenOrigin)
    const foreignProducer = producer(hub, { headers: { origin: 'http://evil.example' } })
    expect((await foreignProducer.closed).code).toBe(hubCloseCodes.forbiddenOrigin)
    const own = viewer(hub, '', { origin: hub.url })
    await own.waitFor(() => own.snapshots.length === 1)
    const devServer = viewer(hub, '', { origin: 'http://localhost:5173' })
    await devServer.waitFor(() => devServer.snapshots.length === 1)
    const lookalike = viewer(hub, '', { origin: 'http://127.0.0.1.evil.example' })
    expect((await lookalike.closed).code).toBe(hubCloseCodes.forbiddenOrigin)

    const rebound = await rawGet(hub, '/healthz', { host: `evil.example:${hub.port}` })
    expect(rebound.status).toBe(403)
    expect((await rawGet(hub, '/healthz', { host: `127.0.0.1.evil.example:${hub.port}` })).status).toBe(403)
    const allowed = await rawGet(hub, '/healthz', { host: `localhost:${hub.port}` })
    expect(allowed.status).toBe(200)
  })

  it('refuses to bind a non-loopback address without a token unless insecure', async () => {
    await expect(createHub({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'SPOUT_HUB_INSECURE_BIND',
    })
    const open = await startHub({ host: '0.0.0.0', insecure: true })
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/)
  })

  it('keeps only the most recent finished jobs', async () => {
    const hub = await startHub({ maxFinishedJobs: 2 })
    const source = producer(hub)
    await source.opened
    for (const jobId of ['one', 'two', 'three', 'four']) {
      source.send(jobEvents(jobId, [{ id: 'r', tokens: ['a', 'b'] }]))
    }
    source.send({ type: 'job-start', jobId: 'running', name: 'n', model: 'm', host: 'h', startedAt: 't' })
    const watcher = viewer(hub)
    await eventually(
      async () => (await readMetrics(hub.url)).get('spout_hub_events_in_total') === 4 * 6 + 1,
      'events',
    )
    const late = viewer(hub)
    await late.waitFor(() => late.snapshots.length === 1)
    await watcher.waitFor(() => watcher.state.jobs.running !== undefined)
    expect(late.state.jobOrder).toEqual(['three', 'four', 'running'])
  })

  it('keeps a bounded tail of finished records per job, with exact counts for late joiners', async () => {
    const hub = await startHub({ maxFinishedRecords: 3, maxFailedRecords: 1 })
    const watcher = viewer(hub)
    await watcher.waitFor(() => watcher.hubId !== undefined)
    const source = producer(hub)
    await source.opened
    const jobId = 'capped'
    source.send({ type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: 't' })
    for (let index = 0; index < 40; index++) {
      const recordId = `r${index}`
      const events: SpoutEvent[] = [
        { type: 'record-start', jobId, recordId, attempt: 1, model: 'm', prompt: recordId },
        { type: 'chunk', jobId, recordId, seq: 0, text: `text of ${recordId}` },
      ]
      if (index < 38) {
        const end: SpoutEvent = {
          type: 'record-end',
          jobId,
          recordId,
          response: `text of ${recordId}`,
          attempts: 1,
        }
        if (index % 4 === 0) end.error = { code: 'SPOUT_HTTP_ERROR', message: 'boom' }
        events.push(end)
      }
      source.send(events) // one frame per record: the hub prunes as it goes, not once at the end
    }
    await watcher.waitFor(() => (watcher.state.jobs[jobId]?.streaming ?? 0) === 2, 'every record')
    // The viewer that watched it all holds all 40; the hub holds r37's tail and both running ones.
    expect(watcher.state.jobs[jobId]!.records).toHaveLength(40)
    const late = viewer(hub)
    await late.waitFor(() => late.snapshots.length === 1)
    const held = late.state.jobs[jobId]!
    const seen = watcher.state.jobs[jobId]!
    for (const key of ['ok', 'failed', 'skipped', 'streaming', 'chunkCount', 'lastSequence'] as const) {
      expect(held[key], key).toBe(seen[key])
    }
    expect(held).toMatchObject({ ok: 28, failed: 10, streaming: 2 })
    expect(held.records.length).toBeGreaterThanOrEqual(3 + 1 + 2)
    expect(held.records.length).toBeLessThanOrEqual(6 + 2) // pruned once past 1.5 × (3 + 1)
    expect(held.records.slice(-5).map((record) => record.recordId)).toEqual([
      'r35',
      'r36',
      'r37',
      'r38',
      'r39',
    ])
    expect(held.prunedRecords).toBe(40 - held.records.length)
    for (const record of held.records) expect(watcher.text(jobId, record.recordId)).toBe(record.text)
    expect((await readMetrics(hub.url)).get('spout_hub_records')).toBe(held.records.length)
    // Live events go on from the pruned snapshot for both viewers alike.
    source.send({ type: 'record-end', jobId, recordId: 'r39', response: 'text of r39', attempts: 1 })
    for (const each of [watcher, late]) {
      await each.waitFor(() => each.state.jobs[jobId]?.streaming === 1, 'the end of r39')
      expect(each.state.jobs[jobId]!.ok).toBe(29)
    }
  })

  it('goes on with the sequence of a dropped job that comes back', async () => {
    const hub = await startHub({ maxFinishedJobs: 0 })
    const source = producer(hub)
    await source.opened
    const watcher = viewer(hub)
    await watcher.waitFor(() => watcher.snapshots.length === 1)
    source.send(jobEvents('again', [{ id: 'r', tokens: ['a'] }]))
    await watcher.jobDone('again')
    const lastSequence = watcher.state.jobs.again!.lastSequence
    source.send({ type: 'record-end', jobId: 'again', recordId: 'late', response: 'late text', attempts: 1 })
    await watcher.waitFor(() => watcher.text('again', 'late') === 'late text')
    expect(watcher.state.jobs.again!.lastSequence).toBe(lastSequence + 1)
  })

  it('closes every connection with 1001 when it shuts down', async () => {
    const hub = await startHub()
    const watcher = viewer(hub)
    const source = producer(hub)
    await Promise.all([watcher.opened, source.opened])
    await hub.close()
    expect((await watcher.closed).code).toBe(hubCloseCodes.goingAway)
    expect((await source.closed).code).toBe(hubCloseCodes.goingAway)
  })

  it('cuts a peer that stops answering pings', async () => {
    const hub = await startHub({ heartbeatMs: 100 })
    const silent = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`, { autoPong: false })
    silent.on('error', () => {})
    const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)))
    sockets.push(silent)
    expect(await closed).toBe(1006)
    expect((await readMetrics(hub.url)).get('spout_hub_dropped_total{reason="dead-peer"}')).toBe(1)
  })

  it('serves /healthz and Prometheus /metrics', async () => {
    const hub = await startHub()
    const health = await fetch(`${hub.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', hubId: hub.hubId })
    const metrics = await fetch(`${hub.url}/metrics`)
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    const text = await metrics.text()
    expect(text).toContain('# TYPE spout_hub_events_in_total counter')
    expect(text).toContain('spout_hub_connections{role="viewer"} 0')
    expect((await fetch(`${hub.url}/ws`)).status).toBe(426)
    expect((await fetch(`${hub.url}/`)).status).toBe(404)
  })
})

function rawGet(
  hub: Hub,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: hub.port, path, headers }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (piece: string) => {
        body += piece
      })
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, type: response.headers['content-type'] }),
      )
    })
    request.on('error', reject)
    request.end()
  })
}
