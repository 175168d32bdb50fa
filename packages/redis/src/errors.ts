import { SpoutError } from '@spout/core'

/**
 * Errors of the Redis-backed parts: a URL that is not Redis's, a connection that fails, a queued
 * batch replaced by a newer run of the same name.
 * Codes are documented in docs/guide/scale-out.md.
 */
export type RedisErrorCode =
  | 'SPOUT_REDIS_URL'
  | 'SPOUT_REDIS_CONNECT'
  | 'SPOUT_REDIS_COMMAND'
  | 'SPOUT_QUEUE_REPLACED'

export class RedisError extends SpoutError {
  override name = 'RedisError'
  declare readonly code: RedisErrorCode
  /** The Redis address without its password. */
  readonly url: string

  constructor(code: RedisErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(code, `[redis ${url}] ${message}`, options)
    this.url = url
  }
}
