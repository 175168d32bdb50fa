import type { SpoutEvent } from '@spout/core/events'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { Profiler } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { ViewerContext } from '../use-viewer.ts'
import { ViewerStore } from '../viewer-store.ts'
import type { OpenParts } from './RecordRow.tsx'
import { isLongResponse, RecordRow } from './RecordRow.tsx'

afterEach(cleanup)

const start: SpoutEvent[] = [
  {
    type: 'job-start',
    jobId: 'j',
    name: 'n',
    model: 'm',
    host: 'h',
    startedAt: '2026-01-01T00:00:00Z',
    sequence: 1,
  },
  {
    type: 'record-start',
    jobId: 'j',
    recordId: 'a',
    attempt: 1,
    model: 'm',
    system: 'You are terse.',
    prompt: 'Capital of France?',
    sequence: 2,
  },
]

function storeWith(events: SpoutEvent[]): ViewerStore {
  const store = new ViewerStore({ scheduler: () => () => {} })
  store.receive({ kind: 'events', events })
  store.flush()
  return store
}

function renderRows(store: ViewerStore, recordIds: string[], openParts: OpenParts = new Map(), raw = false) {
  const renders = new Map<string, number>()
  const view = render(
    <ViewerContext value={{ store }}>
      {recordIds.map((recordId) => (
        <Profiler
          key={recordId}
          id={recordId}
          onRender={() => renders.set(recordId, (renders.get(recordId) ?? 0) + 1)}
        >
          <RecordRow jobId="j" recordId={recordId} openParts={openParts} raw={raw} />
        </Profiler>
      ))}
    </ViewerContext>,
  )
  return { ...view, renders }
}

const row = (container: HTMLElement, recordId: string) =>
  container.querySelector<HTMLElement>(`[data-record-id="${recordId}"]`)!

describe('RecordRow', () => {
  it('shows the response growing while it streams, with the prompt collapsed', () => {
    const store = storeWith([
      ...start,
      { type: 'chunk', jobId: 'j', recordId: 'a', seq: 0, text: 'Par', sequence: 3 },
    ])
    const { container } = renderRows(store, ['a'])
    const element = row(container, 'a')
    expect(element.dataset.status).toBe('streaming')
    expect(element.querySelector('.record-response')!.textContent!.trim()).toBe('Par')
    expect(element.querySelector('.caret')).not.toBeNull()
    expect(element.textContent).not.toContain('Capital of France?')
    act(() => {
      store.receive({
        kind: 'events',
        events: [{ type: 'chunk', jobId: 'j', recordId: 'a', seq: 1, text: 'is', sequence: 4 }],
      })
      store.flush()
    })
    expect(element.querySelector('.record-response')!.textContent!.trim()).toBe('Paris')
  })

  it('renders the response as Markdown while it streams, or as the raw text on request', () => {
    const store = storeWith([
      ...start,
      { type: 'chunk', jobId: 'j', recordId: 'a', seq: 0, text: '## Paris\n\n- **capital**', sequence: 3 },
      { type: 'chunk', jobId: 'j', recordId: 'a', seq: 1, text: '\n- <b>big</b>', sequence: 4 },
    ])
    const rendered = row(renderRows(store, ['a']).container, 'a')
    const response = rendered.querySelector('.record-response')!
    expect(response.getAttribute('data-format')).toBe('markdown')
    expect(response.querySelector('h2')!.textContent).toBe('Paris')
    expect(response.querySelector('li strong')!.textContent).toBe('capital')
    expect(response.querySelector('b')).toBeNull()
    expect(response.textContent).toContain('<b>big</b>')
    cleanup()
    const raw = row(renderRows(store, ['a'], new Map(), true).container, 'a')
    expect(raw.querySelector('.record-response')!.getAttribute('data-format')).toBe('raw')
    expect(raw.querySelector('.record-response')!.textContent).toBe('## Paris\n\n- **capital**\n- <b>big</b>')
  })

  it('opens the prompt and system prompt on request and remembers it for the next mount', () => {
    const store = storeWith(start)
    const openParts: OpenParts = new Map()
    const { container, unmount } = renderRows(store, ['a'], openParts)
    fireEvent.click(screen.getByText('Prompt and system prompt'))
    expect(row(container, 'a').textContent).toContain('Capital of France?')
    expect(row(container, 'a').textContent).toContain('You are terse.')
    unmount()
    const again = renderRows(store, ['a'], openParts)
    expect(row(again.container, 'a').textContent).toContain('Capital of France?')
  })

  it('shows a failed record with its one-line error and retries', () => {
    const store = storeWith([
      ...start,
      { type: 'record-start', jobId: 'j', recordId: 'a', attempt: 3, model: 'm', prompt: 'p', sequence: 3 },
      {
        type: 'record-end',
        jobId: 'j',
        recordId: 'a',
        response: '',
        attempts: 3,
        error: { code: 'SPOUT_HTTP_ERROR', message: '[POST http://h/api/generate] 500: boom\nstack line' },
        sequence: 4,
      },
    ])
    const { container } = renderRows(store, ['a'])
    const element = row(container, 'a')
    expect(element.dataset.status).toBe('failed')
    expect(element.querySelector('.record-error')!.textContent).toBe(
      'SPOUT_HTTP_ERROR [POST http://h/api/generate] 500: boom …',
    )
    expect(element.textContent).toContain('retried 2×')
    expect(element.querySelector('.caret')).toBeNull()
  })

  it('shows metrics when a record ends and keeps thinking in its own closed block', () => {
    const store = storeWith([
      ...start,
      {
        type: 'record-end',
        jobId: 'j',
        recordId: 'a',
        response: 'Paris.',
        thinking: 'The user asks about France.',
        attempts: 1,
        doneReason: 'stop',
        metrics: { eval_count: 1234, tokens_per_second: 42.25, total_duration: 2_500_000_000 },
        sequence: 3,
      },
    ])
    const { container } = renderRows(store, ['a'])
    const element = row(container, 'a')
    expect(element.querySelector('.record-metrics')!.textContent).toBe('1,234 tokens42.3 tok/s2.5s')
    const thinking = element.querySelector<HTMLElement>('.record-thinking')!
    expect(thinking.querySelector('button')!.getAttribute('aria-expanded')).toBe('false')
    expect(thinking.textContent).not.toContain('The user asks')
    fireEvent.click(screen.getByText(/Thinking/))
    expect(thinking.textContent).toContain('The user asks about France.')
  })

  it('does not re-render a finished record when another record streams', () => {
    const store = storeWith([
      ...start,
      { type: 'record-end', jobId: 'j', recordId: 'a', response: 'Paris.', attempts: 1, sequence: 3 },
      { type: 'record-start', jobId: 'j', recordId: 'b', attempt: 1, model: 'm', sequence: 4 },
    ])
    const { renders, container } = renderRows(store, ['a', 'b'])
    const before = { a: renders.get('a'), b: renders.get('b') }
    for (let seq = 0; seq < 3; seq++) {
      act(() => {
        store.receive({
          kind: 'events',
          events: [{ type: 'chunk', jobId: 'j', recordId: 'b', seq, text: `t${seq} `, sequence: 5 + seq }],
        })
        store.flush()
      })
    }
    expect(renders.get('a')).toBe(before.a)
    expect(renders.get('b')).toBe(before.b! + 3)
    expect(row(container, 'b').querySelector('.record-response')!.textContent!.trim()).toBe('t0 t1 t2')
  })
})

describe('isLongResponse', () => {
  it('offers the whole response for long text or many lines', () => {
    expect(isLongResponse('short')).toBe(false)
    expect(isLongResponse('x'.repeat(1200))).toBe(true)
    expect(isLongResponse('line\n'.repeat(12))).toBe(true)
    expect(isLongResponse('line\n'.repeat(11))).toBe(false)
  })
})
