// The hub under hostile clients while a real batch streams through it to healthy viewers:
// fuzzed frames (fast-check, seeded), oversized frames, floods, unauthenticated publishes,
// thousands of connects and disconnects (clean, abrupt, half-open, garbage). The hub must stay up,
// answer each abuse with its documented reaction, return to its baseline connection counts and
// memory, and the healthy viewers must receive every event of the batch exactly once, with the
// right text. Their latency is measured and printed, never asserted.
import { eventSink, OllamaClient, runPipeline, type SpoutEvent } from '@spout/core'
import { parseEvent } from '@spout/core/events'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { broadcastSink, createHub, type Hub } from '@spout/ws-server'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  closed,
  hubGauges,
  opened,
  type RawConnectMode,
  rawConnect,
  TestViewer,
  webSocketBase,
} from '../support/hub-clients.ts'
import { longRun } from '../support/long-run.ts'
import { heapUsedAfterGc, mebibytes, percentiles } from '../support/memory.ts'
import { seededRandom, testSeed } from '../support/seeded-random.ts'
import { delay, until, untilAsync } from '../support/wait.ts'

const model = 'llama3.2'
const token = 'producer-secret'
const records = 120
const tokensPerRecord = 20
const churnPerHalf = longRun ? 10_000 : 1_000
const churnParallel = 50
const fuzzProducers = longRun ? 40 : 8
const framesPerFuzzProducer = 40
/** The hub closes a producer after this many invalid frames (`maxInvalidFrames` + 1). */
const invalidFramesBeforeClose = 21

const seed = testSeed()
const random = seededRandom(seed)

let hub: Hub
let sim: Simulator
beforeAll(async () => {
  hub = await createHub({ port: 0, token, heartbeatMs: 0 })
  sim = await startSimulator({ numParallel: 4, tokensPerSecond: 200 })
})
afterAll(async () => {
  await hub?.close()
  await sim?.close()
})

const promptFor = (index: number): string => `Hub under fire, record ${index} [sim:tokens=${tokensPerRecord}]`

/** A producer with the right token. */
const producer = (query = `?token=${token}`): WebSocket =>
  new WebSocket(`${webSocketBase(hub.url)}/publish${query}`)

/** JSON-ish frames: random JSON, random text, events with random fields, batches, deep nesting. */
function fuzzFrames(count: number): (string | Uint8Array)[] {
  const eventLike = fc.record(
    {
      type: fc.constantFrom(
        'job-start',
        'record-start',
        'chunk',
        'record-end',
        'job-end',
        'hub-snapshot',
        'x',
      ),
      jobId: fc.oneof(fc.constant('fuzz-job'), fc.string(), fc.integer()),
      recordId: fc.oneof(fc.constant('r1'), fc.string(), fc.constant(null)),
      seq: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()),
      attempt: fc.oneof(fc.nat(), fc.string()),
      text: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
      sequence: fc.oneof(fc.nat(), fc.double()),
      name: fc.string(),
      model: fc.string(),
      host: fc.string(),
      startedAt: fc.oneof(fc.constant(new Date(0).toISOString()), fc.string()),
    },
    { requiredKeys: [] },
  )
  const frame = fc.oneof(
    fc.json(),
    fc.string({ unit: 'binary', maxLength: 200 }),
    eventLike.map((value) => JSON.stringify(value)),
    fc.array(eventLike, { maxLength: 20 }).map((value) => JSON.stringify(value)),
    fc.nat({ max: 30_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc.uint8Array({ minLength: 1, maxLength: 300 }),
  )
  return fc.sample(frame, { seed: random.integer(0, 2 ** 31 - 1), numRuns: count })
}

/** Whether the hub should accept `frame` (the hub validates with the same `parseEvent`). */
function acceptable(frame: string | Uint8Array): boolean {
  if (typeof frame !== 'string') return false
  let value: unknown
  try {
    value = JSON.parse(frame)
  } catch {
    return false
  }
  const items = Array.isArray(value) ? value : [value]
  return items.length > 0 && items.every((item) => parseEvent(item).ok)
}

/** A fuzzing producer: sends its frames, counts the `hub-error`s, and reports how it was closed. */
async function fuzzProducer(
  frames: (string | Uint8Array)[],
): Promise<{ invalid: number; errors: number; closeCode: number }> {
  const socket = producer()
  let errors = 0
  socket.addEventListener('message', (message) => {
    if ((JSON.parse(String(message.data)) as { type?: string }).type === 'hub-error') errors += 1
  })
  const whenClosed = closed(socket)
  await opened(socket)
  let invalid = 0
  for (const frame of frames) {
    if (socket.readyState !== WebSocket.OPEN) break
    // A string with lone surrogates goes out as UTF-8 with replacement characters: judge what is sent.
    const sent = typeof frame === 'string' ? new TextDecoder().decode(new TextEncoder().encode(frame)) : frame
    if (!acceptable(sent)) invalid += 1
    socket.send(sent)
  }
  if (invalid < invalidFramesBeforeClose) {
    await until(() => errors >= invalid, 'a hub-error for every invalid frame')
    socket.close()
  }
  const closeCode = await whenClosed
  return { invalid, errors, closeCode }
}

/** Connects and disconnects `count` times, `churnParallel` at once, in a seeded mix of ways. */
async function churn(count: number): Promise<Record<string, number>> {
  const modes = ['clean', 'clean', 'abrupt', 'half-handshake', 'garbage', 'resume-garbage'] as const
  // The whole plan is drawn up front, so a seed replays the same connections whatever the timing.
  const plan = Array.from({ length: count }, () => {
    const mode = random.pick(modes)
    return {
      mode,
      query: mode === 'resume-garbage' ? `?hub=${random.integer(0, 1e9)}&resume=%ZZ:1,a:b,:,x:-1` : '',
      garbage: random.bytes(random.integer(1, 256)),
    }
  })
  const tally: Record<string, number> = {}
  for (const { mode } of plan) tally[mode] = (tally[mode] ?? 0) + 1
  let next = 0
  const port = hub.port
  const worker = async () => {
    while (next < plan.length) {
      const { mode, query, garbage } = plan[next]!
      next += 1
      if (mode === 'clean' || mode === 'resume-garbage') {
        const socket = new WebSocket(`${webSocketBase(hub.url)}/ws${query}`)
        const whenClosed = closed(socket)
        await opened(socket).catch(() => {})
        socket.close()
        await whenClosed
      } else {
        await rawConnect(port, mode as RawConnectMode, garbage)
      }
    }
  }
  await Promise.all(Array.from({ length: churnParallel }, worker))
  return tally
}

describe('hub under hostile clients', () => {
  it(
    `stays up, bounded and correct for healthy viewers (seed ${seed})`,
    async () => {
      console.log(`[hub-hostile] seed ${seed} (rerun with SPOUT_SEED=${seed})`)
      const sentAt = new Map<string, number>()
      const viewers = [0, 1, 2].map(() => new TestViewer(hub.url, sentAt))
      await Promise.all(viewers.map((viewer) => opened(viewer.socket)))
      await until(() => viewers.every((viewer) => viewer.frames > 0), 'the first snapshots')
      // Generated before the baseline: fast-check's own tables take tens of MiB of heap.
      const fuzzSets = Array.from({ length: fuzzProducers }, () => fuzzFrames(framesPerFuzzProducer))
      const baseline = await hubGauges(hub.url)
      const heapBaseline = heapUsedAfterGc()

      // Health is polled all along; every answer must be a 200.
      const health: { ok: number; failed: number } = { ok: 0, failed: 0 }
      let polling = true
      const poller = (async () => {
        while (polling) {
          try {
            const response = await fetch(`${hub.url}/healthz`)
            if (response.ok) health.ok += 1
            else health.failed += 1
          } catch {
            health.failed += 1
          }
          await delay(50)
        }
      })()

      // The healthy batch, through the real producer plugin.
      const client = new OllamaClient({ host: sim.url })
      const input = Array.from({ length: records }, (_, index) => ({
        id: `r${index + 1}`,
        prompt: promptFor(index + 1),
      }))
      const batch = runPipeline({
        client,
        model,
        input,
        concurrency: 4,
        name: 'healthy',
        plugins: [
          eventSink((event) => {
            if (event.type === 'chunk')
              sentAt.set(`${event.jobId}/${event.recordId}/${event.seq}`, performance.now())
          }),
          broadcastSink({ url: hub.url, token }),
        ],
      })

      // Phase 1: everything at once.
      const fuzzResults = Promise.all(fuzzSets.map((frames) => fuzzProducer(frames)))

      const oversizedProducer = (async () => {
        const socket = producer()
        const whenClosed = closed(socket)
        await opened(socket)
        socket.send('x'.repeat(5 * 1024 * 1024))
        return whenClosed
      })()
      const oversizedViewer = (async () => {
        const socket = new WebSocket(`${webSocketBase(hub.url)}/ws`)
        const whenClosed = closed(socket)
        await opened(socket)
        socket.send('y'.repeat(8 * 1024))
        return whenClosed
      })()

      const unauthenticated = Promise.all(
        Array.from({ length: 100 }, async (_, index) => {
          const socket = producer(index % 2 === 0 ? '' : '?token=wrong')
          const whenClosed = closed(socket)
          try {
            await opened(socket)
            socket.send(
              JSON.stringify({
                type: 'job-start',
                jobId: 'intruder-job',
                name: 'intruder',
                model,
                host: 'x',
                startedAt: new Date().toISOString(),
              }),
            )
          } catch {
            // refused during the handshake: fine too
          }
          return whenClosed
        }),
      )

      // A producer floods valid events of its own job; a viewer floods the hub with chatter.
      const floodEvents = longRun ? 100_000 : 20_000
      const flood = (async () => {
        const socket = producer()
        const whenClosed = closed(socket)
        await opened(socket)
        const jobId = 'flood-job'
        socket.send(
          JSON.stringify({
            type: 'job-start',
            jobId,
            name: 'flood',
            model,
            host: 'x',
            startedAt: new Date().toISOString(),
          }),
        )
        socket.send(JSON.stringify({ type: 'record-start', jobId, recordId: 'f1', attempt: 1, model }))
        for (let start = 0; start < floodEvents; start += 500) {
          const batchOfEvents: SpoutEvent[] = []
          for (let seq = start; seq < start + 500; seq++)
            batchOfEvents.push({ type: 'chunk', jobId, recordId: 'f1', seq, text: 'f' })
          socket.send(JSON.stringify(batchOfEvents))
          if (socket.bufferedAmount > 1024 * 1024)
            await until(() => socket.bufferedAmount < 256 * 1024, 'flood drain')
        }
        socket.close()
        await whenClosed
      })()
      const chatter = (async () => {
        const socket = new WebSocket(`${webSocketBase(hub.url)}/ws`)
        await opened(socket)
        for (let index = 0; index < 5_000; index++) socket.send(`chatter ${index}`)
        await delay(200)
        const stillOpen = socket.readyState === WebSocket.OPEN
        const whenClosed = closed(socket)
        socket.close()
        await whenClosed
        return stillOpen
      })()

      const churnStarted = performance.now()
      const churnA = await churn(churnPerHalf)
      const churnAms = performance.now() - churnStarted

      const fuzz = await fuzzResults
      expect(await oversizedProducer, 'a 5 MiB producer frame closes with 1009').toBe(1009)
      expect(await oversizedViewer, 'an 8 KiB viewer frame closes with 1009').toBe(1009)
      expect(new Set(await unauthenticated), 'publishes without the token are refused with 4401').toEqual(
        new Set([4401]),
      )
      await flood
      expect(await chatter, 'a chatty viewer is ignored, not dropped').toBe(true)

      // Every fuzzing producer got exactly the documented reactions.
      for (const result of fuzz) {
        const expectedErrors = Math.min(result.invalid, invalidFramesBeforeClose)
        expect(result.errors).toBe(expectedErrors)
        expect(result.closeCode).toBe(result.invalid >= invalidFramesBeforeClose ? 4400 : 1005)
      }

      await untilAsync(
        () => connectionsAre(baseline['connections.viewer']!),
        'connection counts back to baseline (phase 1)',
      )
      const heapAfterA = heapUsedAfterGc()

      // Phase 2: the same churn again; a leak per connection would show as growth between the two.
      const churnB = await churn(churnPerHalf)
      const { failed, ok } = await batch
      await client.close()
      expect({ ok, failed }).toEqual({ ok: records, failed: 0 })
      await untilAsync(
        () => connectionsAre(baseline['connections.viewer']!),
        'connection counts back to baseline (phase 2)',
      )
      const heapAfterB = heapUsedAfterGc()

      // Healthy viewers: never dropped, every chunk exactly once, the exact text of every record.
      const jobId = [...sentAt.keys()][0]!.split('/')[0]!
      await until(
        () => viewers.every((viewer) => viewer.state.jobs[jobId]?.status === 'done'),
        'every healthy viewer saw the job end',
      )
      for (const viewer of viewers) {
        expect(viewer.closeCode).toBeUndefined()
        const job = viewer.state.jobs[jobId]!
        expect(job.ok).toBe(records)
        for (let index = 1; index <= records; index++) {
          const record = job.records.find((candidate) => candidate.recordId === `r${index}`)
          expect(record?.text, `r${index}`).toBe(
            expectedResponse({ model, prompt: promptFor(index) }).response,
          )
        }
        const healthyChunks = [...viewer.chunkCounts].filter(([key]) => key.startsWith(`${jobId}/`))
        expect(healthyChunks.length).toBe(sentAt.size)
        expect(healthyChunks.filter(([, count]) => count !== 1)).toEqual([])
        expect(viewer.jobIds.has('intruder-job')).toBe(false)
        expect(viewer.chunksPerJob.get('flood-job')).toBe(floodEvents)
      }

      polling = false
      await poller
      expect(health.failed).toBe(0)
      const healthz = (await (await fetch(`${hub.url}/healthz`)).json()) as {
        status: string
        viewers: number
      }
      expect(healthz).toMatchObject({ status: 'ok', viewers: viewers.length })
      const growth = heapAfterB - heapAfterA
      const latency = percentiles(viewers.flatMap((viewer) => viewer.latencies))
      const metrics = await hubGauges(hub.url)
      console.log(
        `[hub-hostile] seed ${seed}: churn ${churnPerHalf}×2 (${JSON.stringify(churnA)}, phase 1 in ${Math.round(churnAms)} ms; ${JSON.stringify(churnB)}), ` +
          `fuzz producers ${fuzz.length} (${fuzz.reduce((sum, result) => sum + result.invalid, 0)} invalid frames, ${fuzz.filter((result) => result.closeCode === 4400).length} closed 4400), ` +
          `flood ${floodEvents} events, health polls ${health.ok} ok / ${health.failed} failed`,
      )
      console.log(
        `[hub-hostile] heapUsed after gc: baseline ${mebibytes(heapBaseline)} MiB, after phase 1 ${mebibytes(heapAfterA)} MiB, after phase 2 ${mebibytes(heapAfterB)} MiB (growth ${mebibytes(growth)} MiB); ` +
          `history ${metrics.history_events} events / ${mebibytes(metrics.history_bytes ?? 0)} MiB; invalid frames ${metrics.invalid_frames_total}, rejected ${metrics['rejected_total.unauthorized']}`,
      )
      console.log(
        `[hub-hostile] healthy viewer chunk latency ms (pipeline sink → viewer): ${JSON.stringify(latency)}`,
      )
      // Phase 1 leaves the flood job (one record of all the flood's chunks) and the resume history behind.
      expect(
        heapAfterA - heapBaseline,
        `heap grew ${mebibytes(heapAfterA - heapBaseline)} MiB in phase 1`,
      ).toBeLessThan((longRun ? 64 : 32) * 1024 * 1024)
      // The second churn must not grow the heap by more than a few bytes per connection.
      expect(growth, `heap grew ${mebibytes(growth)} MiB over ${churnPerHalf} connects`).toBeLessThan(
        8 * 1024 * 1024,
      )
      await Promise.all(viewers.map((viewer) => viewer.close()))
      await untilAsync(() => connectionsAre(0), 'no connection left')
    },
    longRun ? 900_000 : 180_000,
  )
})

/** True once the hub counts exactly `viewers` viewers and no producer. */
async function connectionsAre(viewers: number): Promise<boolean> {
  const gauges = await hubGauges(hub.url)
  return gauges['connections.viewer'] === viewers && gauges['connections.producer'] === 0
}
