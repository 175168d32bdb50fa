import type { SpoutEvent } from '@spout/core/events'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { App } from './App.tsx'
import { ViewerContext } from './use-viewer.ts'
import { ViewerStore } from './viewer-store.ts'

// jsdom has no layout: give elements a size so the virtualized list renders rows.
const sizes = { offsetHeight: 800, offsetWidth: 1000, clientHeight: 800, clientWidth: 1000 }
const saved = new Map<string, PropertyDescriptor | undefined>()
beforeAll(() => {
  for (const [name, value] of Object.entries(sizes)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name))
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value })
  }
})
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor)
    else Reflect.deleteProperty(HTMLElement.prototype, name)
  }
})
afterEach(cleanup)

function job(
  jobId: string,
  startedAt: string,
  records: { id: string; end?: 'ok' | 'error'; text: string }[],
) {
  const events: SpoutEvent[] = [
    {
      type: 'job-start',
      jobId,
      name: `job ${jobId}`,
      model: 'llama3.2',
      host: 'http://127.0.0.1:11434',
      startedAt,
      total: 5,
    },
  ]
  for (const record of records) {
    events.push({
      type: 'record-start',
      jobId,
      recordId: record.id,
      attempt: 1,
      model: 'llama3.2',
      prompt: `ask ${record.id}`,
    })
    events.push({ type: 'chunk', jobId, recordId: record.id, seq: 0, text: record.text })
    if (record.end) {
      events.push({
        type: 'record-end',
        jobId,
        recordId: record.id,
        response: record.text,
        attempts: 1,
        ...(record.end === 'error'
          ? { error: { code: 'SPOUT_STREAM_ERROR', message: 'model crashed' } }
          : {}),
      })
    }
  }
  return events
}

function setUp() {
  const store = new ViewerStore({ scheduler: () => () => {} })
  store.receive({
    kind: 'events',
    events: [
      ...job('old', '2026-01-01T10:00:00Z', [{ id: 'o1', end: 'ok', text: 'old answer' }]),
      { type: 'job-end', jobId: 'old', summary: { ok: 1, failed: 0, skipped: 0, tokens: 2, duration: 1000 } },
      ...job('new', '2026-01-01T11:00:00Z', [
        { id: 'n1', end: 'ok', text: 'Paris is the capital.' },
        { id: 'n2', end: 'error', text: 'partial' },
        { id: 'n3', text: 'streaming now' },
      ]),
      ...job('older', '2026-01-01T09:00:00Z', []),
      { type: 'job-end', jobId: 'older', summary: { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 5 } },
    ],
  })
  store.flush()
  const view = render(
    <ViewerContext value={{ store }}>
      <App />
    </ViewerContext>,
  )
  return { store, ...view }
}

const shownRecords = (container: HTMLElement) =>
  [...container.querySelectorAll<HTMLElement>('.records [data-record-id]')].map(
    (element) => element.dataset.recordId,
  )

describe('App', () => {
  it('lists jobs newest first and opens the running job', () => {
    const { container } = setUp()
    const jobs = [...container.querySelectorAll<HTMLElement>('.jobs [data-job-id]')]
    expect(jobs.map((element) => element.dataset.jobId)).toEqual(['new', 'old', 'older'])
    expect(jobs[0]!.getAttribute('aria-current')).toBe('true')
    expect(jobs[0]!.textContent).toContain('2 / 5 done')
    expect(jobs[0]!.textContent).toContain('1 failed')
    expect(shownRecords(container)).toEqual(['n1', 'n2', 'n3'])
    expect(document.title).toBe('(40%) job new · Spout')
    expect(
      container.querySelector('.records [data-record-id="n3"] .record-response')!.textContent!.trim(),
    ).toBe('streaming now')
  })

  it('switches jobs on click', () => {
    const { container } = setUp()
    fireEvent.click(container.querySelector('.jobs [data-job-id="old"]')!)
    expect(shownRecords(container)).toEqual(['o1'])
    expect(container.querySelector('.job-view h2')!.textContent).toContain('job old')
  })

  it('filters records by state and searches their text', async () => {
    const { container } = setUp()
    fireEvent.click(screen.getByRole('button', { name: 'failed' }))
    expect(shownRecords(container)).toEqual(['n2'])
    fireEvent.click(screen.getByRole('button', { name: 'all' }))
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'CAPITAL' } })
    expect(shownRecords(container)).toEqual(['n1'])
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'nothing like this' } })
    expect(shownRecords(container)).toEqual([])
    expect(container.textContent).toContain('No records match.')
  })

  it('adds records as they start and keeps the connection state visible', () => {
    const { container, store } = setUp()
    expect(screen.getByRole('status').textContent).toBe('Connecting')
    act(() => {
      store.setConnection({ status: 'connected', attempt: 0 })
      store.receive({
        kind: 'events',
        events: [{ type: 'record-start', jobId: 'new', recordId: 'n4', attempt: 1, model: 'llama3.2' }],
      })
      store.flush()
    })
    expect(screen.getByRole('status').textContent).toBe('Connected')
    expect(shownRecords(container)).toEqual(['n1', 'n2', 'n3', 'n4'])
    act(() => store.setConnection({ status: 'reconnecting', attempt: 2, reason: 'connection lost' }))
    expect(screen.getByRole('status').textContent).toBe('Reconnecting (attempt 2)')
    expect(container.querySelector('.layout--stale')).not.toBeNull()
  })
})

describe('App at scale', () => {
  it('keeps only the rows in view in the page for a 10,000-record job', () => {
    const store = new ViewerStore({ scheduler: () => () => {} })
    const events: SpoutEvent[] = [
      {
        type: 'job-start',
        jobId: 'big',
        name: 'big',
        model: 'm',
        host: 'h',
        startedAt: '2026-01-01T00:00:00Z',
      },
    ]
    for (let index = 0; index < 10_000; index++) {
      const recordId = `r${index}`
      events.push({ type: 'record-start', jobId: 'big', recordId, attempt: 1, model: 'm' })
      events.push({ type: 'record-end', jobId: 'big', recordId, response: `answer ${index}`, attempts: 1 })
    }
    store.receive({ kind: 'events', events })
    store.flush()
    const { container } = render(
      <ViewerContext value={{ store }}>
        <App />
      </ViewerContext>,
    )
    const rows = shownRecords(container)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThan(40)
    expect(document.title).toBe('(10,000 done) big · Spout')
  })
})
