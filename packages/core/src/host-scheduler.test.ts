import { describe, expect, it } from 'vitest'
import type { Backend } from './backend.ts'
import { pickHost } from './host-scheduler.ts'
import { PoolHost } from './pool-host.ts'

function host(
  url: string,
  options: { slots: number; inFlight?: number; weight?: number; models?: string[]; loaded?: string[] },
) {
  const backend = { kind: 'test', host: url } as unknown as Backend
  const poolHost = new PoolHost({
    backend,
    inspector: undefined,
    concurrency: options.slots,
    weight: options.weight ?? 1,
    models: options.models,
    health: {},
    onChange: () => {},
  })
  poolHost.inFlight = options.inFlight ?? 0
  for (const model of options.loaded ?? []) poolHost.loaded.add(model)
  return poolHost
}

const model = 'llama3.2:latest'

describe('pickHost', () => {
  it('picks the host with the most free slots', () => {
    const hosts = [host('a', { slots: 2 }), host('b', { slots: 8, inFlight: 3 }), host('c', { slots: 4 })]
    expect(pickHost(hosts, model)?.url).toBe('b')
  })

  it('weighs free slots', () => {
    const hosts = [host('a', { slots: 4, weight: 3 }), host('b', { slots: 8 })]
    expect(pickHost(hosts, model)?.url).toBe('a')
  })

  it('prefers a host where the model is loaded', () => {
    const hosts = [host('a', { slots: 8 }), host('b', { slots: 2, loaded: [model] })]
    expect(pickHost(hosts, model)?.url).toBe('b')
  })

  it('skips hosts that are full, down or not serving the model', () => {
    const full = host('full', { slots: 2, inFlight: 2 })
    const down = host('down', { slots: 8 })
    down.health.down('gone')
    const other = host('other', { slots: 8, models: ['mistral:7b'] })
    expect(pickHost([full, down, other], model)).toBeUndefined()
    const free = host('free', { slots: 1 })
    expect(pickHost([full, down, other, free], model)?.url).toBe('free')
    down.health.close()
  })
})
