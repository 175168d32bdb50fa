// Redis Cluster: the keys of one queue share a hash tag, so BullMQ's scripts and the collector's
// commands stay in one slot. Checked on a one-node cluster that holds every slot, which refuses a
// command or script whose keys span slots (CROSSSLOT) exactly as a real cluster does.
import { execFileSync } from 'node:child_process'
import { OllamaClient } from '@spout/core'
import { startSimulator } from '@spout/ollama-sim'
import { afterAll, describe, expect, it } from 'vitest'
import { openQueueBatch } from './queue-batch.ts'
import { batchKeys, queuePrefix, stageQueueName } from './queue-keys.ts'
import { startQueueWorker } from './queue-worker.ts'
import { startRedisServer } from './testing/redis-server.ts'

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

/** The part of a key Redis Cluster hashes: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{')
  const close = open === -1 ? -1 : key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

describe('the queue on Redis Cluster', () => {
  it('tags every key of a queue with the queue, and every key of a batch with the batch', () => {
    expect(queuePrefix('spout')).toBe('{spout}')
    expect(hashTag(`${queuePrefix('spout')}:spout:wait`)).toBe('spout')
    expect(hashTag(`${queuePrefix(stageQueueName('teacher'))}:spout.teacher:wait`)).toBe('spout.teacher')
    const keys = batchKeys('spout', 'run-1')
    expect(new Set(Object.values(keys).map(hashTag))).toEqual(new Set(['spout:batch:run-1']))
  })

  it('runs a batch on a one-node cluster: every id once, every BullMQ key of the queue in one slot', async () => {
    const redis = await startRedisServer({ cluster: true })
    closers.push(() => redis.close())
    const sim = await startSimulator({ numParallel: 4, tokensPerSecond: 400 })
    closers.push(() => sim.close())
    const worker = await startQueueWorker({
      url: redis.url,
      client: new OllamaClient({ host: sim.url }),
      concurrency: 3,
      lockDuration: 2000,
    })
    closers.push(() => worker.close({ force: true }))
    const errors: string[] = []
    const batch = await openQueueBatch({
      url: redis.url,
      spec: { jobId: 'job-cluster', name: 'cluster', model: 'llama3.2', template: 'Say {{n}}' },
      sweepInterval: 300,
      onError: (error) => errors.push(error.message),
    })
    closers.push(() => batch.close())
    const entries = Array.from({ length: 12 }, (_, index) => ({ id: `c${index}`, record: { n: index } }))
    const ids: string[] = []
    // While the batch runs: what BullMQ keeps in Redis for the queue.
    let queueKeys: string[] = []
    for await (const item of batch.collect(entries)) {
      if (item.type !== 'result') continue
      expect(item.line.error).toBeUndefined()
      ids.push(item.line.id)
      if (ids.length === 6)
        queueKeys = execFileSync('redis-cli', ['-p', String(redis.port), '--scan'], { encoding: 'utf8' })
          .split('\n')
          .filter((key) => key !== '' && !key.startsWith('{spout:batch:') && key !== 'spout:runs')
    }
    expect(ids.sort()).toEqual(entries.map((entry) => entry.id).sort())
    expect(errors).toEqual([])
    expect(queueKeys.length).toBeGreaterThan(2)
    expect(new Set(queueKeys.map(hashTag))).toEqual(new Set(['spout']))
    await batch.finish()
  })
})
