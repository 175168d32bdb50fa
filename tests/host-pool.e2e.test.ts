// `spout run --host a --host b --host c` (the built CLI) over three simulator processes with
// different slots and speeds. One of them is SIGKILLed in the middle of the batch and started again
// on the same port: every id ends up in the output exactly once, the records that were in flight on
// it are retried on the others, and the host gets work again once it is back.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repositoryRoot, spawnCli } from './support/cli.ts'
import { makeTempDir } from './support/temp-dir.ts'
import { delay } from './support/wait.ts'

const simBin = join(repositoryRoot, 'packages/ollama-sim/dist/bin.js')
const model = 'llama3.2'
const records = 240

interface Line {
  id: string
  host?: string
  attempts: number
  ended_at: string
  error?: { code: string; message: string }
}

interface SimProcess {
  child: ChildProcess
  url: string
}

/** Starts `ollama-sim` as its own process; resolves with the URL it prints. */
function startSim(args: string[]): Promise<SimProcess> {
  const child = spawn(process.execPath, [simBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let text = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const line = text.split('\n')[0]
      if (text.includes('\n') && line) resolve({ child, url: line.trim() })
    })
    child.on('exit', (code) => reject(new Error(`ollama-sim exited (${code}) before printing its URL`)))
  })
}

const running: ChildProcess[] = []
let directory: { path: string; remove: () => Promise<void> }

beforeAll(async () => {
  directory = await makeTempDir('spout-host-pool-')
})
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL')
  await directory?.remove()
})

async function readLines(path: string): Promise<Line[]> {
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Line)
}

describe('spout run over three simulator processes', () => {
  it('survives SIGKILL of one host mid-batch: every id once, in-flight records retried, the host rejoins', async () => {
    const speeds = [
      ['--num-parallel', '2', '--tokens-per-second', '160'],
      ['--num-parallel', '4', '--tokens-per-second', '80'],
      ['--num-parallel', '8', '--tokens-per-second', '40'],
    ]
    const sims = await Promise.all(speeds.map((args) => startSim(['--port', '0', ...args])))
    running.push(...sims.map((sim) => sim.child))
    const victim = sims[1]!
    const victimPort = new URL(victim.url).port

    const input = join(directory.path, 'input.jsonl')
    const output = join(directory.path, 'out.jsonl')
    await writeFile(
      input,
      Array.from(
        { length: records },
        (_, index) =>
          `${JSON.stringify({ id: `r${index + 1}`, prompt: `Pool record ${index + 1} [sim:tokens=24]` })}\n`,
      ).join(''),
    )
    const args = ['run', input, '-m', model, '-o', output, '--no-progress']
    for (const sim of sims) args.push('--host', sim.url)
    const run = spawnCli(args)

    // Kill the second host once a quarter of the batch is written (it has records in flight then).
    let written = 0
    while (written < records / 4) {
      await delay(50)
      written = (await readLines(output)).length
    }
    victim.child.kill('SIGKILL')
    const killedAt = Date.now()
    await delay(800)
    const restarted = await startSim(['--port', victimPort, ...speeds[1]!])
    running.push(restarted.child)
    const restartedAt = Date.now()

    const exit = await run.exited
    expect(exit.code, exit.stderr).toBe(0)
    const lines = await readLines(output)
    const ids = lines.map((line) => line.id).sort()
    expect(ids).toEqual(Array.from({ length: records }, (_, index) => `r${index + 1}`).sort())
    expect(lines.every((line) => !line.error)).toBe(true)
    // The records cut on the victim were retried (a later attempt, on a host that answered).
    const retried = lines.filter((line) => line.attempts > 1)
    expect(retried.length).toBeGreaterThan(0)
    for (const line of lines) expect(sims.map((sim) => sim.url)).toContain(line.host)
    // Every host did work, and the victim did some again after it came back.
    for (const sim of sims) expect(lines.some((line) => line.host === sim.url)).toBe(true)
    const afterRestart = lines.filter(
      (line) => line.host === victim.url && Date.parse(line.ended_at) > restartedAt,
    )
    expect(afterRestart.length, `killed at ${killedAt}, restarted at ${restartedAt}`).toBeGreaterThan(0)
    // The summary names each host with its learned slots.
    expect(exit.stderr).toMatch(new RegExp(`host ${victim.url}: \\d+ records · \\d+ slots? \\(learned\\)`))
  }, 120_000)
})
