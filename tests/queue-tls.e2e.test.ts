// `rediss://`: the queue over TLS, against a redis-server that only speaks TLS, with a self-signed
// certificate that the CLI trusts the standard Node way (NODE_EXTRA_CA_CERTS); without it, one line.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { type RedisServer, startRedisServer } from '@spout/redis/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCli } from './support/cli.ts'
import { makeTempDir } from './support/temp-dir.ts'

let directory: { path: string; remove: () => Promise<void> }
let redis: RedisServer
let sim: Simulator

beforeAll(async () => {
  directory = await makeTempDir('spout-queue-tls-')
  redis = await startRedisServer({ tls: true, password: 'tls-s3cret' })
  sim = await startSimulator({ numParallel: 4, tokensPerSecond: 400 })
})

afterAll(async () => {
  await sim?.close()
  await redis?.close()
  await directory?.remove()
})

describe('spout run --queue rediss://', () => {
  it('runs the batch over TLS with a password, and says in one line when the certificate is not trusted', async () => {
    expect(redis.url).toMatch(/^rediss:\/\/:tls-s3cret@127\.0\.0\.1:\d+$/)
    const input = join(directory.path, 'in.jsonl')
    const output = join(directory.path, 'out.jsonl')
    await writeFile(
      input,
      Array.from(
        { length: 8 },
        (_, index) => `${JSON.stringify({ id: `t${index}`, prompt: `tls ${index}` })}\n`,
      ).join(''),
    )
    const args = [
      'run',
      input,
      '-m',
      'llama3.2',
      '-o',
      output,
      '--no-progress',
      '--host',
      sim.url,
      '--queue',
      redis.url,
    ]
    const trusted = await spawnCli(args, { env: { NODE_EXTRA_CA_CERTS: redis.caFile } }).exited
    expect(trusted.code, trusted.stderr).toBe(0)
    expect(trusted.stderr).toMatch(/queued on rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ /)
    expect(trusted.stderr).not.toContain('tls-s3cret')
    const ids = (await readFile(output, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { id: string }).id)
    expect(ids.sort()).toEqual(Array.from({ length: 8 }, (_, index) => `t${index}`).sort())

    const untrusted = await spawnCli([
      ...args.slice(0, 5),
      join(directory.path, 'no.jsonl'),
      ...args.slice(6),
    ]).exited
    expect(untrusted.code).toBe(2)
    expect(untrusted.stderr).toMatch(
      /^spout: --queue: \[redis rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\] cannot connect: self[- ]signed certificate[^\n]*\n$/,
    )
  }, 60_000)
})
