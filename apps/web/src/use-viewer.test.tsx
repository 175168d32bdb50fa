import type { SpoutEvent } from '@spout/core/events'
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useThrottledSelector, ViewerContext } from './use-viewer.ts'
import type { ViewerSnapshot } from './viewer-store.ts'
import { ViewerStore } from './viewer-store.ts'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

const recordCount = (snapshot: ViewerSnapshot) => snapshot.state.jobs.j?.records.length ?? 0

function RecordCount() {
  return <output>{useThrottledSelector(recordCount, Object.is, 100)}</output>
}

function start(store: ViewerStore, recordId: string): void {
  const event: SpoutEvent = { type: 'record-start', jobId: 'j', recordId, attempt: 1, model: 'm' }
  act(() => {
    store.receive({ kind: 'events', events: [event] })
    store.flush()
  })
}

describe('useThrottledSelector', () => {
  it('takes the first change at once, then at most one value per interval, never losing the last', () => {
    vi.advanceTimersByTime(1000)
    const store = new ViewerStore({ scheduler: () => () => {} })
    const { container } = render(
      <ViewerContext value={{ store }}>
        <RecordCount />
      </ViewerContext>,
    )
    const shown = () => container.querySelector('output')!.textContent
    expect(shown()).toBe('0')
    start(store, 'a')
    expect(shown()).toBe('1')
    start(store, 'b')
    start(store, 'c')
    expect(shown()).toBe('1')
    act(() => vi.advanceTimersByTime(100))
    expect(shown()).toBe('3')
  })
})
