export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. */
  base: number
  /** Upper bound of any delay, in milliseconds. */
  max: number
}

export const defaultBackoff: BackoffOptions = { base: 500, max: 10_000 }

/**
 * "Full jitter" backoff: a random delay between `base` and `min(max, base * 2^(attempt-1))`, so that
 * many viewers of a restarted hub do not all come back in the same instant.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = defaultBackoff,
  random = Math.random,
): number {
  const ceiling = Math.min(options.max, options.base * 2 ** Math.max(0, attempt - 1))
  return Math.round(options.base + random() * Math.max(0, ceiling - options.base))
}
