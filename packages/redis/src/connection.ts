import { Redis, type RedisOptions } from 'ioredis'
import { RedisError } from './errors.ts'

/** `redis://…` or `rediss://…` (TLS) with the password masked, for messages. */
export function displayRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return '(invalid url)'
  }
}

/** Checks a Redis address: `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
export function checkRedisUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new RedisError('SPOUT_REDIS_URL', '(invalid url)', `not a URL: ${JSON.stringify(url)}`, {
      cause: error,
    })
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisError(
      'SPOUT_REDIS_URL',
      displayRedisUrl(url),
      `expected redis:// or rediss://, got ${parsed.protocol}//`,
    )
  }
  const db = parsed.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new RedisError('SPOUT_REDIS_URL', displayRedisUrl(url), `the database must be a number, got /${db}`)
  }
}

/**
 * Opens a connection that reconnects on its own (backoff up to 2 s) and keeps commands queued
 * while it is away (`maxRetriesPerRequest: null`), so a Redis restart delays work instead of failing it.
 */
export async function openRedis(url: string, name: string): Promise<Redis> {
  checkRedisUrl(url)
  const options: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  }
  const redis = new Redis(url, options)
  // Reported through failed commands; it reconnects on its own. The first one says why a connect
  // failed (a TLS error, say) where `connect` only says the connection closed.
  let first: Error | undefined
  redis.on('error', (error: Error) => {
    first ??= error
  })
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    const reason = first ?? (error as Error)
    throw new RedisError('SPOUT_REDIS_CONNECT', displayRedisUrl(url), `cannot connect: ${reason.message}`, {
      cause: reason,
    })
  }
  return redis
}
