// `created_at` for every chunk, as Ollama stamps them. A model streams a token every few hundred
// microseconds, and `Date#toISOString` costs microseconds: the string is made once per millisecond.

let lastMillisecond = 0
let lastText = ''

/** The current time as an ISO 8601 string, made at most once per millisecond. */
export function isoNow(): string {
  const now = Date.now()
  if (now !== lastMillisecond) {
    lastMillisecond = now
    lastText = new Date(now).toISOString()
  }
  return lastText
}
