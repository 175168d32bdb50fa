import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OllamaClient, type SpoutPlugin } from '@spout/core'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { type RedisServer, startRedisServer } from '@spout/redis/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadRedisPackage, redisMissing } from '../redis-package.ts'
import { runCli, startCli } from '../testing/harness.ts'
import { runOnQueue } from './run-queue.ts'

let sim: Simulator
let redis: RedisServer
let directory: string
beforeAll(async () => {
  sim = await startSimulator({ numParallel: 4, tokensPerSecond: 80 })
  // With a password: it works, and it never shows.
  redis = await startRedisServer({ password: 's3cret-pw' })
  directory = await mkdtemp(join(tmpdir(), 'spout-run-queue-'))
  const lines = Array.from({ length: 12 }, (_, index) =>
    JSON.stringify({ id: `q${index}`, prompt: `queued ${index} [sim:tokens=12]` }),
  )
  await writeFile(join(directory, 'in.jsonl'), `${lines.join('\n')}\n`)
})
afterAll(async () => {
  await sim.close()
  await redis.close()
  await rm(directory, { recursive: true, force: true })
})

async function outputIds(name: string): Promise<string[]> {
  const text = await readFile(join(directory, name), 'utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { id: string }).id)
}

const allIds = Array.from({ length: 12 }, (_, index) => `q${index}`).sort()

describe('spout run --queue', () => {
  it('runs the batch through the queue with its own worker, and leaves nothing of it in Redis', async () => {
    const result = await runCli(
      [
        'run',
        'in.jsonl',
        '-m',
        'llama3.2',
        '-o',
        'alone.jsonl',
        '--host',
        sim.url,
        '-c',
        '4',
        '--queue',
        redis.url,
      ],
      { cwd: directory },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/12 ok, 0 failed/)
    // One host: one worker here (the default is one per host).
    expect(result.stderr).toMatch(
      /batch "in\.jsonl" queued on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(run in-jsonl-\w+\); 1 worker here/,
    )
    expect(result.stderr).not.toContain('s3cret-pw')
    expect((await outputIds('alone.jsonl')).sort()).toEqual(allIds)
    // redis-cli comes with Debian's redis-server (redis-tools).
    const keys = execFileSync(
      'redis-cli',
      ['-p', String(redis.port), '-a', 's3cret-pw', '--no-auth-warning', '--scan'],
      { encoding: 'utf8' },
    )
    expect(keys.split('\n').filter((key) => key.startsWith('{spout:batch:') || key === 'spout:runs')).toEqual(
      [],
    )
  })

  it('runs one local worker per host by default, sharing the pool: two hosts, two workers, every id once', async () => {
    const second = await startSimulator({ numParallel: 2, tokensPerSecond: 80 })
    try {
      sim.resetCounters()
      const hosts = ['--host', sim.url, '--host', second.url]
      const args = ['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'pool.jsonl', ...hosts, '--queue', redis.url]
      const result = await runCli(args, { cwd: directory })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/; 2 workers here\n/)
      expect((await outputIds('pool.jsonl')).sort()).toEqual(allIds)
      const generated =
        (sim.counters.byPath['/api/generate'] ?? 0) + (second.counters.byPath['/api/generate'] ?? 0)
      expect(generated).toBe(12)
      // --workers 0: this process only collects; nothing is generated until a worker comes.
      sim.resetCounters()
      second.resetCounters()
      const collector = startCli(
        [
          ...args.slice(0, 5),
          'none.jsonl',
          ...hosts,
          '--queue',
          redis.url,
          '--workers',
          '0',
          '--name',
          'nobody',
        ],
        { cwd: directory },
      )
      const deadline = Date.now() + 20_000
      while (!collector.stderr.text.includes('; no worker here')) {
        if (Date.now() > deadline) throw new Error(`no queue line: ${collector.stderr.text}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
      collector.interrupt()
      expect(await collector.done, collector.stderr.text).toBe(130)
      expect(
        (sim.counters.byPath['/api/generate'] ?? 0) + (second.counters.byPath['/api/generate'] ?? 0),
      ).toBe(0)
      // Resumed with the default workers, it finishes (and leaves no job behind for the next test).
      const resumed = await runCli(
        [...args.slice(0, 5), 'none.jsonl', ...hosts, '--queue', redis.url, '--name', 'nobody', '--resume'],
        { cwd: directory },
      )
      expect(resumed.code, resumed.stderr).toBe(0)
      expect((await outputIds('none.jsonl')).sort()).toEqual(allIds)
    } finally {
      await second.close()
    }
  })

  it('resumes an interrupted collector: what is queued is not queued twice, every id once', async () => {
    sim.resetCounters()
    const first = startCli(
      [
        'run',
        'in.jsonl',
        '-m',
        'llama3.2',
        '-o',
        'resumed.jsonl',
        '--host',
        sim.url,
        '-c',
        '2',
        '--queue',
        redis.url,
        '--name',
        'resumable',
      ],
      { cwd: directory },
    )
    const deadline = Date.now() + 20_000
    while (!(await readFile(join(directory, 'resumed.jsonl'), 'utf8').catch(() => '')).includes('\n')) {
      if (Date.now() > deadline) throw new Error(`no line written: ${first.stderr.text}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    first.interrupt()
    expect(await first.done, first.stderr.text).toBe(130)
    const written = (await outputIds('resumed.jsonl')).length
    expect(written).toBeLessThan(12)
    const second = await runCli(
      [
        'run',
        'in.jsonl',
        '-m',
        'llama3.2',
        '-o',
        'resumed.jsonl',
        '--host',
        sim.url,
        '-c',
        '4',
        '--queue',
        redis.url,
        '--name',
        'resumable',
        '--resume',
      ],
      { cwd: directory },
    )
    expect(second.code, second.stderr).toBe(0)
    expect((await outputIds('resumed.jsonl')).sort()).toEqual(allIds)
    // Records cut by the interruption run again; none is generated a third time.
    expect(sim.counters.byPath['/api/generate']).toBeLessThanOrEqual(12 + 2)
  })

  it("takes a viewer's stop-job through context.control: stops collecting, interrupted, the batch stays for --resume", async () => {
    const client = new OllamaClient({ host: sim.url })
    let stopped = false
    const stopper: SpoutPlugin = {
      name: 'stopper',
      recordStart(_event, context) {
        if (stopped) return
        stopped = true
        context.control!.stopJob('from the test')
      },
    }
    const input = Array.from({ length: 12 }, (_, index) => ({
      id: `s${index}`,
      prompt: `stop ${index} [sim:tokens=40]`,
    }))
    try {
      const summary = await runOnQueue(
        { client, model: 'llama3.2', input, name: 'stoppable', concurrency: 2, plugins: [stopper] },
        { url: redis.url, workers: 1, resume: false, warn: () => {} },
      )
      expect(stopped).toBe(true)
      expect(summary.interrupted).toBe(true)
      expect(summary.error).toBeUndefined()
      expect(summary.ok).toBeLessThan(12)
      const runs = execFileSync(
        'redis-cli',
        ['-p', String(redis.port), '-a', 's3cret-pw', '--no-auth-warning', 'hget', 'spout:runs', 'stoppable'],
        { encoding: 'utf8' },
      )
      expect(runs.trim()).not.toBe('')
    } finally {
      await client.close()
    }
  })

  it('refuses --workers without --queue, a URL that is not Redis, and a wrong password, in one line each', async () => {
    const workers = await runCli(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'x.jsonl', '--workers', '2'], {
      cwd: directory,
    })
    expect(workers.code).toBe(2)
    expect(workers.stderr).toBe('spout: --workers needs --queue <redis-url>\n')
    const url = await runCli(['worker', '--queue', 'http://127.0.0.1:6379'], { cwd: directory })
    expect(url.code).toBe(2)
    const wrong = await runCli(['worker', '--queue', `redis://:wrong@127.0.0.1:${redis.port}`], {
      cwd: directory,
    })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(
      /^spout: --queue: \[redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\] cannot connect: .+\n$/,
    )
    expect(url.stderr).toMatch(
      /^spout: --queue: \[redis http:\/\/127\.0\.0\.1:6379\] expected redis:\/\/ or rediss:\/\/, got http:\/\/\n$/,
    )
  })

  it('says how to install @spout/redis when it is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@spout/redis' imported from /x/cli.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    await expect(loadRedisPackage('--queue', () => Promise.reject(missing))).rejects.toThrow(
      redisMissing('--queue'),
    )
    expect(redisMissing('--queue')).toBe(
      '--queue needs @spout/redis, which is not installed: npm install @spout/redis (next to @spout/cli)',
    )
  })
})
