// Which host gets a record's attempt, decided when the attempt starts (never in advance).

import type { PoolHost } from './pool-host.ts'

/**
 * The host for a request of `model` (a `modelKey`): among the hosts that are up, serve the model
 * and have a free slot, one where the model is already loaded (so a batch does not make hosts swap
 * models), then the most free slots × weight, then the heavier weight, then the first listed.
 * `undefined` when none has a free slot now.
 */
export function pickHost(hosts: readonly PoolHost[], model: string): PoolHost | undefined {
  let best: PoolHost | undefined
  let bestLoaded = false
  let bestScore = 0
  for (const host of hosts) {
    const free = host.free
    if (free === 0 || !host.serves(model)) continue
    const loaded = host.loaded.has(model)
    const score = free * host.weight
    if (
      best === undefined ||
      (loaded && !bestLoaded) ||
      (loaded === bestLoaded && (score > bestScore || (score === bestScore && host.weight > best.weight)))
    ) {
      best = host
      bestLoaded = loaded
      bestScore = score
    }
  }
  return best
}
