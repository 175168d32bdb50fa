/** Time helpers: Go's RFC 3339 text for `time.Time`, and a sleep that an AbortSignal ends early. */

const pad2 = (value: number): string => (value < 10 ? '0' : '') + value

/**
 * A timestamp as Go writes `time.Time` (RFC 3339, fractional seconds with trailing zeros trimmed).
 * `utc` gives `...Z` like Ollama's `created_at`; otherwise the machine's local offset (`modified_at`, `expires_at`).
 */
export function formatGoTime(milliseconds: number, utc = true): string {
  const offsetMinutes = utc ? 0 : -new Date(milliseconds).getTimezoneOffset()
  const shifted = new Date(milliseconds + offsetMinutes * 60_000)
  const fraction = shifted.getUTCMilliseconds()
  let text =
    shifted.getUTCFullYear() +
    '-' +
    pad2(shifted.getUTCMonth() + 1) +
    '-' +
    pad2(shifted.getUTCDate()) +
    'T' +
    pad2(shifted.getUTCHours()) +
    ':' +
    pad2(shifted.getUTCMinutes()) +
    ':' +
    pad2(shifted.getUTCSeconds())
  if (fraction !== 0) text += '.' + String(fraction).padStart(3, '0').replace(/0+$/, '')
  if (offsetMinutes === 0) return text + 'Z'
  const sign = offsetMinutes > 0 ? '+' : '-'
  const absolute = Math.abs(offsetMinutes)
  return text + sign + pad2(Math.floor(absolute / 60)) + ':' + pad2(absolute % 60)
}

/** `created_at` for the current instant; the text is cached for the current millisecond (hot path). */
export function createClock(): () => string {
  let lastMillisecond = -1
  let lastText = ''
  return () => {
    const now = Date.now()
    if (now !== lastMillisecond) {
      lastMillisecond = now
      lastText = formatGoTime(now)
    }
    return lastText
  }
}

/** Resolves after `milliseconds`, or as soon as `signal` aborts (never rejects). */
export function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (milliseconds <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, milliseconds)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Nanoseconds elapsed since a `performance.now()` reading, at least 1 (Go omits zero durations). */
export function nanosecondsSince(start: number, end = performance.now()): number {
  return Math.max(1, Math.round((end - start) * 1_000_000))
}
