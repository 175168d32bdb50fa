import { HostPool, OllamaClient, runPipeline } from '@spout/core'
import type { Simulator } from '@spout/ollama-sim'
import { broadcastSink } from '@spout/ws-server'
import { describe, expect, it } from 'vitest'
import { publishUrl } from './support/viewer-page.ts'
import { useViewerSetup } from './support/viewer-setup.ts'

const model = 'llama3.2'

/** The host's line as the page shows it, or undefined while it is not there. */
const hostLine = (host: string) => `(() => {
  const row = document.querySelector('.hosts tr[data-host=${JSON.stringify(host)}]')
  if (!row) return undefined
  return { state: row.getAttribute('data-state'), slots: row.querySelector('.host-slots').textContent }
})()`

describe('a pool of hosts in the live viewer (Chromium)', () => {
  const setup = useViewerSetup({
    name: 'viewer-hosts',
    simulators: [
      { tokensPerSecond: 100, numParallel: 2 },
      { tokensPerSecond: 100, numParallel: 2 },
    ],
  })

  it('shows a line per host, live, and a host that went away as no longer up', async () => {
    const page = await setup.openViewer()
    const [steady, doomed] = setup.simulators as [Simulator, Simulator]

    const clients = [steady, doomed].map((sim) => new OllamaClient({ host: sim.url }))
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
      plugins: [broadcastSink({ url: publishUrl(setup.hub) })],
    })

    // Both hosts up, each with its two slots in use, as the page shows them.
    await page.waitForFunction(
      `(() => { const a = ${hostLine(steadyUrl)}; const b = ${hostLine(doomedUrl)};
        return a && b && a.state === 'up' && b.state === 'up' && a.slots.startsWith('2 / 2') })()`,
      undefined,
      { timeout: 30_000 },
    )

    // The second host goes away mid-batch: its line stops saying up; the batch ends on the first.
    await doomed.close()
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
    expect(setup.errors).toEqual([])
  }, 120_000)
})
