// Memory between and across stages: the queue between two stages is bounded (a fast teacher waits
// for a slow student instead of piling records up), and a resumed run reads its stage files back
// record by record instead of holding them. Heap numbers are taken after a full GC, so they count
// what is kept, not garbage.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expectedResponse } from '@spout/ollama-sim'
import { describe, expect, it } from 'vitest'
import { eventSink } from './event-sink.ts'
import type { RecordEndEvent } from './events.ts'
import type { InputRecord, SpoutPlugin } from './plugin.ts'
import { runStages, type StageDefinition, type StagedLine, type StagesOptions } from './stages.ts'
import { readLines, useSimulators } from './testing/simulators.ts'

const model = 'llama3.2'
const simulators = useSimulators('spout-stages-memory-')
const server = simulators.server

/** `heapUsed` after a full GC. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const mebibyte = 1024 * 1024

/** Records made as they are read (the test keeps none): each carries `size` characters of text. */
function* bigRecords(count: number, size: number): Generator<InputRecord> {
  for (let index = 1; index <= count; index++) {
    yield { id: `topic-${index}`, text: `${index}:`.padEnd(size, 'x') }
  }
}

/** An observer that samples the heap (after GC) at the start of every `every`-th record of `stage`. */
function heapSampler(stage: string, every: number): { plugin: SpoutPlugin; samples: number[] } {
  const samples: number[] = []
  let seen = 0
  const plugin: SpoutPlugin = {
    name: 'heap-sampler',
    recordStart(event) {
      if (event.stage !== stage) return
      seen += 1
      if (seen % every === 0) samples.push(heapAfterGc())
    },
  }
  return { plugin, samples }
}

describe('staged runs keep memory bounded', () => {
  it('bounds the queue: a fast teacher waits for a slow student, nothing piles up', async () => {
    const teacher = await server({ numParallel: 2 })
    // ~12 tokens at 500 tok/s: about 25 ms per answer, one at a time.
    const student = await server({ numParallel: 1, tokensPerSecond: 500 })
    const queueSize = 2
    const records = 80
    // Each record carries ~400 KB (its input, and the teacher's prompt made of it): unbounded, the
    // teacher's 80 results would keep ~32 MB waiting for the student.
    const size = 200_000
    let widestGap = 0
    const gap = () => teacher.sim.counters.completed - (student.sim.counters.byPath['/api/generate'] ?? 0)
    const watch = setInterval(() => {
      widestGap = Math.max(widestGap, gap())
    }, 2)
    const heap = heapSampler('student', 20)
    const before = heapAfterGc()
    const summary = await runStages({
      input: bigRecords(records, size),
      queueSize,
      plugins: [heap.plugin],
      stages: [
        { name: 'teacher', client: teacher.client, model, template: 'Sum up {{input.text}}', concurrency: 2 },
        {
          name: 'student',
          client: student.client,
          model,
          template: 'Answer ({{id}}) [sim:tokens=12]',
          concurrency: 1,
        },
      ],
      output: join(simulators.directory, 'bounded.jsonl'),
    })
    clearInterval(watch)
    expect(summary).toMatchObject({ ok: records, failed: 0 })
    // Finished by the teacher and not yet sent to the student: at most the queue, plus the teacher's
    // records waiting to enter it, plus the one the student is taking.
    console.log(
      `[stages-memory] queue ${queueSize}: widest gap ${widestGap}, heap +${((Math.max(...heap.samples) - before) / mebibyte).toFixed(1)} MB`,
    )
    expect(widestGap).toBeLessThanOrEqual(queueSize + 2 + 1)
    expect(heap.samples.length).toBeGreaterThanOrEqual(3)
    const grown = Math.max(...heap.samples) - before
    expect(grown, `heap grew ${(grown / mebibyte).toFixed(1)} MB`).toBeLessThan(8 * mebibyte)
  })

  it('resumes from stage files far larger than it keeps, each final record exactly once', async () => {
    const teacher = await server({ numParallel: 4 })
    const student = await server({ numParallel: 4, tokensPerSecond: 4000 })
    const records = 240
    const size = 100_000
    const output = join(simulators.directory, 'resumed.jsonl')
    const stageDirectory = join(simulators.directory, 'resumed.stages')
    const teacherStage: StageDefinition = {
      name: 'teacher',
      client: teacher.client,
      model,
      template: 'Sum up {{input.text}}',
      concurrency: 4,
    }
    const options = (signal?: AbortSignal): StagesOptions => ({
      input: bigRecords(records, size),
      output,
      stageDirectory,
      resume: true,
      ...(signal ? { signal } : {}),
      stages: [
        teacherStage,
        {
          name: 'student',
          client: student.client,
          model,
          template: 'Answer ({{id}}) [sim:tokens=8]',
          concurrency: 4,
        },
      ],
    })
    // Round 1: the teacher alone, into the same stage directory (its final lines go elsewhere), so
    // the teacher's file holds every result and the output none.
    const first = await runStages({
      input: bigRecords(records, size),
      output: join(simulators.directory, 'teacher-only.jsonl'),
      stageDirectory,
      stages: [teacherStage],
    })
    expect(first).toMatchObject({ ok: records, failed: 0 })
    const teacherFile = (await stat(join(stageDirectory, 'teacher.jsonl'))).size
    expect(teacherFile).toBeGreaterThan(records * size)
    expect(teacher.sim.counters.completed).toBe(records)

    // Round 2: stopped after ~100 student answers (as a kill would), with the heap sampled.
    const controller = new AbortController()
    const stopper: SpoutPlugin = {
      name: 'stopper',
      recordEnd(result) {
        if (result.stage === 'student' && student.sim.counters.completed >= 100) controller.abort()
      },
    }
    const second = heapSampler('student', 25)
    let before = heapAfterGc()
    const interrupted = await runStages({
      ...options(controller.signal),
      plugins: [second.plugin, stopper],
    })
    expect(interrupted.interrupted).toBe(true)
    const grownSecond = Math.max(...second.samples) - before

    // Round 3: to the end.
    const third = heapSampler('student', 25)
    before = heapAfterGc()
    const ends: RecordEndEvent[] = []
    const recorder = eventSink((event) => {
      if (event.type === 'record-end') ends.push(event)
    })
    const summary = await runStages({ ...options(), plugins: [third.plugin, recorder] })
    const grownThird = Math.max(...third.samples) - before
    expect(summary.failed).toBe(0)
    expect(interrupted.ok + summary.ok).toBe(records)
    // Observers (the viewer) see what was not asked again, skipped at the teacher: each record round 2
    // wrote (already in the output: nothing passed on), and each stored teacher result (passed on).
    const skipped = ends.filter((end) => end.skipped)
    expect(skipped.every((end) => end.stage === 'teacher')).toBe(true)
    expect(skipped.filter((end) => end.children === 0)).toHaveLength(interrupted.ok)
    expect(skipped.filter((end) => end.children === undefined)).toHaveLength(records - interrupted.ok)
    expect(summary.skipped).toBe(interrupted.ok)

    // The teacher was never asked again; every final id is in the output once, with the exact texts.
    expect(teacher.sim.counters.completed).toBe(records)
    const lines = await readLines<StagedLine>(output)
    expect(lines.map((line) => line.id).sort()).toEqual(
      Array.from({ length: records }, (_, index) => `topic-${index + 1}`).sort(),
    )
    for (const line of lines) {
      expect(line.error).toBeUndefined()
      expect(line.stages.teacher!.prompt).toBe(`Sum up ${(line.input as { text: string }).text}`)
      expect(line.stages.student!.response).toBe(
        expectedResponse({ model, prompt: `Answer (${line.id}) [sim:tokens=8]` }).response,
      )
    }
    // The stage file is ~24 MB; a resume that held it would keep at least that (twice, as strings
    // and parsed). Kept: each id's place in the file, and the records in flight.
    console.log(
      `[stages-memory] teacher file ${(teacherFile / mebibyte).toFixed(1)} MB: heap +${(grownSecond / mebibyte).toFixed(1)} MB, +${(grownThird / mebibyte).toFixed(1)} MB`,
    )
    expect(second.samples.length + third.samples.length).toBeGreaterThanOrEqual(4)
    for (const grown of [grownSecond, grownThird]) {
      expect(grown, `heap grew ${(grown / mebibyte).toFixed(1)} MB`).toBeLessThan(8 * mebibyte)
    }
  })
})
