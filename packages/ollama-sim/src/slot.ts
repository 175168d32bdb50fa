import type { SimCounters } from './counters.ts'
import type { AcquireResult, SlotQueue } from './queue.ts'

/** Takes a generation slot and keeps the counters' `queued` / `inFlight` / `maxInFlight` gauges true. */
export async function acquireSlot(
  queue: SlotQueue,
  counters: SimCounters,
  signal: AbortSignal,
): Promise<AcquireResult> {
  const acquired = queue.acquire(signal)
  let result: AcquireResult
  if (typeof acquired === 'string') result = acquired
  else {
    counters.queued++
    try {
      result = await acquired
    } finally {
      counters.queued--
    }
  }
  if (result === 'acquired') {
    counters.inFlight++
    if (counters.inFlight > counters.maxInFlight) counters.maxInFlight = counters.inFlight
  }
  return result
}

/** Gives the slot back. */
export function releaseSlot(queue: SlotQueue, counters: SimCounters): void {
  counters.inFlight--
  queue.release()
}
