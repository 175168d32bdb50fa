// A staged run (teacher → student → judge) in the live viewer, in a real Chromium, against the real
// hub, fed by runStages over the simulator: per-stage progress while it runs and at the end, and a
// record's lineage (question → answer → verdict) with the exact texts of the final lines.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { OllamaClient, runStages, type StagedLine } from '@spout/core'
import { broadcastSink } from '@spout/ws-server'
import { describe, expect, it } from 'vitest'
import { publishUrl } from './support/viewer-page.ts'
import { useViewerSetup } from './support/viewer-setup.ts'

const model = 'llama3.2'
const topics = ['rivers', 'stars', 'trees', 'clouds']

/** The per-stage row's numbers as the page shows them (data attributes of the stage's row). */
const stageNumbers = (stage: string) => `(() => {
  const row = document.querySelector('.stage-progress [data-stage=${JSON.stringify(stage)}]')
  if (!row) return undefined
  const number = (name) => Number(row.getAttribute('data-' + name))
  return { done: number('done'), failed: number('failed'), filtered: number('filtered'),
           running: number('running'), total: row.getAttribute('data-total') }
})()`

interface Numbers {
  done: number
  failed: number
  filtered: number
  running: number
  total: string
}

describe('staged run in the live viewer (Chromium)', () => {
  const setup = useViewerSetup({
    name: 'viewer-stages',
    simulators: [{ tokensPerSecond: 50, numParallel: 8 }],
  })

  it('shows each stage progressing while the run goes, and the lineage of a record with its exact texts', async () => {
    const page = await setup.openViewer()
    const client = new OllamaClient({ host: setup.simulators[0]!.url })
    const output = join(setup.directory, 'staged.jsonl')
    let running = true
    const done = runStages({
      jobId: 'staged',
      name: 'topics.jsonl',
      input: topics.map((topic) => ({ id: topic, topic })),
      total: topics.length,
      output,
      plugins: [broadcastSink({ url: publishUrl(setup.hub) })],
      stages: [
        {
          name: 'teacher',
          client,
          model,
          template: 'Three questions about {{input.topic}} [sim:tokens=30]',
          concurrency: 2,
          split: (result) => [0, 1, 2].map((n) => result.response.slice(n * 30, n * 30 + 30)),
          childPrefix: 'q',
        },
        { name: 'student', client, model, template: 'Answer: {{item}} [sim:tokens=20]', concurrency: 1 },
        {
          name: 'judge',
          client,
          model,
          template: 'Grade ({{id}}): {{student.response}} [sim:tokens=10]',
          concurrency: 2,
          filter: (record) => (record.id.endsWith('.q3') ? 'third questions are dropped' : undefined),
        },
      ],
    }).finally(() => {
      running = false
    })

    // While the run goes: the student has ended some of its records and not all, as the page shows it.
    const seen: Numbers[] = []
    let midway: Numbers | undefined
    while (running && !midway) {
      const numbers = (await page.evaluate(stageNumbers('student'))) as Numbers | undefined
      if (numbers) seen.push(numbers)
      if (running && numbers && numbers.done > 0 && numbers.done < 12) midway = numbers
      else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(
      midway,
      `the page never showed the student midway: ${JSON.stringify(seen.slice(-3))}`,
    ).toBeDefined()

    const summary = await done
    await client.close()
    expect(summary).toMatchObject({ ok: 8, filtered: 4, failed: 0 })
    await page.locator('.job-view [data-job-status="done"]').waitFor()

    // The end: every stage's numbers, totals from the job's size and the teacher's splits.
    const settled = async (stage: string) => {
      await page.waitForFunction(`${stageNumbers(stage)}?.running === 0`)
      return page.evaluate(stageNumbers(stage))
    }
    expect(await settled('teacher')).toEqual({ done: 4, failed: 0, filtered: 0, running: 0, total: '4' })
    expect(await settled('student')).toEqual({ done: 12, failed: 0, filtered: 0, running: 0, total: '12' })
    expect(await settled('judge')).toEqual({ done: 8, failed: 0, filtered: 4, running: 0, total: '12' })

    // Lineage: a question → its answer → the verdict, with the texts of the final line.
    const lines = (await readFile(output, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as StagedLine)
    const line = lines.find((entry) => entry.id === 'stars.q2')!
    await page.getByLabel('Record to trace').fill('stars.q2')
    await page.getByRole('button', { name: 'Trace' }).click()
    const step = (recordId: string) => page.locator(`.lineage-chain > li[data-record-id="${recordId}"]`)
    const chain = ['teacher:stars', 'student:stars.q2', 'judge:stars.q2']
    await step('judge:stars.q2').waitFor()
    expect(
      await page
        .locator('.lineage-chain > li')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-record-id'))),
    ).toEqual(chain)
    expect(await step('teacher:stars').locator('.lineage-response').textContent()).toBe(
      line.stages.teacher!.response,
    )
    expect(await step('student:stars.q2').locator('.lineage-response').textContent()).toBe(
      line.stages.student!.response,
    )
    expect(await step('judge:stars.q2').locator('.lineage-response').textContent()).toBe(
      line.stages.judge!.response,
    )
    // The student's question is the teacher's second split item.
    expect(line.stages.student!.prompt).toBe(`Answer: ${line.item} [sim:tokens=20]`)

    // From the question, on to what came of it: its three answers; the third one's verdict dropped it.
    await step('teacher:stars').locator('.lineage-link').click()
    const next = page.locator('.lineage-next .lineage-link')
    await expect
      .poll(() => next.evaluateAll((links) => links.map((link) => link.getAttribute('data-record-id'))))
      .toEqual(['student:stars.q1', 'student:stars.q2', 'student:stars.q3'])
    await page.locator('.lineage-next [data-record-id="student:stars.q3"]').click()
    await page.locator('.lineage-next [data-record-id="judge:stars.q3"]').click()
    await expect.poll(() => step('judge:stars.q3').getAttribute('data-status')).toBe('filtered')
    await step('judge:stars.q3').getByText('filtered: third questions are dropped').waitFor()
    expect(setup.errors).toEqual([])
    await page.close()
  }, 120_000)
})
