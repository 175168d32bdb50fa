import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { type RedisServer, startRedisServer } from '@spout/redis/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../testing/harness.ts'
import { openHubBus, redisMissingMessage } from './serve-redis.ts'

let sim: Simulator
let redis: RedisServer
let directory: string
beforeAll(async () => {
  sim = await startSimulator()
  redis = await startRedisServer({ password: 'pa ss' })
  directory = await mkdtemp(join(tmpdir(), 'spout-serve-redis-'))
})
afterAll(async () => {
  await sim.close()
  await redis.close()
  await rm(directory, { recursive: true, force: true })
})

describe('spout serve --redis', () => {
  it('shares a run published to one hub with a viewer on another', async () => {
    const hubs = [0, 1].map(() =>
      startCli(['serve', '--port', '0', '--redis', redis.url], { cwd: directory }),
    )
    await Promise.all(hubs.map((hub) => hub.stdout.waitFor(/\n/)))
    const [urlA, urlB] = hubs.map((hub) => hub.stdout.text.trim()) as [string, string]
    // The password never shows.
    expect(hubs[0]!.stderr.text).toContain(
      `sharing jobs and viewers through redis://:***@127.0.0.1:${redis.port}`,
    )
    expect(hubs[0]!.stderr.text).not.toContain('pa ss')

    const socket = new WebSocket(`${urlB.replace(/^http/, 'ws')}/ws`)
    const events: { type: string; recordId?: string; sequence?: number }[] = []
    const ended = new Promise<void>((resolve) => {
      socket.addEventListener('message', (message) => {
        const frame = JSON.parse(String(message.data))
        events.push(...(Array.isArray(frame) ? frame : [frame]))
        if (events.some((event) => event.type === 'job-end')) resolve()
      })
    })
    await new Promise((resolve) => socket.addEventListener('open', resolve))
    await writeFile(
      join(directory, 'in.jsonl'),
      '{"id":"x1","prompt":"hello"}\n{"id":"x2","prompt":"world"}\n',
    )
    const run = await runCli(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl', '--broadcast', urlA], {
      cwd: directory,
      env: { OLLAMA_HOST: sim.url },
    })
    expect(run.code, run.stderr).toBe(0)
    await ended
    socket.close()
    const live = events.filter((event) => event.type !== 'hub-snapshot')
    expect(
      live
        .filter((event) => event.type === 'record-end')
        .map((event) => event.recordId)
        .sort(),
    ).toEqual(['x1', 'x2'])
    expect(live.map((event) => event.sequence)).toEqual(live.map((_, index) => index + 1))
    for (const hub of hubs) hub.interrupt()
    expect(await Promise.all(hubs.map((hub) => hub.done))).toEqual([0, 0])
  })

  it('exits 2 with one line when Redis refuses the password', async () => {
    const wrong = redis.url.replace('pa%20ss', 'nope')
    const serve = await runCli(['serve', '--port', '0', '--redis', wrong], { cwd: directory })
    expect(serve.code).toBe(2)
    expect(serve.stderr).toMatch(
      /^spout: --redis: \[redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\] cannot connect: .+\n$/,
    )
  })

  it('says how to install @spout/redis when it is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@spout/redis' imported from /x/cli.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    await expect(
      openHubBus('redis://127.0.0.1:1', process.stderr, () => Promise.reject(missing)),
    ).rejects.toThrow(redisMissingMessage)
  })
})
