/** Human formats for sizes, durations, rates and table cells. */

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
 * Columns a string takes in a terminal (wide East Asian characters and emoji count 2, marks 0). Where
 * terminals disagree (symbols that some draw as emoji, a variation selector asking for the emoji
 * form) it counts wide: a line cut one column short is harmless, one column too long wraps.
 */
export function displayWidth(text: string): number {
  let width = 0
  for (const character of text) width += characterWidth(character.codePointAt(0) ?? 0)
  return width
}

function characterWidth(codePoint: number): number {
  if (codePoint < 32 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0
  // VS16 turns the symbol before it into a double-wide emoji on most terminals (☺️, ❤️, ▶️).
  if (codePoint === 0xfe0f) return 1
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    codePoint === 0x200d ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0e)
  )
    return 0
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    // Emoji in the BMP drawn double wide: ⌚⌛, ⏩–⏳, ☀–➿ (✨ ✅ ❌ ⚡ …), ⬛⬜⭐⭕.
    codePoint === 0x231a ||
    codePoint === 0x231b ||
    (codePoint >= 0x23e9 && codePoint <= 0x23f3) ||
    (codePoint >= 0x2600 && codePoint <= 0x27bf) ||
    (codePoint >= 0x2b1b && codePoint <= 0x2b1c) ||
    codePoint === 0x2b50 ||
    codePoint === 0x2b55 ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f000 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  )
    return 2
  return 1
}

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
  const characters = Array.from(flat)
  let used = 1
  const kept: string[] = []
  if (keep === 'end') {
    for (let index = characters.length - 1; index >= 0; index -= 1) {
      const character = characters[index]!
      const size = characterWidth(character.codePointAt(0) ?? 0)
      if (used + size > width) break
      used += size
      kept.push(character)
    }
    return '…' + kept.reverse().join('')
  }
  for (const character of characters) {
    const size = characterWidth(character.codePointAt(0) ?? 0)
    if (used + size > width) break
    used += size
    kept.push(character)
  }
  return kept.join('') + '…'
}
