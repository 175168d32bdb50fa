// The client's request retries (the transport's): before the first byte only, on connection
// refused/reset and `503 server busy` (and 429), with backoff. Nothing is retried once a response has
// started. The pipeline's record retries are in `record-retry.ts`.
import { backoffDelay } from './backoff.ts'

export interface RetryOptions {
  /** Total tries, the first one included. Default 3. `1` (or `retry: false`) turns retries off. */
  attempts?: number
  /** Delay before the first retry, in ms; doubles each retry. Default 500. */
  baseDelay?: number
  /** Upper bound of one delay, in ms (also for a server's `Retry-After`). Default 8000. */
  maxDelay?: number
}

export type ResolvedRetry = Required<RetryOptions>

export const defaultRetry: ResolvedRetry = { attempts: 3, baseDelay: 500, maxDelay: 8000 }

export const noRetry: ResolvedRetry = { attempts: 1, baseDelay: 0, maxDelay: 0 }

export function resolveRetry(base: ResolvedRetry, override: RetryOptions | false | undefined): ResolvedRetry {
  if (override === false) return noRetry
  if (override === undefined) return base
  const resolved = {
    attempts: override.attempts ?? (base.attempts > 1 ? base.attempts : defaultRetry.attempts),
    baseDelay: override.baseDelay ?? base.baseDelay,
    maxDelay: override.maxDelay ?? base.maxDelay,
  }
  if (!Number.isInteger(resolved.attempts) || resolved.attempts < 1) {
    throw new RangeError(`retry.attempts must be an integer >= 1, got ${resolved.attempts}`)
  }
  if (!(resolved.baseDelay >= 0) || !(resolved.maxDelay >= 0)) {
    throw new RangeError('retry.baseDelay and retry.maxDelay must be >= 0')
  }
  return resolved
}

/**
 * Delay before the request's retry number `retry` (1 = first retry): the backoff from `baseDelay` up to
 * `maxDelay` (equal jitter), raised by a server's `Retry-After` (capped by `maxDelay`).
 */
export function requestRetryDelay(
  retry: number,
  options: ResolvedRetry,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const delay = backoffDelay(retry, { base: options.baseDelay, max: options.maxDelay }, random)
  const floor = retryAfterMs === undefined ? 0 : Math.min(options.maxDelay, retryAfterMs)
  return Math.max(delay, floor)
}

/** `Retry-After` in ms (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined || text.trim() === '') return undefined
  const seconds = Number(text)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
