import type { HostReport } from '@spout/core/events'
import { formatCount, formatRate } from '../format.ts'
import { useThrottledJob } from '../use-viewer.ts'
import './hosts.css'

/** Numbers a person reads: the producer sends them at most once a second anyway. */
const hostsInterval = 500

const stateMark: Record<HostReport['state'], string> = { up: '●', checking: '◐', down: '○' }

/**
 * A job on a pool of hosts: one line per host (up or down, requests in flight of its learned or
 * fixed slots, tokens per second, records, failed attempts), from the producer's `hosts` events and
 * then the job-end's summary. Nothing for a job on one host.
 */
export function HostsPanel({ jobId }: { jobId: string }) {
  const job = useThrottledJob(jobId, hostsInterval)
  const hosts = job?.hosts
  if (!hosts || hosts.length === 0) return null
  return (
    <section className="hosts" aria-label="Hosts">
      <table>
        <thead>
          <tr>
            <th scope="col">host</th>
            <th scope="col">state</th>
            <th scope="col">in flight / slots</th>
            <th scope="col">tok/s</th>
            <th scope="col">records</th>
            <th scope="col">failed attempts</th>
          </tr>
        </thead>
        <tbody>
          {hosts.map((host) => (
            <tr key={host.host} data-host={host.host} data-state={host.state}>
              <th scope="row" className="host-name" title={`${host.backend} · ${host.host}`}>
                {host.host}
              </th>
              <td className="host-state" title={host.reason}>
                <span aria-hidden="true">{stateMark[host.state]}</span> {host.state}
                {host.reason && host.state !== 'up' ? <span className="muted"> · {host.reason}</span> : null}
              </td>
              <td className="host-slots">
                {formatCount(host.inFlight)} / {formatCount(host.slots)}{' '}
                <span className="muted">{host.fixed ? 'fixed' : 'learned'}</span>
              </td>
              <td className="host-rate">{formatRate(host.tokensPerSecond)}</td>
              <td className="host-records">{formatCount(host.records)}</td>
              <td className="host-failures">{formatCount(host.failures)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
