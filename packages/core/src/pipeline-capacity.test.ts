import { describe, expect, it } from 'vitest'
import type { Backend, BackendCapacity } from './backend.ts'
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
})
