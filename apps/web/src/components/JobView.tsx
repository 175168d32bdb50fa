import { useDeferredValue, useState } from 'react'
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
  const deferredFilter = useDeferredValue(filter)
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
      <RecordList jobId={jobId} filter={deferredFilter} />
    </section>
  )
}
