import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli } from '../testing/harness.ts'

const model = 'llama3.2'
let sim: Simulator
let directory: string

beforeAll(async () => {
  sim = await startSimulator({ numParallel: 4 })
  directory = await mkdtemp(join(tmpdir(), 'spout-run-stages-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

const config = `export default {
  input: 'topics.jsonl',
  output: 'out/dataset.jsonl',
  stages: [
    { name: 'teacher', model: '${model}', template: 'Two questions about {{input.topic}}.', split: (result) => [result.response.slice(0, 20), result.response.slice(20, 40)], childPrefix: 'q', concurrency: 2 },
    { name: 'student', model: '${model}', system: 'Be brief.', template: 'Answer: {{item}}', concurrency: 3,
      filter: (record) => (record.id.endsWith('.q2') ? 'only first questions' : undefined) },
  ],
}
`

describe('spout run with stages in the config', () => {
  it('runs every stage from the config alone, writes one line per final record and one file per stage', async () => {
    await writeFile(join(directory, 'spout.config.mjs'), config)
    await writeFile(
      join(directory, 'topics.jsonl'),
      ['rivers', 'stars', 'trees'].map((topic) => JSON.stringify({ id: topic, topic })).join('\n'),
    )
    const result = await runCli(['run', '--config', 'spout.config.mjs', '--no-progress'], {
      cwd: directory,
      env: { OLLAMA_HOST: sim.url },
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/^spout: 3 ok, 0 failed, 3 filtered · /m)
    const lines = parseJsonl(await readFile(join(directory, 'out/dataset.jsonl'), 'utf8'))
    expect(lines.map((line) => line.id).sort()).toEqual([
      'rivers.q1',
      'rivers.q2',
      'stars.q1',
      'stars.q2',
      'trees.q1',
      'trees.q2',
    ])
    for (const line of lines as {
      id: string
      item: string
      filtered?: unknown
      stages: Record<string, { response: string; prompt: string }>
    }[]) {
      const topic = line.id.split('.')[0]!
      const teacher = expectedResponse({ model, prompt: `Two questions about ${topic}.` }).response
      expect(line.stages.teacher!.response).toBe(teacher)
      expect(line.stages.student!.prompt).toBe(`Answer: ${line.item}`)
      expect(line.stages.student!.response).toBe(
        expectedResponse({ model, prompt: `Answer: ${line.item}`, system: 'Be brief.' }).response,
      )
      expect(line.filtered).toEqual(
        line.id.endsWith('.q2') ? { stage: 'student', reason: 'only first questions' } : undefined,
      )
    }
    expect(
      parseJsonl(await readFile(join(directory, 'out/dataset.stages/teacher.jsonl'), 'utf8')),
    ).toHaveLength(3)

    // Nothing left to do: a resume asks no stage anything.
    const requests = sim.counters.completed
    const resumed = await runCli(['run', '--config', 'spout.config.mjs', '--no-progress', '--resume'], {
      cwd: directory,
      env: { OLLAMA_HOST: sim.url },
    })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/6 skipped/)
    expect(sim.counters.completed).toBe(requests)
  })

  it('names the stage and the key of a bad stage config', async () => {
    await writeFile(join(directory, 'bad.config.mjs'), `export default { stages: [{ name: 'teacher' }] }`)
    const result = await runCli(['run', 'x.jsonl', '--config', 'bad.config.mjs'], { cwd: directory })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/bad\.config\.mjs: stages\[0\] \(teacher\): "template" is required/)
  })
})
