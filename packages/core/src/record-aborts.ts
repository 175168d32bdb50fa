// One abort controller per record in flight, so that a single record can be stopped (the hub's
// control channel) while the job's own stop still reaches every record.
import { PipelineError } from './errors.ts'

export class RecordAborts {
  readonly #controllers = new Map<string, AbortController>()
  #stopped: { reason: unknown } | undefined

  /** The signal of a record that starts now; aborted at once when the job already stopped. */
  start(recordId: string): AbortSignal {
    const controller = new AbortController()
    if (this.#stopped) controller.abort(this.#stopped.reason)
    else this.#controllers.set(recordId, controller)
    return controller.signal
  }

  end(recordId: string, signal: AbortSignal): void {
    const controller = this.#controllers.get(recordId)
    if (controller?.signal === signal) this.#controllers.delete(recordId)
  }

  /** Aborts one record in flight with `SPOUT_ABORTED`; false when none has this id. */
  abort(recordId: string, reason: string): boolean {
    const controller = this.#controllers.get(recordId)
    if (!controller) return false
    controller.abort(abortedRecord(recordId, reason))
    return true
  }

  /** The job stopped: every record in flight, and every one started later, is aborted with `reason`. */
  abortAll(reason: unknown): void {
    this.#stopped ??= { reason }
    for (const controller of this.#controllers.values()) controller.abort(reason)
    this.#controllers.clear()
  }
}

/** The error a record stopped on its own ends with. */
export function abortedRecord(recordId: string, reason: string): PipelineError {
  return new PipelineError('SPOUT_ABORTED', `record ${recordId}: aborted: ${reason}`)
}
