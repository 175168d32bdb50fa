// What the viewer shows of a staged run (teacher → student → judge), from the job's state alone:
// each stage's progress, and a record's lineage (the question an answer came from, the verdict on
// it). A staged job names its stages in order (`job.stages`); each record's id is `<stage>:<id>`,
// and a record split from another has its parent's id plus `.<prefix><n>` (`topic-3` → `topic-3.q2`).
import type { JobState, RecordState } from '@spout/core/events'
import { getRecord } from '@spout/core/events'

export interface StageProgress {
  name: string
  /** Records this stage answered that went on (or ended the run). */
  done: number
  failed: number
  /** Records this stage's filter dropped. */
  filtered: number
  /** Records a resumed run did not ask again (a stored result, or already in the output). */
  skipped: number
  running: number
  /**
   * Records this stage gets, as far as is known now: the job's total for the first stage; for a
   * later one, each record the stage before passed on (its split's children, else 1). Undefined
   * when the first stage's total is not known.
   */
  total: number | undefined
  /** True when `total` can no longer grow: every record of the stages before has ended. */
  settled: boolean
}

/** A record id split into its stage and its lineage id; undefined when it names no stage of the job. */
export function stagedId(
  stages: readonly string[],
  recordId: string,
): { stage: string; index: number; id: string } | undefined {
  const colon = recordId.indexOf(':')
  if (colon <= 0) return undefined
  const stage = recordId.slice(0, colon)
  const index = stages.indexOf(stage)
  return index === -1 ? undefined : { stage, index, id: recordId.slice(colon + 1) }
}

interface StageRow extends Omit<StageProgress, 'total' | 'settled'> {
  /** Records handed to the next stage. */
  passedOn: number
}

/**
 * Each stage's counts, in order; undefined for a job that is not staged. From the reducer's stage
 * counts, exact however many finished records the page has let go; from the records themselves
 * for a state that has no such counts (a snapshot from an older hub).
 */
export function stageProgress(job: JobState): StageProgress[] | undefined {
  const stages = job.stages
  if (!stages || stages.length === 0) return undefined
  const rows = countedRows(job, stages) ?? rowsFromRecords(job, stages)
  let total = job.total
  let settled = job.total !== undefined
  return rows.map(({ passedOn, ...row }) => {
    const progress: StageProgress = { ...row, total, settled }
    const ended = row.done + row.failed + row.filtered + row.skipped
    settled = settled && total !== undefined && ended >= total
    total = total === undefined ? undefined : passedOn
    return progress
  })
}

function countedRows(job: JobState, stages: readonly string[]): StageRow[] | undefined {
  const counted = job.stageCounts
  if (!counted) return undefined
  const rows: StageRow[] = []
  for (const name of stages) {
    const counts = Object.hasOwn(counted, name) ? counted[name] : undefined
    if (counts && counts.passedOn === undefined) return undefined // counted before these fields existed
    const filtered = counts?.filtered ?? 0
    rows.push({
      name,
      done: (counts?.ok ?? 0) - filtered,
      failed: counts?.failed ?? 0,
      filtered,
      skipped: counts?.skipped ?? 0,
      running: counts?.streaming ?? 0,
      passedOn: counts?.passedOn ?? 0,
    })
  }
  return rows
}

function rowsFromRecords(job: JobState, stages: readonly string[]): StageRow[] {
  const rows = stages.map((name) => ({
    name,
    done: 0,
    failed: 0,
    filtered: 0,
    skipped: 0,
    running: 0,
    passedOn: 0,
  }))
  for (const record of job.records) {
    const staged = stagedId(stages, record.recordId)
    if (!staged) continue
    const row = rows[staged.index]!
    if (record.status === 'streaming') row.running += 1
    else if (record.status === 'skipped') {
      row.skipped += 1
      // A stored result goes on (its children, else itself); a record already in the output does not.
      if (record.filtered === undefined && !record.error) row.passedOn += record.children ?? 1
    } else if (record.status === 'failed') row.failed += 1
    else if (record.filtered !== undefined) row.filtered += 1
    else if (record.status === 'done') {
      row.done += 1
      row.passedOn += record.children ?? 1
    }
  }
  return rows
}

/** The record a staged record came from: the same id in the stage before, or the id it was split from. */
export function parentOf(job: JobState, recordId: string): RecordState | undefined {
  const stages = job.stages ?? []
  const staged = stagedId(stages, recordId)
  if (!staged || staged.index === 0) return undefined
  const before = stages[staged.index - 1]
  let id = staged.id
  for (;;) {
    const parent = getRecord(job, `${before}:${id}`)
    if (parent) return parent
    const dot = id.lastIndexOf('.')
    if (dot <= 0) return undefined
    id = id.slice(0, dot)
  }
}

/** The records of the next stage that came from this one, in the order they appeared. */
export function childrenOf(job: JobState, recordId: string): RecordState[] {
  const stages = job.stages ?? []
  const staged = stagedId(stages, recordId)
  if (!staged || staged.index === stages.length - 1) return []
  const prefix = `${stages[staged.index + 1]}:${staged.id}`
  return job.records.filter(
    (record) =>
      (record.recordId === prefix || record.recordId.startsWith(`${prefix}.`)) &&
      parentOf(job, record.recordId)?.recordId === recordId,
  )
}

/** The record and everything it came from, first stage first. */
export function ancestryOf(job: JobState, recordId: string): RecordState[] {
  const chain: RecordState[] = []
  let record = getRecord(job, recordId)
  while (record) {
    chain.unshift(record)
    record = parentOf(job, record.recordId)
  }
  return chain
}
