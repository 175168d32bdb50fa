// @spout/redis is imported only by the commands that use it (`serve --redis`, `run --queue`,
// `worker`), so a plain install never loads a Redis client, and one without the package gets one line.
import { CliError } from './cli-error.ts'

export type RedisPackage = typeof import('@spout/redis')

/** `--redis needs @spout/redis, which is not installed: npm install @spout/redis (next to @spout/cli)` */
export function redisMissing(what: string): string {
  return `${what} needs @spout/redis, which is not installed: npm install @spout/redis (next to @spout/cli)`
}

/** Imports @spout/redis for `what` (a flag or a command); a missing package becomes a usage error. */
export async function loadRedisPackage(
  what: string,
  importRedis: () => Promise<RedisPackage> = () => import('@spout/redis'),
): Promise<RedisPackage> {
  try {
    return await importRedis()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@spout/redis')) {
      throw new CliError(redisMissing(what), { cause: error })
    }
    throw error
  }
}
