import { Writable } from 'node:stream'
import { stripVTControlCharacters as stripAnsi } from 'node:util'
import type { SpoutEvent } from '@spout/core'
import { describe, expect, it, vi } from 'vitest'
import { type DisplayMode, JobDisplay } from './job-display.ts'
import { createStyle } from './style.ts'
import { TestTerminal } from './testing/terminal.ts'

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
    expect([...view.view.records()].map((record) => [record.recordId, record.text])).toEqual([
      ['q1', 'Hello world'],
    ])
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

  it('shows a line per host of a pool above the status line', () => {
    vi.useFakeTimers()
    const stream = new Capture(true)
    stream.columns = 120
    const hosts = [
      {
        host: 'http://a:11434',
        backend: 'ollama',
        state: 'up' as const,
        slots: 4,
        inFlight: 2,
        records: 5,
        failures: 0,
        tokens: 50,
        tokensPerSecond: 40,
      },
      {
        host: 'http://b:11434',
        backend: 'ollama',
        state: 'down' as const,
        slots: 1,
        inFlight: 0,
        records: 1,
        failures: 2,
        tokens: 9,
        tokensPerSecond: 0,
        reason: 'connection refused',
      },
    ]
    const view = new JobDisplay({
      stream,
      mode: 'live',
      layout: 'panel',
      style: createStyle(false),
      hosts: () => hosts,
    })
    view.onEvent(start(3))
    view.onEvent(recordStart('a'))
    vi.advanceTimersByTime(100)
    const frame = stripAnsi(stream.text)
    expect(frame).toContain('● http://a:11434  2/4 learned · 40.0 tok/s · 5 done')
    expect(frame).toContain(
      '○ http://b:11434  0/1 learned · 0.0 tok/s · 1 done · 2 failed attempts · down: connection refused',
    )
    expect(frame.indexOf('http://b:11434')).toBeLessThan(frame.lastIndexOf(' done · '))
    view.finish()
    vi.useRealTimers()
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

  it('redraws the panel in place on a terminal: no stale or repeated lines, whatever the text', () => {
    vi.useFakeTimers()
    try {
      // Text that fills lines to the margin: emoji (drawn double wide), CJK, combining marks, tabs.
      const words = [
        'naïve',
        'café ✨',
        'Straße',
        '東京',
        'brown',
        'quick 👩‍💻',
        'back\\slash',
        'é',
        '\t42',
        '☀️',
      ]
      const text = (seed: number, count: number) =>
        Array.from({ length: count }, (_, index) => words[(seed + index) % words.length]).join(' ')
      // The same run on terminals of several widths, and on one that draws '…' double wide (as
      // terminals set for CJK do): the display must not leave a line behind even then.
      const cjkTerminal = new TestTerminal({
        columns: 40,
        rows: 12,
        characterWidth: (codePoint) => (codePoint > 0x2000 ? 2 : 1),
      })
      // And on an older one that draws each part of a ZWJ emoji (👩‍💻 as 👩💻, four columns).
      const partsTerminal = new TestTerminal({ columns: 40, rows: 12, joinsEmoji: false })
      const terminals = [
        new TestTerminal({ columns: 40, rows: 12 }),
        new TestTerminal({ columns: 41, rows: 12 }),
        new TestTerminal({ columns: 120, rows: 40 }),
        cjkTerminal,
        partsTerminal,
      ]
      for (const terminal of terminals) {
        const view = new JobDisplay({
          stream: terminal,
          mode: 'live',
          layout: 'panel',
          style: createStyle(true),
        })
        const frame = () => vi.advanceTimersByTime(100)
        /** What the screen must hold now: failures that stay, then one line per in-flight record and the status. */
        const expectScreen = (failures: string[], inFlight: string[]) => {
          const rows = terminal.history()
          expect(rows.slice(0, failures.length)).toEqual(failures)
          const panel = rows.slice(failures.length)
          expect(
            panel.map((row) => row.split(' ')[0]),
            rows.join('\n'),
          ).toEqual([...inFlight, expect.any(String)])
          expect(panel.at(-1)).toMatch(/ done · \d+ failed · /)
          // Never up to the last column: a full line leaves the cursor waiting to wrap. (Where the
          // terminal draws wider than the display counts, the line is cut at the margin instead.)
          if (terminal !== cjkTerminal && terminal !== partsTerminal)
            expect(terminal.widestRow()).toBeLessThan(terminal.columns)
        }
        view.onEvent(start(4))
        for (const id of ['alpha', 'beta', 'gamma']) view.onEvent(recordStart(id))
        let seq = 0
        for (let step = 0; step < 30; step += 1) {
          for (const id of ['alpha', 'beta', 'gamma']) view.onEvent(chunk(id, seq, ` ${text(step, 3)}`))
          seq += 1
          frame()
          expectScreen([], ['alpha', 'beta', 'gamma'])
        }
        view.onEvent(end('alpha', 'done'))
        view.onEvent(end('beta', 'half', 'boom ✨ 東京'))
        frame()
        expectScreen(['✗ beta: boom ✨ 東京'], ['gamma'])
        // One record still streaming at the end of the stage: its line is redrawn, never repeated.
        for (let step = 0; step < 30; step += 1) {
          view.onEvent(chunk('gamma', seq, ` ${text(step, 2)}`))
          seq += 1
          frame()
          expectScreen(['✗ beta: boom ✨ 東京'], ['gamma'])
        }
        view.onEvent(end('gamma', 'done'))
        view.onEvent(recordStart('delta'))
        view.onEvent(chunk('delta', 0, text(0, 40)))
        frame()
        expectScreen(['✗ beta: boom ✨ 東京'], ['delta'])
        view.onEvent(end('delta', 'done'))
        view.finish()
        // Finished records leave no trace; the failure stays in the scrollback.
        expect(terminal.history()).toEqual(['✗ beta: boom ✨ 東京'])
      }
    } finally {
      vi.useRealTimers()
    }
  })

  it('holds only the records in flight, however many the job runs', () => {
    vi.useFakeTimers()
    try {
      const records = 100_000
      const concurrency = 4
      const layouts: [DisplayMode, 'stream' | 'panel', number][] = [
        ['live', 'panel', concurrency],
        ['plain', 'panel', concurrency],
        ['live', 'stream', 1],
      ]
      for (const [mode, layout, inFlight] of layouts) {
        const { stream, view } = display(mode, layout)
        stream.columns = 80
        view.onEvent(start(records))
        let most = 0
        let failed = 0
        for (let first = 0; first < records; first += inFlight) {
          const ids = Array.from({ length: inFlight }, (_, index) => `r${first + index}`)
          for (const id of ids) view.onEvent(recordStart(id))
          for (const id of ids) view.onEvent(chunk(id, 0, `text of ${id} `.repeat(20)))
          for (const id of ids) {
            // One record in a thousand fails: failures are printed, not kept.
            const fails = (first + ids.indexOf(id)) % 1000 === 0
            if (fails) failed += 1
            view.onEvent(end(id, `text of ${id} `.repeat(20), fails ? 'boom' : undefined))
          }
          if (first % 400 === 0) {
            vi.advanceTimersByTime(100)
            most = Math.max(most, view.view.retained)
          }
          // Drop what the fake terminal has taken so far: the test is about the display's memory.
          if (stream.text.length > 1_000_000) stream.text = stream.text.slice(-10_000)
        }
        vi.advanceTimersByTime(100)
        expect(most, `${mode} ${layout}`).toBeLessThanOrEqual(inFlight)
        expect(view.view.retained).toBe(0)
        expect(view.view.job).toMatchObject({ ok: records - failed, failed, streaming: 0 })
        expect(view.view.takeFailures()).toEqual([])
        view.finish()
      }
    } finally {
      vi.useRealTimers()
    }
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
