// `spout run --queue` with `stages`: each stage's records go on the stage's own BullMQ queue
// (`spout.teacher`) for the workers that serve it (`spout worker --stage teacher`, and this process's
// own, on the stage's hosts). The hand-off between stages, `split`, `filter`, the stage files and the
// final lines stay here, in `runStages`, exactly as in a run without --queue (decision 0011).
import type { Backend, StagesOptions } from '@spout/core'
import { CliError } from '../cli-error.ts'
import { runOnQueue } from './run-queue.ts'

export interface StagesQueueSettings {
  /** `redis://…` or `rediss://…`. */
  url: string
  /** `--workers`: this process's workers per stage; undefined: one per host of the stage. */
  workers: number | undefined
  /** How many hosts a stage resolves (its pool's size, or 1). */
  hostsOf: (stage: string) => number
  resume: boolean
  warn: (message: string) => void
}

/** `runStages`'s `runStage`: a stage's records through its queue, collected back here. */
export function stagesOnQueue(settings: StagesQueueSettings): NonNullable<StagesOptions['runStage']> {
  return (options, stage) =>
    runOnQueue(options, {
      url: settings.url,
      stage: stage.name,
      workers: settings.workers ?? Math.max(1, settings.hostsOf(stage.name)),
      resume: settings.resume,
      template: stage.template,
      ...(stage.system === undefined ? {} : { system: stage.system }),
      warn: settings.warn,
    })
}

/**
 * Where a stage "generates" when this process runs no worker (`--queue … --workers 0`): nowhere, so
 * no server is needed here. Only its name is used (the job's host, skipped lines' backend).
 */
export function queuedBackend(url: string): Backend {
  const refuse = (): never => {
    throw new CliError(`with --workers 0 the workers on ${url} generate, not this process`)
  }
  return {
    kind: 'queue',
    host: url,
    generate: refuse,
    chat: refuse,
  }
}
