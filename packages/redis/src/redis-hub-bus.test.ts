import type { SpoutEvent } from '@spout/core'
import {
  applyEvents,
  createState,
  fromSnapshot,
  getRecord,
  type HubFrame,
  type HubSnapshotFrame,
  type SpoutState,
} from '@spout/core/events'
import { createHub, type Hub } from '@spout/ws-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { redisHubBus } from './redis-hub-bus.ts'
import { type RedisServer, startRedisServer } from './testing/redis-server.ts'

/** A viewer that rebuilds the state from what a hub sends, as the browser does. */
class Viewer {
  state: SpoutState = createState()
  readonly events: SpoutEvent[] = []
  readonly snapshots: HubSnapshotFrame[] = []
  /** Codes of the `hub-error` frames received. */
  readonly errors: string[] = []
  readonly socket: WebSocket
  #waiters: (() => void)[] = []

  constructor(hub: Hub, query = '') {
    this.socket = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/ws${query}`)
    this.socket.on('error', () => {})
    this.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as HubFrame
      if (Array.isArray(frame)) this.#apply(frame)
      else if (frame.type === 'hub-snapshot') {
        this.snapshots.push(frame)
        this.state = fromSnapshot(this.state, frame)
      } else if (frame.type === 'hub-error') this.errors.push(frame.code)
      else if ((frame as { type: string }).type !== 'hub-control') this.#apply([frame])
      for (const wake of this.#waiters.splice(0)) wake()
    })
  }

  #apply(events: SpoutEvent[]): void {
    this.events.push(...events)
    this.state = applyEvents(this.state, events)
  }

  async waitFor(predicate: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`viewer gave up waiting for ${what}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }

  jobDone(jobId: string): Promise<void> {
    return this.waitFor(() => this.state.jobs[jobId]?.status === 'done', `${jobId} to end`)
  }

  text(jobId: string, recordId: string): string | undefined {
    const job = this.state.jobs[jobId]
    return job ? getRecord(job, recordId)?.text : undefined
  }

  /** `type@sequence` of each event of one job, in the order received. */
  trace(jobId: string): string[] {
    return this.events
      .filter((event) => event.jobId === jobId)
      .map((event) => `${event.type}@${event.sequence}`)
  }
}

function jobEvents(jobId: string, records: number, chunks: number): SpoutEvent[] {
  const events: SpoutEvent[] = [
    { type: 'job-start', jobId, name: jobId, model: 'm', host: 'h', startedAt: new Date(0).toISOString() },
  ]
  for (let record = 0; record < records; record++) {
    const recordId = `r${record}`
    events.push({ type: 'record-start', jobId, recordId, attempt: 1, model: 'm' })
    for (let seq = 0; seq < chunks; seq++)
      events.push({ type: 'chunk', jobId, recordId, seq, text: `${jobId}-${record}-${seq} ` })
    const response = Array.from({ length: chunks }, (_, seq) => `${jobId}-${record}-${seq} `).join('')
    events.push({ type: 'record-end', jobId, recordId, response, attempts: 1 })
  }
  events.push({
    type: 'job-end',
    jobId,
    summary: { ok: records, failed: 0, skipped: 0, tokens: 0, duration: 1 },
  })
  return events
}

async function publish(hub: Hub, events: SpoutEvent[], frameSize = 5): Promise<WebSocket> {
  const producer = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/publish`)
  await new Promise((resolve, reject) => {
    producer.once('open', resolve)
    producer.once('error', reject)
  })
  for (let index = 0; index < events.length; index += frameSize)
    producer.send(JSON.stringify(events.slice(index, index + frameSize)))
  sockets.push(producer)
  return producer
}

let redis: RedisServer
const hubs: Hub[] = []
const sockets: WebSocket[] = []

async function startHub(key: string): Promise<Hub> {
  const bus = await redisHubBus({ url: redis.url, key })
  const hub = await createHub({ port: 0, bus })
  hubs.push(hub)
  return hub
}

function viewer(hub: Hub, query = ''): Viewer {
  const client = new Viewer(hub, query)
  sockets.push(client.socket)
  return client
}

beforeAll(async () => {
  redis = await startRedisServer()
})

afterAll(async () => {
  await redis.close()
})

/** Servers of single tests: stopped here, so that a test that fails or times out leaves none behind. */
const ownServers: RedisServer[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
  await Promise.all(ownServers.splice(0).map((server) => server.close()))
})

describe('redisHubBus: hubs that share their jobs through Redis', () => {
  it('shows every job on every hub with the same sequence numbers', async () => {
    const [hubA, hubB] = [await startHub('same'), await startHub('same')]
    expect(hubA.hubId).toBe(hubB.hubId)
    const [onA, onB] = [viewer(hubA), viewer(hubB)]
    await Promise.all([onA, onB].map((each) => each.waitFor(() => each.snapshots.length === 1, 'snapshot')))
    // One producer on each hub, each its own job, sent at the same time.
    await Promise.all([publish(hubA, jobEvents('job-a', 3, 40)), publish(hubB, jobEvents('job-b', 2, 30))])
    for (const each of [onA, onB]) {
      await each.jobDone('job-a')
      await each.jobDone('job-b')
    }
    for (const jobId of ['job-a', 'job-b']) {
      expect(onA.trace(jobId)).toEqual(onB.trace(jobId))
      const sequences = onA.events.filter((event) => event.jobId === jobId).map((event) => event.sequence)
      expect(sequences).toEqual(sequences.map((_, index) => index + 1))
    }
    expect(onB.text('job-a', 'r2')).toBe(Array.from({ length: 40 }, (_, seq) => `job-a-2-${seq} `).join(''))
    expect(onA.text('job-b', 'r1')).toBe(Array.from({ length: 30 }, (_, seq) => `job-b-1-${seq} `).join(''))
  })

  it("passes a controlling viewer's command to the hub whose producer publishes the job", async () => {
    const controlToken = 'c0ntrol'
    const start = async () => {
      const hub = await createHub({
        port: 0,
        controlToken,
        bus: await redisHubBus({ url: redis.url, key: 'control' }),
      })
      hubs.push(hub)
      return hub
    }
    const [hubA, hubB] = [await start(), await start()]
    const events = jobEvents('job-s', 2, 5)
    // The producer on hub A, still running its job (no job-end yet).
    const producer = await publish(hubA, events.slice(0, -1))
    const commands: unknown[] = []
    producer.on('message', (data) => commands.push(JSON.parse(String(data))))
    const onB = viewer(hubB, `?control=${controlToken}`)
    await onB.waitFor(() => onB.state.jobs['job-s']?.records.length === 2, 'the job on hub B')
    const stop = { type: 'control', action: 'stop-record', jobId: 'job-s', recordId: 'r1' }
    onB.socket.send(JSON.stringify(stop))
    const deadline = Date.now() + 10_000
    while (commands.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(commands).toEqual([stop])
    // A job that ended, and one no hub has seen: no hub would forward them, hub B says so at once.
    await publish(hubA, events.slice(-1))
    await onB.jobDone('job-s')
    onB.socket.send(JSON.stringify({ ...stop, action: 'stop-job', recordId: undefined }))
    onB.socket.send(JSON.stringify({ ...stop, jobId: 'job-unknown' }))
    await onB.waitFor(() => onB.errors.length === 2, 'two refusals')
    expect(onB.errors).toEqual(['control-no-producer', 'control-no-producer'])
    expect(commands).toEqual([stop])
  })

  it('gives a late joiner on another hub the snapshot, and resumes a viewer across hubs from its sequence', async () => {
    const [hubA, hubB] = [await startHub('resume'), await startHub('resume')]
    const events = jobEvents('job-c', 2, 50)
    const half = 60
    const first = viewer(hubA)
    await first.waitFor(() => first.snapshots.length === 1, 'snapshot')
    const producer = await publish(hubA, events.slice(0, half))
    await first.waitFor(() => first.state.jobs['job-c']?.lastSequence === half, 'the first half')
    first.socket.close()
    // The rest comes through the other hub's producer side while the viewer is away.
    producer.close()
    await publish(hubB, events.slice(half))
    const late = viewer(hubB)
    await late.jobDone('job-c')
    expect(late.snapshots[0]!.full).toBe(true)
    // Resumed on hub B from where it was on hub A: exactly the events it missed, no snapshot of the job.
    const resumed = viewer(hubB, `?hub=${hubA.hubId}&resume=job-c:${half}`)
    await resumed.jobDone('job-c')
    expect(resumed.snapshots[0]!.jobs.map((job) => job.jobId)).not.toContain('job-c')
    expect(resumed.events.map((event) => event.sequence)).toEqual(
      Array.from({ length: events.length - half }, (_, index) => half + 1 + index),
    )
  })

  it.each([
    ['restarts with its data', true],
    ['crashes and comes back empty', false],
  ])('goes on when Redis %s mid-job: every event once, in order, on both hubs', async (_, persist) => {
    const restartable = await startRedisServer({ persist })
    ownServers.push(restartable)
    const [hubA, hubB] = await Promise.all(
      [0, 1].map(async () => {
        const hub = await createHub({ port: 0, bus: await redisHubBus({ url: restartable.url }) })
        hubs.push(hub)
        return hub
      }),
    )
    const [onA, onB] = [viewer(hubA!), viewer(hubB!)]
    const events = jobEvents('job-r', 2, 40)
    const half = 40
    await publish(hubA!, events.slice(0, half))
    await onB.waitFor(() => onB.state.jobs['job-r']?.lastSequence === half, 'the first half')
    // A graceful restart, then the rest; or a crash with the rest sent while Redis is away and
    // comes back empty: queued by the client, then stamped (counters go on from the hubs' floor).
    // (Sending during the graceful restart too left the test hanging now and then: not yet understood.)
    const restarted = restartable.restart({ crash: !persist })
    if (persist) await restarted
    await Promise.all([restarted, publish(hubA!, events.slice(half), 1)])
    for (const each of [onA, onB]) await each.jobDone('job-r')
    expect(onA.trace('job-r')).toEqual(onB.trace('job-r'))
    const received = onA.events.filter((event) => event.jobId === 'job-r')
    expect(received.map((event) => event.type)).toEqual(events.map((event) => event.type))
    const sequences = received.map((event) => event.sequence!)
    if (persist) expect(sequences).toEqual(events.map((_, index) => index + 1))
    // Without its data, Redis may stamp a resent frame again; hubs drop the copy, leaving a gap.
    else
      expect(sequences.every((sequence, index) => index === 0 || sequence > sequences[index - 1]!)).toBe(true)
    expect(onB.text('job-r', 'r1')).toBe(onA.text('job-r', 'r1'))
  })

  it('lets a hub that starts later rebuild the jobs from the stream', async () => {
    const hubA = await startHub('later')
    const watcher = viewer(hubA)
    await publish(hubA, jobEvents('job-d', 2, 20))
    await watcher.jobDone('job-d')
    const hubC = await startHub('later')
    const late = viewer(hubC)
    await late.jobDone('job-d')
    expect(late.state.jobs['job-d']?.lastSequence).toBe(watcher.state.jobs['job-d']?.lastSequence)
    expect(late.text('job-d', 'r1')).toBe(watcher.text('job-d', 'r1'))
  })
})
