// The live viewer in a real Chromium, against the real hub, fed by a real batch (pipeline + simulator).
import { mkdir } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { HostPool, OllamaClient } from '@spout/core'
import type { Simulator } from '@spout/ollama-sim'
import { startSimulator } from '@spout/ollama-sim'
import type { Hub } from '@spout/ws-server'
import { createHub } from '@spout/ws-server'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from './support/temp-dir.ts'
import {
  ensureViewerBuild,
  launchBrowser,
  publishUrl,
  root,
  startJob,
  staticDir,
  until,
} from './support/viewer-page.ts'

// Code that runs in the page is written as plain JavaScript strings: this project's TypeScript has
// no DOM types (the tests run in Node).
const rowSelector = (recordId: string) => `[data-record-id=${JSON.stringify(recordId)}]`
const responseTextIn = (recordId: string) =>
  `(document.querySelector('${rowSelector(recordId)} .record-response')?.textContent ?? '')`
const statusIn = (recordId: string) =>
  `document.querySelector('${rowSelector(recordId)}')?.getAttribute('data-status')`

/** The id of the first record row visible at the top of the list. */
const topRecordScript = `(() => {
  const top = document.querySelector('.records-scroller').getBoundingClientRect().top
  const rows = [...document.querySelectorAll('.records-item [data-record-id]')]
  return rows.find((row) => row.getBoundingClientRect().bottom > top + 1)?.dataset.recordId
})()`

/** Records long tasks and the interval between animation frames from the page's first moment. */
const probeScript = `
  window.__probe = { longTasks: [], frames: [] }
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__probe.longTasks.push(entry.duration)
  }).observe({ type: 'longtask', buffered: true })
  let last = performance.now()
  const frame = (now) => {
    window.__probe.frames.push(now - last)
    last = now
    requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
`

interface Probe {
  longTasks: number[]
  frames: number[]
}

const responseOf = (page: Page, recordId: string) =>
  page.locator(`[data-record-id="${recordId}"] .record-response`)

/** Switches the page to raw text (responses as written, not rendered as Markdown). */
async function showRawText(page: Page): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Raw text' })
  if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click()
  await page.locator('.job-view .record-response[data-format="raw"]').first().waitFor({ state: 'attached' })
}

/** Reads one record's text as the page shows it (searching for it, since the list is virtualized). */
async function shownText(page: Page, recordId: string): Promise<string> {
  await page.getByRole('searchbox').fill(recordId)
  await showRawText(page)
  const element = responseOf(page, recordId)
  await element.waitFor({ state: 'attached' })
  return (await element.textContent()) ?? ''
}

/** Page errors, collected so each test can assert there were none. */
const pageErrors = new WeakMap<Page, string[]>()

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  const errors: string[] = []
  pageErrors.set(page, errors)
  page.on('pageerror', (error) => errors.push(error.message))
  return page
}

async function openViewer(context: BrowserContext, hub: Hub): Promise<Page> {
  const page = await newPage(context)
  await page.goto(hub.url)
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
  return page
}

async function closePage(page: Page): Promise<void> {
  expect(pageErrors.get(page)).toEqual([])
  await page.close()
}

describe('live viewer in Chromium', () => {
  let simulator: Simulator
  let context: BrowserContext
  let profile: { path: string; remove: () => Promise<void> }
  const hubs: Hub[] = []

  beforeAll(async () => {
    ensureViewerBuild()
    profile = await makeTempDir('spout-chromium-')
    context = await launchBrowser(profile.path)
    simulator = await startSimulator({ tokensPerSecond: 40, numParallel: 4 })
  }, 120_000)

  afterAll(async () => {
    await context?.close()
    await Promise.all(hubs.map((hub) => hub.close()))
    await simulator?.close()
    await profile?.remove()
  })

  async function startHub(port = 0, compression = false): Promise<Hub> {
    const hub = await createHub({ port, staticDir, compression })
    hubs.push(hub)
    return hub
  }

  it('shows a record growing token by token while the job runs, then the exact final text', async () => {
    // Compressed: Chromium offers permessage-deflate, so it gets every tick of 512 bytes or more deflated.
    const hub = await startHub(0, true)
    const page = await openViewer(context, hub)
    // The fifth record loses its connection after 5 chunks once: its retry starts the text over.
    const retried = 'grow-0005'
    const job = startJob(simulator, publishUrl(hub), {
      jobId: 'grow',
      count: 6,
      concurrency: 2,
      tokens: 60,
      // The first record pauses 1.5 s after 20 chunks, so even a slow page sees it mid-stream.
      suffix: {
        [retried]: ' [sim:fault=drop,after=5,times=1]',
        'grow-0001': ' [sim:fault=stall,after=20,ms=1500]',
      },
    })
    const first = job.ids[0]!
    await page.locator(`[data-record-id="${first}"][data-status="streaming"]`).waitFor()
    await showRawText(page)
    const response = responseOf(page, first)
    await page.waitForFunction(`${responseTextIn(first)}.length > 0`)
    const earlier = (await response.textContent()) ?? ''
    // Grows on the page while the page still shows the record streaming (so the job was running).
    await page.waitForFunction(
      `${statusIn(first)} === 'streaming' && ${responseTextIn(first)}.length > ${earlier.length}`,
    )
    const later = (await response.textContent()) ?? ''
    expect(later.startsWith(earlier)).toBe(true)
    expect(later.length).toBeGreaterThan(earlier.length)

    const summary = await job.done
    expect(summary.ok).toBe(6)
    await page.locator('.job-view [data-job-status="done"]').waitFor()
    for (const id of job.ids) {
      expect(await shownText(page, id)).toBe(job.responses.get(id))
    }
    // Those texts came in part through compressed ticks.
    const metrics = await (await fetch(`${hub.url}/metrics`)).text()
    expect(Number(/^spout_hub_frames_compressed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    await page.getByRole('searchbox').fill(retried)
    await page.locator(rowSelector(retried)).getByText('retried 1×').waitFor()
    await page.getByRole('searchbox').fill(job.ids.at(-1)!)
    // The copy buttons put the exact prompt and response on the clipboard.
    const last = job.ids.at(-1)!
    const row = page.locator(rowSelector(last))
    await row.getByRole('button', { name: 'Copy response' }).click()
    await row.getByText('Copied').waitFor()
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(job.responses.get(last))
    await row.getByRole('button', { name: 'Copy prompt' }).click()
    await expect
      .poll(() => page.evaluate('navigator.clipboard.readText()'))
      .toBe(`Question ${last}: what is a river?`)
    await closePage(page)
  })

  it('renders answers as Markdown while they stream, with plots, and thinking apart and closed', async () => {
    const hub = await startHub()
    const page = await openViewer(context, hub)
    const ids = Array.from({ length: 6 }, (_, index) => `md-000${index + 1}`)
    const job = startJob(simulator, publishUrl(hub), {
      jobId: 'md',
      count: ids.length,
      concurrency: 2,
      tokens: 400,
      model: 'qwen3',
      suffix: Object.fromEntries(
        ids.map((id, index) => [id, ` [sim:style=markdown,tokens=${index === 0 ? 140 : 90}]`]),
      ),
    })
    const first = ids[0]!
    const row = page.locator(rowSelector(first))
    // A heading rendered while the record is still streaming.
    await page
      .locator(`${rowSelector(first)}[data-status="streaming"] .record-response[data-format="markdown"] h2`)
      .waitFor()
    // The plots draw while the job runs.
    for (const chart of ['tokens-per-second', 'records-done', 'failures', 'ttft', 'record-speed']) {
      await page.locator(`.job-charts [data-chart="${chart}"] canvas`).waitFor()
    }
    if (process.env.SPOUT_UPDATE_SCREENSHOT) {
      const [fifth, sixth] = ids.slice(4) as [string, string]
      await until(() => job.chunks(fifth) >= 50 && job.chunks(sixth) >= 35, 'four records done, two midway')
      await page.waitForTimeout(300)
      await mkdir(join(root, 'docs'), { recursive: true })
      await page.screenshot({ path: join(root, 'docs/viewer.png') })
    }
    await job.done
    await page.locator('.job-view [data-job-status="done"]').waitFor()
    // Every finished record is in the distributions, and the done line reached the total.
    await page.locator('.job-charts [data-chart="ttft"][data-records="6"]').waitFor()
    await page.locator('.job-charts [data-chart="record-speed"][data-records="6"]').waitFor()
    await page.locator('.job-charts [data-chart="records-done"][data-finished="6"]').waitFor()
    await page.getByRole('searchbox').fill(first)
    const rendered = row.locator('.record-response[data-format="markdown"]')
    expect(await rendered.locator('pre code .hljs-keyword').count()).toBeGreaterThan(0)
    expect(await rendered.locator('table td').count()).toBeGreaterThan(0)
    expect(await rendered.locator('li').count()).toBeGreaterThan(0)
    expect(await rendered.locator('script, [onerror]').count()).toBe(0)
    // Thinking sits in its own block, closed until asked for.
    const thinking = row.locator('.record-thinking')
    expect(await thinking.getAttribute('data-open')).toBe('false')
    expect(await row.locator('.output--thinking').count()).toBe(0)
    await thinking.getByRole('button').click()
    expect(await row.locator('.output--thinking').textContent()).toBe(job.thinking.get(first))
    expect(await shownText(page, first)).toBe(job.responses.get(first))
    await closePage(page)
  })

  it('draws tokens/s per host when the job runs on a pool of hosts', async () => {
    const hub = await startHub()
    const page = await openViewer(context, hub)
    const second = await startSimulator({ tokensPerSecond: 40, numParallel: 4 })
    try {
      const pool = new HostPool({
        hosts: [simulator, second].map((each) => ({
          backend: new OllamaClient({ host: each.url }),
          concurrency: 2,
        })),
      })
      const job = startJob(simulator, publishUrl(hub), {
        jobId: 'pool',
        count: 12,
        concurrency: 4,
        tokens: 50,
        client: pool,
      })
      const rate = page.locator('.job-charts [data-chart="tokens-per-second"][data-hosts="2"]')
      await rate.waitFor()
      for (const each of [simulator, second]) await rate.getByText(each.url).waitFor()
      expect((await job.done).ok).toBe(12)
    } finally {
      await second.close()
    }
    await closePage(page)
  })

  it('shows everything so far to a page opened in the middle of a job', async () => {
    const hub = await startHub()
    // The third record pauses for 4 s after 10 chunks: the page opens while it is midway.
    const stalled = 'late-0003'
    const job = startJob(simulator, publishUrl(hub), {
      jobId: 'late',
      count: 6,
      concurrency: 2,
      tokens: 60,
      suffix: { [stalled]: ' [sim:fault=stall,after=10,ms=4000]' },
    })
    const [first, second, third] = job.ids as [string, string, string]
    expect(third).toBe(stalled)
    await until(
      () => job.ended(first) && job.ended(second) && job.chunks(third) >= 10,
      'two records done, one midway',
    )
    const page = await openViewer(context, hub)
    const midway = await shownText(page, third)
    expect(job.ended(third)).toBe(false)
    expect(await shownText(page, first)).toBe(job.responses.get(first))
    expect(await shownText(page, second)).toBe(job.responses.get(second))
    expect(midway.length).toBeGreaterThan(0)

    await job.done
    await page.locator('.job-view [data-job-status="done"]').waitFor()
    const final = job.responses.get(third)!
    expect(final.startsWith(midway)).toBe(true)
    expect(await shownText(page, third)).toBe(final)
    await closePage(page)
  })

  it('recovers the exact text after the hub is killed and restarted on the same port mid-job', async () => {
    let hub = await startHub()
    const port = hub.port
    const page = await openViewer(context, hub)
    const job = startJob(simulator, publishUrl(hub), {
      jobId: 'restart',
      count: 8,
      concurrency: 2,
      tokens: 60,
      // Pauses 3 s after 10 chunks: the hub goes down while this record is midway.
      suffix: { 'restart-0003': ' [sim:fault=stall,after=10,ms=3000]' },
    })
    const [first, , third] = job.ids as [string, string, string]
    await until(() => job.ended(first) && job.chunks(third) >= 10, 'a record done and one midway')
    await page.locator(`[data-record-id="${third}"]`).waitFor()

    await hub.close()
    expect(job.ended(third)).toBe(false)
    await page.getByRole('status').filter({ hasNotText: 'Connected' }).waitFor()
    hub = await startHub(port)
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()

    const summary = await job.done
    expect(summary.ok).toBe(8)
    await page.locator('.job-view [data-job-status="done"]').waitFor()
    for (const id of job.ids) {
      expect(await shownText(page, id)).toBe(job.responses.get(id))
    }
    await closePage(page)
  })

  it('stays responsive through a 2,000-record job (long tasks reported, not asserted)', async () => {
    const hub = await startHub()
    const page = await newPage(context)
    await page.addInitScript({ content: probeScript })
    await page.goto(hub.url)
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
    await page.evaluate('window.__probe.longTasks.length = 0; window.__probe.frames.length = 0')
    const fastSimulator = await startSimulator({ tokensPerSecond: 400, numParallel: 8 })
    try {
      const started = performance.now()
      const job = startJob(fastSimulator, publishUrl(hub), {
        jobId: 'big',
        count: 2000,
        concurrency: 8,
        tokens: 24,
      })
      // Follow mode: scrolling up pauses it and the view stays on what the reader looks at while
      // records keep arriving; the button resumes it.
      const scroller = page.locator('.records-scroller')
      const ended = () => job.events.filter((event) => event.type === 'record-end').length
      await until(() => ended() >= 200, '200 records to end', 60_000)
      await scroller.hover()
      await page.mouse.wheel(0, -1500)
      await page.locator('.records-scroller[data-following="false"]').waitFor()
      const topRecord = () => page.evaluate(topRecordScript) as Promise<string | undefined>
      const reading = await topRecord()
      const endedWhilePaused = ended()
      await until(() => ended() >= endedWhilePaused + 100, '100 more records to end', 60_000)
      await page.waitForTimeout(100)
      expect(await topRecord()).toBe(reading)
      await page.getByRole('button', { name: /Follow live records/ }).click()
      await page.locator('.records-scroller[data-following="true"]').waitFor()

      const summary = await job.done
      const seconds = (performance.now() - started) / 1000
      expect(summary.ok).toBe(2000)
      await page.locator('.job-view [data-job-status="done"]').waitFor()
      await page.locator('.job-view').filter({ hasText: '2,000 / 2,000 done' }).waitFor()
      const probe = (await page.evaluate('window.__probe')) as Probe
      const sorted = [...probe.frames].sort((a, b) => a - b)
      const percentile = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
      const report = {
        records: 2000,
        events: job.events.length,
        jobSeconds: Number(seconds.toFixed(1)),
        longTasks: probe.longTasks.length,
        longTaskTotalMs: Math.round(probe.longTasks.reduce((sum, value) => sum + value, 0)),
        longestTaskMs: Math.round(Math.max(0, ...probe.longTasks)),
        frames: sorted.length,
        frameP50Ms: Number(percentile(0.5).toFixed(1)),
        frameP95Ms: Number(percentile(0.95).toFixed(1)),
        frameMaxMs: Number((sorted.at(-1) ?? 0).toFixed(1)),
        // Frame times depend on what else the machine runs: the batch, hub and simulator share it.
        cpus: availableParallelism(),
        loadAverage: Number(loadavg()[0]!.toFixed(1)),
      }
      console.info(`[viewer perf] ${JSON.stringify(report)}`)
      const last = job.ids.at(-1)!
      expect(await shownText(page, last)).toBe(job.responses.get(last))
      // Reported, not asserted tightly: the page kept painting frames during the whole job.
      expect(report.frames).toBeGreaterThan(10)
    } finally {
      await fastSimulator.close()
      await closePage(page)
    }
  }, 180_000)
})
