/** One stamped event as the hub sent it: its job, its sequence and its JSON text. */
export interface HistoryEntry {
  readonly jobId: string
  readonly sequence: number
  readonly json: string
}

/**
 * The resume history: a ring of the most recent events over all jobs, bounded both by count and
 * by bytes of JSON. The oldest entries fall off first.
 */
export class HistoryRing {
  readonly #capacity: number
  readonly #maxBytes: number
  readonly #entries: (HistoryEntry | undefined)[]
  #start = 0
  #length = 0
  #bytes = 0

  constructor(capacity: number, maxBytes: number) {
    this.#capacity = Math.max(0, Math.floor(capacity))
    this.#maxBytes = maxBytes
    this.#entries = new Array(this.#capacity)
  }

  get length(): number {
    return this.#length
  }

  get bytes(): number {
    return this.#bytes
  }

  push(entry: HistoryEntry): void {
    if (this.#capacity === 0 || entry.json.length > this.#maxBytes) {
      // Too big to keep: everything before it of the same job is now unreachable too, so a
      // resume falls back to a snapshot (the check in `since` sees the gap).
      return
    }
    if (this.#length === this.#capacity) this.#shift()
    this.#entries[(this.#start + this.#length) % this.#capacity] = entry
    this.#length += 1
    this.#bytes += entry.json.length
    while (this.#bytes > this.#maxBytes) this.#shift()
  }

  /**
   * For each job in `positions` (job id → last sequence the viewer has), the JSON of every event
   * after it, in order, or `undefined` when the history no longer reaches back that far.
   * `current` gives each job's latest sequence.
   */
  since(
    positions: ReadonlyMap<string, number>,
    current: (jobId: string) => number,
  ): Map<string, string[] | undefined> {
    const found = new Map<string, string[]>()
    for (const jobId of positions.keys()) found.set(jobId, [])
    for (let index = 0; index < this.#length; index++) {
      const entry = this.#entries[(this.#start + index) % this.#capacity]!
      const after = positions.get(entry.jobId)
      if (after === undefined || entry.sequence <= after) continue
      found.get(entry.jobId)!.push(entry.json)
    }
    const result = new Map<string, string[] | undefined>()
    for (const [jobId, after] of positions) {
      const events = found.get(jobId)!
      const missing = current(jobId) - after
      result.set(jobId, missing >= 0 && events.length === missing ? events : undefined)
    }
    return result
  }

  #shift(): void {
    const entry = this.#entries[this.#start]
    if (!entry) return
    this.#entries[this.#start] = undefined
    this.#start = (this.#start + 1) % this.#capacity
    this.#length -= 1
    this.#bytes -= entry.json.length
  }
}
