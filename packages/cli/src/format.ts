/** Human formats for sizes, durations, rates and table cells. */
import stringWidth from 'string-width'

const byteUnits = ['B', 'KB', 'MB', 'GB', 'TB'] as const

/** `1234567` → `1.2 MB` (decimal units, as `ollama list` prints them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-'
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < byteUnits.length - 1) {
    value /= 1000
    unit += 1
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${byteUnits[unit]}`
}

/** Milliseconds → `850ms`, `12s`, `3m 05s`, `1h 02m`. */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '-'
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`
  const totalSeconds = Math.round(milliseconds / 1000)
  if (totalSeconds < 60) return `${totalSeconds}s`
  const totalMinutes = Math.floor(totalSeconds / 60)
  const seconds = totalSeconds % 60
  if (totalMinutes < 60) return `${totalMinutes}m ${String(seconds).padStart(2, '0')}s`
  const hours = Math.floor(totalMinutes / 60)
  return `${hours}h ${String(totalMinutes % 60).padStart(2, '0')}m`
}

/** A rate with one decimal below 100: `35.2`, `250`. */
export function formatRate(value: number): string {
  if (!Number.isFinite(value) || value < 0) return '-'
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1)
}

/** `12345` → `12,345`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** Node's own wording of "3 days ago" / "in 4 minutes" (always a number, as `ollama list` prints). */
const relativeTime = new Intl.RelativeTimeFormat('en', { numeric: 'always' })

/** A past or future time relative to `now`: `3 days ago`, `in 4 minutes`. */
export function formatRelativeTime(time: string | Date | undefined, now = Date.now()): string {
  if (time === undefined) return '-'
  const at = typeof time === 'string' ? Date.parse(time) : time.getTime()
  if (!Number.isFinite(at)) return '-'
  const difference = at - now
  const seconds = Math.abs(difference) / 1000
  if (seconds < 5) return difference >= 0 ? 'in a moment' : 'just now'
  const steps: [number, Intl.RelativeTimeFormatUnit][] = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [30, 'day'],
    [12, 'month'],
    [Number.POSITIVE_INFINITY, 'year'],
  ]
  let amount = seconds
  for (const [size, unit] of steps) {
    if (amount < size) {
      const whole = Math.max(1, Math.floor(amount))
      return relativeTime.format(difference >= 0 ? whole : -whole, unit)
    }
    amount /= size
  }
  return '-'
}

/** Columns padded to their widest cell, two spaces apart, like `ollama list`. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[column] ?? ''))),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)),
      )
      .join('    ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/**
 * Columns a string takes in a terminal, by `string-width` (Unicode's East Asian Width and emoji
 * tables, per grapheme cluster): wide East Asian characters and emoji count 2 (a ZWJ family or a
 * flag is one emoji), combining marks and zero-width characters 0.
 */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/**
 * One terminal line: newlines and tabs become spaces, control characters go, and the text is cut to
 * `width` columns. With `keep: 'end'` the newest text (the end) is kept and an ellipsis marks the cut.
 */
export function fitLine(text: string, width: number, keep: 'start' | 'end' = 'start'): string {
  // Only the part that can show matters: a long response is not rescanned whole on every frame.
  const room = width * 4 + 8
  if (text.length > room) text = keep === 'end' ? text.slice(-room) : text.slice(0, room)
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '')
  if (width <= 0) return ''
  if (displayWidth(flat) <= width) return flat
  // Cut between grapheme clusters only: a ZWJ emoji or a letter with its accents is kept or dropped whole.
  const clusters = Array.from(graphemes.segment(flat), (part) => part.segment)
  if (keep === 'end') clusters.reverse()
  let used = 1
  const kept: string[] = []
  for (const cluster of clusters) {
    const size = stringWidth(cluster)
    if (used + size > width) break
    used += size
    kept.push(cluster)
  }
  return keep === 'end' ? '…' + kept.reverse().join('') : kept.join('') + '…'
}
