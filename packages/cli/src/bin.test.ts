// A few end-to-end checks of the built `spout` bin as a user runs it: real process, real signals.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bin, buildBinIfStale, spawnSpout } from './testing/bin.ts'
import { parseJsonl } from './testing/harness.ts'

let sim: Simulator
let directory: string

beforeAll(async () => {
  await buildBinIfStale()
  sim = await startSimulator({ tokensPerSecond: 100 })
  directory = await mkdtemp(join(tmpdir(), 'spout-bin-'))
}, 240_000)

afterAll(async () => {
  await sim?.close()
  if (directory) await rm(directory, { recursive: true, force: true })
})

const spout = (argv: string[]) => spawnSpout(argv, { cwd: directory, env: { OLLAMA_HOST: sim.url } })

/** Runs the bin under this Node made to report another version, the way an old Node would meet it. */
function runAsNode(version: string, argv: string[]): Promise<{ code: number; stderr: string }> {
  const pretend = `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'${version}'})`
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', pretend, bin, ...argv], (error, _stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
    )
  })
}

describe('the spout bin', () => {
  it('refuses a Node older than 22 with one line that says how to get a new one', async () => {
    const old = await runAsNode('20.20.2', ['--help'])
    expect(old.code).toBe(1)
    expect(old.stderr).toBe(
      'spout: Node.js 22 or newer is needed (this is v20.20.2); get Node 24 LTS with `npm i -g node@24` or nvm (`nvm install 24`)\n',
    )
    const current = await runAsNode('22.0.0', ['--version'])
    expect(current).toEqual({ code: 0, stderr: '' })
  })

  it('pipes a dataset to stdout from stdin, with plain progress on stderr', async () => {
    const { child, exit } = spout(['run', '-', '-m', 'llama3.2'])
    child.stdin?.end('first prompt\nsecond prompt\n')
    const result = await exit
    expect(result.code).toBe(0)
    expect(parseJsonl(result.stdout).map((line) => line.id)).toEqual(['1', '2'])
    expect(result.stderr).toMatch(/^spout: 2 ok, 0 failed/m)
    expect(result.stderr + result.stdout).not.toMatch(/\x1b/)
  })

  it.each([
    { signal: 'SIGINT', code: 130, prefix: 'k', why: 'Ctrl-C' },
    { signal: 'SIGTERM', code: 143, prefix: 't', why: 'a service manager stopping it' },
  ] as const)(
    'exits $code on $signal ($why) and leaves an output that --resume completes',
    async ({ signal, code, prefix }) => {
      const ids = Array.from({ length: 6 }, (_, index) => `${prefix}${index}`)
      await writeFile(
        join(directory, 'in.jsonl'),
        ids.map((id) => JSON.stringify({ id, prompt: `tell me about ${id}` })).join('\n'),
      )
      sim.resetCounters()
      const { child, exit } = spout(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl'])
      while (sim.counters.completed < 1) await new Promise((resolve) => setTimeout(resolve, 20))
      child.kill(signal)
      const stopped = await exit
      expect(stopped.code, stopped.stderr).toBe(code)
      expect(stopped.stderr).toMatch(/resume with: spout run in\.jsonl -m llama3\.2 -o out\.jsonl --resume/)

      const resumed = await spout(['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl', '--resume']).exit
      expect(resumed.code, resumed.stderr).toBe(0)
      const lines = parseJsonl(await readFile(join(directory, 'out.jsonl'), 'utf8'))
      expect(lines.map((line) => line.id).sort()).toEqual(ids)
    },
  )
})
