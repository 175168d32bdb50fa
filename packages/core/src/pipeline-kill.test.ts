import { spawn } from 'node:child_process'
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareResume } from './resume.ts'

const fixture = fileURLToPath(new URL('./testing/pipeline-kill-batch.ts', import.meta.url))
const count = 40

let sim: Simulator
let directory: string
beforeAll(async () => {
  sim = await startSimulator({ numParallel: 3, tokensPerSecond: 300 })
  directory = await mkdtemp(join(tmpdir(), 'spout-kill-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

async function lineCount(path: string): Promise<number> {
  try {
    if ((await stat(path)).size === 0) return 0
    return (await readFile(path, 'utf8')).split('\n').length - 1
  } catch {
    return 0
  }
}

/** Runs the fixture; kills it with SIGKILL once the output holds `killAfter` more lines (if given). */
function runChild(args: string[], output: string, killAfter?: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let timer: NodeJS.Timeout | undefined
    if (killAfter !== undefined) {
      void lineCount(output).then((start) => {
        const poll = async () => {
          if ((await lineCount(output)) >= start + killAfter) child.kill('SIGKILL')
          else timer = setTimeout(poll, 2)
        }
        void poll()
      })
    }
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (signal === 'SIGKILL') resolve('killed')
      else if (code === 0) resolve('finished')
      else reject(new Error(`fixture exited with ${code}: ${stderr}`))
    })
  })
}

describe('resume after kill -9', () => {
  it('ends with every id exactly once and never asks again for a record already written', async () => {
    const output = join(directory, 'out.jsonl')
    const ids = Array.from({ length: count }, (_, index) => `r${index + 1}`)
    let round = 0
    let outcome: 'killed' | 'finished' = 'killed'
    while (outcome === 'killed' && round < 8) {
      round += 1
      const requestLog = join(directory, `requests-${round}.log`)
      const mode = round === 1 ? 'fresh' : 'resume'
      // What a resume at this point will treat as done (the fixture runs the same repair itself).
      const doneBefore = round === 1 ? new Set<string>() : (await prepareResume(output)).done
      // Kill after a random number of new lines in the first rounds; let the last round finish.
      const killAfter = round <= 3 ? 1 + Math.floor(Math.random() * 8) : undefined
      outcome = await runChild([sim.url, output, String(count), mode, requestLog], output, killAfter)
      const requested = (await readFile(requestLog, 'utf8').catch(() => '')).split('\n').filter(Boolean)
      for (const id of requested)
        expect(doneBefore.has(id), `round ${round} asked again for ${id}`).toBe(false)
      if (round === 2 && outcome === 'killed') {
        // A crash in the middle of a write leaves a torn last line: resume must repair it.
        await appendFile(output, '{"id":"r9999","input":{"id":"r99')
      }
    }
    expect(outcome).toBe('finished')
    expect(round).toBeGreaterThan(1)
    const lines = (await readFile(output, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string; prompt: string; response: string; error?: unknown })
    expect(lines.map((line) => line.id).sort()).toEqual([...ids].sort())
    for (const line of lines) {
      expect(line.error).toBeUndefined()
      expect(line.response).toBe(expectedResponse({ model: 'llama3.2', prompt: line.prompt }).response)
    }
  }, 120_000)
})
