import { useEffect, useRef } from 'react'
import type { JobCharts } from '../charts/job-charts.ts'
import { JobTimeline } from '../charts/job-timeline.ts'
import { useViewer } from '../use-viewer.ts'

/** How often (ms) the plots take a sample: a new point a second is plenty for a picture. */
const sampleInterval = 1_000

/**
 * Runs `task` when the page is idle (at the latest after `timeout` ms): a plot built there lays out
 * a page that is already laid out, and its task is not one with a flush or a frame's rendering.
 */
function whenIdle(task: () => void, timeout = 250): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => task(), { timeout })
  else requestAnimationFrame(() => task())
}

/** Whether this page can draw on a canvas (jsdom, used by the unit tests, cannot). */
function canDrawCharts(): boolean {
  return !/jsdom/i.test(navigator.userAgent)
}

/**
 * The plots of one job (uPlot, loaded in its own chunk once a job is shown). They sample the job's
 * counters from the store's own flush, in the task that applied the batch (about once per animation
 * frame), so drawing never competes with the text for a frame of its own; a timer keeps the plots
 * moving (one frame a second) when no events arrive.
 */
export function JobChartsView({ jobId }: { jobId: string }) {
  const { store } = useViewer()
  const container = useRef<HTMLElement>(null)
  useEffect(() => {
    const element = container.current
    if (!element || !canDrawCharts()) return
    const timeline = new JobTimeline(sampleInterval, jobId)
    let charts: JobCharts | undefined
    let closed = false
    const update = (): void => {
      const job = store.getSnapshot().state.jobs[jobId]
      if (!job || !charts) return
      const now = Date.now()
      if (timeline.sample(job, now)) charts.update(timeline, timeline.eta(job, now))
    }
    const unobserve = store.observeEvents((events) => timeline.observe(events))
    const unsubscribe = store.subscribe(update)
    const timer = setInterval(() => requestAnimationFrame(update), sampleInterval)
    const resize = new ResizeObserver(() => charts?.resize())
    resize.observe(element)
    void import('../charts/job-charts.ts').then(({ createJobCharts }) => {
      if (closed) return
      // One plot per idle period: built together they are one long task at the job's start.
      charts = createJobCharts(element, whenIdle)
      update()
    })
    return () => {
      closed = true
      unobserve()
      unsubscribe()
      clearInterval(timer)
      resize.disconnect()
      charts?.destroy()
    }
  }, [store, jobId])
  return <section className="job-charts" ref={container} aria-label="Job charts" />
}
