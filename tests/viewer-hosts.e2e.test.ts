// A batch on a pool of two hosts in the live viewer, in a real Chromium, against the real hub: one
// line per host (up, in flight of its slots, tokens/s), live from the producer's `hosts` events; a
// host that stops answering shows as no longer up while the batch finishes on the other.
import { join } from 'node:path'
import { HostPool, OllamaClient, runPipeline } from '@spout/core'
import type { Simulator } from '@spout/ollama-sim'
import { startSimulator } from '@spout/ollama-sim'
import type { Hub } from '@spout/ws-server'
import { broadcastSink, createHub } from '@spout/ws-server'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from './support/temp-dir.ts'
import { ensureViewerBuild, launchBrowser, publishUrl, staticDir } from './support/viewer-page.ts'

const model = 'llama3.2'

/** The host's line as the page shows it, or undefined while it is not there. */
const hostLine = (host: string) => `(() => {
  const row = document.querySelector('.hosts tr[data-host=${JSON.stringify(host)}]')
  if (!row) return undefined
  return { state: row.getAttribute('data-state'), slots: row.querySelector('.host-slots').textContent }
})()`

describe('a pool of hosts in the live viewer (Chromium)', () => {
  let steady: Simulator
  let doomed: Simulator | undefined
  let context: BrowserContext
  let hub: Hub
  let directory: { path: string; remove: () => Promise<void> }
  const errors: string[] = []

  beforeAll(async () => {
    ensureViewerBuild()
    directory = await makeTempDir('spout-viewer-hosts-')
    context = await launchBrowser(join(directory.path, 'profile'))
    steady = await startSimulator({ tokensPerSecond: 100, numParallel: 2 })
    doomed = await startSimulator({ tokensPerSecond: 100, numParallel: 2 })
    hub = await createHub({ port: 0, staticDir })
  }, 120_000)

  afterAll(async () => {
    await context?.close()
    await hub?.close()
    await steady?.close()
    await doomed?.close()
    await directory?.remove()
  })

  it('shows a line per host, live, and a host that went away as no longer up', async () => {
    const page = await context.newPage()
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(hub.url)
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()

    const clients = [steady, doomed!].map((sim) => new OllamaClient({ host: sim.url }))
    const pool = new HostPool({ hosts: clients.map((backend) => ({ backend, concurrency: 2 })) })
    await pool.start({ model })
    const [steadyUrl, doomedUrl] = pool.hosts().map((host) => host.host) as [string, string]
    const done = runPipeline({
      jobId: 'pooled',
      name: 'pool.jsonl',
      client: pool,
      model,
      hostReportPeriod: 100,
      input: Array.from({ length: 40 }, (_, index) => ({
        id: `r${index}`,
        prompt: `p${index} [sim:tokens=20]`,
      })),
      plugins: [broadcastSink({ url: publishUrl(hub) })],
    })

    // Both hosts up, each with its two slots in use, as the page shows them.
    await page.waitForFunction(
      `(() => { const a = ${hostLine(steadyUrl)}; const b = ${hostLine(doomedUrl)};
        return a && b && a.state === 'up' && b.state === 'up' && a.slots.startsWith('2 / 2') })()`,
      undefined,
      { timeout: 30_000 },
    )

    // The second host goes away mid-batch: its line stops saying up; the batch ends on the first.
    await doomed!.close()
    doomed = undefined
    await page.waitForFunction(
      `(() => { const b = ${hostLine(doomedUrl)}; return b && b.state !== 'up' })()`,
      undefined,
      {
        timeout: 30_000,
      },
    )
    const summary = await done
    pool.close()
    await Promise.all(clients.map((client) => client.close()))
    expect(summary).toMatchObject({ ok: 40, failed: 0 })
    await page.locator('.job-view [data-job-status="done"]').waitFor()
    // The job-end's figures replace the last live ones: nothing in flight any more.
    await page.waitForFunction(
      `(() => { const a = ${hostLine(steadyUrl)}; return a && a.state === 'up' && a.slots === '0 / 2 fixed' })()`,
      undefined,
      { timeout: 10_000 },
    )
    expect(errors).toEqual([])
  }, 120_000)
})
