import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import './charts.css'
import { type ChartTheme, chartAxes, readChartTheme } from './chart-theme.ts'
import type { JobTimeline, TimelineSeries } from './job-timeline.ts'
import { histogram } from './job-timeline.ts'

/** The plots of one job, drawn with uPlot on canvases inside `container`. */
export interface JobCharts {
  update(timeline: JobTimeline, eta: Eta | undefined): void
  resize(): void
  destroy(): void
}

/** When the job should end (ms since the epoch) and its records then. */
export type Eta = { at: number; total: number }

const chartHeight = 100

interface Panel {
  element: HTMLElement
  plot: uPlot
}

export function createJobCharts(container: HTMLElement): JobCharts {
  const theme = readChartTheme(container)
  const { rate, progress, failures, ttft, speed } = createPanels(container, theme)
  const panels = [rate, progress, failures, ttft, speed]
  const { warning, ok, danger, muted } = theme
  const hostColors = [warning, ok, danger, muted, '#0f8b8d', '#8f3fb8', '#b25b00', '#4a6fa5']
  /** Hosts with a line of their own on the tokens/s plot, in the order they appeared. */
  const hostsShown: string[] = []
  return {
    update(timeline, eta) {
      const { series, values } = timeline
      // One line per host once a second host shows up (with one, its line is the total's).
      if (series.hosts.size >= 2) {
        for (const host of series.hosts.keys()) {
          if (hostsShown.includes(host)) continue
          const stroke = hostColors[hostsShown.length % hostColors.length]!
          hostsShown.push(host)
          rate.plot.addSeries({ label: host, stroke, width: 1, spanGaps: true }, hostsShown.length + 1)
        }
      }
      rate.element.dataset.hosts = String(hostsShown.length)
      rate.plot.setData([
        series.time,
        series.tokensPerSecond,
        ...hostsShown.map((host) => series.hosts.get(host) ?? []),
      ])
      progress.plot.setData(progressData(series, eta))
      failures.plot.setData([series.time, series.failed, series.retries])
      const ttftBins = histogram(values.ttftMs)
      ttft.plot.setData([ttftBins.centers, ttftBins.counts])
      ttft.element.dataset.records = String(values.ttftMs.length)
      const speedBins = histogram(values.tokensPerSecond)
      speed.plot.setData([speedBins.centers, speedBins.counts])
      speed.element.dataset.records = String(values.tokensPerSecond.length)
      progress.element.dataset.finished = String(series.finished.at(-1) ?? 0)
    },
    resize() {
      for (const { element, plot } of panels) {
        const width = widthOf(element)
        if (width !== plot.width) plot.setSize({ width, height: chartHeight })
      }
    },
    destroy() {
      for (const { element, plot } of panels) {
        plot.destroy()
        element.remove()
      }
    },
  }
}

/** Records done over time, and a dashed line from the last sample to the ETA. */
function progressData(series: TimelineSeries, eta: Eta | undefined): uPlot.AlignedData {
  const time = [...series.time]
  const finished: Array<number | null> = [...series.finished]
  const projection: Array<number | null> = finished.map(() => null)
  if (eta && time.length > 0 && eta.at / 1000 > time.at(-1)!) {
    projection[projection.length - 1] = finished.at(-1)!
    time.push(eta.at / 1000)
    finished.push(null)
    projection.push(eta.total)
  }
  return [time, finished, projection]
}

/** The five plots, in the order they show. */
function createPanels(container: HTMLElement, theme: ChartTheme) {
  const { accent, ok, danger, warning, muted } = theme
  const bars = uPlot.paths.bars?.({ size: [0.85, 48] })
  const panel = (name: string, options: Omit<uPlot.Options, 'width' | 'height'>): Panel =>
    addPanel(container, name, options)
  const timeScale = { x: { time: true } }
  const valueScale = { x: { time: false } }
  const legend = { show: false }
  const rate = panel('tokens-per-second', {
    title: 'Tokens/s',
    scales: timeScale,
    legend: { show: true, live: false },
    axes: chartAxes(theme, true),
    series: [{}, { label: 'tokens/s', stroke: accent, fill: `${accent}22`, width: 1.5, spanGaps: true }],
  })
  const progress = panel('records-done', {
    title: 'Records done · ETA',
    scales: timeScale,
    legend,
    axes: chartAxes(theme, true),
    series: [
      {},
      { label: 'done', stroke: ok, width: 1.5 },
      { label: 'ETA', stroke: muted, width: 1, dash: [4, 4], spanGaps: true },
    ],
  })
  const failures = panel('failures', {
    title: 'Failures and retries',
    scales: timeScale,
    legend,
    axes: chartAxes(theme, true),
    series: [
      {},
      { label: 'failed', stroke: danger, width: 1.5 },
      { label: 'retries', stroke: warning, width: 1.5 },
    ],
  })
  const ttft = panel('ttft', {
    title: 'Time to first token (ms)',
    scales: valueScale,
    legend,
    axes: chartAxes(theme, false),
    series: [
      {},
      { label: 'records', stroke: accent, fill: `${accent}66`, paths: bars, points: { show: false } },
    ],
  })
  const speed = panel('record-speed', {
    title: 'Tokens/s per record',
    scales: valueScale,
    legend,
    axes: chartAxes(theme, false),
    series: [{}, { label: 'records', stroke: ok, fill: `${ok}66`, paths: bars, points: { show: false } }],
  })
  return { rate, progress, failures, ttft, speed }
}

function addPanel(
  container: HTMLElement,
  name: string,
  options: Omit<uPlot.Options, 'width' | 'height'>,
): Panel {
  const element = container.ownerDocument.createElement('figure')
  element.className = 'chart'
  element.dataset.chart = name
  container.append(element)
  const plot = new uPlot({ ...options, width: widthOf(element), height: chartHeight }, [[]], element)
  return { element, plot }
}

function widthOf(element: HTMLElement): number {
  return Math.max(160, Math.floor(element.clientWidth || 240))
}
