// A batch on a BullMQ queue, in one process: a collector and two workers over a simulator, on a
// real redis-server per test. The kill tests with real processes (SIGKILL) are in tests/.
import { OllamaClient, type RecordResult, type SpoutEvent, type SpoutPlugin } from '@spout/core'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterEach, describe, expect, it } from 'vitest'
import { type CollectedItem, openQueueBatch, type QueueBatch } from './queue-batch.ts'
import { type QueueWorker, startQueueWorker } from './queue-worker.ts'
import { type RedisServer, startRedisServer } from './testing/redis-server.ts'

const model = 'llama3.2'
const closers: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

async function setUp(options: { persist?: boolean; tokensPerSecond?: number; numParallel?: number } = {}) {
  const redis: RedisServer = await startRedisServer({ persist: options.persist ?? false })
  closers.push(() => redis.close())
  const sim: Simulator = await startSimulator({
    numParallel: options.numParallel ?? 8,
    tokensPerSecond: options.tokensPerSecond ?? 400,
  })
  closers.push(() => sim.close())
  return { redis, sim }
}

async function worker(
  url: string,
  sim: Simulator,
  concurrency = 3,
  plugins?: SpoutPlugin[],
): Promise<QueueWorker> {
  const started = await startQueueWorker({
    url,
    client: new OllamaClient({ host: sim.url }),
    concurrency,
    lockDuration: 2000,
    ...(plugins ? { plugins } : {}),
  })
  closers.push(() => started.close({ force: true }))
  return started
}

async function batch(url: string, name: string, sweepInterval = 500): Promise<QueueBatch> {
  const opened = await openQueueBatch({
    url,
    spec: { jobId: `job-${name}`, name, model, template: 'Question {{n}}: what is {{n}} squared?' },
    sweepInterval,
  })
  closers.push(() => opened.close())
  return opened
}

const entries = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: `q${index}`, record: { n: index } }))

async function collectAll(
  collector: QueueBatch,
  count: number,
  during?: (lines: RecordResult[]) => Promise<void> | void,
): Promise<{ lines: RecordResult[]; events: SpoutEvent[]; queued: string[] }> {
  const lines: RecordResult[] = []
  const events: SpoutEvent[] = []
  const queued: string[] = []
  for await (const item of collector.collect(entries(count)) as AsyncIterable<CollectedItem>) {
    if (item.type === 'result') {
      lines.push(item.line)
      await during?.(lines)
    } else if (item.type === 'event') events.push(item.event)
    else if (item.type === 'queued') queued.push(item.id)
  }
  return { lines, events, queued }
}

function expectEachIdOnce(lines: RecordResult[], count: number, sim: Simulator): void {
  expect(lines.map((line) => line.id).sort()).toEqual(
    entries(count)
      .map((entry) => entry.id)
      .sort(),
  )
  for (const line of lines) {
    expect(line.error).toBeUndefined()
    const n = (line.input as { n: number }).n
    expect(line.response).toBe(
      sim.expectedResponse({ model, prompt: `Question ${n}: what is ${n} squared?` }).response,
    )
  }
}

describe('a batch on a BullMQ queue', () => {
  it('runs across two workers: every id once, exact texts, both at work, their events under the batch job id', async () => {
    const { redis, sim } = await setUp()
    const [first, second] = [await worker(redis.url, sim), await worker(redis.url, sim)]
    const collector = await batch(redis.url, 'two-workers')
    const { lines, events, queued } = await collectAll(collector, 60)
    expectEachIdOnce(lines, 60, sim)
    // Each record was announced once as it went on the queue (the viewer's queued rows).
    expect(queued).toEqual(entries(60).map((entry) => entry.id))
    expect(first.completed).toBeGreaterThan(0)
    expect(second.completed).toBeGreaterThan(0)
    expect(first.completed + second.completed).toBe(60)
    expect(sim.counters.byPath['/api/generate']).toBe(60)
    // The live view got the workers' events under the batch's job id, each record's chunks in order.
    expect(new Set(events.map((event) => event.jobId))).toEqual(new Set(['job-two-workers']))
    const started = new Set(
      events
        .filter((event) => event.type === 'record-start')
        .map((event) => (event as { recordId: string }).recordId),
    )
    expect(started.size).toBeGreaterThan(50) // events are best effort; lines are not
    await collector.finish()
  })

  it('queues again what a Redis that lost its data forgot, and still writes every id once', async () => {
    const { redis, sim } = await setUp({ tokensPerSecond: 100 })
    await worker(redis.url, sim)
    await worker(redis.url, sim)
    const collector = await batch(redis.url, 'redis-crash')
    let crashed = false
    const { lines } = await collectAll(collector, 40, async (sofar) => {
      if (!crashed && sofar.length === 10) {
        crashed = true
        await redis.restart({ crash: true })
      }
    })
    expect(crashed).toBe(true)
    expectEachIdOnce(lines, 40, sim)
    // Records in flight or queued when Redis lost everything were generated again; none was lost.
    expect(sim.counters.byPath['/api/generate']).toBeGreaterThanOrEqual(40)
  })

  it('gives back at once the records of a worker stopped mid-batch, and writes each id once', async () => {
    const { redis, sim } = await setUp({ tokensPerSecond: 60 })
    const doomed = await worker(redis.url, sim, 4)
    await worker(redis.url, sim, 4)
    const collector = await batch(redis.url, 'stalled')
    let killed = false
    const { lines } = await collectAll(collector, 30, async (sofar) => {
      if (!killed && sofar.length === 5) {
        killed = true
        void doomed.close({ force: true })
      }
    })
    expectEachIdOnce(lines, 30, sim)
    // Its records in flight (4 at most) were cancelled at the server and generated again elsewhere
    // (one that ended as it was cancelled is not counted as cancelled there).
    expect(sim.counters.cancelled).toBeGreaterThan(0)
    expect(sim.counters.byPath['/api/generate']).toBeGreaterThanOrEqual(30 + sim.counters.cancelled)
    expect(sim.counters.byPath['/api/generate']).toBeLessThanOrEqual(30 + 4)
  })

  it("queues the records of an input that trickles (a stage's) as they come, each asked once", async () => {
    const { redis, sim } = await setUp()
    await worker(redis.url, sim)
    // No sweep in the test's time: a record waiting for a bulk to fill would never be queued.
    const collector = await batch(redis.url, 'trickle', 60_000)
    let back: () => void = () => {}
    // The next record comes only when the one before it is back, as a stage's records wait on the stage before.
    async function* trickle() {
      for (const entry of entries(6)) {
        const returned = new Promise<void>((resolve) => {
          back = resolve
        })
        yield entry
        await returned
      }
    }
    const lines: RecordResult[] = []
    for await (const item of collector.collect(trickle())) {
      if (item.type !== 'result') continue
      lines.push(item.line)
      back()
    }
    expectEachIdOnce(lines, 6, sim)
    expect(sim.counters.byPath['/api/generate']).toBe(6)
    await collector.finish()
  }, 20_000)

  it('stops one record from the viewer: a waiting one off the queue, a running one at its worker; the rest go on', async () => {
    const { redis, sim } = await setUp({ tokensPerSecond: 40 })
    await worker(redis.url, sim, 1)
    const collector = await batch(redis.url, 'stop-one')
    const answers: Record<string, boolean> = {}
    const lines: RecordResult[] = []
    const stopped: string[] = []
    for await (const item of collector.collect(entries(4))) {
      if (item.type === 'result') lines.push(item.line)
      else if (item.type === 'event' && item.event.type === 'record-start' && answers.running === undefined) {
        const running = item.event.recordId
        const waiting = ['q0', 'q1', 'q2', 'q3'].filter((id) => id !== running).at(-1)!
        answers.unknown = collector.abortRecord('q9', 'from the test')
        answers.running = collector.abortRecord(running, 'from the test')
        answers.waiting = collector.abortRecord(waiting, 'from the test')
        answers.ids = true
        stopped.push(running, waiting)
      }
    }
    expect(answers).toEqual({ unknown: false, running: true, waiting: true, ids: true })
    expect(lines.map((line) => line.id).sort()).toEqual(['q0', 'q1', 'q2', 'q3'])
    for (const line of lines) {
      if (stopped.includes(line.id)) {
        expect(line.error?.code, line.id).toBe('SPOUT_ABORTED')
        expect(line.error?.message).toBe(`record ${line.id}: aborted: from the test`)
      } else expect(line.error, line.id).toBeUndefined()
    }
    // The waiting one was never generated; the running one was cut at the server.
    expect(sim.counters.byPath['/api/generate']).toBe(3)
    await collector.finish()
  })

  it('gives a record BullMQ failed (its worker could not run it) a failed line, once', async () => {
    const { redis, sim } = await setUp()
    const broken: SpoutPlugin = {
      name: 'broken-start',
      jobStart() {
        throw new Error('no GPU today')
      },
    }
    await worker(redis.url, sim, 2, [broken])
    const collector = await batch(redis.url, 'failing')
    const { lines } = await collectAll(collector, 4)
    expect(lines.map((line) => line.id).sort()).toEqual(['q0', 'q1', 'q2', 'q3'])
    for (const line of lines) {
      expect(line.error?.code).toBe('SPOUT_QUEUE_JOB_FAILED')
      expect(line.error?.message).toMatch(/^record q\d: .*no GPU today/)
    }
    expect(sim.counters.byPath['/api/generate'] ?? 0).toBe(0)
  })
})

describe('a resumed batch', () => {
  it('writes the lines that came back while no collector ran without generating them again', async () => {
    const { redis, sim } = await setUp({ tokensPerSecond: 150 })
    await worker(redis.url, sim, 4)
    const open = async (resume: boolean) => {
      const spec = {
        jobId: 'job-back',
        name: 'back',
        model,
        template: 'Question {{n}}: what is {{n}} squared?',
      }
      const opened = await openQueueBatch({ url: redis.url, spec, resume, sweepInterval: 500 })
      closers.push(() => opened.close())
      return opened
    }
    // The first collector stops after 5 lines (its records stay queued); the worker goes on.
    const first = await open(false)
    const controller = new AbortController()
    const written: RecordResult[] = []
    for await (const item of first.collect(entries(30), controller.signal)) {
      if (item.type !== 'result') continue
      written.push(item.line)
      if (written.length === 5) controller.abort()
    }
    await first.close()
    const deadline = Date.now() + 20_000
    while ((sim.counters.byPath['/api/generate'] ?? 0) < 30) {
      if (Date.now() > deadline) throw new Error('the worker did not finish the queued records')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    // The resumed one asks for the rest: every line is already back, none is generated again.
    const second = await open(true)
    expect(second.runId).toBe(first.runId)
    const done = new Set(written.map((line) => line.id))
    const rest = entries(30).filter((entry) => !done.has(entry.id))
    for await (const item of second.collect(rest)) if (item.type === 'result') written.push(item.line)
    expectEachIdOnce(written, 30, sim)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(sim.counters.byPath['/api/generate']).toBe(30)
    await second.finish()
  })
})

describe('workers of one process', () => {
  it('share the client they run on: two with sharedBy 2 over 4 slots have 4 records out at most, not 8', async () => {
    const { redis, sim } = await setUp({ tokensPerSecond: 100, numParallel: 8 })
    const client = new OllamaClient({ host: sim.url })
    for (let index = 0; index < 2; index++) {
      const started = await startQueueWorker({ url: redis.url, client, concurrency: 4, sharedBy: 2 })
      closers.push(() => started.close({ force: true }))
    }
    const collector = await batch(redis.url, 'shared')
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, sim.counters.inFlight + sim.counters.queued)
    }, 5)
    try {
      const { lines } = await collectAll(collector, 24)
      expectEachIdOnce(lines, 24, sim)
    } finally {
      clearInterval(sampler)
    }
    expect(peak).toBeLessThanOrEqual(4)
    expect(peak).toBeGreaterThan(2)
    await collector.finish()
  })
})
