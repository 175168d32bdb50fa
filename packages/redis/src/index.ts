// @spout/redis: Spout past one machine, on Redis. Loaded only by those who use it (`spout serve --redis`).
export { checkRedisUrl, displayRedisUrl } from './connection.ts'
export type { RedisErrorCode } from './errors.ts'
export { RedisError } from './errors.ts'
export type { RedisHubBusOptions } from './redis-hub-bus.ts'
export { redisHubBus } from './redis-hub-bus.ts'
