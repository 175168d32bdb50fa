// How `spout run` watches the server while records stream: it stops the job at the first sign that
// every next record would fail the same way (a missing model, a server that no longer answers).
import { eventSink, type SpoutPlugin } from '@spout/core'
import { CliError } from '../cli-error.ts'
import { isModelNotFound, isUnreachable, missingModelMessage, unreachableMessage } from '../describe-error.ts'
import type { JobDisplay } from '../job-display.ts'
import type { RunTarget } from './run-target.ts'

/** Why the job stopped before its input ran out. */
export type StopReason = 'interrupted' | 'model-missing' | 'unreachable'

/**
 * The run's watch on its server, and its counts of the failures the command reports itself. Its
 * two plugins, {@link ServerWatch.displaySink} and {@link ServerWatch.serverCheck}, share it.
 */
export class ServerWatch {
  readonly controller = new AbortController()
  stopReason: StopReason | undefined
  stopMessage = ''
  /** Records cancelled by the stop (`SPOUT_ABORTED`). */
  cancelled = 0
  /** Records whose input line could not be read (`SPOUT_INPUT_ERROR`). */
  malformedLines = 0
  readonly #target: RunTarget
  readonly #model: string
  #probe: Promise<void> | undefined

  constructor(target: RunTarget, model: string) {
    this.#target = target
    this.#model = model
  }

  /** Stops the job with one message; the first reason wins. */
  stop(reason: 'model-missing' | 'unreachable', message: string): void {
    if (this.stopReason) return
    this.stopReason = reason
    this.stopMessage = message
    this.controller.abort(new CliError(message))
  }

  /** The display, fed every event; a record that got no answer reaches it once the server has been asked. */
  displaySink(display: JobDisplay): SpoutPlugin {
    // A failure line for that record alone, or none when the job stops with one "cannot reach" line.
    return eventSink(
      async (event) => {
        if (event.type === 'record-end' && event.error && isUnreachable(event.error))
          await this.#checkServer()
        display.onEvent(event)
      },
      { name: 'spout-cli-display' },
    )
  }

  /** Counts the failures the command reports, and stops at a missing model or an unreachable server. */
  serverCheck(): SpoutPlugin {
    return {
      name: 'spout-cli-server-check',
      recordEnd: async (result) => {
        if (result.error?.code === 'SPOUT_ABORTED') this.cancelled += 1
        if (result.error?.code === 'SPOUT_INPUT_ERROR') this.malformedLines += 1
        if (!result.error || this.stopReason) return
        // Ollama answers 404 when the model is missing: stop at the first one, not one error per record.
        if (isModelNotFound(result.error)) {
          const target = this.#target
          this.stop(
            'model-missing',
            missingModelMessage(result.model || this.#model, target.label, target.api),
          )
        } else if (isUnreachable(result.error)) await this.#checkServer()
      },
    }
  }

  /**
   * A record that got no answer (after its retries) does not prove the server went away: it may
   * have taken the connection and dropped it for this record alone. So ask it; when it answers, the
   * record has failed (its line holds the error) and the job goes on; when it does not, every next
   * record would fail the same way: stop. Records that fail together share one question.
   */
  #checkServer(): Promise<void> {
    if (this.stopReason) return Promise.resolve()
    const target = this.#target
    this.#probe ??= target.probe(this.controller.signal).then((reason) => {
      this.#probe = undefined
      if (reason !== undefined) this.stop('unreachable', unreachableMessage(target.label, reason, target.api))
    })
    return this.#probe
  }
}
