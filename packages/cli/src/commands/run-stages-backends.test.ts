// Stages on every backend `spout run` has: a `.gguf` model in this process (the tiny GGUF of
// @spout/llama/testing), an OpenAI-compatible `/v1` server and a pool of two Ollama servers (the
// simulator plays both), in one staged run.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tinyModelPath } from '@spout/llama/testing'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli } from '../testing/harness.ts'

const model = 'llama3.2'
const topics = ['rivers', 'stars', 'trees', 'clouds']
let openai: Simulator
let poolA: Simulator
let poolB: Simulator
let directory: string

beforeAll(async () => {
  openai = await startSimulator({ numParallel: 2 })
  poolA = await startSimulator({ numParallel: 2 })
  poolB = await startSimulator({ numParallel: 2 })
  directory = await mkdtemp(join(tmpdir(), 'spout-stages-backends-'))
  await writeFile(
    join(directory, 'topics.jsonl'),
    `${topics.map((topic) => JSON.stringify({ id: topic, topic })).join('\n')}\n`,
  )
})
afterAll(async () => {
  await Promise.all([openai?.close(), poolA?.close(), poolB?.close()])
  await rm(directory, { recursive: true, force: true })
})

interface StageResult {
  backend: string
  host: string
  prompt: string
  response: string
  metrics: { eval_count?: number }
}
interface FinalLine {
  id: string
  error?: unknown
  stages: Record<string, StageResult>
}

function config(teacherModel: string): string {
  return `export default {
  input: 'topics.jsonl',
  stages: [
    { name: 'teacher', model: ${JSON.stringify(teacherModel)}, template: 'A question about {{input.topic}}:',
      options: { num_predict: 6, num_thread: 1, seed: 7 }, concurrency: 2 },
    { name: 'student', model: '${model}', host: '${openai.url}/v1', template: 'Answer ({{id}}): {{teacher.response}}', concurrency: 2 },
    { name: 'judge', model: '${model}', template: 'Grade ({{id}}): {{student.response}}',
      hosts: [{ address: '${poolA.url}', concurrency: 1 }, { address: '${poolB.url}', concurrency: 1 }] },
  ],
}
`
}

describe('spout run with stages on every backend', () => {
  it('runs a .gguf teacher in process, a /v1 student and a judge on a pool of two hosts', async () => {
    await writeFile(join(directory, 'spout.config.mjs'), config(tinyModelPath()))
    const result = await runCli(['run', '--config', 'spout.config.mjs', '-o', 'out.jsonl', '--no-progress'], {
      cwd: directory,
    })
    expect(result.code, result.stderr).toBe(0)
    const lines = parseJsonl(await readFile(join(directory, 'out.jsonl'), 'utf8')) as unknown as FinalLine[]
    expect(lines.map((line) => line.id).sort()).toEqual([...topics].sort())
    const judged = new Set<string>()
    for (const line of lines) {
      expect(line.error).toBeUndefined()
      const { teacher, student, judge } = line.stages
      expect(teacher).toMatchObject({
        backend: 'llama-cpp',
        host: tinyModelPath(),
        metrics: { eval_count: 6 },
      })
      expect(teacher!.prompt).toBe(`A question about ${line.id}:`)
      // The OpenAI client reports its server's base address.
      expect(student).toMatchObject({ backend: 'openai', host: openai.url })
      const studentPrompt = `Answer (${line.id}): ${teacher!.response}`
      expect(student!.prompt).toBe(studentPrompt)
      expect(student!.response).toBe(expectedResponse({ model, prompt: studentPrompt }).response)
      expect(judge!.backend).toBe('ollama')
      expect([poolA.url, poolB.url]).toContain(judge!.host)
      judged.add(judge!.host)
      const judgePrompt = `Grade (${line.id}): ${student!.response}`
      expect(judge!.response).toBe(expectedResponse({ model, prompt: judgePrompt }).response)
    }
    // Each server saw only its stage's requests.
    expect(openai.counters.byPath['/v1/completions']).toBe(topics.length)
    expect(openai.counters.byPath['/api/generate']).toBeUndefined()
    expect(poolA.counters.completed + poolB.counters.completed).toBe(topics.length)
    expect(judged.size).toBeGreaterThanOrEqual(1)

    // A resume after the run asks no backend anything (the teacher's model is not even needed).
    const before = openai.counters.completed + poolA.counters.completed + poolB.counters.completed
    const resumed = await runCli(
      ['run', '--config', 'spout.config.mjs', '-o', 'out.jsonl', '--no-progress', '--resume'],
      { cwd: directory },
    )
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(openai.counters.completed + poolA.counters.completed + poolB.counters.completed).toBe(before)
  })

  it('shares one loaded model between stages that name the same .gguf file', async () => {
    const shared = `export default { input: 'topics.jsonl', options: { num_predict: 4, num_thread: 1 }, stages: [
      { name: 'teacher', model: ${JSON.stringify(tinyModelPath())}, template: 'About {{input.topic}}:', concurrency: 2 },
      { name: 'student', model: ${JSON.stringify(tinyModelPath())}, template: 'Then ({{id}}) {{teacher.response}}', concurrency: 1 } ] }`
    await writeFile(join(directory, 'shared.config.mjs'), shared)
    const result = await runCli(
      ['run', '--config', 'shared.config.mjs', '-o', 'shared.jsonl', '--no-progress'],
      { cwd: directory },
    )
    expect(result.code, result.stderr).toBe(0)
    const lines = parseJsonl(
      await readFile(join(directory, 'shared.jsonl'), 'utf8'),
    ) as unknown as FinalLine[]
    expect(lines).toHaveLength(topics.length)
    for (const line of lines) {
      expect(line.stages.teacher).toMatchObject({ backend: 'llama-cpp', metrics: { eval_count: 4 } })
      expect(line.stages.student).toMatchObject({ backend: 'llama-cpp', metrics: { eval_count: 4 } })
      expect(line.stages.student!.prompt).toBe(`Then (${line.id}) ${line.stages.teacher!.response}`)
    }
  })

  it('names the stage whose model file does not load, before reading the input', async () => {
    await writeFile(join(directory, 'missing.config.mjs'), config('./no-such-model.gguf'))
    const result = await runCli(
      ['run', '--config', 'missing.config.mjs', '-o', 'missing.jsonl', '--no-progress'],
      { cwd: directory },
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^spout: stage teacher: .*no-such-model\.gguf/m)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('names the stage and the key of a bad api or hosts', async () => {
    const bad = `export default { input: 'topics.jsonl', stages: [
      { name: 'teacher', model: '${model}', template: 'x' },
      { name: 'student', model: '${model}', template: 'y', api: 'grpc' } ] }`
    await writeFile(join(directory, 'bad.config.mjs'), bad)
    const result = await runCli(['run', '--config', 'bad.config.mjs', '-o', 'bad.jsonl'], { cwd: directory })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/stages\[1\] \(student\): "api" must be one of ollama, openai, llama-cpp/)
    const badHosts = bad.replace(`api: 'grpc'`, `hosts: [{ address: '${poolA.url}', slots: 2 }]`)
    await writeFile(join(directory, 'bad-hosts.config.mjs'), badHosts)
    const again = await runCli(['run', '--config', 'bad-hosts.config.mjs', '-o', 'bad.jsonl'], {
      cwd: directory,
    })
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/stages\[1\] \(student\): hosts\[0\]: unknown key "slots"/)
  })
})
