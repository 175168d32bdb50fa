// @spout/redis: Spout past one machine, on Redis. Loaded only by those who use it (`spout serve
// --redis`, `spout run --queue`, `spout worker`).
export { checkRedisUrl, displayRedisUrl } from './connection.ts'
export type { RedisErrorCode } from './errors.ts'
export { RedisError } from './errors.ts'
export type { QueueBatch, QueueBatchOptions } from './queue-batch.ts'
export { openQueueBatch } from './queue-batch.ts'
export type { CollectedItem, QueueEntry } from './queue-collection.ts'
export type { BatchSpec } from './queue-keys.ts'
export { defaultQueueName, stageQueueName } from './queue-keys.ts'
export type { QueueWorker, QueueWorkerOptions } from './queue-worker.ts'
export { startQueueWorker } from './queue-worker.ts'
export type { RedisHubBusOptions } from './redis-hub-bus.ts'
export { redisHubBus } from './redis-hub-bus.ts'
