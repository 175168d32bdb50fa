import { join } from 'node:path'
import { expectedResponse } from '@spout/ollama-sim'
import { describe, expect, it } from 'vitest'
import { eventSink } from './event-sink.ts'
import type { RecordEndEvent, SpoutEvent } from './events.ts'
import { runStages, type StagedLine, type StageRecord } from './stages.ts'
import { readLines, useSimulators } from './testing/simulators.ts'

const model = 'llama3.2'
const teacherFormat = {
  type: 'object',
  properties: { q1: { type: 'string' }, q2: { type: 'string' }, q3: { type: 'string' } },
  required: ['q1', 'q2', 'q3'],
}
const judgeFormat = {
  type: 'object',
  properties: { score: { type: 'integer' }, reason: { type: 'string' } },
  required: ['score', 'reason'],
}
const threshold = 30

const simulators = useSimulators('spout-stages-')
const server = () => simulators.server({ numParallel: 8, tokensPerSecond: 3000, firstTokenDelayMs: 5 })

const topics = Array.from({ length: 20 }, (_, index) => ({
  id: `topic-${index + 1}`,
  topic: `subject ${index + 1}`,
}))

describe('runStages against the simulator', () => {
  it('runs teacher → student → judge pipelined: fan-out 3 over 20 topics, exact texts, lineage ids, filter reasons', async () => {
    const [teacher, student, judge] = [await server(), await server(), await server()]
    const events: SpoutEvent[] = []
    const output = join(simulators.directory, 'dataset.jsonl')
    const stageDirectory = join(simulators.directory, 'dataset.stages')
    const summary = await runStages({
      input: topics,
      output,
      stageDirectory,
      plugins: [eventSink((event) => void events.push(event))],
      stages: [
        {
          name: 'teacher',
          client: teacher.client,
          model,
          system: 'You are a teacher.',
          template: 'Write three questions about {{input.topic}}.',
          request: { format: teacherFormat },
          concurrency: 2,
          split: (result) => {
            const { q1, q2, q3 } = result.parsed as Record<string, string>
            return [q1, q2, q3]
          },
          childPrefix: 'q',
        },
        {
          name: 'student',
          client: student.client,
          model,
          system: 'You are a student.',
          template: '{{item}}',
          concurrency: 4,
        },
        {
          name: 'judge',
          client: judge.client,
          model,
          template: 'Question: {{item}}\nAnswer: {{student.response}}\nGrade the answer.',
          request: { format: judgeFormat },
          concurrency: 3,
          filter: (record: StageRecord) => {
            const score = (record.judge as { parsed: { score: number } }).parsed.score
            return score < threshold ? `score ${score} < ${threshold}` : undefined
          },
        },
      ],
    })
    const lines = await readLines<StagedLine>(output)
    // One final line per question, each id once, derived from its topic's.
    expect(lines).toHaveLength(60)
    const ids = lines.map((line) => line.id).sort()
    expect(ids).toEqual(topics.flatMap((topic) => [1, 2, 3].map((n) => `${topic.id}.q${n}`)).sort())
    let filtered = 0
    for (const line of lines) {
      const topic = line.input.topic as string
      const teacherPrompt = `Write three questions about ${topic}.`
      const teacherText = expectedResponse({
        model,
        prompt: teacherPrompt,
        system: 'You are a teacher.',
        format: teacherFormat,
      }).response
      expect(line.stages.teacher!.prompt).toBe(teacherPrompt)
      expect(line.stages.teacher!.response).toBe(teacherText)
      expect(line.stages.teacher!.host).toBe(teacher.sim.url)
      const n = Number(line.id.slice(-1))
      const question = (JSON.parse(teacherText) as Record<string, string>)[`q${n}`]
      expect(line.item).toBe(question)
      expect(line.stages.student!.system).toBe('You are a student.')
      expect(line.stages.student!.prompt).toBe(question)
      const answer = expectedResponse({ model, prompt: question, system: 'You are a student.' }).response
      expect(line.stages.student!.response).toBe(answer)
      const judgePrompt = `Question: ${question}\nAnswer: ${answer}\nGrade the answer.`
      const verdict = expectedResponse({ model, prompt: judgePrompt, format: judgeFormat }).response
      expect(line.stages.judge!.response).toBe(verdict)
      expect(line.stages.judge!.parsed).toEqual(JSON.parse(verdict))
      const score = (JSON.parse(verdict) as { score: number }).score
      if (score < threshold) {
        filtered += 1
        expect(line.filtered).toEqual({ stage: 'judge', reason: `score ${score} < ${threshold}` })
      } else expect(line.filtered).toBeUndefined()
      expect(line.error).toBeUndefined()
    }
    expect(summary).toMatchObject({ ok: 60 - filtered, filtered, failed: 0, skipped: 0 })
    expect(filtered).toBeGreaterThan(0)
    // Each stage's concurrency, as its server saw it; one request per record per stage.
    expect([
      teacher.sim.counters.maxInFlight,
      student.sim.counters.maxInFlight,
      judge.sim.counters.maxInFlight,
    ]).toEqual([2, 4, 3])
    expect([
      teacher.sim.counters.completed,
      student.sim.counters.completed,
      judge.sim.counters.completed,
    ]).toEqual([20, 60, 60])
    // Pipelined: the student started before the teacher ended its last topic.
    const firstStudent = events.findIndex(
      (event) => event.type === 'record-start' && event.stage === 'student',
    )
    const lastTeacher = events.findLastIndex(
      (event) => event.type === 'record-end' && event.stage === 'teacher',
    )
    expect(firstStudent).toBeGreaterThan(-1)
    expect(firstStudent).toBeLessThan(lastTeacher)
    expect(events.filter((event) => event.type === 'job-start')).toEqual([
      expect.objectContaining({ stages: ['teacher', 'student', 'judge'] }),
    ])
    // What a viewer needs for per-stage progress: each teacher record's children, each judge's drops.
    const ends = (stage: string) =>
      events.filter((event) => event.type === 'record-end' && event.stage === stage) as RecordEndEvent[]
    expect(ends('teacher').map((event) => event.children)).toEqual(Array(20).fill(3))
    expect(ends('student').every((event) => event.children === undefined && !event.filtered)).toBe(true)
    expect(ends('judge').filter((event) => event.filtered?.startsWith('score '))).toHaveLength(filtered)
    expect(events.at(-1)).toMatchObject({ type: 'job-end', summary: { ok: 60 - filtered } })
    const recordEnd = events.find((event) => event.type === 'record-end' && event.stage === 'judge')
    expect(recordEnd).toMatchObject({ recordId: expect.stringMatching(/^judge:topic-\d+\.q[123]$/) })
    // One file per stage: the state a resume starts from.
    expect(await readLines(join(stageDirectory, 'teacher.jsonl'))).toHaveLength(20)
    expect(await readLines(join(stageDirectory, 'student.jsonl'))).toHaveLength(60)
  })

  it('stops a record at the stage that fails it: the next stage never gets an empty prompt', async () => {
    const { sim, client } = await server()
    const output = join(simulators.directory, 'failed.jsonl')
    const summary = await runStages({
      input: [{ id: 'a', topic: 'rivers' }],
      output,
      stages: [
        { name: 'teacher', client, model: 'no-such-model', template: 'About {{input.topic}}' },
        { name: 'student', client, model, template: '{{teacher.response}}' },
      ],
    })
    const [line] = await readLines<StagedLine>(output)
    expect(line!.error).toMatchObject({ code: 'SPOUT_HTTP_ERROR', stage: 'teacher' })
    expect(line!.stages).toEqual({})
    expect(summary.failed).toBe(1)
    expect(sim.counters.byPath['/api/generate']).toBe(1)
  })

  it('fails a record whose teacher response cannot be split, naming the stage', async () => {
    const { client } = await server()
    const output = join(simulators.directory, 'split.jsonl')
    await runStages({
      input: [{ id: 'a', topic: 'rivers' }],
      output,
      stages: [
        { name: 'teacher', client, model, template: 'About {{input.topic}}', split: 'json-array' },
        { name: 'student', client, model, template: '{{item}}' },
      ],
    })
    const [line] = await readLines<StagedLine>(output)
    expect(line!.error).toMatchObject({ code: 'SPOUT_SPLIT_ERROR', stage: 'teacher' })
    expect(line!.error!.message).toMatch(/^stage teacher: split 'json-array': the response is not JSON/)
    expect(line!.stages.teacher!.response).not.toBe('')
  })
})
