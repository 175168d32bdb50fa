// `spout run` (the built CLI) over the simulator, SIGKILLed at random moments of a concurrent, paced
// batch, then resumed with --resume, several rounds. Every generation request goes through a logging
// proxy in this process, so the test knows which prompts were requested in which round and which
// replies reached the CLI whole. Invariants: no record whose line was already written is requested
// again; the final output holds every id exactly once with the exact text.
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtCli, spawnCli } from '../support/cli.ts'
import { longRun } from '../support/long-run.ts'
import { type RequestLogProxy, startRequestLogProxy } from '../support/request-log-proxy.ts'
import { seededRandom, testSeed } from '../support/seeded-random.ts'
import { makeTempDir } from '../support/temp-dir.ts'
import { until } from '../support/wait.ts'

const model = 'llama3.2'
const records = longRun ? 400 : 120
const killRounds = longRun ? 20 : 6
const concurrency = 4
const tokensPerRecord = 24
const tokensPerSecond = 240
/** A kill lands this long (at most) after the round's first generation request. */
const maxKillDelayMs = longRun ? 1_500 : 900

interface Line {
  id: string
  prompt?: string
  response?: string
  attempts?: number
  error?: { code: string; message: string }
}

const promptFor = (index: number): string =>
  `Crash and resume record ${index} [sim:tokens=${tokensPerRecord}]`

/** The ids whose successful line is in the file now (a torn or unparsable line counts for nothing). */
async function writtenIds(path: string): Promise<Set<string>> {
  const done = new Set<string>()
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return done
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const parsed = JSON.parse(line) as Line
      if (!parsed.error) done.add(parsed.id)
    } catch {
      // a torn last line: not written
    }
  }
  return done
}

let sim: Simulator
let proxy: RequestLogProxy
let directory: { path: string; remove: () => Promise<void> }
beforeAll(async () => {
  builtCli()
  sim = await startSimulator({ numParallel: concurrency, tokensPerSecond })
  proxy = await startRequestLogProxy(sim.url)
  directory = await makeTempDir('spout-crash-resume-')
})
afterAll(async () => {
  await proxy?.close()
  await sim?.close()
  await directory?.remove()
})

describe('crash and resume: SIGKILL the CLI mid-batch, resume, repeat', () => {
  it(
    `ends with every id exactly once and never requests a written record again (${records} records, ${killRounds} kills)`,
    async () => {
      const seed = testSeed()
      const random = seededRandom(seed)
      console.log(`[crash-resume] seed ${seed} (rerun with SPOUT_SEED=${seed})`)
      const input = join(directory.path, 'input.jsonl')
      const output = join(directory.path, 'out.jsonl')
      const idOfPrompt = new Map<string, string>()
      const inputLines: string[] = []
      for (let index = 1; index <= records; index++) {
        const id = `r${index}`
        idOfPrompt.set(promptFor(index), id)
        inputLines.push(JSON.stringify({ id, prompt: promptFor(index) }))
      }
      await writeFile(input, `${inputLines.join('\n')}\n`)
      const args = [
        'run',
        input,
        '-m',
        model,
        '--host',
        proxy.url,
        '-o',
        output,
        '-c',
        String(concurrency),
        '--no-progress',
        '--resume',
      ]

      const rounds: {
        round: number
        writtenBefore: number
        requested: number
        outcome: string
        killAfterMs?: number
        signal?: NodeJS.Signals
      }[] = []
      let finished = false
      for (let round = 1; round <= killRounds + 4 && !finished; round++) {
        const writtenBefore = await writtenIds(output)
        proxy.round = round
        const kill = round <= killRounds
        const killAfterMs = kill ? random.integer(0, maxKillDelayMs) : undefined
        // Mostly SIGKILL; sometimes the graceful stops (Ctrl-C, SIGTERM). Round 2 is always a SIGKILL.
        const signal: NodeJS.Signals | undefined = kill
          ? round === 2
            ? 'SIGKILL'
            : random.pick(['SIGKILL', 'SIGKILL', 'SIGINT', 'SIGTERM'] as const)
          : undefined
        const run = spawnCli(args)
        let exitedEarly = false
        void run.exited.then(() => {
          exitedEarly = true
        })
        if (killAfterMs !== undefined) {
          await until(
            () => exitedEarly || proxy.requests.some((request) => request.round === round),
            `round ${round}: the first generation request`,
          )
          await new Promise((resolve) => setTimeout(resolve, killAfterMs))
          run.child.kill(signal)
        }
        const exit = await run.exited
        const requested = proxy.requests.filter((request) => request.round === round)
        const outcome =
          exit.signal === 'SIGKILL'
            ? 'killed'
            : exit.code === 130 || exit.code === 143
              ? 'interrupted'
              : `exit ${exit.code}`
        rounds.push({
          round,
          writtenBefore: writtenBefore.size,
          requested: requested.length,
          outcome,
          killAfterMs,
          signal,
        })
        // The invariant: nothing already written is asked for again.
        const again = requested
          .map((request) => idOfPrompt.get(request.prompt) ?? `unknown prompt ${request.prompt}`)
          .filter((id) => writtenBefore.has(id))
        expect(again, `round ${round} (seed ${seed}) requested records already written`).toEqual([])
        if (outcome === 'interrupted') {
          // A graceful stop (exit 130 after SIGINT, 143 after SIGTERM) finishes its lines: none is torn, and it says how to resume.
          expect(signal).not.toBe('SIGKILL')
          expect(exit.code).toBe(signal === 'SIGTERM' ? 143 : 130)
          expect(exit.stderr).toContain('--resume')
          const text = await readFile(output, 'utf8')
          expect(text === '' || text.endsWith('\n'), `round ${round}: torn line after ${signal}`).toBe(true)
          for (const line of text.split('\n').filter((candidate) => candidate !== '')) JSON.parse(line)
        } else if (exit.signal === null) {
          expect(exit.code, `round ${round} (seed ${seed}): ${exit.stderr}`).toBe(0)
          finished = true
        } else if (round === 2) {
          // A kill in the middle of a write leaves a torn last line; add one for certain.
          await appendFile(output, `{"id":"r1","input":{"id":"r1","prompt":"Crash and res`)
        }
        // Any other signal death (SIGKILL, or a SIGINT/SIGTERM that landed after the job had ended and
        // the CLI had let go of its handlers) counts as a kill: the next round resumes.
      }
      console.log(`[crash-resume] rounds ${JSON.stringify(rounds)}`)
      expect(finished, `seed ${seed}: the batch never finished`).toBe(true)
      expect(rounds.filter((round) => round.outcome === 'killed').length).toBeGreaterThanOrEqual(1)

      const lines = (await readFile(output, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Line)
      const ids = lines.map((line) => line.id)
      expect(ids.length, `seed ${seed}: one line per record`).toBe(records)
      expect(new Set(ids).size, `seed ${seed}: no duplicates`).toBe(records)
      for (const line of lines) {
        expect(line.error, `${line.id} failed`).toBeUndefined()
        expect(line.response, `${line.id} text`).toBe(
          expectedResponse({ model, prompt: line.prompt! }).response,
        )
      }

      // Wasted work: replies that reached the CLI whole but whose line was lost to the kill.
      const completed = proxy.requests.filter((request) => request.completed)
      const completedByPrompt = new Map<string, number>()
      for (const request of completed) {
        completedByPrompt.set(request.prompt, (completedByPrompt.get(request.prompt) ?? 0) + 1)
      }
      const completedTwice = [...completedByPrompt.values()].filter((count) => count > 1).length
      const count = (outcome: string) => rounds.filter((round) => round.outcome === outcome).length
      console.log(
        `[crash-resume] seed ${seed}: ${records} records, ${rounds.length} runs (${count('killed')} killed, ${count('interrupted')} interrupted), ` +
          `${proxy.requests.length} generation requests, ${completed.length} completed, ` +
          `${completedTwice} records completed more than once (reply whole but line lost to the stop)`,
      )
    },
    longRun ? 900_000 : 180_000,
  )
})
