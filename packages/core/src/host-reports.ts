// While a job runs on a pool of hosts: its per-host figures as `hosts` events, when they change and at
// most once a period, so the terminal, the hub and the viewer show each host's state live (the
// job-end's `summary.hosts` has the last figures).

import { hostsEvent } from './event-builders.ts'
import type { HostReport, HostsEvent } from './events.ts'

export const defaultHostReportPeriod = 1000

export class HostReports {
  readonly #report: () => HostReport[]
  readonly #send: (event: HostsEvent) => Promise<void>
  readonly #jobId: string
  #timer: ReturnType<typeof setInterval> | undefined
  #last = ''
  #sending = false

  /** `send` is awaited: a tick that comes while the last event is still being handed out is skipped. */
  constructor(report: () => HostReport[], jobId: string, send: (event: HostsEvent) => Promise<void>) {
    this.#report = report
    this.#jobId = jobId
    this.#send = send
  }

  /** Sends the hosts now, then every `period` ms while they change. */
  start(period = defaultHostReportPeriod): void {
    void this.#tick()
    this.#timer = setInterval(() => void this.#tick(), period)
    this.#timer.unref?.()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #tick(): Promise<void> {
    if (this.#sending) return
    const hosts = this.#report()
    const key = JSON.stringify(hosts)
    if (key === this.#last) return
    this.#last = key
    this.#sending = true
    try {
      await this.#send(hostsEvent(this.#jobId, hosts))
    } finally {
      this.#sending = false
    }
  }
}
