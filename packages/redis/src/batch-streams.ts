// The two streams of a batch (queue-keys.ts) as one collection reads them: the workers' result lines
// (kept until the collector has written them) and their event frames (for the live view).
import type { Redis } from 'ioredis'
import type { batchKeys } from './queue-keys.ts'

/** What the collection does with each entry it is given. */
export interface StreamHandlers {
  /** A result entry: fields `id` and `line` (a worker's JSON line). */
  result(entryId: string, fields: string[]): void
  /** An event entry: field `f`, a JSON array of events. */
  events(fields: string[]): void
}

/** The collection's connection, keys and lifetime, as the readers need them. */
export interface StreamReading {
  reader: Redis
  keys: ReturnType<typeof batchKeys>
  /** Reports a failure talking to Redis (reading goes on). */
  report: (message: string, cause: unknown) => void
  /** True once the collection has ended. */
  stopped(): boolean
  /** Waits `ms`, or less when the collection ends. */
  pause(ms: number): Promise<void>
}

/** Reads the results stream as it is now (lines a killed collector left) and resolves to its last entry. */
export async function readBacklog(reading: StreamReading, handlers: StreamHandlers): Promise<string> {
  const { reader, keys, report } = reading
  let last = '0-0'
  try {
    for (;;) {
      const entries = await reader.xrange(keys.results, `(${last}`, '+', 'COUNT', 500)
      for (const [entryId, fields] of entries) {
        last = entryId
        handlers.result(entryId, fields)
      }
      if (entries.length < 500 || reading.stopped()) return last
    }
  } catch (error) {
    report('cannot read the lines already back', error)
    return last
  }
}

/** Reads the results (after `from`) and the new events as they come, until the collection ends. */
export async function followStreams(
  reading: StreamReading,
  handlers: StreamHandlers,
  from: string,
): Promise<void> {
  const { reader, keys, report } = reading
  let lastResult = from
  let lastEvent = '$'
  let failures = 0
  while (!reading.stopped()) {
    try {
      if (lastEvent === '$') {
        const [last] = await reader.xrevrange(keys.events, '+', '-', 'COUNT', 1)
        lastEvent = last?.[0] ?? '0-0'
      }
      const response = await reader.xread(
        'COUNT',
        500,
        'BLOCK',
        500,
        'STREAMS',
        keys.results,
        keys.events,
        lastResult,
        lastEvent,
      )
      failures = 0
      for (const [stream, entries] of response ?? []) {
        for (const [entryId, fields] of entries) {
          if (stream === keys.results) {
            lastResult = entryId
            handlers.result(entryId, fields)
          } else {
            lastEvent = entryId
            handlers.events(fields)
          }
        }
      }
    } catch (error) {
      if (reading.stopped()) return
      failures += 1
      if (failures === 1) report('cannot read the results', error)
      await reading.pause(Math.min(100 * failures, 2000))
    }
  }
}

/** The value of field `name` of a stream entry. */
export function field(fields: string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2)
    if (fields[index] === name) return fields[index + 1]
  return undefined
}
