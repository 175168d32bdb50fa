import { useCallback, useState } from 'react'
import { ConnectionStatus } from './components/ConnectionStatus.tsx'
import { defaultJobId, JobList, jobsNewestFirst } from './components/JobList.tsx'
import { JobView } from './components/JobView.tsx'
import { useViewerSelector } from './use-viewer.ts'
import type { ViewerSnapshot } from './viewer-store.ts'

const selectDefaultJob = (snapshot: ViewerSnapshot): string | undefined =>
  defaultJobId(jobsNewestFirst(snapshot))
const selectStale = (snapshot: ViewerSnapshot): boolean =>
  snapshot.connection.status !== 'connected' && snapshot.flushes > 0

export function App() {
  const [chosenId, setChosenId] = useState<string | undefined>(undefined)
  const fallbackId = useViewerSelector(selectDefaultJob)
  const chosenExists = useViewerSelector(
    useCallback(
      (snapshot: ViewerSnapshot) => chosenId !== undefined && chosenId in snapshot.state.jobs,
      [chosenId],
    ),
  )
  const stale = useViewerSelector(selectStale)
  const selectedId = chosenExists ? chosenId : fallbackId
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="brand">Spout</h1>
        <ConnectionStatus />
      </header>
      <div className={stale ? 'layout layout--stale' : 'layout'}>
        <JobList selectedId={selectedId} onSelect={setChosenId} />
        <main className="main">
          {selectedId ? (
            <JobView key={selectedId} jobId={selectedId} />
          ) : (
            <p className="muted empty">Waiting for a job…</p>
          )}
        </main>
      </div>
    </div>
  )
}
