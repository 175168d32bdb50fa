import type { SpoutEvent } from '@spout/core/events'
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ViewerContext } from '../use-viewer.ts'
import { ViewerStore } from '../viewer-store.ts'
import { RecordRow } from './RecordRow.tsx'

afterEach(cleanup)

const events: SpoutEvent[] = [
  { type: 'job-start', jobId: 'j', name: 'n', model: 'm', host: 'h', startedAt: '2026-01-01T00:00:00Z' },
  { type: 'record-start', jobId: 'j', recordId: 'a', attempt: 1, model: 'm', prompt: 'first' },
  { type: 'record-queued', jobId: 'j', recordId: 'b' },
]

describe('queued rows', () => {
  it('shows a queued record apart from a running one, then as running once it starts', () => {
    const store = new ViewerStore({ scheduler: () => () => {} })
    store.receive({ kind: 'events', events })
    store.flush()
    const { container } = render(
      <ViewerContext value={{ store }}>
        <RecordRow jobId="j" recordId="a" openParts={new Map()} />
        <RecordRow jobId="j" recordId="b" openParts={new Map()} />
      </ViewerContext>,
    )
    const row = (id: string) => container.querySelector<HTMLElement>(`[data-record-id="${id}"]`)!
    expect(row('a').dataset.status).toBe('streaming')
    expect(row('b').dataset.status).toBe('queued')
    expect(row('b').className).toContain('record--queued')
    expect(row('b').textContent).toContain('waiting for a free slot')
    expect(row('b').querySelector('.output')).toBeNull()
    act(() => {
      store.receive({
        kind: 'events',
        events: [
          { type: 'record-start', jobId: 'j', recordId: 'b', attempt: 1, model: 'm', prompt: 'second' },
        ],
      })
      store.flush()
    })
    expect(row('b').dataset.status).toBe('streaming')
    expect(row('b').textContent).not.toContain('waiting for a free slot')
  })
})
