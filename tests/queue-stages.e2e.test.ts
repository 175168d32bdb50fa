// A staged run (teacher → student → judge) across `spout worker --stage …` processes through a real
// redis-server: each stage on its own queue, the collector (`spout run --queue --workers 0`) writing
// the stage files and the final lines. A worker is SIGKILLed mid-run and the collector too; the
// resumed collector ends with every final id exactly once, each stage's text as the simulator gives it.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { type RedisServer, startRedisServer } from '@spout/redis/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliRun, spawnCli } from './support/cli.ts'
import { askedAround, type RequestLogProxy, startRequestLogProxy } from './support/request-log-proxy.ts'
import { makeTempDir } from './support/temp-dir.ts'
import { delay } from './support/wait.ts'

const model = 'llama3.2'
const topics = Array.from({ length: 16 }, (_, index) => `topic${index}`)
/** Records a worker holds at once per stage (`-c`). */
const perStage = 2

let directory: { path: string; remove: () => Promise<void> }
let redis: RedisServer
let sim: Simulator
let proxy: RequestLogProxy
const processes: CliRun[] = []

beforeAll(async () => {
  directory = await makeTempDir('spout-queue-stages-')
  redis = await startRedisServer()
  sim = await startSimulator({ numParallel: 8, tokensPerSecond: 60 })
  proxy = await startRequestLogProxy(sim.url)
})

afterAll(async () => {
  for (const run of processes) run.child.kill('SIGKILL')
  await proxy?.close()
  await sim?.close()
  await redis?.close()
  await directory?.remove()
})

const config = `export default {
  model: '${model}',
  stages: [
    { name: 'teacher', template: 'Two questions about {{input.topic}} [sim:tokens=20]', split: (result) => [result.response.slice(0, 20), result.response.slice(20, 40)], childPrefix: 'q' },
    { name: 'student', template: 'Answer: {{item}} [sim:tokens=20]' },
    { name: 'judge', template: 'Grade: {{student.response}} [sim:tokens=10]' },
  ],
}
`

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line.trim() !== '')
}

describe('a staged run across spout worker processes', () => {
  it('loses and duplicates nothing when a worker and the collector are SIGKILLed', async () => {
    const configPath = join(directory.path, 'spout.config.mjs')
    const input = join(directory.path, 'topics.jsonl')
    const output = join(directory.path, 'out.jsonl')
    await writeFile(configPath, config)
    await writeFile(input, topics.map((topic) => `${JSON.stringify({ id: topic, topic })}\n`).join(''))
    const stages = ['--stage', 'teacher', '--stage', 'student', '--stage', 'judge']
    const startWorker = () => {
      const args = ['worker', '--queue', redis.url, '--host', proxy.url, ...stages, '-c', String(perStage)]
      const worker = spawnCli([...args, '--lock-duration', '1500', '--quiet'])
      processes.push(worker)
      return worker
    }
    const collect = (resume: boolean) => {
      const args = ['run', input, '--config', configPath, '-o', output, '--no-progress', '--name', 'staged']
      const run = spawnCli([...args, '--queue', redis.url, '--workers', '0', ...(resume ? ['--resume'] : [])])
      processes.push(run)
      return run
    }
    const first = startWorker()
    startWorker()
    const collector = collect(false)
    while ((await lines(output)).length < 6) await delay(30)
    first.child.kill('SIGKILL')
    const killedAt = Date.now()
    proxy.round = 1 // requests from here on are after the worker's kill
    startWorker()
    while ((await lines(output)).length < 14) await delay(30)
    collector.child.kill('SIGKILL')
    await collector.exited
    const cut = (await lines(output)).length
    expect(cut).toBeLessThan(2 * topics.length)

    proxy.round = 2 // the resumed collector's
    const resumed = await collect(true).exited
    expect(resumed.code, resumed.stderr).toBe(0)
    const finals = (await lines(output)).map(
      (line) =>
        JSON.parse(line) as {
          id: string
          item: string
          error?: unknown
          stages: Record<string, { response: string }>
        },
    )
    expect(finals.map((line) => line.id).sort()).toEqual(
      topics.flatMap((topic) => [`${topic}.q1`, `${topic}.q2`]).sort(),
    )
    for (const line of finals) {
      expect(line.error).toBeUndefined()
      const topic = line.id.split('.')[0]!
      const teacher = expectedResponse({ model, prompt: `Two questions about ${topic} [sim:tokens=20]` })
      expect(line.stages.teacher!.response).toBe(teacher.response)
      const student = expectedResponse({ model, prompt: `Answer: ${line.item} [sim:tokens=20]` })
      expect(line.stages.student!.response).toBe(student.response)
      const judge = expectedResponse({ model, prompt: `Grade: ${student.response} [sim:tokens=10]` })
      expect(line.stages.judge!.response).toBe(judge.response)
    }
    // Each stage file holds each of its records once (the collector writes them, the resume reads them).
    for (const [stage, count] of [
      ['teacher', topics.length],
      ['student', 2 * topics.length],
      ['judge', 2 * topics.length],
    ] as const) {
      const ids = (await lines(join(directory.path, 'out.stages', `${stage}.jsonl`))).map(
        (line) => (JSON.parse(line) as { id: string }).id,
      )
      expect(new Set(ids).size, stage).toBe(count)
      expect(ids.length, stage).toBe(count)
    }
    // Every request was made. Those made again after the worker's kill, having been made before it,
    // were in flight at the kill (a request still open then, or one whose line the worker had not yet
    // handed back: ended within a second before the kill), and there are at most the killed worker's
    // slots of them (2 in each of the 3 stages).
    const rounds = new Map<string, number[]>()
    for (const request of proxy.requests)
      rounds.set(request.prompt, [...(rounds.get(request.prompt) ?? []), request.round])
    expect(rounds.size).toBe(topics.length * 5)
    const againAfterKill = [...rounds.entries()]
      .filter(([, seen]) => seen[0] === 0 && seen.some((round) => round > 0))
      .map(([prompt]) => prompt)
    const inFlightAtKill = (prompt: string) => askedAround(proxy.requests, prompt, killedAt)
    expect(proxy.requests.filter((request) => request.completed && request.endedAt === undefined)).toEqual([])
    expect(againAfterKill.filter((prompt) => !inFlightAtKill(prompt))).toEqual([])
    const afterKill = againAfterKill.length
    // The resumed run asks each record it needs once: the lines already back are taken, not asked again.
    const twiceOnResume = [...rounds.values()].filter(
      (seen) => seen.filter((round) => round === 2).length > 1,
    ).length
    console.log(
      `queue stages test: ${cut} lines before the collector's kill; ${afterKill} records asked again after the worker's kill, ${twiceOnResume} asked twice by the resumed run`,
    )
    expect(afterKill).toBeLessThanOrEqual(3 * perStage)
    expect(twiceOnResume).toBe(0)
  }, 180_000)
})
