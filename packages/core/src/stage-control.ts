// The staged run's hand on the job (`context.control` of its observers, so a viewer's stop reaches
// it through `broadcastSink`): the job as a whole, or one record as observers name it, `<stage>:<id>`.
import type { JobControl, SpoutPlugin } from './plugin.ts'

export class StagedControl implements JobControl {
  /** Each stage's own hand on its records, from its pipeline's `context.control`. */
  readonly #stages = new Map<string, JobControl>()
  readonly #stop: (reason: string) => void

  /** `stop`: ends the whole run as an abort of its signal does. */
  constructor(stop: (reason: string) => void) {
    this.#stop = stop
  }

  /** For stage `name`'s pipeline: takes the stage's hand on its records when the stage starts. */
  plugin(name: string): SpoutPlugin {
    return {
      name: `stage-${name}-control`,
      jobStart: (_event, context) => {
        if (context.control) this.#stages.set(name, context.control)
      },
    }
  }

  /**
   * `<stage>:<id>`: the stage's record, running or waiting in the stage's window; it ends failed with
   * `SPOUT_ABORTED` there (its final line holds the stage), and the run goes on. False for a record
   * the stage does not hold (not there yet, or already passed on), or a stage that takes no commands.
   */
  abortRecord(recordId: string, reason: string): boolean {
    const colon = recordId.indexOf(':')
    if (colon === -1) return false
    const stage = this.#stages.get(recordId.slice(0, colon))
    return stage?.abortRecord(recordId.slice(colon + 1), reason) ?? false
  }

  stopJob(reason: string): void {
    this.#stop(reason)
  }
}
