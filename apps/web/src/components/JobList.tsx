import type { JobState } from '@spout/core/events'
import { memo } from 'react'
import { formatCount, formatDuration, formatRate } from '../format.ts'
import { jobProgress } from '../job-progress.ts'
import { useNow } from '../use-now.ts'
import { useThrottledJob, useViewerSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'

/** Jobs newest first (by start time, then by arrival). */
export function jobsNewestFirst(snapshot: ViewerSnapshot): JobState[] {
  const { jobs, jobOrder } = snapshot.state
  const list: { job: JobState; order: number }[] = []
  jobOrder.forEach((jobId, order) => {
    const job = jobs[jobId]
    if (job) list.push({ job, order })
  })
  list.sort((a, b) => {
    const byStart = Date.parse(b.job.startedAt) - Date.parse(a.job.startedAt)
    return byStart !== 0 && Number.isFinite(byStart) ? byStart : b.order - a.order
  })
  return list.map((entry) => entry.job)
}

/** The job shown when the user has not picked one: the newest running job, else the newest job. */
export function defaultJobId(jobs: readonly JobState[]): string | undefined {
  return (jobs.find((job) => job.status === 'running') ?? jobs[0])?.jobId
}

const selectJobIds = (snapshot: ViewerSnapshot): string[] => jobsNewestFirst(snapshot).map((job) => job.jobId)
const sameIds = (a: string[], b: string[]): boolean =>
  a.length === b.length && a.every((id, i) => id === b[i])

export function JobList({
  selectedId,
  onSelect,
}: {
  selectedId?: string
  onSelect: (jobId: string) => void
}) {
  const jobIds = useViewerSelector(selectJobIds, sameIds)
  if (jobIds.length === 0) {
    return (
      <nav className="jobs" aria-label="Jobs">
        <p className="muted jobs-empty">No jobs yet. Start one with `spout run … --broadcast`.</p>
      </nav>
    )
  }
  return (
    <nav className="jobs" aria-label="Jobs">
      <ul>
        {jobIds.map((jobId) => (
          <li key={jobId}>
            <JobItem jobId={jobId} selected={jobId === selectedId} onSelect={onSelect} />
          </li>
        ))}
      </ul>
    </nav>
  )
}

const JobItem = memo(function JobItem({
  jobId,
  selected,
  onSelect,
}: {
  jobId: string
  selected: boolean
  onSelect: (jobId: string) => void
}) {
  const job = useThrottledJob(jobId, 250)
  if (!job) return null
  return (
    <button
      type="button"
      className="job"
      data-job-id={jobId}
      aria-current={selected ? 'true' : undefined}
      onClick={() => onSelect(jobId)}
    >
      <span className="job-title">
        <span className="job-name">{job.name}</span>
        <JobStatusBadge status={job.status} />
      </span>
      <span className="job-meta">
        {job.model} · {job.host}
      </span>
      <JobStats job={job} compact />
    </button>
  )
})

export function JobStatusBadge({ status }: { status: JobState['status'] }) {
  return (
    <span className={`badge badge--${status}`} data-job-status={status}>
      {status}
    </span>
  )
}

/** Progress bar and numbers; ticks once a second while the job runs. */
export function JobStats({ job, compact = false }: { job: JobState; compact?: boolean }) {
  const now = useNow(job.status === 'running')
  const progress = jobProgress(job, now)
  const done = `${formatCount(progress.finished)}${progress.total === undefined ? '' : ` / ${formatCount(progress.total)}`}`
  return (
    <span className={compact ? 'job-stats job-stats--compact' : 'job-stats'}>
      <span className="progress" aria-hidden="true">
        <span
          className="progress-bar"
          style={{ transform: `scaleX(${progress.fraction ?? (job.status === 'running' ? 0 : 1)})` }}
        />
      </span>
      <span className="stats">
        <span title="records finished">{done} done</span>
        {job.failed > 0 ? <span className="danger">{formatCount(job.failed)} failed</span> : null}
        {!compact && job.streaming > 0 ? <span>{formatCount(job.streaming)} streaming</span> : null}
        {!compact && progress.queued ? <span>{formatCount(progress.queued)} queued</span> : null}
        {!compact && job.retries > 0 ? <span>{formatCount(job.retries)} retries</span> : null}
        <span title="tokens per second">{formatRate(progress.tokensPerSecond)} tok/s</span>
        <span title="elapsed">{formatDuration(progress.elapsedMs)}</span>
        {progress.etaMs !== undefined ? (
          <span title="time left">ETA {formatDuration(progress.etaMs)}</span>
        ) : null}
      </span>
    </span>
  )
}
