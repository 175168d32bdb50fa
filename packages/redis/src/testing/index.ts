// @spout/redis/testing: a real redis-server per test.
export type { RedisServer, RedisServerOptions } from './redis-server.ts'
export { startRedisServer } from './redis-server.ts'
