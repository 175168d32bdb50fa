// Token → DOM latency in a real Chromium: from the moment the simulator writes a token (Ollama's
// `created_at`) to the moment the page's DOM shows it, over a 2,000-record job at 500 tokens/s
// overall, with 1 viewer and with 50 on the hub, stage by stage. Numbers are printed, not asserted
// (timings on a shared machine are noise); docs/performance.md records them.
// Alone: `pnpm test:latency` (SPOUT_LATENCY_VIEWERS=1 for one run, SPOUT_LATENCY_RECORDS=500 for a
// shorter one, SPOUT_LATENCY_STREAM_RATE=12.5 for 100 tokens/s overall, SPOUT_LATENCY_PROFILE=/tmp/x
// for a CPU profile of the page, SPOUT_LATENCY_TRACE=/tmp/x for a trace of its tasks,
// SPOUT_LATENCY_PRODUCER_TICK_MS=4 for the producer's window as it was before it sent at the end of
// each event-loop turn).
import { availableParallelism, loadavg } from 'node:os'
import type { SpoutEvent } from '@spout/core'
import { OllamaClient } from '@spout/core'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFrameReaders } from './support/frame-readers.ts'
import type { ProbeRecord } from './support/latency-probe.ts'
import {
  clockOffset,
  dateClockOffset,
  epochNow,
  latencyProbe,
  noteWriteTimes,
  placeLongTasks,
  stageSummary,
  summary,
  tokenTimes,
} from './support/latency-probe.ts'
import {
  frameGaps,
  longTraceTasks,
  rendererCpuSeconds,
  startPageMetrics,
  startProfile,
  startTrace,
  watchTimerLag,
} from './support/page-costs.ts'
import { startHubProcess, startSimulatorProcess } from './support/peer-processes.ts'
import { makeTempDir } from './support/temp-dir.ts'
import { ensureViewerBuild, launchBrowser, publishUrl, startJob } from './support/viewer-page.ts'

/** More of the hub's options, as JSON (e.g. `{"minTickMs":16}` for a hub that always ticks every 16 ms). */
const hubOptions = JSON.parse(process.env.SPOUT_LATENCY_HUB_OPTIONS ?? '{}') as Record<string, unknown>
const viewerCounts = (process.env.SPOUT_LATENCY_VIEWERS ?? '1,50').split(',').map(Number)
const records = Number(process.env.SPOUT_LATENCY_RECORDS ?? 2000)
/** Tokens per second of each of the 8 streams: 62.5, 500 over the job. */
const streamRate = Number(process.env.SPOUT_LATENCY_STREAM_RATE ?? 62.5)
const producerTick = process.env.SPOUT_LATENCY_PRODUCER_TICK_MS

describe('token → DOM latency in Chromium', () => {
  let context: BrowserContext
  let profile: { path: string; remove: () => Promise<void> }

  beforeAll(async () => {
    ensureViewerBuild()
    profile = await makeTempDir('spout-chromium-latency-')
    context = await launchBrowser(profile.path)
  }, 120_000)

  afterAll(async () => {
    await context?.close()
    await profile?.remove()
  })

  for (const viewers of viewerCounts) {
    it(`${records} records at ${streamRate * 8} tokens/s overall, ${viewers} viewer${viewers === 1 ? '' : 's'} on the hub`, async () => {
      // 8 streams at 62.5 tokens/s each: 500 tokens/s over the job.
      const simulator = await startSimulatorProcess({ tokensPerSecond: streamRate, numParallel: 8 })
      const hub = await startHubProcess(hubOptions)
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      const writtenAt = new Map<string, number>()
      const sunkAt = new Map<string, number>()
      // The other viewers read every frame in a process of their own, as browsers elsewhere would.
      const others = viewers > 1 ? await startFrameReaders(hub.url, viewers - 1) : undefined
      const loadBefore = Number(loadavg()[0]!.toFixed(1))
      try {
        await page.addInitScript({ content: latencyProbe })
        await page.goto(hub.url)
        await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
        const profiler = process.env.SPOUT_LATENCY_PROFILE ? await startProfile(page) : undefined
        const tracer = process.env.SPOUT_LATENCY_TRACE ? await startTrace(page) : undefined
        const metrics = await startPageMetrics(page)
        const timerLag = watchTimerLag()
        const cpuBefore = rendererCpuSeconds(profile.path)
        const started = epochNow()
        const job = startJob(simulator, publishUrl(hub), {
          jobId: `latency-${viewers}`,
          count: records,
          concurrency: 8,
          // As `spout run --broadcast` does: a record is a (queued) row before its first token.
          readAhead: 16,
          ...(producerTick === undefined ? {} : { tickMs: Number(producerTick) }),
          tokens: 12,
          client: noteWriteTimes(new OllamaClient({ host: simulator.url }), writtenAt),
          onEvent: (event: SpoutEvent) => {
            if (event.type === 'chunk') sunkAt.set(`${event.recordId}/${event.seq}`, epochNow())
          },
        })
        if (process.env.SPOUT_LATENCY_SCREENSHOT) {
          await page.waitForTimeout(8000)
          await page.screenshot({ path: process.env.SPOUT_LATENCY_SCREENSHOT })
        }
        const result = await job.done
        const ended = epochNow()
        const lags = timerLag.stop()
        const seconds = (epochNow() - started) / 1000
        const cpuAfter = rendererCpuSeconds(profile.path)
        expect(result.ok).toBe(records)
        await page.locator('.job-view [data-job-status="done"]').waitFor()
        if (profiler) await profiler.save(`${process.env.SPOUT_LATENCY_PROFILE}-${viewers}.cpuprofile`)
        const tracePath = `${process.env.SPOUT_LATENCY_TRACE}-${viewers}.json`
        if (tracer) await tracer.save(tracePath)
        const pageWork = await metrics.read()
        const offsets = { page: await clockOffset(page), date: dateClockOffset() }
        const probe = (await page.evaluate('window.__latency')) as ProbeRecord
        const stages = stageSummary(tokenTimes(writtenAt, sunkAt, probe, offsets))
        const writes = [...writtenAt.values()].map((at) => at - offsets.date)
        const longTasks = placeLongTasks(probe, offsets.page, {
          started,
          firstToken: Math.min(...writes),
          lastToken: Math.max(...writes),
          ended,
        })
        const report = {
          viewers,
          records,
          producerTickMs: producerTick === undefined ? 'default' : Number(producerTick),
          tokens: writtenAt.size,
          tokensPerSecond: Math.round(writtenAt.size / seconds),
          jobSeconds: Number(seconds.toFixed(1)),
          ...stages,
          pageWork,
          // The page's CPU time (its renderer processes) per second of the job: its own cost.
          pageCpuPerSecond:
            cpuBefore === undefined || cpuAfter === undefined
              ? undefined
              : Number(((cpuAfter - cpuBefore) / seconds).toFixed(2)),
          // What the load does: this process's 5 ms timer lateness, and the page's frame gaps.
          timerLagMs: summary(lags),
          pageFrameGapMs: summary(frameGaps(probe.frames)),
          otherViewersFrames: await others?.frames(),
          longTasks: probe.longTasks.length,
          longestTaskMs: Math.round(Math.max(0, ...probe.longTasks.map(([, duration]) => duration))),
          // Each long task's start (ms from the first token written), duration and phase of the job.
          longTaskTimes: longTasks,
          longTasksDuringJob: longTasks.filter(({ phase }) => phase === 'during').length,
          cpus: availableParallelism(),
          loadAverage: [loadBefore, Number(loadavg()[0]!.toFixed(1))],
        }
        console.info(`[viewer latency] ${JSON.stringify(report)}`)
        // Where the long tasks came from: the long animation frames and their longest scripts.
        console.info(`[viewer latency long frames] ${JSON.stringify(probe.longFrames)}`)
        // With a trace: each long task's wall time against the main thread's CPU time in it.
        if (tracer)
          console.info(`[viewer latency traced tasks] ${JSON.stringify(await longTraceTasks(tracePath))}`)
        // A measurement: the numbers are reported. What must hold whatever the load: the page showed
        // tokens as they came (some into rows already in view) and raised no error.
        expect(stages.all.n).toBeGreaterThan(0)
        expect(stages.tokenToDom.n).toBeGreaterThan(0)
        expect(errors).toEqual([])
      } finally {
        await others?.close()
        await page.close()
        await hub.close()
        await simulator.close()
      }
    }, 300_000)
  }
})
