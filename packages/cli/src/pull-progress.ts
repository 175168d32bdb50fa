import { fitLine, formatBytes, formatDuration } from './format.ts'
import type { OutputStream } from './io.ts'

/** One progress report from `/api/pull`. */
export interface PullProgress {
  status: string
  digest?: string
  total?: number
  completed?: number
}

export interface PullProgressOptions {
  stream: OutputStream
  /** Redraw a bar in place (a terminal) or print plain lines. */
  live: boolean
  /** Milliseconds between redraws of a bar (default 100). */
  frameInterval?: number
  now?: () => number
}

/**
 * Shows `spout pull` the way `ollama pull` does: a bar per layer with bytes, speed and ETA,
 * redrawn at most ten times a second on a terminal; plain lines (status changes and every 10%)
 * when stderr is a pipe.
 */
export class PullProgressView {
  readonly #options: Required<PullProgressOptions>
  #layer:
    | { digest: string; total: number; completed: number; samples: { time: number; bytes: number }[] }
    | undefined
  #lineOpen = false
  #lastDraw = 0
  #lastStatus = ''
  #lastStep = -1

  constructor(options: PullProgressOptions) {
    this.#options = { frameInterval: 100, now: Date.now, ...options }
  }

  update(progress: PullProgress): void {
    const now = this.#options.now()
    if (progress.digest && progress.total) {
      if (this.#layer?.digest !== progress.digest) {
        this.#closeLine()
        this.#layer = { digest: progress.digest, total: progress.total, completed: 0, samples: [] }
        this.#lastStep = -1
        this.#lastDraw = 0
      }
      const layer = this.#layer
      layer.total = progress.total
      layer.completed = progress.completed ?? layer.completed
      layer.samples.push({ time: now, bytes: layer.completed })
      while (layer.samples.length > 2 && now - layer.samples[0]!.time > 3000) layer.samples.shift()
      const complete = layer.completed >= layer.total
      if (this.#options.live) {
        if (complete || now - this.#lastDraw >= this.#options.frameInterval) {
          this.#drawBar()
          this.#lastDraw = now
        }
      } else {
        const step = Math.floor((layer.completed / layer.total) * 10)
        if (step !== this.#lastStep) {
          this.#lastStep = step
          this.#options.stream.write(`${this.#barText(false)}\n`)
        }
      }
      return
    }
    if (progress.status === this.#lastStatus) return
    this.#closeLine()
    this.#layer = undefined
    this.#lastStatus = progress.status
    this.#options.stream.write(`${progress.status}\n`)
  }

  /** Ends the bar line (call when the pull ends, whatever the outcome). */
  finish(): void {
    if (this.#layer && this.#options.live) this.#drawBar()
    this.#closeLine()
  }

  #closeLine(): void {
    if (this.#lineOpen) this.#options.stream.write('\n')
    this.#lineOpen = false
  }

  #drawBar(): void {
    const width = Math.max(40, (this.#options.stream.columns ?? 80) - 1)
    this.#options.stream.write(`\r\x1b[2K${fitLine(this.#barText(true, width), width)}`)
    this.#lineOpen = true
  }

  #barText(bar: boolean, width = 80): string {
    const layer = this.#layer!
    const fraction = layer.total > 0 ? Math.min(1, layer.completed / layer.total) : 0
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
    const speed = this.#speed()
    const remaining = speed > 0 ? ((layer.total - layer.completed) / speed) * 1000 : undefined
    const label = `pulling ${layer.digest.replace(/^sha256[:-]/, '').slice(0, 12)}:`
    const bytes = `${formatBytes(layer.completed)}/${formatBytes(layer.total)}`
    const rate = speed > 0 ? `${formatBytes(speed)}/s` : ''
    const eta = remaining !== undefined && fraction < 1 ? formatDuration(remaining) : ''
    const tail = [bytes, rate, eta].filter(Boolean).join('  ')
    if (!bar) return `${label} ${percent.trim()} (${tail})`
    // A fixed room for the numbers keeps the bar from jumping as they change width.
    const tailRoom = 34
    const barWidth = Math.max(10, Math.min(40, width - label.length - percent.length - tailRoom - 5))
    const filled = Math.round(fraction * barWidth)
    return `${label} ${percent} ▕${'█'.repeat(filled)}${' '.repeat(barWidth - filled)}▏ ${tail}`
  }

  /** Bytes per second over the last few seconds. */
  #speed(): number {
    const samples = this.#layer?.samples ?? []
    const first = samples[0]
    const last = samples.at(-1)
    if (!first || !last || last.time - first.time < 200) return 0
    return ((last.bytes - first.bytes) * 1000) / (last.time - first.time)
  }
}
