import { useViewer, useViewerSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'

const selectConnection = (snapshot: ViewerSnapshot) => snapshot.connection

const labels = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
} as const

/** The dot and word in the top bar; always visible, announced to screen readers when it changes. */
export function ConnectionStatus() {
  const connection = useViewerSelector(selectConnection)
  const { connection: link } = useViewer()
  const waiting = connection.status === 'reconnecting' || connection.status === 'offline'
  return (
    <div className="connection" data-status={connection.status}>
      <span className="connection-dot" aria-hidden="true" />
      <span role="status" aria-live="polite" className="connection-label">
        {labels[connection.status]}
        {waiting && connection.attempt > 0 ? ` (attempt ${connection.attempt})` : ''}
      </span>
      {connection.reason && connection.status !== 'connected' ? (
        <span className="connection-reason" title={connection.reason}>
          {connection.reason}
        </span>
      ) : null}
      {waiting && link ? (
        <button type="button" className="button button--small" onClick={() => link.reconnectNow()}>
          Retry now
        </button>
      ) : null}
    </div>
  )
}
