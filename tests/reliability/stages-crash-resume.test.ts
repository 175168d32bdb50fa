// A staged run (teacher → student → judge, fan-out by the teacher's JSON array) through the built
// CLI, SIGKILLed at random moments, then resumed with --resume until it exits 0. Every generation
// request goes through a logging proxy, and each stage's prompt names its stage and record id, so
// the test knows which (stage, record) was asked in which round. Invariants: no stage is asked again
// for a record whose result that stage's file held before the round; the final output holds every
// final id exactly once, with the exact texts.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtCli, spawnCli } from '../support/cli.ts'
import { type RequestLogProxy, startRequestLogProxy } from '../support/request-log-proxy.ts'
import { seededRandom, testSeed } from '../support/seeded-random.ts'
import { makeTempDir } from '../support/temp-dir.ts'
import { until } from '../support/wait.ts'

const model = 'llama3.2'
const topics = 30
const killRounds = 6
const maxKillDelayMs = 1_200
const questionsFormat = {
  type: 'object',
  properties: { questions: { type: 'array', items: { type: 'string' } } },
  required: ['questions'],
}
const teacherPrompt = (id: string) => `Questions (${id}): write questions about ${id} [sim:tokens=20]`
const studentPrompt = (id: string, item: string) => `Answer (${id}): ${item} [sim:tokens=16]`

const config = `export default {
  stages: [
    { name: 'teacher', model: '${model}', template: 'Questions ({{id}}): write questions about {{input.topic}} [sim:tokens=20]',
      format: ${JSON.stringify(questionsFormat)}, split: 'json-array', childPrefix: 'q', concurrency: 2 },
    { name: 'student', model: '${model}', template: 'Answer ({{id}}): {{item}} [sim:tokens=16]', concurrency: 3 },
    { name: 'judge', model: '${model}', template: 'Grade ({{id}}): {{student.response}} [sim:tokens=12]', concurrency: 2,
      filter: (record) => (record.judge.response.length % 5 === 0 ? 'length divisible by 5' : undefined) },
  ],
}
`
const stagesOfPrompt: Record<string, string> = { Questions: 'teacher', Answer: 'student', Grade: 'judge' }

/** `(stage, id)` of a logged prompt. */
function stageRecordOf(prompt: string): string {
  const match = /^(Questions|Answer|Grade) \(([^)]+)\)/.exec(prompt)
  return match ? `${stagesOfPrompt[match[1]!]}/${match[2]}` : `unknown prompt ${prompt}`
}

/** `stage/id` of every whole line in the stage files now (a torn last line counts for nothing). */
async function writtenStageResults(directory: string): Promise<Set<string>> {
  const written = new Set<string>()
  for (const stage of ['teacher', 'student', 'judge']) {
    let text = ''
    try {
      text = await readFile(join(directory, `${stage}.jsonl`), 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n')) {
      try {
        written.add(`${stage}/${(JSON.parse(line) as { id: string }).id}`)
      } catch {
        // blank or torn
      }
    }
  }
  return written
}

let sim: Simulator
let proxy: RequestLogProxy
let directory: { path: string; remove: () => Promise<void> }
beforeAll(async () => {
  builtCli()
  sim = await startSimulator({ numParallel: 8, tokensPerSecond: 200 })
  proxy = await startRequestLogProxy(sim.url)
  directory = await makeTempDir('spout-stages-crash-')
})
afterAll(async () => {
  await proxy?.close()
  await sim?.close()
  await directory?.remove()
})

describe('staged run: SIGKILL mid-run, resume, repeat', () => {
  it('asks no stage twice for a written result and ends with every final id once', async () => {
    const seed = testSeed()
    const random = seededRandom(seed)
    const input = join(directory.path, 'topics.jsonl')
    const output = join(directory.path, 'out.jsonl')
    const configPath = join(directory.path, 'spout.config.mjs')
    await writeFile(configPath, config)
    const ids = Array.from({ length: topics }, (_, index) => `topic-${index + 1}`)
    await writeFile(input, ids.map((id) => JSON.stringify({ id, topic: id })).join('\n') + '\n')
    const args = [
      'run',
      input,
      '--config',
      configPath,
      '--host',
      proxy.url,
      '-o',
      output,
      '--no-progress',
      '--resume',
    ]

    const rounds: { round: number; requested: number; outcome: string }[] = []
    let finished = false
    for (let round = 1; round <= killRounds + 4 && !finished; round++) {
      const writtenBefore = await writtenStageResults(join(directory.path, 'out.stages'))
      proxy.round = round
      const kill = round <= killRounds
      const run = spawnCli(args)
      let exited = false
      void run.exited.then(() => {
        exited = true
      })
      if (kill) {
        await until(
          () => exited || proxy.requests.some((request) => request.round === round),
          `round ${round} starts`,
        )
        await new Promise((resolve) => setTimeout(resolve, random.integer(0, maxKillDelayMs)))
        run.child.kill('SIGKILL')
      }
      const exit = await run.exited
      const requested = proxy.requests.filter((request) => request.round === round)
      rounds.push({ round, requested: requested.length, outcome: exit.signal ?? `exit ${exit.code}` })
      const again = requested
        .map((request) => stageRecordOf(request.prompt))
        .filter((key) => writtenBefore.has(key))
      expect(again, `round ${round} (seed ${seed}) asked a stage again for a written result`).toEqual([])
      if (exit.signal === null) {
        expect(exit.code, `round ${round} (seed ${seed}): ${exit.stderr}`).toBe(0)
        finished = true
      }
    }
    console.log(`[stages-crash-resume] seed ${seed} rounds ${JSON.stringify(rounds)}`)
    expect(finished, `seed ${seed}: never finished`).toBe(true)
    expect(rounds.some((round) => round.outcome === 'SIGKILL')).toBe(true)

    // The final ids follow from the teacher's answers; each appears once, with the exact texts.
    const expectedIds: string[] = []
    const questionOf = new Map<string, string>()
    for (const id of ids) {
      const teacher = expectedResponse({ model, prompt: teacherPrompt(id), format: questionsFormat })
      const questions = (JSON.parse(teacher.response) as { questions: string[] }).questions
      questions.forEach((question, index) => {
        expectedIds.push(`${id}.q${index + 1}`)
        questionOf.set(`${id}.q${index + 1}`, question)
      })
    }
    const lines = (await readFile(output, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map(
        (line) =>
          JSON.parse(line) as { id: string; error?: unknown; stages: Record<string, { response: string }> },
      )
    expect(lines.map((line) => line.id).sort()).toEqual(expectedIds.sort())
    for (const line of lines) {
      expect(line.error, `${line.id} failed`).toBeUndefined()
      expect(line.stages.student!.response).toBe(
        expectedResponse({ model, prompt: studentPrompt(line.id, questionOf.get(line.id)!) }).response,
      )
    }
  }, 240_000)
})
