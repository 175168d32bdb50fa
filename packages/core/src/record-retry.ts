// The pipeline's record retries: which failures start a record over, and how long to wait first. The
// client's own request retries (before the first byte) are in `request-retry.ts`.
import { backoffDelay } from './backoff.ts'

/** What to do after a failed attempt. */
export type FailureKind =
  /** The server is busy (503, 429): back-pressure; wait, lower the in-flight count, try again. */
  | 'busy'
  /** A transient failure (connection lost, 5xx, mid-stream error, timeout): start the record over. */
  | 'retry'
  /** Retrying cannot help (400, 404, a malformed stream, a plugin error): fail the record now. */
  | 'fatal'

const retryableCodes = new Set([
  'SPOUT_STREAM_ERROR',
  'SPOUT_STREAM_INCOMPLETE',
  'SPOUT_CONNECTION_ERROR',
  'SPOUT_CONNECT_TIMEOUT',
  'SPOUT_FIRST_BYTE_TIMEOUT',
  'SPOUT_IDLE_TIMEOUT',
])

/** Sorts a client error by its `code` (and `status` for HTTP errors). */
export function classifyFailure(error: unknown): FailureKind {
  const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown }
  if (code === 'SPOUT_HTTP_ERROR' && typeof status === 'number') {
    if (status === 503 || status === 429) return 'busy'
    if (status >= 500 || status === 408) return 'retry'
    return 'fatal'
  }
  return typeof code === 'string' && retryableCodes.has(code) ? 'retry' : 'fatal'
}

/** The pipeline's `retryDelay` option: the backoff between a record's attempts. */
export interface RetryDelay {
  /** Delay before the first retry, in milliseconds. Default 500. */
  base?: number
  /** Upper bound of a delay, in milliseconds. Default 30,000. */
  max?: number
}

/** Delay before a record's retry number `retry` (1 = first retry): the backoff with equal jitter. */
export function recordRetryDelay(retry: number, delay: RetryDelay = {}): number {
  return backoffDelay(retry, { base: delay.base ?? 500, max: delay.max ?? 30_000 })
}
