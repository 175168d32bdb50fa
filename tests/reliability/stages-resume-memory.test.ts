// A staged run resumed from a large stage file, through the built CLI: SIGKILLed mid-run, then resumed
// to the end, each round with a heap probe in the CLI process (a full GC, then heapUsed, every 100 ms).
// The teacher's stage file (about 24 MB, left by an earlier run) is read back record by record, never
// held: the heap grows by far less than the file's size. No teacher request is sent again, and every final
// id is in the output exactly once.
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtCli, repositoryRoot, spawnCli } from '../support/cli.ts'
import { makeTempDir } from '../support/temp-dir.ts'
import { until } from '../support/wait.ts'

const model = 'llama3.2'
const records = 250
const textSize = 100_000
const heapProbe = join(repositoryRoot, 'tests/support/heap-probe.mjs')
const mebibyte = 1024 * 1024

let teacherSim: Simulator
let studentSim: Simulator
let directory: { path: string; remove: () => Promise<void> }
beforeAll(async () => {
  builtCli()
  teacherSim = await startSimulator({ numParallel: 8 })
  studentSim = await startSimulator({ numParallel: 4, tokensPerSecond: 400 })
  directory = await makeTempDir('spout-stages-resume-memory-')
})
afterAll(async () => {
  await teacherSim?.close()
  await studentSim?.close()
  await directory?.remove()
})

// Each teacher prompt is ~100 KB (the template's own text: the input lines stay small, so only the
// stage file is large).
const teacherTemplate = `Sum up ({{id}}): ${'x'.repeat(textSize)}`
const teacherStage = () =>
  `{ name: 'teacher', model: '${model}', host: '${teacherSim.url}', template: '${teacherTemplate}', concurrency: 8 }`
const studentStage = () =>
  `{ name: 'student', model: '${model}', host: '${studentSim.url}', template: 'Answer ({{id}}) [sim:tokens=8]', concurrency: 4 }`

/**
 * What the probe logged (bytes, each after a full GC): the heap once the CLI has loaded (the lowest
 * sample after the first, which is taken before anything loads), and the peak.
 */
async function heapOf(log: string): Promise<{ loaded: number; peak: number }> {
  const samples = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => Number(line.split(' ')[1]))
  return { loaded: Math.min(...samples.slice(1)), peak: Math.max(...samples) }
}

describe('staged run: resume from a large stage file, SIGKILL, resume', () => {
  it('keeps the heap under the stage file, asks no teacher again and writes every final id once', async () => {
    const path = directory.path
    const ids = Array.from({ length: records }, (_, index) => `topic-${index + 1}`)
    await writeFile(join(path, 'topics.jsonl'), `${ids.map((id) => JSON.stringify({ id })).join('\n')}\n`)
    // An earlier run got every teacher answer (the teacher alone); its stage file is this run's state.
    await writeFile(join(path, 'teacher.config.mjs'), `export default { stages: [${teacherStage()}] }`)
    await writeFile(
      join(path, 'staged.config.mjs'),
      `export default { stages: [${teacherStage()}, ${studentStage()}] }`,
    )
    const first = await spawnCli(
      ['run', 'topics.jsonl', '--config', 'teacher.config.mjs', '-o', 'teacher-only.jsonl', '--no-progress'],
      { cwd: path },
    ).exited
    expect(first.code, first.stderr).toBe(0)
    await mkdir(join(path, 'out.stages'))
    await copyFile(join(path, 'teacher-only.stages/teacher.jsonl'), join(path, 'out.stages/teacher.jsonl'))
    const stageFile = (await stat(join(path, 'out.stages/teacher.jsonl'))).size
    expect(stageFile).toBeGreaterThan(records * textSize)
    const teacherAsked = teacherSim.counters.completed
    expect(teacherAsked).toBe(records)

    const args = ['run', 'topics.jsonl', '--config', 'staged.config.mjs', '-o', 'out.jsonl', '--resume']
    const round = (name: string) => {
      const log = join(path, `heap-${name}.log`)
      const run = spawnCli([...args, '--no-progress'], {
        cwd: path,
        nodeArgs: ['--import', heapProbe],
        env: { SPOUT_HEAP_PROBE: log, SPOUT_HEAP_PROBE_MS: '100' },
      })
      return { run, log }
    }
    // Round 1: killed once the student has answered about a third of the records.
    const killed = round('killed')
    let exited = false
    void killed.run.exited.then(() => {
      exited = true
    })
    await until(
      () => exited || studentSim.counters.completed >= records / 3,
      'a third of the answers',
      60_000,
    )
    killed.run.child.kill('SIGKILL')
    expect((await killed.run.exited).signal).toBe('SIGKILL')
    // Round 2: to the end.
    const resumed = round('resumed')
    const end = await resumed.run.exited
    expect(end.code, end.stderr).toBe(0)

    const heaps = [await heapOf(killed.log), await heapOf(resumed.log)]
    const grown = heaps.map(({ loaded, peak }) => peak - loaded)
    console.log(
      `[stages-resume-memory] stage file ${(stageFile / mebibyte).toFixed(1)} MB; heap ${heaps.map(({ loaded, peak }) => `${(loaded / mebibyte).toFixed(1)} → ${(peak / mebibyte).toFixed(1)}`).join(', ')} MB`,
    )
    // Holding the stage file would add at least its size; reading it back record by record adds the
    // records in flight.
    for (const bytes of grown) expect(bytes).toBeLessThan(8 * mebibyte)
    expect(teacherSim.counters.completed).toBe(teacherAsked)
    const lines = (await readFile(join(path, 'out.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { id: string; error?: unknown; stages: { student: { response: string } } },
      )
    expect(lines.map((line) => line.id).sort()).toEqual([...ids].sort())
    for (const line of lines) {
      expect(line.error).toBeUndefined()
      expect(line.stages.student.response).toBe(
        expectedResponse({ model, prompt: `Answer (${line.id}) [sim:tokens=8]` }).response,
      )
    }
  }, 240_000)
})
