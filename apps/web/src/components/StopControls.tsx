import type { ControlCommand, RecordStatus } from '@spout/core/events'
import { useEffect, useState } from 'react'
import { useViewer, useViewerSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'

// The viewer's hand on the job: stop buttons, shown only when the hub took the page's control token
// (`?control=…`, see docs/protocol.md). Without it there is nothing to click.

const selectAllowed = (snapshot: ViewerSnapshot): boolean =>
  snapshot.control?.allowed === true && snapshot.connection.status === 'connected'

/** Sends a command when the hub takes them from this page; undefined otherwise (no buttons). */
function useControl(): ((command: ControlCommand) => boolean) | undefined {
  const allowed = useViewerSelector(selectAllowed)
  const { connection } = useViewer()
  const send = connection?.send
  return allowed && send ? send : undefined
}

/** "Stop job", then "Confirm stop" for three seconds: a whole night's batch is not stopped by a stray click. */
export function StopJobButton({ jobId, running }: { jobId: string; running: boolean }) {
  const send = useControl()
  const [state, setState] = useState<'idle' | 'confirm' | 'sent'>('idle')
  useEffect(() => {
    if (state !== 'confirm') return
    const timer = setTimeout(() => setState('idle'), 3000)
    return () => clearTimeout(timer)
  }, [state])
  if (!send || !running) return null
  const click = (): void => {
    if (state === 'idle') setState('confirm')
    else if (state === 'confirm' && send({ type: 'control', action: 'stop-job', jobId })) setState('sent')
  }
  return (
    <button
      type="button"
      className="button button--small button--danger stop-job"
      disabled={state === 'sent'}
      onClick={click}
    >
      {state === 'idle' ? 'Stop job' : state === 'confirm' ? 'Confirm stop' : 'Stopping…'}
    </button>
  )
}

/** Stops one record, running or queued: it ends failed with SPOUT_ABORTED and a resume runs it again. */
export function StopRecordButton({
  jobId,
  recordId,
  status,
}: {
  jobId: string
  recordId: string
  status: RecordStatus
}) {
  const send = useControl()
  const [sent, setSent] = useState(false)
  if (!send || (status !== 'streaming' && status !== 'queued')) return null
  return (
    <button
      type="button"
      className="button button--small button--danger stop-record"
      aria-label={`Stop record ${recordId}`}
      disabled={sent}
      onClick={() => {
        if (send({ type: 'control', action: 'stop-record', jobId, recordId })) setSent(true)
      }}
    >
      {sent ? 'Stopping…' : 'Stop'}
    </button>
  )
}
