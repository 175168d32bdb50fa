// A few end-to-end checks of the built `spout` bin as a user runs it: real process, real signals.
import { execFile, spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl } from './test-harness.ts'

const packageDirectory = resolve(import.meta.dirname, '..')
const bin = join(packageDirectory, 'dist', 'bin.js')
let sim: Simulator
let directory: string

/** Newest modification time of the source files under `path` (tests aside). */
async function newest(path: string): Promise<number> {
  let latest = 0
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !/\.test\.ts$|test-harness\.ts$/.test(entry.name))
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return latest
}

beforeAll(async () => {
  // `pnpm test` builds first; build here only when the bin is missing or older than its sources.
  if (!existsSync(bin) || statSync(bin).mtimeMs < (await newest(join(packageDirectory, 'src')))) {
    // The siblings' builds are reused when present (`pnpm test` refreshes them); else build them too.
    const siblingsBuilt = ['core', 'ws-server'].every((name) =>
      existsSync(join(packageDirectory, '..', name, 'dist', 'index.js')),
    )
    await promisify(execFile)('pnpm', ['--filter', siblingsBuilt ? '@spout/cli' : '@spout/cli...', 'build'], {
      cwd: packageDirectory,
      env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH}` },
    })
  }
  sim = await startSimulator({ tokensPerSecond: 100 })
  directory = await mkdtemp(join(tmpdir(), 'spout-bin-'))
}, 240_000)

afterAll(async () => {
  await sim?.close()
  if (directory) await rm(directory, { recursive: true, force: true })
})

function spout(argv: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...argv], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', OLLAMA_HOST: sim.url, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, exit }
}

describe('the spout bin', () => {
  it('pipes a dataset to stdout from stdin, with plain progress on stderr', async () => {
    const { child, exit } = spout(['run', '-', '-m', 'llama3.2'])
    child.stdin.end('first prompt\nsecond prompt\n')
    const result = await exit
    expect(result.code).toBe(0)
    expect(parseJsonl(result.stdout).map((line) => line.id)).toEqual(['1', '2'])
    expect(result.stderr).toMatch(/^spout: 2 ok, 0 failed/m)
    expect(result.stderr + result.stdout).not.toMatch(/\x1b/)
  })

  it('exits 130 on SIGINT and leaves an output that --resume completes', async () => {
    const ids = Array.from({ length: 6 }, (_, index) => `k${index}`)
    await writeFile(
      join(directory, 'in.jsonl'),
      ids.map((id) => JSON.stringify({ id, prompt: `tell me about ${id}` })).join('\n'),
    )
    sim.resetCounters()
    const { child, exit } = spout(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl'])
    while (sim.counters.completed < 1) await new Promise((resolve) => setTimeout(resolve, 20))
    child.kill('SIGINT')
    const interrupted = await exit
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr).toMatch(/resume with: spout run in\.jsonl -m llama3\.2 -o out\.jsonl --resume/)

    const resumed = await spout(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl', '--resume']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    const lines = parseJsonl(await readFile(join(directory, 'out.jsonl'), 'utf8'))
    expect(lines.map((line) => line.id).sort()).toEqual(ids)
  })
})
