import type { HostReport, SpoutEvent } from '@spout/core/events'
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ViewerContext } from '../use-viewer.ts'
import { ViewerStore } from '../viewer-store.ts'
import { HostsPanel } from './HostsPanel.tsx'

afterEach(cleanup)

const jobStart: SpoutEvent = {
  type: 'job-start',
  jobId: 'j',
  name: 'n',
  model: 'm',
  host: 'pool(2)',
  startedAt: '2026-01-01T00:00:00Z',
  sequence: 1,
}

const host = (fields: Partial<HostReport> & Pick<HostReport, 'host'>): HostReport => ({
  backend: 'ollama',
  state: 'up',
  slots: 4,
  inFlight: 0,
  records: 0,
  failures: 0,
  tokens: 0,
  tokensPerSecond: 0,
  ...fields,
})

function storeWith(events: SpoutEvent[]): ViewerStore {
  const store = new ViewerStore({ scheduler: () => () => {} })
  store.receive({ kind: 'events', events })
  store.flush()
  return store
}

const line = (container: HTMLElement, name: string) =>
  container.querySelector<HTMLElement>(`tr[data-host="${name}"]`)

describe('HostsPanel', () => {
  it('shows nothing for a job on one host', () => {
    const { container } = render(
      <ViewerContext value={{ store: storeWith([jobStart]) }}>
        <HostsPanel jobId="j" />
      </ViewerContext>,
    )
    expect(container.querySelector('.hosts')).toBeNull()
  })

  it('shows a line per host from the hosts events, then the last figures at job-end', () => {
    const store = storeWith([
      jobStart,
      {
        type: 'hosts',
        jobId: 'j',
        sequence: 2,
        hosts: [
          host({ host: 'http://a:11434', inFlight: 3, slots: 4, tokensPerSecond: 81.46, records: 12 }),
          host({
            host: 'http://b:8000',
            backend: 'openai',
            state: 'down',
            reason: 'connection refused',
            slots: 1,
          }),
        ],
      },
    ])
    const { container } = render(
      <ViewerContext value={{ store }}>
        <HostsPanel jobId="j" />
      </ViewerContext>,
    )
    const a = line(container, 'http://a:11434')!
    expect(a.dataset.state).toBe('up')
    expect(a.querySelector('.host-slots')!.textContent).toBe('3 / 4 learned')
    expect(a.querySelector('.host-rate')!.textContent).toBe('81.5')
    expect(a.querySelector('.host-records')!.textContent).toBe('12')
    const b = line(container, 'http://b:8000')!
    expect(b.dataset.state).toBe('down')
    expect(b.querySelector('.host-state')!.textContent).toContain('connection refused')

    act(() => {
      store.receive({
        kind: 'events',
        events: [
          {
            type: 'job-end',
            jobId: 'j',
            sequence: 3,
            summary: {
              ok: 20,
              failed: 0,
              skipped: 0,
              tokens: 800,
              duration: 1000,
              hosts: [
                host({ host: 'http://a:11434', slots: 4, fixed: true, records: 20 }),
                host({ host: 'http://b:8000', backend: 'openai', slots: 2, records: 0 }),
              ],
            },
          },
        ],
      })
      store.flush()
    })
    // The throttled job catches up within its interval.
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(line(container, 'http://a:11434')!.querySelector('.host-slots')!.textContent).toBe(
          '0 / 4 fixed',
        )
        expect(line(container, 'http://b:8000')!.dataset.state).toBe('up')
        resolve()
      }, 700),
    )
  })
})
