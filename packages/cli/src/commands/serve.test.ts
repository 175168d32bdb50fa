import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../testing/harness.ts'

let sim: Simulator
let directory: string
beforeAll(async () => {
  sim = await startSimulator()
  directory = await mkdtemp(join(tmpdir(), 'spout-serve-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

/** Collects the events a viewer receives until `done` says stop. */
function watch(url: string, done: (events: { type: string; jobId?: string }[]) => boolean, token?: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws${token ? `?token=${token}` : ''}`)
  const events: { type: string; jobId?: string; jobs?: unknown[] }[] = []
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve())
    socket.addEventListener('error', () => reject(new Error('viewer could not connect')))
  })
  const finished = new Promise<typeof events>((resolve) => {
    socket.addEventListener('message', (message) => {
      const frame = JSON.parse(String(message.data)) as typeof events | (typeof events)[number]
      events.push(...(Array.isArray(frame) ? frame : [frame]))
      if (done(events)) {
        socket.close()
        resolve(events)
      }
    })
  })
  return { opened, finished }
}

describe('spout serve', () => {
  it('prints its URL, takes a run published with --broadcast, and closes on Ctrl-C', async () => {
    const serve = startCli(['serve', '--port', '0', '--token', 's3cret'], { cwd: directory })
    await serve.stdout.waitFor(/^http:\/\/127\.0\.0\.1:\d+\n/)
    const url = serve.stdout.text.trim()
    expect(serve.stderr.text).toContain(`--broadcast ${url.replace(/^http/, 'ws')}`)

    const viewer = watch(url, (events) => events.some((event) => event.type === 'job-end'))
    await viewer.opened
    await writeFile(
      join(directory, 'in.jsonl'),
      '{"id":"b1","prompt":"hello"}\n{"id":"b2","prompt":"world"}\n',
    )
    const run = await runCli(
      ['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl', '--broadcast', url, '--token', 's3cret'],
      { cwd: directory, env: { OLLAMA_HOST: sim.url } },
    )
    expect(run.code, run.stderr).toBe(0)
    const events = await viewer.finished
    const ends = events.filter((event) => event.type === 'record-end') as { recordId?: string }[]
    expect(ends.map((event) => event.recordId).sort()).toEqual(['b1', 'b2'])

    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toMatch(/<div id="root">/)
    serve.interrupt()
    expect(await serve.done).toBe(0)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('takes its tokens from SPOUT_TOKEN and SPOUT_VIEWER_TOKEN, and so does spout run', async () => {
    const serve = startCli(['serve', '--port', '0'], {
      cwd: directory,
      env: { SPOUT_TOKEN: 'from-env', SPOUT_VIEWER_TOKEN: 'viewer-env' },
    })
    await serve.stdout.waitFor(/\n/)
    const url = serve.stdout.text.trim()
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
      socket.addEventListener('close', (event) => resolve(event.code))
    })
    expect(refused).toBe(4401)
    const viewer = watch(`${url}`, (events) => events.some((event) => event.type === 'job-end'), 'viewer-env')
    await viewer.opened
    await writeFile(join(directory, 'in.jsonl'), '{"id":"e1","prompt":"hello"}\n')
    const run = await runCli(
      ['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out-env.jsonl', '--broadcast', url],
      {
        cwd: directory,
        env: { OLLAMA_HOST: sim.url, SPOUT_TOKEN: 'from-env' },
      },
    )
    expect(run.code, run.stderr).toBe(0)
    const events = await viewer.finished
    expect(events.some((event) => event.type === 'record-end')).toBe(true)
    serve.interrupt()
    expect(await serve.done).toBe(0)
  })

  it('lets an origin given with --allow-origin connect, and refuses another', async () => {
    const serve = startCli(['serve', '--port', '0', '--allow-origin', 'https://viewer.example'], {
      cwd: directory,
    })
    await serve.stdout.waitFor(/\n/)
    const url = serve.stdout.text.trim().replace(/^http/, 'ws')
    const { WebSocket: NodeWebSocket } = await import('ws')
    const opens = (origin: string) =>
      new Promise<boolean>((resolve) => {
        const socket = new NodeWebSocket(`${url}/ws`, { origin })
        socket.on('message', () => {
          socket.close()
          resolve(true)
        })
        socket.on('close', () => resolve(false))
        socket.on('error', () => resolve(false))
      })
    expect(await opens('https://viewer.example')).toBe(true)
    expect(await opens('http://evil.example')).toBe(false)
    serve.interrupt()
    expect(await serve.done).toBe(0)
  })

  it('takes the longest tick from --tick, and refuses one that is not a whole number of ms', async () => {
    const serve = startCli(['serve', '--port', '0', '--tick', '2'], { cwd: directory })
    await serve.stdout.waitFor(/\n/)
    const metrics = await (await fetch(`${serve.stdout.text.trim()}/metrics`)).text()
    // The tick is at most the longest, here below the default shortest (8 ms): 2 ms.
    expect(metrics).toMatch(/^spout_hub_tick_seconds 0\.002$/m)
    serve.interrupt()
    expect(await serve.done).toBe(0)
    const refused = await runCli(['serve', '--port', '0', '--tick', 'fast'], { cwd: directory })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('spout: --tick expects a whole number ≥ 0, got "fast"\n')
  })

  it('compresses frames for viewers that offer permessage-deflate with --compression, not by default', async () => {
    const { WebSocket: NodeWebSocket } = await import('ws') // offers permessage-deflate, as browsers do
    const agreed = async (args: string[]) => {
      const serve = startCli(['serve', '--port', '0', ...args], { cwd: directory })
      await serve.stdout.waitFor(/\n/)
      const socket = new NodeWebSocket(`${serve.stdout.text.trim().replace(/^http/, 'ws')}/ws`)
      const extensions = await new Promise<string>((resolve, reject) => {
        socket.on('open', () => resolve(socket.extensions))
        socket.on('error', reject)
      })
      socket.close()
      serve.interrupt()
      expect(await serve.done).toBe(0)
      return extensions
    }
    expect(await agreed(['--compression'])).toBe('permessage-deflate')
    expect(await agreed([])).toBe('')
  })

  it('exits 2 with one line when the port is taken', async () => {
    const first = startCli(['serve', '--port', '0'], { cwd: directory })
    await first.stdout.waitFor(/\n/)
    const port = new URL(first.stdout.text.trim()).port
    const second = await runCli(['serve', '--port', port], { cwd: directory })
    expect(second.code).toBe(2)
    expect(second.stderr).toMatch(
      new RegExp(`^spout: cannot start the hub on 127\\.0\\.0\\.1:${port}: .+\\n$`),
    )
    first.interrupt()
    expect(await first.done).toBe(0)
  })
})
