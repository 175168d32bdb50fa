const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 })

export function formatCount(value: number): string {
  return integer.format(value)
}

export function formatRate(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : oneDecimal.format(value)
}

/** `850ms`, `12.4s`, `3m 05s`, `1h 02m`. */
export function formatDuration(milliseconds: number | undefined): string {
  if (milliseconds === undefined || !Number.isFinite(milliseconds)) return '–'
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`
  const seconds = milliseconds / 1000
  if (seconds < 60) return `${oneDecimal.format(seconds)}s`
  const wholeSeconds = Math.round(seconds)
  const minutes = Math.floor(wholeSeconds / 60)
  if (minutes < 60) return `${minutes}m ${String(wholeSeconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`
}

/** Ollama durations are nanoseconds. */
export function formatNanoseconds(nanoseconds: number | undefined): string {
  return nanoseconds === undefined ? '–' : formatDuration(nanoseconds / 1e6)
}

/** The first line of a message, for one-line error displays. */
export function firstLine(text: string): string {
  const end = text.indexOf('\n')
  return end === -1 ? text : `${text.slice(0, end)} …`
}
