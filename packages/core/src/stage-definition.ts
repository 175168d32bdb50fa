import type { Writable } from 'node:stream'
import type { Backend } from './backend.ts'
import { StageError } from './errors.ts'
import type { EventError, JobSummary } from './events.ts'
import type { PipelineOptions, RequestDefaults } from './pipeline.ts'
import type { InputRecord, PluginLogger, PluginOption } from './plugin.ts'
import type { ModelDigest } from './provenance.ts'
import type { StageSplit } from './stage-split.ts'
import type { StageLine } from './stage-state.ts'

/**
 * What a stage's templates read: the record's `id`, its `input`, the `item` a split made of it, and
 * each earlier stage's result by name (`{{input.topic}}`, `{{item}}`, `{{teacher.response}}`,
 * `{{judge.parsed.score}}`).
 */
export interface StageRecord {
  id: string
  input: InputRecord
  item?: unknown
  [stage: string]: unknown
}

/** One model step of a staged run. */
export interface StageDefinition {
  /** A name templates can use (`teacher`: `{{teacher.response}}`); also the stage file's name. */
  name: string
  /** Where its requests go (an `OllamaClient`, any `Backend`). */
  client: Backend
  model: string
  /** The prompt, a template over the {@link StageRecord}. */
  template: string
  /** The system prompt, also a template. */
  system?: string
  /** Request fields: `options`, `format`, `think`, `keep_alive`, … */
  request?: RequestDefaults
  /** This stage's records in flight at most. Default 1. */
  concurrency?: number
  retries?: number
  formatRetries?: number
  modelDigest?: ModelDigest
  endpoint?: 'generate' | 'chat'
  /** Turns each result into several records for the next stage (child ids `<parent>.<childPrefix><n>`). */
  split?: StageSplit<StageRecord>
  /** Default `''`: children `topic-3.1`; with `'q'`, `topic-3.q1`. */
  childPrefix?: string
  /** Drops a record after this stage: return the reason (a string) to drop it, anything else to keep it. */
  filter?: (record: StageRecord) => string | false | null | undefined
  /** Extra plugins of this stage's pipeline (prompt builders). */
  plugins?: PluginOption
}

export interface StagesOptions {
  stages: readonly StageDefinition[]
  input: AsyncIterable<InputRecord> | Iterable<InputRecord>
  /** The record field that holds its id. Default `id`; else its 1-based position. */
  idField?: string
  /** Where the final lines go (one per final record): a path or a `Writable`. */
  output?: string | Writable
  /** A directory for one file per stage (`<stage>.jsonl`): the run's state on disk. Needed for `resume`. */
  stageDirectory?: string
  /**
   * Records waiting between two stages at most (back-pressure: a stage whose next one is behind
   * waits, its slot busy, rather than piling records up in memory). Default: twice the receiving
   * stage's `concurrency`, at least 8.
   */
  queueSize?: number
  /**
   * Records each stage takes ahead of its free slots, at most (as `runPipeline`'s `readAhead`):
   * observers see them waiting (`record-queued`, `<stage>:<id>`), and `context.control` can stop
   * them before they start. Default 0.
   */
  readAhead?: number
  /** Keep what `output` and the stage files hold; ask no stage again for a result written there. */
  resume?: boolean
  /** Observers: they get one job-start and job-end, and every stage's record events (with `stage`). */
  plugins?: PluginOption
  name?: string
  jobId?: string
  /** Input records, when known. */
  total?: number
  signal?: AbortSignal
  logger?: PluginLogger
  /**
   * Generates one stage's records from the options `runPipeline` would get (its input, its template
   * plugin, the hand-off to the next stage). Default `runPipeline`, in this process; `spout run
   * --queue` passes one that puts the stage's records on its own queue for workers.
   */
  runStage?: (options: PipelineOptions, stage: StageDefinition) => Promise<JobSummary>
}

/** A final line: the record, every stage's result, and how it ended. */
export interface StagedLine {
  id: string
  input: InputRecord
  item?: unknown
  stages: Record<string, StageLine>
  filtered?: { stage: string; reason: string }
  error?: EventError & { stage: string }
}

const reservedNames = new Set(['id', 'input', 'item', 'prompt', 'system', 'messages', 'stages'])
/** Checks the stage definitions before anything runs (code `SPOUT_INVALID_OPTION`). */
export function checkStages(options: StagesOptions): readonly StageDefinition[] {
  const stages = options.stages
  const invalid = (message: string) => new StageError('SPOUT_INVALID_OPTION', 'definition', message)
  if (stages.length === 0) throw invalid('give at least one stage')
  const names = new Set<string>()
  for (const stage of stages) {
    if (!/^[A-Za-z_][\w-]*$/.test(stage.name ?? '')) {
      throw invalid(
        `a stage name must be a word (letters, digits, _ or -), not ${JSON.stringify(stage.name)}`,
      )
    }
    if (reservedNames.has(stage.name)) throw invalid(`"${stage.name}" is reserved; name the stage otherwise`)
    if (names.has(stage.name)) throw invalid(`two stages are named "${stage.name}"`)
    names.add(stage.name)
    if (typeof stage.template !== 'string' || stage.template === '') {
      throw invalid(`stage ${stage.name} needs a template`)
    }
  }
  const queueSize = options.queueSize
  if (queueSize !== undefined && (!Number.isInteger(queueSize) || queueSize < 1)) {
    throw invalid(`queueSize must be a whole number ≥ 1, not ${queueSize}`)
  }
  if (options.resume && options.stageDirectory === undefined) {
    throw invalid('resume needs a stageDirectory (the stage files are the state a run resumes from)')
  }
  return stages
}
