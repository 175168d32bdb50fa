import { type Simulator, type SimulatorOptions, startSimulator } from '@spout/ollama-sim'
import { afterEach, describe, expect, it } from 'vitest'
import { OllamaClient } from './client.ts'
import { HostPoolError } from './errors.ts'
import { eventSink } from './event-sink.ts'
import type { RecordStartEvent, SpoutEvent } from './events.ts'
import { HostPool, type HostPoolMember } from './host-pool.ts'
import { runPipeline } from './pipeline.ts'
import type { InputRecord, RecordResult, SpoutPlugin } from './plugin.ts'

const model = 'llama3.2'
const fast = { base: 1, max: 20 }
const open: { close(): Promise<void> | void }[] = []

afterEach(async () => {
  for (const resource of open.splice(0).reverse()) await resource.close()
})

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options)
  open.push(sim)
  return sim
}

function member(sim: { url: string }, extra: Partial<HostPoolMember> = {}): HostPoolMember {
  const client = new OllamaClient({ host: sim.url, retry: false })
  open.push(client)
  return { backend: client, ...extra }
}

function pool(members: HostPoolMember[]): HostPool {
  const hostPool = new HostPool({ hosts: members, probeDelay: { base: 20, max: 200 } })
  open.push(hostPool)
  return hostPool
}

function records(count: number): InputRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `r${index + 1}`,
    prompt: `question ${index + 1}`,
  }))
}

function collector(): { plugin: SpoutPlugin; results: RecordResult[]; events: SpoutEvent[] } {
  const results: RecordResult[] = []
  const events: SpoutEvent[] = []
  const plugin: SpoutPlugin = {
    ...eventSink((event) => void events.push(event)),
    name: 'collector',
    recordEnd(result) {
      results.push(result)
      events.push({ type: 'record-end', jobId: '', recordId: result.id, response: '', attempts: 0 })
    },
  }
  return { plugin, results, events }
}

function expectEveryIdOnce(results: RecordResult[], count: number): void {
  const ids = results.map((result) => result.id).sort()
  expect(ids).toEqual(
    records(count)
      .map((record) => String(record.id))
      .sort(),
  )
}

describe('HostPool against simulators', () => {
  it('spreads one batch over three hosts of different slots and names the host of every attempt', async () => {
    const sims = await Promise.all([
      simulator({ numParallel: 1, tokensPerSecond: 400 }),
      simulator({ numParallel: 2, tokensPerSecond: 400 }),
      simulator({ numParallel: 4, tokensPerSecond: 400 }),
    ])
    const hostPool = pool(sims.map((sim) => member(sim)))
    await hostPool.start({ model })
    const { plugin, results, events } = collector()
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(60),
      retryDelay: fast,
      request: { options: { num_predict: 12 } },
      plugins: [plugin],
    })
    expect(summary).toMatchObject({ ok: 60, failed: 0 })
    expectEveryIdOnce(results, 60)
    const starts = events.filter((event): event is RecordStartEvent => event.type === 'record-start')
    const urls = sims.map((sim) => sim.url)
    for (const start of starts) expect(urls).toContain(start.host)
    for (const result of results) {
      expect(urls).toContain(result.host)
      expect(result.backend).toBe('ollama')
    }
    for (const sim of sims) expect(sim.counters.completed).toBeGreaterThan(0)
    // Never more in flight on a host than it has slots: learning does not overrun a host for long.
    expect(sims[0]!.counters.rejected503).toBe(0)
    expect(summary.hosts?.map((host) => host.host)).toEqual(urls)
    expect(summary.hosts?.reduce((sum, host) => sum + host.records, 0)).toBe(60)
  })

  it('learns a host that answers 503 beyond numParallel (maxQueue 0) down to numParallel', async () => {
    const sim = await simulator({ numParallel: 3, maxQueue: 0, tokensPerSecond: 200 })
    const hostPool = pool([member(sim)])
    await hostPool.start({ model })
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(80),
      retryDelay: fast,
      busyRetries: 50,
      request: { options: { num_predict: 10 } },
    })
    expect(summary).toMatchObject({ ok: 80, failed: 0 })
    expect(sim.counters.maxInFlight).toBe(3)
    // Within one slot: a request sent the moment the client saw a reply end can still find the
    // server's slot taken (503 at 3), which sets the plateau one lower until a probe raises it.
    expect(hostPool.hosts()[0]!.slots).toBeGreaterThanOrEqual(2)
    expect(hostPool.hosts()[0]!.slots).toBeLessThanOrEqual(3)
  })

  it('learns numParallel from the time to first token when requests queue (maxQueue 512)', async () => {
    const sim = await simulator({ numParallel: 4, tokensPerSecond: 100 })
    const hostPool = new HostPool({ hosts: [member(sim)], learning: { jumpMargin: 60 } })
    open.push(hostPool)
    await hostPool.start({ model })
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(70),
      retryDelay: fast,
      request: { options: { num_predict: 20 } },
    })
    expect(summary).toMatchObject({ ok: 70, failed: 0 })
    expect(Math.abs(hostPool.hosts()[0]!.slots - 4)).toBeLessThanOrEqual(1)
    expect(sim.counters.rejected503).toBe(0)
  })

  it('never asks a host that does not have the model', async () => {
    const withModel = await simulator({ numParallel: 2 })
    const without = await simulator({ numParallel: 8, models: [{ name: 'mistral:7b' }] })
    const hostPool = pool([member(withModel), member(without)])
    await hostPool.start({ model })
    const summary = await runPipeline({ client: hostPool, model, input: records(20), retryDelay: fast })
    expect(summary).toMatchObject({ ok: 20, failed: 0 })
    expect(without.counters.byPath['/api/generate']).toBeUndefined()
    expect(without.counters.byPath['/api/tags']).toBe(1)
  })

  it('refuses a model no host has, naming the hosts asked', async () => {
    const first = await simulator({ models: [{ name: 'mistral:7b' }] })
    const second = await simulator({ models: [{ name: 'qwen3:latest' }] })
    const hostPool = pool([member(first), member(second)])
    const error = await hostPool.start({ model }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HostPoolError)
    expect((error as HostPoolError).code).toBe('SPOUT_NO_HOST')
    expect((error as Error).message).toContain(first.url)
    expect((error as Error).message).toContain(second.url)
  })

  it('finishes the batch on the others when one host answers 503 to everything', async () => {
    const busy = await simulator({ numParallel: 4, fault: { name: 'http-503' } })
    const good = await simulator({ numParallel: 2, tokensPerSecond: 500 })
    const hostPool = pool([member(busy), member(good)])
    await hostPool.start({ model })
    const { plugin, results } = collector()
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(30),
      retryDelay: fast,
      plugins: [plugin],
    })
    expect(summary).toMatchObject({ ok: 30, failed: 0 })
    expectEveryIdOnce(results, 30)
    // Cooled down after its 503s: asked a few times, not once per record.
    expect(busy.counters.rejected503).toBeLessThan(15)
  })

  it('retries the records of a host that died mid-stream elsewhere, and takes the host back', async () => {
    const options: SimulatorOptions = { numParallel: 2, tokensPerSecond: 100 }
    const sims = await Promise.all([simulator(options), simulator(options), simulator(options)])
    const victim = sims[1]!
    const hostPool = pool(sims.map((sim) => member(sim)))
    await hostPool.start({ model })
    let restarted: Simulator | undefined
    let ended = 0
    const killer: SpoutPlugin = {
      name: 'killer',
      async recordEnd() {
        ended += 1
        if (ended !== 12) return
        expect(victim.counters.inFlight).toBeGreaterThan(0)
        await victim.close()
        setTimeout(() => {
          void simulator({ ...options, port: victim.port }).then((sim) => {
            restarted = sim
          })
        }, 300)
      },
    }
    const { plugin, results } = collector()
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(70),
      retryDelay: fast,
      request: { options: { num_predict: 15 } },
      plugins: [killer, plugin],
    })
    expect(summary).toMatchObject({ ok: 70, failed: 0 })
    expectEveryIdOnce(results, 70)
    expect(results.some((result) => result.attempts > 1)).toBe(true)
    const report = summary.hosts!.find((host) => host.host === victim.url)!
    expect(report.failures).toBeGreaterThan(0)
    expect(restarted?.counters.completed).toBeGreaterThan(0)
  })

  it('fails records with a connection error when every host is down', async () => {
    const sim = await simulator()
    const hostPool = pool([member(sim), member({ url: 'http://127.0.0.1:9' })])
    await hostPool.start({ model })
    await sim.close()
    const { plugin, results } = collector()
    const summary = await runPipeline({
      client: hostPool,
      model,
      input: records(3),
      retryDelay: fast,
      plugins: [plugin],
    })
    expect(summary.failed).toBe(3)
    for (const result of results) expect(result.error?.code).toBe('SPOUT_CONNECTION_ERROR')
  })
})
