// `spout serve --redis`: @spout/redis is imported only then, so a hub without Redis (and `spout
// --help`) never loads a Redis client.

import { SpoutError } from '@spout/core/errors'
import type { HubBus } from '@spout/ws-server'
import { CliError } from '../cli-error.ts'

export const redisMissingMessage =
  '--redis needs @spout/redis, which is not installed: npm install @spout/redis (next to @spout/cli)'

/** Connects the hub's bus (`where`: the URL without its password); failures become one-line usage errors. */
export async function openHubBus(
  url: string,
  stderr: { write(text: string): unknown },
  importRedis: () => Promise<typeof import('@spout/redis')> = () => import('@spout/redis'),
): Promise<{ bus: HubBus; where: string }> {
  let redis: typeof import('@spout/redis')
  try {
    redis = await importRedis()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@spout/redis')) {
      throw new CliError(redisMissingMessage, { cause: error })
    }
    throw error
  }
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
