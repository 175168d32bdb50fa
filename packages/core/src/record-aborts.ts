// One abort controller per record in flight, so that a single record can be stopped (the hub's
// control channel) while the job's own stop still reaches every record.
import { PipelineError } from './errors.ts'

/** A record in flight: a link of a circular list with a sentinel. */
interface Entry {
  recordId: string
  controller: AbortController | undefined
  previous: Entry
  next: Entry
}

/**
 * The records in flight, in a list rather than a Map: a Map's table, once rehashed, keeps pointing
 * at the controllers it held, so a record's whole request (its signal's listeners reach the stream
 * and its buffers) survived young collections and was promoted; a batch of 100,000 records doubled
 * its RSS. An unlinked entry points nowhere. Looking a record up walks the list: at most the records
 * in flight, and only for a stop from the control channel.
 */
export class RecordAborts {
  readonly #list: Entry = RecordAborts.#sentinel()
  #stopped: { reason: unknown } | undefined

  static #sentinel(): Entry {
    const sentinel = { recordId: '', controller: undefined } as Entry
    sentinel.previous = sentinel
    sentinel.next = sentinel
    return sentinel
  }

  /** The signal of a record that starts now; aborted at once when the job already stopped. */
  start(recordId: string): AbortSignal {
    const controller = new AbortController()
    if (this.#stopped) {
      controller.abort(this.#stopped.reason)
      return controller.signal
    }
    const list = this.#list
    const entry: Entry = { recordId, controller, previous: list.previous, next: list }
    list.previous.next = entry
    list.previous = entry
    return controller.signal
  }

  end(recordId: string, signal: AbortSignal): void {
    for (let entry = this.#list.next; entry !== this.#list; entry = entry.next) {
      if (entry.recordId === recordId && entry.controller?.signal === signal) {
        unlink(entry)
        return
      }
    }
  }

  /** Aborts one record in flight with `SPOUT_ABORTED`; false when none has this id. */
  abort(recordId: string, reason: string): boolean {
    for (let entry = this.#list.next; entry !== this.#list; entry = entry.next) {
      if (entry.recordId === recordId) {
        entry.controller!.abort(abortedRecord(recordId, reason))
        return true
      }
    }
    return false
  }

  /** The job stopped: every record in flight, and every one started later, is aborted with `reason`. */
  abortAll(reason: unknown): void {
    this.#stopped ??= { reason }
    const entries: Entry[] = []
    for (let entry = this.#list.next; entry !== this.#list; entry = entry.next) entries.push(entry)
    for (const entry of entries) {
      const controller = entry.controller!
      unlink(entry)
      controller.abort(reason)
    }
  }
}

function unlink(entry: Entry): void {
  entry.previous.next = entry.next
  entry.next.previous = entry.previous
  entry.controller = undefined
  entry.previous = entry
  entry.next = entry
}

/** The error a record stopped on its own ends with. */
export function abortedRecord(recordId: string, reason: string): PipelineError {
  return new PipelineError('SPOUT_ABORTED', `record ${recordId}: aborted: ${reason}`)
}
