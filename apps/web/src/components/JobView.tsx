import { useEffect, useState } from 'react'
import { formatCount } from '../format.ts'
import type { RecordFilter } from '../record-filter.ts'
import { noFilter } from '../record-filter.ts'
import { useJob } from '../use-viewer.ts'
import { FilterBar } from './FilterBar.tsx'
import { JobStats, JobStatusBadge } from './JobList.tsx'
import { RecordList } from './RecordList.tsx'

/** The selected job: its header, the filters and its records. */
export function JobView({ jobId }: { jobId: string }) {
  const job = useJob(jobId)
  const [filter, setFilter] = useState<RecordFilter>(noFilter)
  const title = job ? pageTitle(job.name, job.status, job.ok + job.failed + job.skipped, job.total) : 'Spout'
  useEffect(() => {
    document.title = title
  }, [title])
  if (!job) return null
  return (
    <section className="job-view" aria-label={`Job ${job.name}`}>
      <header className="job-view-head">
        <h2>
          {job.name} <JobStatusBadge status={job.status} />
        </h2>
        <p className="job-meta">
          {job.model} · {job.host} · <span className="muted">{job.jobId}</span>
        </p>
        <JobStats job={job} />
        {job.summary?.error ? (
          <p className="record-error" title={job.summary.error.message}>
            <span className="record-error-code">{job.summary.error.code}</span> {job.summary.error.message}
          </p>
        ) : null}
      </header>
      <FilterBar filter={filter} onChange={setFilter} />
      <RecordList jobId={jobId} filter={filter} />
    </section>
  )
}

/** The tab title: progress first, so it reads in a crowded tab bar. */
export function pageTitle(name: string, status: string, finished: number, total: number | undefined): string {
  const progress =
    status === 'running'
      ? total
        ? `${Math.floor((finished / total) * 100)}%`
        : `${formatCount(finished)} done`
      : status
  return `(${progress}) ${name} · Spout`
}
