import type { JobState } from '@spout/core/events'

export interface JobProgress {
  /** Records that ended (done, failed or skipped). */
  finished: number
  total?: number
  /** Records not started yet, when the total is known. */
  queued?: number
  /** 0..1, when the total is known. */
  fraction?: number
  elapsedMs?: number
  /** Generated tokens per second over the job (live: chunks per second while it runs). */
  tokensPerSecond?: number
  /** Time left at the pace so far, while the job runs and the total is known. */
  etaMs?: number
}

/** Progress numbers for a job at time `now` (epoch milliseconds). */
export function jobProgress(job: JobState, now: number): JobProgress {
  const finished = job.ok + job.failed + job.skipped
  const progress: JobProgress = { finished }
  const started = Date.parse(job.startedAt)
  const ended = job.endedAt ? Date.parse(job.endedAt) : undefined
  const known = Number.isFinite(started) && started > 0
  const elapsedMs = job.summary?.duration ?? (known ? Math.max(0, (ended ?? now) - started) : undefined)
  if (elapsedMs !== undefined) progress.elapsedMs = elapsedMs
  if (job.total !== undefined) {
    progress.total = job.total
    // From the counts, not `records.length`: a hub keeps only the most recent finished records.
    progress.queued = Math.max(0, job.total - finished - job.streaming)
    progress.fraction = job.total > 0 ? Math.min(1, finished / job.total) : 1
  }
  if (elapsedMs !== undefined && elapsedMs > 0) {
    const tokens =
      job.status === 'running' ? Math.max(job.tokens, job.chunkCount) : (job.summary?.tokens ?? job.tokens)
    if (tokens > 0) progress.tokensPerSecond = tokens / (elapsedMs / 1000)
    const worked = job.ok + job.failed
    if (job.status === 'running' && job.total !== undefined && worked > 0) {
      const remaining = Math.max(0, job.total - finished)
      progress.etaMs = (remaining * elapsedMs) / worked
    }
  }
  return progress
}
