import { describe, expect, it } from 'vitest'
import type { Backend, BackendCapacity } from './backend.ts'
import { eventSink } from './event-sink.ts'
import type { HostsEvent } from './events.ts'
import { runPipeline } from './pipeline.ts'
import type { GenerateResponse } from './types.ts'

/** A backend whose capacity a test sets; every call waits for `release()` before it answers. */
function gatedBackend(initialSlots: number) {
  let slots = initialSlots
  const listeners = new Set<() => void>()
  let inFlight = 0
  let maxInFlight = 0
  const gates: (() => void)[] = []
  const capacity: BackendCapacity = {
    get slots() {
      return slots
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    report: () => [
      {
        host: 'fake',
        backend: 'test',
        state: 'up',
        slots,
        inFlight,
        records: 0,
        failures: 0,
        tokens: 0,
        tokensPerSecond: 0,
      },
    ],
  }
  const backend: Backend = {
    kind: 'test',
    host: 'fake',
    capacity,
    async *generate(request, options) {
      options.onRoute?.({ backend: 'test', host: 'fake', slots })
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise<void>((resolve) => gates.push(resolve))
      inFlight -= 1
      yield { model: request.model, response: 'ok', done: false } as GenerateResponse
      yield { model: request.model, response: '', done: true, done_reason: 'stop' } as GenerateResponse
    },
    chat: () => {
      throw new Error('no chat')
    },
  }
  return {
    backend,
    setSlots(value: number) {
      slots = value
      for (const listener of listeners) listener()
    },
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    release() {
      for (const open of gates.splice(0)) open()
    },
    listeners: () => listeners.size,
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('runPipeline with a backend that reports its capacity', () => {
  it('keeps capacity.slots records in flight, following it as it changes, and reports the hosts', async () => {
    const fake = gatedBackend(2)
    const input = Array.from({ length: 20 }, (_, index) => ({ prompt: `p${index}` }))
    const done = runPipeline({ client: fake.backend, model: 'm', input, concurrency: 1 })
    await tick()
    expect(fake.inFlight()).toBe(2) // concurrency 1 is ignored: the backend knows better
    fake.setSlots(5)
    await tick()
    expect(fake.inFlight()).toBe(5)
    fake.setSlots(1)
    fake.release()
    await tick()
    expect(fake.inFlight()).toBe(1)
    while (fake.inFlight() > 0 || fake.listeners() > 0) {
      fake.release()
      await tick()
    }
    const summary = await done
    expect(summary.ok).toBe(20)
    expect(fake.maxInFlight()).toBe(5)
    expect(summary.hosts?.[0]?.host).toBe('fake')
    expect(fake.listeners()).toBe(0)
  })

  it('sends the hosts as hosts events while the job runs, only when they change', async () => {
    const fake = gatedBackend(2)
    const input = Array.from({ length: 6 }, (_, index) => ({ prompt: `p${index}` }))
    const seen: HostsEvent[] = []
    const done = runPipeline({
      client: fake.backend,
      model: 'm',
      input,
      hostReportPeriod: 10,
      plugins: [eventSink((event) => void (event.type === 'hosts' && seen.push(event)))],
    })
    await new Promise((resolve) => setTimeout(resolve, 60))
    // At the start (none in flight yet), then two in flight and nothing changing: one event however
    // many periods pass.
    expect(seen.map((event) => event.hosts[0]!.inFlight)).toEqual([0, 2])
    fake.setSlots(3)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(seen.at(-1)!.hosts[0]).toMatchObject({ host: 'fake', slots: 3, inFlight: 3 })
    const count = seen.length
    expect(count).toBeLessThanOrEqual(5)
    while (fake.inFlight() > 0 || fake.listeners() > 0) {
      fake.release()
      await tick()
    }
    const summary = await done
    expect(summary.ok).toBe(6)
    expect(seen[0]!.jobId).toBeTruthy()
    // None after the job ended.
    const after = seen.length
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(seen.length).toBe(after)
  })
})
