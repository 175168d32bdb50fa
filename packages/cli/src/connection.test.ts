import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDuration, parseHeader, resolveConnection } from './connection.ts'
import { parseJsonl, runCli } from './testing/harness.ts'

let sim: Simulator
let directory: string
beforeAll(async () => {
  sim = await startSimulator({ tokensPerSecond: 0 })
  directory = await mkdtemp(join(tmpdir(), 'spout-connection-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

/** A proxy in front of the simulator that keeps the headers of every request it forwards. */
async function headerRecordingProxy(): Promise<{
  url: string
  seen: IncomingHttpHeaders[]
  close(): Promise<void>
}> {
  const seen: IncomingHttpHeaders[] = []
  const server = createServer(async (request, response) => {
    seen.push(request.headers)
    const body: Buffer[] = []
    for await (const piece of request) body.push(piece as Buffer)
    const upstream = await fetch(`${sim.url}${request.url}`, {
      method: request.method,
      ...(request.method === 'POST' ? { body: Buffer.concat(body) } : {}),
    })
    response.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'text/plain',
    })
    response.end(Buffer.from(await upstream.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

describe('durations and headers', () => {
  it.each([
    ['1500', 1500],
    ['1500ms', 1500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['0.5s', 500],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text, '--idle-timeout')).toBe(ms)
  })

  it.each(['', 'soon', '-1', '10d', '1e3'])('refuses %j in one line naming the flag', (text) => {
    expect(() => parseDuration(text, '--idle-timeout')).toThrow(
      `--idle-timeout must be a duration like 30s, 2m or 1500 (ms), got "${text}"`,
    )
  })

  it('reads "Name: value" and refuses what HTTP refuses', () => {
    expect(parseHeader('Authorization: Bearer abc:def')).toEqual(['Authorization', 'Bearer abc:def'])
    for (const bad of ['no colon', ': value', 'bad name: x', 'X-Evil: a\r\nInjected: 1']) {
      expect(() => parseHeader(bad)).toThrow(/^--header must look like "Name: value"/)
    }
  })

  it('lets each flag override the config key by key', () => {
    expect(
      resolveConnection(
        { idleTimeout: '5s', header: ['X-Team: b'] },
        { timeouts: { connect: 100, idle: 1 }, headers: { 'X-Team': 'a', Authorization: 'Bearer t' } },
      ),
    ).toEqual({
      timeouts: { connect: 100, idle: 5000 },
      headers: { 'X-Team': 'b', Authorization: 'Bearer t' },
    })
    expect(resolveConnection({})).toEqual({})
  })
})

describe('the connection flags reach the server', () => {
  it('spout gen --first-byte-timeout fails a slow start with a timeout, and a longer one waits', async () => {
    const prompt = 'Hi [sim:fault=slow-start,ms=600]'
    const env = { OLLAMA_HOST: sim.url }
    const quick = await runCli(['gen', '-m', 'llama3.2', '--first-byte-timeout', '100ms', prompt], {
      cwd: directory,
      env,
    })
    expect(quick.code).not.toBe(0)
    expect(quick.stderr).toMatch(/100 ms/)
    const patient = await runCli(['gen', '-m', 'llama3.2', '--first-byte-timeout', '5s', prompt], {
      cwd: directory,
      env,
    })
    expect(patient.code, patient.stderr).toBe(0)
  })

  it('sends --header and the config file headers on every request of spout run, spout models and spout gen', async () => {
    const proxy = await headerRecordingProxy()
    try {
      await writeFile(join(directory, 'in.jsonl'), '{"id":"a","prompt":"one"}\n')
      await writeFile(
        join(directory, 'spout.config.json'),
        JSON.stringify({ headers: { 'X-Team': 'data' }, timeouts: { firstByte: 5000 } }),
      )
      const env = { OLLAMA_HOST: proxy.url }
      const run = await runCli(
        ['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl', '--header', 'Authorization: Bearer s3cret'],
        { cwd: directory, env },
      )
      expect(run.code, run.stderr).toBe(0)
      expect(proxy.seen.length).toBeGreaterThanOrEqual(2)
      for (const headers of proxy.seen) {
        expect(headers.authorization).toBe('Bearer s3cret')
        expect(headers['x-team']).toBe('data')
      }
      proxy.seen.length = 0
      const models = await runCli(['models', '--header', 'Authorization: Bearer m'], { cwd: directory, env })
      expect(models.code, models.stderr).toBe(0)
      const gen = await runCli(['gen', '-m', 'llama3.2', '--header', 'Authorization: Bearer g', 'hi'], {
        cwd: directory,
        env,
      })
      expect(gen.code, gen.stderr).toBe(0)
      expect(proxy.seen.map((headers) => headers.authorization)).toEqual(['Bearer m', 'Bearer g'])
    } finally {
      await rm(join(directory, 'spout.config.json'), { force: true })
      await proxy.close()
    }
  })

  it('refuses a config file whose timeouts or headers are malformed', async () => {
    await writeFile(join(directory, 'in.jsonl'), '{"id":"a","prompt":"one"}\n')
    await writeFile(join(directory, 'spout.config.json'), JSON.stringify({ timeouts: { firstbyte: 5 } }))
    try {
      const result = await runCli(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl'], {
        cwd: directory,
        env: { OLLAMA_HOST: sim.url },
      })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(
        /spout\.config\.json: timeouts: unknown key "firstbyte" \(known: connect, firstByte, idle\)/,
      )
      expect(parseJsonl(result.stdout)).toEqual([])
    } finally {
      await rm(join(directory, 'spout.config.json'), { force: true })
    }
  })
})
