// A staged run's `context.control` (what a viewer's stop reaches through `broadcastSink`): one
// record by its observed id, `<stage>:<id>`, or the whole run.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventSink } from './event-sink.ts'
import type { JobSummary } from './events.ts'
import type { PluginContext } from './plugin.ts'
import { runStages, type StagedLine } from './stages.ts'
import { readLines, useSimulators } from './testing/simulators.ts'

const model = 'llama3.2'
const simulators = useSimulators('spout-stage-control-')
const topics = Array.from({ length: 6 }, (_, index) => ({
  id: `t${index + 1}`,
  topic: `subject ${index + 1}`,
}))

/** teacher → student over one slow simulator; `onStart` sees each record-start with the observers' context. */
async function run(
  output: string,
  onStart: (recordId: string, context: PluginContext) => void,
  onQueued: (recordId: string, stage: string | undefined, context: PluginContext) => void = () => {},
): Promise<{ summary: JobSummary; lines: StagedLine[] }> {
  const { client } = await simulators.server({ numParallel: 4, tokensPerSecond: 200 })
  const summary = await runStages({
    input: topics,
    output,
    readAhead: 4,
    plugins: [
      eventSink((event, context) => {
        if (event.type === 'record-start') onStart(event.recordId, context)
        else if (event.type === 'record-queued') onQueued(event.recordId, event.stage, context)
      }),
    ],
    stages: [
      {
        name: 'teacher',
        client,
        model,
        template: 'A question about {{input.topic}} [sim:tokens=10]',
        concurrency: 2,
      },
      {
        name: 'student',
        client,
        model,
        template: 'Answer: {{teacher.response}} [sim:tokens=60]',
        concurrency: 2,
      },
    ],
  })
  return { summary, lines: await readLines<StagedLine>(output) }
}

describe('a staged run under control', () => {
  it('aborts one record at its stage by its observed id; the run goes on', async () => {
    const answers: Record<string, boolean> = {}
    const { summary, lines } = await run(join(simulators.directory, 'record.jsonl'), (recordId, context) => {
      if (recordId !== 'student:t2') return
      answers.unknownStage = context.control!.abortRecord('critic:t2', 'test')
      answers.noStage = context.control!.abortRecord('t2', 'test')
      answers.passedOn = context.control!.abortRecord('teacher:t2', 'test')
      answers.student = context.control!.abortRecord('student:t2', 'from the test')
    })
    expect(answers).toEqual({ unknownStage: false, noStage: false, passedOn: false, student: true })
    expect(lines.map((line) => line.id).sort()).toEqual(topics.map((topic) => topic.id))
    const stopped = lines.find((line) => line.id === 't2')!
    expect(stopped.error).toMatchObject({ code: 'SPOUT_ABORTED', stage: 'student' })
    expect(stopped.error!.message).toContain('from the test')
    expect(stopped.stages.teacher!.response).not.toBe('')
    for (const line of lines.filter((each) => each.id !== 't2')) expect(line.error).toBeUndefined()
    expect(summary).toMatchObject({ ok: 5, failed: 1 })
    expect(summary.interrupted).toBeUndefined()
  })

  it("shows a stage's waiting records as queued, <stage>:<id>, and stops one before it starts", async () => {
    const queued: string[] = []
    const answers: boolean[] = []
    let stopped: string | undefined
    const { lines } = await run(
      join(simulators.directory, 'queued.jsonl'),
      () => {},
      (recordId, stage, context) => {
        queued.push(`${stage} ${recordId}`)
        if (stopped === undefined && stage === 'student') {
          stopped = recordId.slice('student:'.length)
          // As a viewer's stop comes: after the event, while the record waits in the stage's window.
          setImmediate(() => answers.push(context.control!.abortRecord(recordId, 'while it waited')))
        }
      },
    )
    expect(
      queued.some((entry) => /^student student:t\d$/.test(entry)),
      queued.join(', '),
    ).toBe(true)
    expect(answers).toEqual([true])
    const line = lines.find((each) => each.id === stopped)!
    expect(line.error).toMatchObject({ code: 'SPOUT_ABORTED', stage: 'student' })
    expect(line.error!.message).toBe(`record ${stopped}: aborted: while it waited`)
  })

  it('stops the whole run as an abort of its signal does: interrupted, every final id at most once', async () => {
    let stopped = false
    const { summary, lines } = await run(join(simulators.directory, 'job.jsonl'), (recordId, context) => {
      if (stopped || !recordId.startsWith('student:')) return
      stopped = true
      context.control!.stopJob('from the test')
    })
    expect(summary.interrupted).toBe(true)
    expect(summary.error).toBeUndefined()
    const ids = lines.map((line) => line.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(summary.ok).toBeLessThan(topics.length)
  })
})
