import { Writable } from 'node:stream'
import type { SpoutEvent } from '@spout/core'
import { describe, expect, it, vi } from 'vitest'
import { type DisplayMode, JobDisplay } from './job-display.ts'
import { createStyle, stripAnsi } from './style.ts'

class Capture extends Writable {
  text = ''
  isTTY: boolean
  columns = 60
  rows = 20
  constructor(isTTY: boolean) {
    super()
    this.isTTY = isTTY
  }
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString()
    callback()
  }
}

const jobId = 'job-1'
const start = (total?: number): SpoutEvent => ({
  type: 'job-start',
  jobId,
  name: 'test',
  model: 'llama3.2',
  host: 'http://127.0.0.1:11434',
  startedAt: new Date(0).toISOString(),
  ...(total === undefined ? {} : { total }),
})
const recordStart = (recordId: string, attempt = 1): SpoutEvent => ({
  type: 'record-start',
  jobId,
  recordId,
  attempt,
  model: 'llama3.2',
  prompt: 'a long prompt the display must not keep',
})
const chunk = (recordId: string, seq: number, text: string, thinking?: string): SpoutEvent => ({
  type: 'chunk',
  jobId,
  recordId,
  seq,
  text,
  ...(thinking ? { thinking } : {}),
})
const end = (recordId: string, response: string, error?: string, thinking?: string): SpoutEvent => ({
  type: 'record-end',
  jobId,
  recordId,
  response,
  ...(thinking ? { thinking } : {}),
  attempts: 1,
  metrics: { eval_count: 3 },
  ...(error ? { error: { code: 'SPOUT_HTTP_ERROR', message: error } } : {}),
})

function display(mode: DisplayMode, layout: 'stream' | 'panel', tty = mode === 'live') {
  const stream = new Capture(tty)
  let now = 0
  const view = new JobDisplay({
    stream,
    mode,
    layout,
    style: createStyle(tty),
    now: () => (now += 100),
  })
  return { stream, view }
}

describe('JobDisplay', () => {
  it('streams one record at a time under a header, thinking first, then a footer', () => {
    const { stream, view } = display('live', 'stream')
    for (const event of [
      start(2),
      recordStart('q1'),
      chunk('q1', 0, '', 'hmm '),
      chunk('q1', 1, 'Hello'),
      chunk('q1', 2, ' world'),
    ]) {
      view.onEvent(event)
    }
    expect(view.state.jobs[jobId]?.records[0]?.text).toBe('Hello world')
    view.onEvent(end('q1', 'Hello world', undefined, 'hmm '))
    view.onEvent(recordStart('q2'))
    view.onEvent(end('q2', 'Bye', '[POST http://x/api/generate] 500: boom'))
    view.finish()
    const plain = stripAnsi(stream.text)
    expect(plain).toContain('── q1 · llama3.2\nhmm \n\nHello world\n✓ q1 · 3 tokens · 1/2')
    expect(plain).toContain('\n\n── q2 · llama3.2\nBye\n✗ [POST http://x/api/generate] 500: boom · 2/2')
    expect(stream.text).toContain('\x1b[2m') // thinking is dimmed on a terminal
  })

  it('draws a panel of in-flight records with their newest text and a status line', () => {
    const { stream, view } = display('live', 'panel')
    view.onEvent(start(3))
    view.onEvent(recordStart('a'))
    view.onEvent(recordStart('b'))
    view.onEvent(chunk('a', 0, 'alpha text'))
    view.onEvent(chunk('b', 0, 'beta text'))
    // A frame is drawn by the timer; reading the state and finishing draws synchronously.
    view.onEvent(end('a', 'alpha text', 'model went away'))
    view.finish()
    const plain = stripAnsi(stream.text)
    expect(plain).toContain('✗ a: model went away')
    expect(plain).not.toContain('a long prompt')
    // A hidden cursor always comes back.
    expect(stream.text.split('\x1b[?25l').length).toBe(stream.text.split('\x1b[?25h').length)
  })

  it('redraws the panel in place, within the terminal width, on its timer', () => {
    vi.useFakeTimers()
    const { stream, view } = display('live', 'panel')
    view.onEvent(start(2))
    view.onEvent(recordStart('a'))
    view.onEvent(recordStart('b'))
    view.onEvent(chunk('a', 0, 'x'.repeat(200)))
    view.onEvent(chunk('b', 0, 'beta'))
    expect(stream.text).toBe('') // nothing drawn between frames: events only queue
    vi.advanceTimersByTime(100)
    const frame = stripAnsi(stream.text.split('\x1b[J').at(-1) ?? '')
    expect(frame).toMatch(/^a +…x+$/m)
    expect(frame).toMatch(/^b +beta$/m)
    expect(frame).toMatch(/0\/2 done · 0 failed · .* tok\/s/)
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(stream.columns)
    view.onEvent(chunk('b', 1, ' more'))
    vi.advanceTimersByTime(100)
    expect(stream.text).toContain('\x1b[J') // erased and drawn again
    expect(stripAnsi(stream.text.split('\x1b[J').at(-1) ?? '')).toMatch(/^b +beta more$/m)
    view.finish()
    vi.useRealTimers()
  })

  it('prints log lines above the panel, never inside it', () => {
    vi.useFakeTimers()
    const { stream, view } = display('live', 'panel')
    view.onEvent(start(2))
    view.onEvent(recordStart('a'))
    view.onEvent(chunk('a', 0, 'alpha'))
    vi.advanceTimersByTime(100)
    view.log('spout: [plugin x] hello')
    expect(stream.text).not.toContain('hello') // waits for the next frame
    vi.advanceTimersByTime(100)
    const frame = stripAnsi(stream.text.split('\x1b[J').at(-1) ?? '')
    expect(frame.split('\n')[0]).toBe('spout: [plugin x] hello')
    expect(frame).toMatch(/^a +alpha$/m)
    view.finish()
    vi.useRealTimers()
  })

  it('prints plain lines without ANSI when not on a terminal', () => {
    const { stream, view } = display('plain', 'panel', false)
    view.onEvent(start(2))
    view.onEvent(recordStart('a'))
    view.onEvent(end('a', '', 'boom'))
    view.finish()
    expect(stream.text).toBe('spout: ✗ a: boom\n')
    expect(stream.text).not.toMatch(/\x1b/)
  })

  it('writes nothing when silent', () => {
    const { stream, view } = display('silent', 'stream', false)
    view.onEvent(start(1))
    view.onEvent(recordStart('a'))
    view.onEvent(end('a', '', 'boom'))
    view.finish()
    expect(stream.text).toBe('')
  })
})
