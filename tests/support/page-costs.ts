// What the page costs and what the machine's load does, next to the viewer-latency e2e's timings:
// a CPU profile of the page, Chromium's counters, the renderer's CPU time, timer lateness, frame gaps.
import { readdirSync, readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import type { Page } from 'playwright-core'

/** A CPU profile of the page (Chrome DevTools Protocol), saved where `save` says: open it in DevTools. */
export async function startProfile(page: Page): Promise<{ save: (path: string) => Promise<void> }> {
  const session = await page.context().newCDPSession(page)
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', { interval: 200 })
  await session.send('Profiler.start')
  return {
    save: async (path) => {
      const { profile } = await session.send('Profiler.stop')
      await writeFile(path, JSON.stringify(profile))
      await session.detach()
    },
  }
}

/**
 * A Chromium trace of the page's tasks (`devtools.timeline`: each task with its script, style,
 * layout, paint and GC), saved where `save` says: open it in DevTools' Performance panel.
 */
export async function startTrace(page: Page): Promise<{ save: (path: string) => Promise<void> }> {
  const session = await page.context().newCDPSession(page)
  const categories = ['toplevel', 'devtools.timeline', 'blink.user_timing']
  await session.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: categories },
  })
  return {
    save: async (path) => {
      const complete = new Promise<string>((resolve) =>
        session.once('Tracing.tracingComplete', ({ stream }) => resolve(stream ?? '')),
      )
      await session.send('Tracing.end')
      const handle = await complete
      const parts: string[] = []
      for (;;) {
        const { data, eof, base64Encoded } = await session.send('IO.read', { handle })
        parts.push(base64Encoded ? Buffer.from(data, 'base64').toString('utf8') : data)
        if (eof) break
      }
      await session.send('IO.close', { handle })
      await writeFile(path, parts.join(''))
      await session.detach()
    },
  }
}

interface TraceEvent {
  name: string
  ph: string
  ts: number
  dur?: number
  tdur?: number
  pid: number
  tid: number
}

/**
 * The page's main-thread tasks of at least `thresholdMs` in a trace saved by {@link startTrace}: when
 * each started (ms from the first hub frame the page received in the trace), its wall time and the
 * thread's own CPU time in it. A long task with little CPU time is the thread waiting for a core.
 */
export async function longTraceTasks(
  path: string,
  thresholdMs = 50,
): Promise<Array<{ at: number; wallMs: number; cpuMs: number }>> {
  const trace = JSON.parse(await readFile(path, 'utf8')) as { traceEvents: TraceEvent[] }
  const events = trace.traceEvents
  // The page's main thread: the one that ran the most script.
  const calls = new Map<string, number>()
  for (const event of events) {
    if (event.name !== 'FunctionCall') continue
    const thread = `${event.pid}:${event.tid}`
    calls.set(thread, (calls.get(thread) ?? 0) + 1)
  }
  const main = [...calls].sort((a, b) => b[1] - a[1])[0]?.[0]
  const received = events.filter((event) => event.name === 'WebSocketReceive').map((event) => event.ts)
  const origin = Math.min(...received)
  return events
    .filter(
      (event) =>
        event.name === 'ThreadControllerImpl::RunTask' &&
        `${event.pid}:${event.tid}` === main &&
        (event.dur ?? 0) >= thresholdMs * 1000,
    )
    .sort((a, b) => a.ts - b.ts)
    .map((event) => ({
      at: Math.round((event.ts - origin) / 1000),
      wallMs: Math.round((event.dur ?? 0) / 100) / 10,
      cpuMs: Math.round((event.tdur ?? 0) / 100) / 10,
    }))
}

/** Chromium's counters for the page (layouts, style recalculations, time in tasks, script, layout). */
export async function startPageMetrics(page: Page): Promise<{ read: () => Promise<Record<string, number>> }> {
  const session = await page.context().newCDPSession(page)
  await session.send('Performance.enable')
  const names = [
    'LayoutCount',
    'RecalcStyleCount',
    'TaskDuration',
    'ScriptDuration',
    'LayoutDuration',
    'RecalcStyleDuration',
  ]
  const take = async (): Promise<Record<string, number>> => {
    const { metrics } = await session.send('Performance.getMetrics')
    return Object.fromEntries(
      metrics.filter(({ name }) => names.includes(name)).map(({ name, value }) => [name, value]),
    )
  }
  const before = await take()
  return {
    read: async () => {
      const after = await take()
      await session.detach()
      // Durations in seconds from Chromium: reported in milliseconds.
      return Object.fromEntries(
        names.map((name) => {
          const value = (after[name] ?? 0) - (before[name] ?? 0)
          return [name, Math.round(name.endsWith('Duration') ? value * 1000 : value)]
        }),
      )
    },
  }
}

/**
 * CPU seconds used so far by the Chromium renderer processes whose command line holds `marker`
 * (the profile directory): the page's own cost, whatever the load (Linux `/proc`; undefined elsewhere).
 */
export function rendererCpuSeconds(marker: string): number | undefined {
  let ticks = 0
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      let commandLine: string
      try {
        commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      } catch {
        continue
      }
      if (!commandLine.includes('--type=renderer') || !commandLine.includes(marker)) continue
      // Fields after the command name: utime and stime are the 14th and 15th of /proc/PID/stat.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    }
  } catch {
    return undefined
  }
  return ticks / 100
}

/**
 * How late a 5 ms timer fires in this process while the run goes on: what the machine's load does
 * to any process on it (on a quiet machine, about a millisecond).
 */
export function watchTimerLag(): { stop: () => number[] } {
  const lags: number[] = []
  let expected = performance.now() + 5
  const timer = setInterval(() => {
    const now = performance.now()
    lags.push(Math.max(0, now - expected))
    expected = now + 5
  }, 5)
  return {
    stop: () => {
      clearInterval(timer)
      return lags
    },
  }
}

/** The gaps between the page's animation frames (16.7 ms when it gets every frame at 60 Hz). */
export function frameGaps(frames: readonly number[]): number[] {
  return frames.slice(1).map((at, index) => at - frames[index]!)
}
