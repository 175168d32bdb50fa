// `spout serve --redis`: @spout/redis is imported only then, so a hub without Redis (and `spout
// --help`) never loads a Redis client.

import { SpoutError } from '@spout/core/errors'
import type { HubBus } from '@spout/ws-server'
import { CliError } from '../cli-error.ts'
import { loadRedisPackage, type RedisPackage, redisMissing } from '../redis-package.ts'

export const redisMissingMessage = redisMissing('--redis')

/** Connects the hub's bus (`where`: the URL without its password); failures become one-line usage errors. */
export async function openHubBus(
  url: string,
  stderr: { write(text: string): unknown },
  importRedis?: () => Promise<RedisPackage>,
): Promise<{ bus: HubBus; where: string }> {
  const redis = await loadRedisPackage('--redis', importRedis)
  try {
    const bus = await redis.redisHubBus({
      url,
      onError: (error) => stderr.write(`spout: warning: ${error.message}\n`),
    })
    return { bus, where: redis.displayRedisUrl(url) }
  } catch (error) {
    throw new CliError(`--redis: ${(error as Error).message}`, {
      cause: error,
      ...(error instanceof SpoutError ? { code: error.code } : {}),
    })
  }
}
