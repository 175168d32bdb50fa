/** What a test can read about the traffic a simulator has seen. A live object: read it any time. */
export interface SimCounters {
  /** Every HTTP request received. */
  requests: number
  /** Requests per path, e.g. `{ '/api/generate': 3 }`. */
  byPath: Record<string, number>
  /** Requests holding a generation slot right now. */
  inFlight: number
  /** Requests waiting for a slot right now (never above `maxQueue`). */
  queued: number
  /** Highest `inFlight` seen (never above `numParallel`). */
  maxInFlight: number
  /** Generate/chat/pull requests whose client closed the connection before the reply ended. */
  cancelled: number
  /** Generate/chat requests answered in full (the `done: true` object written; load/unload excluded). */
  completed: number
  /** 503 replies (queue full, or the `http-503` fault). */
  rejected503: number
}

export function createCounters(): SimCounters {
  return {
    requests: 0,
    byPath: {},
    inFlight: 0,
    queued: 0,
    maxInFlight: 0,
    cancelled: 0,
    completed: 0,
    rejected503: 0,
  }
}

/** Zeroes the counters in place (keeps the gauges `inFlight` and `queued`; `maxInFlight` restarts from `inFlight`). */
export function resetCounters(counters: SimCounters): void {
  counters.requests = 0
  for (const path of Object.keys(counters.byPath)) delete counters.byPath[path]
  counters.maxInFlight = counters.inFlight
  counters.cancelled = 0
  counters.completed = 0
  counters.rejected503 = 0
}
