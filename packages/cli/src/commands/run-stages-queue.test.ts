import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { type RedisServer, startRedisServer } from '@spout/redis/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli, startCli } from '../testing/harness.ts'

const model = 'llama3.2'
const topics = ['rivers', 'stars', 'trees', 'clouds', 'rocks', 'birds']
let sim: Simulator
let redis: RedisServer
let directory: string

// teacher → student → judge: the teacher's response splits in two questions, the student drops the
// second, the judge grades the student's answer.
const config = `export default {
  model: '${model}',
  stages: [
    { name: 'teacher', template: 'Two questions about {{input.topic}} [sim:tokens=16]', split: (result) => [result.response.slice(0, 20), result.response.slice(20, 40)], childPrefix: 'q', concurrency: 2 },
    { name: 'student', system: 'Be brief.', template: 'Answer: {{item}}', concurrency: 2,
      filter: (record) => (record.id.endsWith('.q2') ? 'only first questions' : undefined) },
    { name: 'judge', template: 'Grade: {{student.response}}', concurrency: 2 },
  ],
}
`

beforeAll(async () => {
  sim = await startSimulator({ numParallel: 4, tokensPerSecond: 200 })
  redis = await startRedisServer()
  directory = await mkdtemp(join(tmpdir(), 'spout-run-stages-queue-'))
  await writeFile(join(directory, 'spout.config.mjs'), config)
  await writeFile(
    join(directory, 'topics.jsonl'),
    topics.map((topic) => JSON.stringify({ id: topic, topic })).join('\n'),
  )
})
afterAll(async () => {
  await sim.close()
  await redis.close()
  await rm(directory, { recursive: true, force: true })
})

type Line = {
  id: string
  item: string
  filtered?: unknown
  error?: unknown
  stages: Record<string, { response: string; prompt: string }>
}

/** Each final line as a run in this process writes it: the texts the simulator gives these prompts. */
async function expectStagedOutput(path: string): Promise<void> {
  const lines = parseJsonl(await readFile(path, 'utf8')) as Line[]
  expect(lines.map((line) => line.id).sort()).toEqual(
    topics.flatMap((topic) => [`${topic}.q1`, `${topic}.q2`]).sort(),
  )
  for (const line of lines) {
    const topic = line.id.split('.')[0]!
    expect(line.error).toBeUndefined()
    const teacher = expectedResponse({ model, prompt: `Two questions about ${topic} [sim:tokens=16]` })
    expect(line.stages.teacher!.response).toBe(teacher.response)
    expect(line.item).toBe(
      teacher.response.slice(line.id.endsWith('.q1') ? 0 : 20, line.id.endsWith('.q1') ? 20 : 40),
    )
    const student = expectedResponse({ model, prompt: `Answer: ${line.item}`, system: 'Be brief.' })
    expect(line.stages.student!.response).toBe(student.response)
    if (line.id.endsWith('.q2')) {
      expect(line.filtered).toEqual({ stage: 'student', reason: 'only first questions' })
      expect(line.stages.judge).toBeUndefined()
    } else {
      expect(line.filtered).toBeUndefined()
      const judge = expectedResponse({ model, prompt: `Grade: ${student.response}` })
      expect(line.stages.judge!.response).toBe(judge.response)
    }
  }
}

function redisKeys(): string[] {
  return execFileSync('redis-cli', ['-p', String(redis.port), '--scan'], { encoding: 'utf8' })
    .split('\n')
    .filter((key) => key !== '')
}

describe('spout run --queue with stages', () => {
  it('runs each stage on its own queue with its own workers here: the lines of a local run, each once', async () => {
    const result = await runCli(
      ['run', 'topics.jsonl', '-o', 'alone.jsonl', '--no-progress', '--queue', redis.url],
      {
        cwd: directory,
        env: { OLLAMA_HOST: sim.url },
      },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/^spout: 6 ok, 0 failed, 6 filtered · /m)
    for (const stage of ['teacher', 'student', 'judge'])
      expect(result.stderr).toContain(
        `batch "topics.jsonl:${stage}" queued on redis://127.0.0.1:${redis.port}`,
      )
    await expectStagedOutput(join(directory, 'alone.jsonl'))
    // The stage files are written here, as in a local run.
    const teacher = parseJsonl(await readFile(join(directory, 'alone.stages/teacher.jsonl'), 'utf8'))
    expect(teacher.map((line) => line.id).sort()).toEqual([...topics].sort())
    const judge = parseJsonl(await readFile(join(directory, 'alone.stages/judge.jsonl'), 'utf8'))
    expect(judge).toHaveLength(topics.length)
    // Every batch is gone from Redis once its lines are written.
    expect(redisKeys().filter((key) => key.includes(':batch:') || key.endsWith(':runs'))).toEqual([])
  })

  it('collects with --workers 0 while `spout worker --stage` generates; an interrupted collector resumes, every id once', async () => {
    sim.resetCounters()
    const args = ['run', 'topics.jsonl', '-o', 'workers.jsonl', '--no-progress', '--queue', redis.url]
    const collector = startCli([...args, '--workers', '0', '--name', 'staged'], { cwd: directory })
    const stages = ['--stage', 'teacher', '--stage', 'student', '--stage', 'judge']
    const worker = startCli(['worker', '--queue', redis.url, '--host', sim.url, ...stages, '-c', '2'], {
      cwd: directory,
    })
    const deadline = Date.now() + 30_000
    const written = async () =>
      (await readFile(join(directory, 'workers.jsonl'), 'utf8').catch(() => '')).split('\n').length - 1
    while ((await written()) < 2) {
      if (Date.now() > deadline) throw new Error(`no line written: ${collector.stderr.text}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    collector.interrupt()
    expect(await collector.done, collector.stderr.text).toBe(130)
    expect(await written()).toBeLessThan(12)
    const resumed = await runCli([...args, '--workers', '0', '--name', 'staged', '--resume'], {
      cwd: directory,
    })
    expect(resumed.code, resumed.stderr).toBe(0)
    await expectStagedOutput(join(directory, 'workers.jsonl'))
    worker.interrupt()
    expect(await worker.done, worker.stderr.text).toBe(0)
    expect(worker.stderr.text).toMatch(/worker taking stages teacher, student, judge records from/)
    // 6 teacher, 12 student and 6 judge requests; the records cut by the interruption may run again
    // (up to 2 slots × 3 stages), and on a loaded machine a few more whose lock BullMQ's stalled check
    // saw renewed late (it failed once with 32 at load 17). Far fewer than a second run of everything.
    expect(sim.counters.byPath['/api/generate']).toBeGreaterThanOrEqual(24)
    expect(sim.counters.byPath['/api/generate']).toBeLessThanOrEqual(24 + 12)
  })

  it('refuses a worker stage that is not a word, in one line', async () => {
    const result = await runCli(['worker', '--queue', redis.url, '--stage', 'a:b'], { cwd: directory })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'spout: --stage: a stage name is a word (letters, digits, _ or -), not "a:b"\n',
    )
  })
})
