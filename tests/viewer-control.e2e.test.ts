// The control channel end to end: a real hub started with a control token, a real `spout run
// --broadcast` against the simulator, and a real Chromium. Queued rows show before they start; a page
// without the token has no buttons; a page with it stops one running record, one queued record and
// then the whole job; the run exits 130 with those records SPOUT_ABORTED, and a resume runs them.
// A staged run takes the same: records named <stage>:<id>, running or queued, are stopped at their
// stage, then the run.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { type CliRun, spawnCli } from './support/cli.ts'
import { publishUrl } from './support/viewer-page.ts'
import { useViewerSetup } from './support/viewer-setup.ts'

const controlToken = 'k3y-for-tests'
const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']
/** r2 is short (it ends ok before anything is stopped); the others stream long enough to be stopped. */
const prompt = (id: string) => `question ${id} [sim:tokens=${id === 'r2' ? 5 : 2000}]`

interface Line {
  id: string
  response: string
  /** `stage`: where a staged run's record ended. */
  error?: { code: string; message: string; stage?: string }
}

/** Clicks a record's Stop and waits for the record to end failed. */
async function stopRecord(page: Page, record: Locator, id: string): Promise<void> {
  await record.getByRole('button', { name: `Stop record ${id}` }).click()
  await record.and(page.locator('[data-status="failed"]')).waitFor({ timeout: 30_000 })
}

/** Stops the job (two clicks: stop, confirm) and waits for the run, which exits as after Ctrl-C. */
async function stopJob(page: Page, run: CliRun): Promise<Awaited<CliRun['exited']>> {
  await page.getByRole('button', { name: 'Stop job' }).click()
  await page.getByRole('button', { name: 'Confirm stop' }).click()
  const exit = await run.exited
  expect(exit.code, exit.stderr).toBe(130)
  expect(exit.stderr).toContain('a viewer stopped the job')
  return exit
}

/** The output's lines, parsed. */
async function readOutput(path: string): Promise<Line[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line)
}

describe('stopping from the viewer (Chromium, spout run --broadcast, hub control channel)', () => {
  const setup = useViewerSetup({
    name: 'viewer-control',
    simulators: [{ tokensPerSecond: 40, numParallel: 2 }, { numParallel: 4 }],
    hub: { controlToken },
  })
  const openViewer = (query: string) => setup.openViewer(`/${query}`, { width: 1280, height: 1600 })

  const row = (page: Page, id: string) => page.locator(`[data-record-id="${id}"]`)
  /** A record's row in the list (a staged job shows its records in the stages panel too). */
  const listed = (page: Page, id: string) => page.locator(`article[data-record-id="${id}"]`)

  it('stops a running record, a queued one and the job; the output is resumable', async () => {
    const input = join(setup.directory, 'questions.jsonl')
    const output = join(setup.directory, 'answers.jsonl')
    await writeFile(input, ids.map((id) => JSON.stringify({ id, prompt: prompt(id) })).join('\n') + '\n')
    const args = ['run', input, '-m', 'llama3.2', '-o', output, '-c', '2', '--name', 'control-job']
    const run = spawnCli([...args, '--host', setup.simulators[0]!.url, '--broadcast', publishUrl(setup.hub)])

    // A page whose control token is wrong sees the job and its queued rows, and no buttons.
    const reader = await openViewer('?control=wrong')
    await row(reader, 'r8').and(reader.locator('[data-status="queued"]')).waitFor({ timeout: 60_000 })
    await row(reader, 'r1').and(reader.locator('[data-status="streaming"]')).waitFor({ timeout: 60_000 })
    expect(await row(reader, 'r8').textContent()).toContain('waiting for a free slot')
    expect(await reader.locator('.stop-record, .stop-job').count()).toBe(0)

    const controller = await openViewer(`?control=${controlToken}`)
    await row(controller, 'r1').and(controller.locator('[data-status="streaming"]')).waitFor()
    // One running record: it ends failed (SPOUT_ABORTED) and the next queued record takes its slot.
    await stopRecord(controller, row(controller, 'r1'), 'r1')
    expect(await row(controller, 'r1').locator('.record-error-code').textContent()).toBe('SPOUT_ABORTED')
    // One queued record: it ends without ever starting.
    await stopRecord(controller, row(controller, 'r8'), 'r8')
    await row(controller, 'r3')
      .and(controller.locator('[data-status="streaming"]'))
      .waitFor({ timeout: 30_000 })
    // The job: two clicks (stop, confirm), and the run stops as after Ctrl-C.
    const exit = await stopJob(controller, run)
    expect(exit.stderr).toMatch(/spout: interrupted: .*cancelled/)
    await controller.locator('.job-view-head .badge--interrupted').waitFor({ timeout: 30_000 })

    // Every record read has its line; what was stopped is SPOUT_ABORTED; r2 had finished.
    const lines = await readOutput(output)
    expect(lines.map((line) => line.id).sort()).toEqual(ids)
    const byId = new Map(lines.map((line) => [line.id, line]))
    expect(byId.get('r2')?.error).toBeUndefined()
    expect(byId.get('r1')?.error?.message).toMatch(/^record r1: aborted: from the viewer/)
    expect(byId.get('r8')?.error?.message).toMatch(/^record r8: aborted: from the viewer/)
    for (const id of ['r3', 'r4', 'r5', 'r6', 'r7']) expect(byId.get(id)?.error?.code).toBe('SPOUT_ABORTED')

    // A resume runs the stopped records again, and only them.
    const resumed = await spawnCli([...args, '--host', setup.simulators[1]!.url, '--resume']).exited
    expect(resumed.code, resumed.stderr).toBe(0)
    const final = await readOutput(output)
    expect(final.map((line) => line.id).sort()).toEqual(ids)
    for (const line of final) expect(line.error).toBeUndefined()
    expect(final.find((line) => line.id === 'r2')?.response).toBe(byId.get('r2')?.response)
    expect(setup.errors).toEqual([])
  }, 240_000)

  it('stops a staged record at its stage and then the staged run; a resume completes it', async () => {
    const config = join(setup.directory, 'staged.config.mjs')
    const input = join(setup.directory, 'topics.jsonl')
    const output = join(setup.directory, 'staged.jsonl')
    await writeFile(
      config,
      `export default {
  model: 'llama3.2',
  stages: [
    { name: 'teacher', template: 'A question about {{input.topic}} [sim:tokens=5]', concurrency: 1 },
    { name: 'student', template: 'Answer: {{teacher.response}} [sim:tokens=2000]', concurrency: 1 },
  ],
}
`,
    )
    const topics = ['t1', 't2', 't3']
    await writeFile(input, topics.map((id) => JSON.stringify({ id, topic: `topic ${id}` })).join('\n') + '\n')
    const args = ['run', input, '--config', config, '-o', output, '--name', 'staged-control']
    const run = spawnCli([...args, '--host', setup.simulators[0]!.url, '--broadcast', publishUrl(setup.hub)])

    const controller = await openViewer(`?control=${controlToken}`)
    // Records show as the viewer names them, <stage>:<id>: the student's t1 is stopped at the student.
    const first = listed(controller, 'student:t1')
    await first.and(controller.locator('[data-status="streaming"]')).waitFor({ timeout: 60_000 })
    // t3 waits for the student's one slot (read ahead, shown queued): stopped before it starts.
    const waiting = listed(controller, 'student:t3')
    await waiting.and(controller.locator('[data-status="queued"]')).waitFor({ timeout: 60_000 })
    await stopRecord(controller, waiting, 'student:t3')
    await stopRecord(controller, first, 'student:t1')
    await listed(controller, 'student:t2')
      .and(controller.locator('[data-status="streaming"]'))
      .waitFor({ timeout: 60_000 })
    await stopJob(controller, run)

    const lines = await readOutput(output)
    const ids = lines.map((line) => line.id)
    expect(new Set(ids).size).toBe(ids.length)
    const stopped = lines.find((line) => line.id === 't1')
    expect(stopped?.error).toMatchObject({ code: 'SPOUT_ABORTED', stage: 'student' })
    expect(stopped?.error?.message).toMatch(/^record t1: aborted: from the viewer/)
    expect(lines.find((line) => line.id === 't2')?.error?.code).toBe('SPOUT_ABORTED')
    expect(lines.find((line) => line.id === 't3')?.error).toMatchObject({
      code: 'SPOUT_ABORTED',
      stage: 'student',
    })
    expect(lines.find((line) => line.id === 't3')?.error?.message).toMatch(
      /^record t3: aborted: from the viewer/,
    )

    const resumed = await spawnCli([...args, '--host', setup.simulators[1]!.url, '--resume']).exited
    expect(resumed.code, resumed.stderr).toBe(0)
    const final = await readOutput(output)
    expect(final.map((line) => line.id).sort()).toEqual(topics)
    for (const line of final) expect(line.error).toBeUndefined()
    expect(setup.errors).toEqual([])
  }, 240_000)
})
