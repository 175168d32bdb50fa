import type { JobState, StageCounts } from '@spout/core/events'
import { formatDuration, formatRate } from './format.ts'

/**
 * Rates and ETA for a running job: tokens per second over a sliding window of the live chunk
 * count, and an ETA from the records finished per second so far.
 */
export class JobStats {
  readonly #window: number
  readonly #samples: { time: number; chunks: number }[] = []
  #firstRecordAt: number | undefined

  constructor(options: { window?: number } = {}) {
    this.#window = options.window ?? 5000
  }

  /** Records a sample; call once per frame with the job's counters. */
  sample(job: JobState, now: number): void {
    const seen = job.streaming + job.ok + job.failed + job.skipped
    if (this.#firstRecordAt === undefined && seen > 0) this.#firstRecordAt = now
    this.#samples.push({ time: now, chunks: job.chunkCount })
    while (this.#samples.length > 2 && now - this.#samples[0]!.time > this.#window) this.#samples.shift()
  }

  /** Tokens (chunks) per second over the window. */
  tokensPerSecond(): number {
    const first = this.#samples[0]
    const last = this.#samples.at(-1)
    if (!first || !last || last.time - first.time < 250) return 0
    return ((last.chunks - first.chunks) * 1000) / (last.time - first.time)
  }

  /** Milliseconds left, or undefined while unknown (no total, nothing finished yet). */
  eta(job: JobState, now: number): number | undefined {
    if (job.total === undefined || this.#firstRecordAt === undefined) return undefined
    const finished = job.ok + job.failed
    const remaining = job.total - finished - job.skipped
    if (remaining <= 0) return 0
    const elapsed = now - this.#firstRecordAt
    if (finished === 0 || elapsed <= 0) return undefined
    return (remaining * elapsed) / finished
  }

  /** `12/100 done · 1 failed · 2 retries · 35.2 tok/s · 12s · ETA 1m 30s` */
  statusLine(job: JobState, now: number, startedAt: number): string {
    const processed = job.ok + job.failed + job.skipped
    const stages = job.stageCounts && stagesText(job)
    const parts = stages
      ? [stages]
      : [job.total === undefined ? `${processed} done` : `${processed}/${job.total} done`]
    parts.push(`${job.failed} failed`)
    if (job.retries > 0) parts.push(`${job.retries} ${job.retries === 1 ? 'retry' : 'retries'}`)
    parts.push(`${formatRate(this.tokensPerSecond())} tok/s`)
    parts.push(formatDuration(now - startedAt))
    const eta = stages ? undefined : this.eta(job, now)
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`)
    return parts.join(' · ')
  }
}

/**
 * `teacher 12 ✓ · student 30 ✓ 1 ✗ 4 … · judge 25 ✓ 3 …`: each stage that has had records (in the
 * job's order of stages), with its done, failed and in-flight records.
 */
function stagesText(job: JobState): string {
  const counted = job.stageCounts ?? {}
  const names = [...(job.stages ?? []), ...Object.keys(counted)]
  const parts: string[] = []
  for (const name of new Set(names)) {
    if (!Object.hasOwn(counted, name)) continue
    const counts: StageCounts = counted[name]!
    let text = `${name} ${counts.ok} ✓`
    if (counts.failed > 0) text += ` ${counts.failed} ✗`
    if (counts.streaming > 0) text += ` ${counts.streaming} …`
    parts.push(text)
  }
  return parts.join(' · ')
}
