import type { EventError, HostReport, SpoutEvent } from '@spout/core'
import type { JobState, RecordState } from '@spout/core/events'
import { displayWidth, fitLine, formatDuration, formatRate } from './format.ts'
import { hostPanelLines } from './host-lines.ts'
import type { OutputStream } from './io.ts'
import { JobStats } from './job-stats.ts'
import { hasEnded, JobView, type RecordFailure } from './job-view.ts'
import type { Style } from './style.ts'

/**
 * `live`: redraws on a terminal (one record streams in place; several share a panel).
 * `plain`: occasional progress lines, no ANSI (pipes, CI logs).
 * `silent`: nothing (`--quiet`, `--no-progress`); plugin log lines still go out.
 */
export type DisplayMode = 'live' | 'plain' | 'silent'

export interface JobDisplayOptions {
  /** Where the display goes (stderr: stdout may carry the dataset). */
  stream: OutputStream
  mode: DisplayMode
  style: Style
  /**
   * `stream`: one record at a time, its text streamed under a header (concurrency 1 or a single
   * record). `panel`: a line per in-flight record and a status line.
   */
  layout: 'stream' | 'panel'
  /** Live redraw period in ms (default 80: 12.5 frames a second, whatever the token rate). */
  frameInterval?: number
  /** Plain mode: ms between progress lines (default 5000). */
  progressInterval?: number
  /** Also print failed records as they happen (default true). */
  showFailures?: boolean
  /** Failures the command reports itself (e.g. the model-missing 404): not printed per record. */
  hideFailure?: (error: EventError) => boolean
  /** A pool's hosts: the panel shows a line per host (in flight / slots, tokens/s, up or down). */
  hosts?: () => HostReport[]
  now?: () => number
}

const maxFailureLines = 50
const hideCursor = '\x1b[?25l'
const showCursor = '\x1b[?25h'
/**
 * Auto-wrap off while the panel is drawn: its lines are cut to `columns - 1` already, and should a
 * terminal draw some character wider than we count, the line is clipped at the margin instead of
 * wrapping onto a row the next redraw would not erase. Back on at the end of every write.
 */
const wrapOff = '\x1b[?7l'
const wrapOn = '\x1b[?7h'

/**
 * The terminal side of `spout run`. `onEvent` only queues (so the job never waits for the
 * terminal); a timer folds the queue into a {@link JobView} (counters, the records in flight, the
 * failures not shown yet: its size does not grow with the job) and draws a frame at most
 * `1000 / frameInterval` times a second.
 */
export class JobDisplay {
  #options: Required<Omit<JobDisplayOptions, 'now' | 'hosts'>> &
    Pick<JobDisplayOptions, 'hosts'> & {
      now: () => number
    }
  readonly #stats = new JobStats()
  readonly #view: JobView
  #queue: SpoutEvent[] = []
  #logs: string[] = []
  /** Set by `finish`: later events (the cancelled records of an interrupted job) are not shown. */
  #closed = false
  #timer: ReturnType<typeof setInterval> | undefined
  #startedAt: number
  #failuresShown = 0
  #failuresHidden = 0
  // Live panel
  #panelLines = 0
  #cursorHidden = false
  // Live streaming of one record at a time
  /** Records whose footer is out (the `n` of `n/total`). */
  #streamed = 0
  #headers = 0
  #streaming: { recordId: string; attempt: number; text: number; thinking: number } | undefined
  // Plain progress
  #lastProgressAt = 0
  #lastProgressLine = ''

  constructor(options: JobDisplayOptions) {
    this.#options = {
      frameInterval: 80,
      progressInterval: 5000,
      showFailures: true,
      hideFailure: () => false,
      now: Date.now,
      ...options,
    }
    this.#startedAt = this.#options.now()
    // The streaming layout prints each record whole, so it keeps an ended one until printed.
    const streaming = this.#options.mode === 'live' && this.#options.layout === 'stream'
    this.#view = new JobView({ keepEnded: streaming })
  }

  get #streamMode(): boolean {
    return this.#options.layout === 'stream'
  }

  /** The eventSink callback: queue and return. */
  readonly onEvent = (event: SpoutEvent): void => {
    if (this.#options.mode === 'silent' || this.#closed) return
    this.#queue.push(event)
    if (!this.#timer) this.#start()
  }

  /**
   * Prints a message line (plugin logs, warnings) without breaking the display: on a terminal it
   * waits for the next frame (above the panel, or between streamed records); otherwise it goes out now.
   */
  log(line: string): void {
    if (this.#options.mode === 'live' && this.#timer && !this.#closed) this.#logs.push(line)
    else this.#options.stream.write(`${line}\n`)
  }

  /** What the display holds so far (flushes the queue). */
  get view(): JobView {
    this.#fold()
    return this.#view
  }

  #start(): void {
    this.#startedAt = this.#options.now()
    this.#lastProgressAt = this.#startedAt
    const interval = this.#options.mode === 'live' ? this.#options.frameInterval : 250
    this.#timer = setInterval(() => this.#safeFrame(false), interval)
    this.#timer.unref?.()
  }

  /** Draws the last frame and leaves the terminal clean (panel erased, cursor shown). */
  finish(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#options.mode === 'silent' || this.#closed) return
    this.#closed = true
    this.#safeFrame(true)
  }

  /** A display bug must never stop the job: the display turns itself off instead. */
  #safeFrame(last: boolean): void {
    try {
      this.#frame(last)
    } catch (error) {
      if (this.#timer) clearInterval(this.#timer)
      this.#timer = undefined
      this.#options.mode = 'silent'
      this.#queue = []
      this.#options.stream.write(
        `${this.#cursorHidden ? showCursor : ''}\nspout: display turned off: ${String(error)}\n`,
      )
    }
  }

  /** Applies the queued events to the view. */
  #fold(): void {
    if (this.#queue.length === 0) return
    const events = this.#queue
    this.#queue = []
    this.#view.apply(events)
  }

  #frame(last: boolean): void {
    this.#fold()
    const failures = this.#view.takeFailures()
    const job = this.#view.job
    const now = this.#options.now()
    if (job) this.#stats.sample(job, now)
    if (this.#options.mode === 'plain') this.#plainFrame(job, failures, now, last)
    else if (this.#streamMode) this.#streamFrame(job, last)
    else this.#panelFrame(job, failures, now, last)
  }

  #takeLogs(): string {
    if (this.#logs.length === 0) return ''
    const text = this.#logs.map((line) => `${line}\n`).join('')
    this.#logs = []
    return text
  }

  /** The failure lines to print, unstyled (`✗ id: message`). */
  #failureLines(failures: RecordFailure[]): string[] {
    const lines: string[] = []
    if (!this.#options.showFailures) return lines
    for (const failure of failures) {
      // A cancelled record (Ctrl-C) is not a failure worth a line; the command says it was interrupted.
      if (failure.error.code === 'SPOUT_ABORTED' || this.#options.hideFailure(failure.error)) continue
      if (this.#failuresShown >= maxFailureLines) {
        this.#failuresHidden += 1
        continue
      }
      this.#failuresShown += 1
      lines.push(`✗ ${failure.recordId}: ${failure.error.message.split('\n')[0]}`)
    }
    return lines
  }

  // Plain: occasional progress lines and failures on stderr, no ANSI.
  #plainFrame(job: JobState | undefined, failures: RecordFailure[], now: number, last: boolean): void {
    let output = ''
    for (const line of this.#failureLines(failures)) output += `spout: ${line}\n`
    if (job && !last && now - this.#lastProgressAt >= this.#options.progressInterval) {
      const line = this.#stats.statusLine(job, now, this.#startedAt)
      const comparable = line.replace(/ · [^·]*tok\/s.*$/, '')
      if (comparable !== this.#lastProgressLine) {
        output += `spout: ${line}\n`
        this.#lastProgressLine = comparable
      }
      this.#lastProgressAt = now
    }
    if (last && this.#failuresHidden > 0) {
      output += `spout: ${this.#failuresHidden} more failed records not shown (their lines in the output hold the errors)\n`
    }
    if (output) this.#options.stream.write(output)
  }

  // Live, one record at a time: its text streams under a header, thinking dimmed.
  #streamFrame(job: JobState | undefined, last: boolean): void {
    if (!job) return
    const { style } = this.#options
    let output = ''
    // In start order: at most the record in flight and those that ended since the last frame.
    for (const record of this.#view.records()) {
      let current = this.#streaming
      if (!current || current.recordId !== record.recordId) {
        if (this.#headers > 0) output += '\n'
        this.#headers += 1
        output += `${style.cyan(`── ${record.recordId}`)} ${style.dim(`· ${record.model}`)}\n`
        current = { recordId: record.recordId, attempt: record.attempt, text: 0, thinking: 0 }
        this.#streaming = current
      }
      if (record.attempt !== current.attempt) {
        output += `\n${style.yellow(`↻ attempt ${record.attempt}`)}\n`
        current.attempt = record.attempt
        current.text = 0
        current.thinking = 0
      }
      const { text, thinking } = record
      if (thinking.length > current.thinking && current.text === 0) {
        output += style.dim(printable(thinking.slice(current.thinking)))
        current.thinking = thinking.length
      }
      if (text.length > current.text) {
        if (current.text === 0 && current.thinking > 0) output += '\n\n'
        output += printable(text.slice(current.text))
        current.text = text.length
      }
      if (!hasEnded(record)) break
      // The record ended: close its block with a one-line footer, and forget it.
      if (current.text > 0 || current.thinking > 0) output += text.endsWith('\n') ? '' : '\n'
      this.#streamed += 1
      output += this.#footer(job, record, this.#streamed + job.skipped) + '\n'
      output += this.#takeLogs()
      this.#view.release(record.recordId)
      this.#streaming = undefined
    }
    if (last && this.#streaming) output += '\n'
    if (last || !this.#streaming) output += this.#takeLogs()
    if (output) this.#options.stream.write(output)
  }

  #footer(job: JobState, record: RecordState, processed: number): string {
    const { style } = this.#options
    const progress = job.total === undefined ? `${processed} done` : `${processed}/${job.total}`
    if (record.status !== 'done') {
      return style.red(`✗ ${record.error?.message.split('\n')[0] ?? 'failed'}`) + style.dim(` · ${progress}`)
    }
    const { metrics } = record
    const attempts = record.attempts ?? record.attempt
    const parts = [`✓ ${record.recordId}`]
    if (metrics?.eval_count !== undefined) parts.push(`${metrics.eval_count} tokens`)
    if (metrics?.tokens_per_second !== undefined) parts.push(`${formatRate(metrics.tokens_per_second)} tok/s`)
    if (metrics?.total_duration !== undefined) parts.push(formatDuration(metrics.total_duration / 1e6))
    if (attempts > 1) parts.push(`${attempts} attempts`)
    parts.push(progress)
    return style.dim(parts.join(' · '))
  }

  // Live, several records: one line per in-flight record plus a status line, redrawn in place.
  #panelFrame(job: JobState | undefined, failures: RecordFailure[], now: number, last: boolean): void {
    const { stream, style } = this.#options
    const width = Math.max(20, (stream.columns ?? 80) - 1)
    const rows = Math.max(4, stream.rows ?? 24)
    let output = ''
    if (!this.#cursorHidden && !last) {
      output += hideCursor
      this.#cursorHidden = true
    }
    // Erase the previous panel: every line of it took exactly one row (cut to width, no wrap).
    if (this.#panelLines > 0)
      output += `\r${this.#panelLines > 1 ? `\x1b[${this.#panelLines - 1}A` : ''}\x1b[J`
    // Failures and logs stay in the scrollback above the panel.
    for (const line of this.#failureLines(failures)) output += style.red(fitLine(line, width)) + '\n'
    output += this.#takeLogs()
    if (last) {
      if (this.#failuresHidden > 0)
        output += style.dim(`${this.#failuresHidden} more failed records not shown`) + '\n'
      if (this.#cursorHidden) output += showCursor
      this.#cursorHidden = false
      this.#panelLines = 0
      stream.write(output)
      return
    }
    const lines: string[] = []
    if (job) {
      const hostLines = this.#options.hosts ? hostPanelLines(this.#options.hosts(), width, style) : []
      const room = rows - 2 - hostLines.length
      const records = this.#view.records()
      const shown = records.length > room ? records.slice(0, room - 1) : records
      const idWidth = Math.min(16, Math.max(2, ...shown.map((record) => displayWidth(record.recordId))))
      for (const record of shown) {
        const fitted = fitLine(record.recordId, idWidth)
        const label = fitted + ' '.repeat(Math.max(0, idWidth - displayWidth(fitted)))
        const room = width - idWidth - 2
        let body: string
        if (record.text === '' && record.thinking === '') body = style.dim('…')
        else if (record.text === '') body = style.dim(fitLine(record.thinking, room, 'end'))
        else body = fitLine(record.text, room, 'end')
        const retry = record.attempt > 1 ? style.yellow('↻') : ' '
        lines.push(`${style.cyan(label)}${retry} ${body}`)
      }
      if (shown.length < records.length)
        lines.push(style.dim(`… ${records.length - shown.length} more in flight`))
      lines.push(...hostLines)
      lines.push(style.bold(fitLine(this.#stats.statusLine(job, now, this.#startedAt), width)))
    }
    if (lines.length > 0) output += wrapOff + lines.join('\n') + wrapOn
    this.#panelLines = lines.length
    stream.write(output)
  }
}

/** Model text as the terminal may show it: no escape sequences or control characters but newlines and tabs. */
function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '')
}
