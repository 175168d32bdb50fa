import { useCallback, useEffect, useId, useState } from 'react'
import { formatCount } from '../format.ts'
import type { RecordFilter } from '../record-filter.ts'
import { noFilter } from '../record-filter.ts'
import { useStagedMount } from '../use-staged-mount.ts'
import { useThrottledJob, useViewerSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'
import { FilterBar } from './FilterBar.tsx'
import { HostsPanel } from './HostsPanel.tsx'
import { JobChartsView } from './JobChartsView.tsx'
import { JobStats, JobStatusBadge } from './JobList.tsx'
import { RecordList } from './RecordList.tsx'
import { StagesPanel } from './StagesPanel.tsx'
import { StopJobButton } from './StopControls.tsx'

/**
 * The job view's mount, one stage per animation frame: the header, filters and records; the plots;
 * the hosts and stages panels.
 */
const mountStages = 3

/**
 * The selected job: its header, the filters and its records. The header and the list subscribe
 * separately, so a new token re-renders neither this component nor the list around the rows. The
 * panels above the list mount in the frames after it (see {@link useStagedMount}).
 */
export function JobView({ jobId }: { jobId: string }) {
  const [filter, setFilter] = useState<RecordFilter>(noFilter)
  const [raw, setRaw] = useState(false)
  const headingId = useId()
  const exists = useViewerSelector(
    useCallback((snapshot: ViewerSnapshot) => jobId in snapshot.state.jobs, [jobId]),
  )
  if (!exists) return null
  return (
    <section className="job-view" aria-labelledby={headingId}>
      <JobHeader jobId={jobId} headingId={headingId} />
      <JobPanels jobId={jobId} />
      <FilterBar filter={filter} onChange={setFilter} raw={raw} onRawChange={setRaw} />
      <RecordList jobId={jobId} filter={filter} raw={raw} />
    </section>
  )
}

/** The plots, then the hosts and stages panels, each mounted a frame after what comes before. */
function JobPanels({ jobId }: { jobId: string }) {
  const mounted = useStagedMount(mountStages)
  return (
    <>
      {mounted >= 2 ? <JobChartsView jobId={jobId} /> : null}
      {mounted >= 3 ? <HostsPanel jobId={jobId} /> : null}
      {mounted >= 3 ? <StagesPanel jobId={jobId} /> : null}
    </>
  )
}

/** Numbers a person reads, not an animation: four updates a second are plenty. */
const headerInterval = 250

function JobHeader({ jobId, headingId }: { jobId: string; headingId: string }) {
  const job = useThrottledJob(jobId, headerInterval)
  const title = job ? pageTitle(job.name, job.status, job.ok + job.failed + job.skipped, job.total) : 'Spout'
  useEffect(() => {
    document.title = title
  }, [title])
  if (!job) return null
  return (
    <header className="job-view-head">
      <h2 id={headingId}>
        {job.name} <JobStatusBadge status={job.status} />{' '}
        <StopJobButton jobId={job.jobId} running={job.status === 'running'} />
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
