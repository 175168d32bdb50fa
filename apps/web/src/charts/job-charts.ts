import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import './charts.css'
import { type ChartTheme, chartAxes, readChartTheme } from './chart-theme.ts'
import type { JobTimeline, TimelineSeries } from './job-timeline.ts'
import { histogram } from './job-timeline.ts'

/** The plots of one job, drawn with uPlot on canvases inside `container`. */
export interface JobCharts {
  /** Draws the plots with this data, one per `defer` call. */
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

/**
 * The plots of one job in `container`, built one per `defer` call, the first one too (one per idle
 * period in the page: five uPlot instances at once are a task of 30–40 ms at a job's start, and one
 * is 10–15 ms); each gets the last data when it is built.
 */
export function createJobCharts(
  container: HTMLElement,
  defer: (task: () => void) => void = (task) => task(),
): JobCharts {
  const theme = readChartTheme(container)
  const specs = panelSpecs(theme)
  const panels = new Map<PanelName, Panel>()
  const { warning, ok, danger, muted } = theme
  const hostColors = [warning, ok, danger, muted, '#0f8b8d', '#8f3fb8', '#b25b00', '#4a6fa5']
  /** Hosts with a line of their own on the tokens/s plot, in the order they appeared. */
  const hostsShown: string[] = []
  let latest: { timeline: JobTimeline; eta: Eta | undefined } | undefined
  let destroyed = false

  const draw = (which: ReadonlyMap<PanelName, Panel>): void => {
    if (latest) drawPanels(which, { shown: hostsShown, colors: hostColors }, latest.timeline, latest.eta)
  }

  const build = (index: number): void => {
    const spec = specs[index]
    if (destroyed || !spec) return
    const panel = addPanel(container, spec.name, spec.options)
    panels.set(spec.name, panel)
    draw(new Map([[spec.name, panel]]))
    if (index + 1 < specs.length) defer(() => build(index + 1))
  }
  defer(() => build(0))

  /** Plots still to draw with the latest data: one per `defer` call, not all five in one task. */
  const stale: PanelName[] = []
  const drawNext = (): void => {
    const name = stale.shift()
    const panel = name && panels.get(name)
    if (destroyed || !name || !panel) return
    draw(new Map([[name, panel]]))
    if (stale.length > 0) defer(drawNext)
  }

  return {
    update(timeline, eta) {
      latest = { timeline, eta }
      // Still drawing the last update: the plots left take the newest data when their turn comes.
      if (stale.length > 0) return
      stale.push(...panels.keys())
      if (stale.length > 0) defer(drawNext)
    },
    resize() {
      for (const { element, plot } of panels.values()) {
        const width = widthOf(element)
        if (width !== plot.width) plot.setSize({ width, height: chartHeight })
      }
    },
    destroy() {
      destroyed = true
      for (const { element, plot } of panels.values()) {
        plot.destroy()
        element.remove()
      }
    },
  }
}

/** Gives each plot built so far the timeline's data (a new host gets a line of its own). */
function drawPanels(
  panels: ReadonlyMap<PanelName, Panel>,
  hosts: { shown: string[]; colors: readonly string[] },
  timeline: JobTimeline,
  eta: Eta | undefined,
): void {
  const { series, values } = timeline
  const rate = panels.get('tokens-per-second')
  if (rate) {
    // One line per host once a second host shows up (with one, its line is the total's).
    if (series.hosts.size >= 2) {
      for (const host of series.hosts.keys()) {
        if (hosts.shown.includes(host)) continue
        const stroke = hosts.colors[hosts.shown.length % hosts.colors.length]!
        hosts.shown.push(host)
        rate.plot.addSeries({ label: host, stroke, width: 1, spanGaps: true }, hosts.shown.length + 1)
      }
    }
    rate.element.dataset.hosts = String(hosts.shown.length)
    rate.plot.setData([
      series.time,
      series.tokensPerSecond,
      ...hosts.shown.map((host) => series.hosts.get(host) ?? []),
    ])
  }
  const progress = panels.get('records-done')
  if (progress) {
    progress.plot.setData(progressData(series, eta))
    progress.element.dataset.finished = String(series.finished.at(-1) ?? 0)
  }
  panels.get('failures')?.plot.setData([series.time, series.failed, series.retries])
  for (const [name, recordValues] of [
    ['ttft', values.ttftMs],
    ['record-speed', values.tokensPerSecond],
  ] as const) {
    const panel = panels.get(name)
    if (!panel) continue
    const bins = histogram(recordValues)
    panel.plot.setData([bins.centers, bins.counts])
    panel.element.dataset.records = String(recordValues.length)
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

type PanelName = 'tokens-per-second' | 'records-done' | 'failures' | 'ttft' | 'record-speed'

/** The five plots, in the order they show. */
function panelSpecs(theme: ChartTheme): Array<{ name: PanelName; options: PanelOptions }> {
  const { accent, ok, danger, warning, muted } = theme
  const bars = uPlot.paths.bars?.({ size: [0.85, 48] })
  const timeScale = { x: { time: true } }
  const valueScale = { x: { time: false } }
  const legend = { show: false }
  return [
    {
      name: 'tokens-per-second',
      options: {
        title: 'Tokens/s',
        scales: timeScale,
        legend: { show: true, live: false },
        axes: chartAxes(theme, true),
        series: [{}, { label: 'tokens/s', stroke: accent, fill: `${accent}22`, width: 1.5, spanGaps: true }],
      },
    },
    {
      name: 'records-done',
      options: {
        title: 'Records done · ETA',
        scales: timeScale,
        legend,
        axes: chartAxes(theme, true),
        series: [
          {},
          { label: 'done', stroke: ok, width: 1.5 },
          { label: 'ETA', stroke: muted, width: 1, dash: [4, 4], spanGaps: true },
        ],
      },
    },
    {
      name: 'failures',
      options: {
        title: 'Failures and retries',
        scales: timeScale,
        legend,
        axes: chartAxes(theme, true),
        series: [
          {},
          { label: 'failed', stroke: danger, width: 1.5 },
          { label: 'retries', stroke: warning, width: 1.5 },
        ],
      },
    },
    {
      name: 'ttft',
      options: {
        title: 'Time to first token (ms)',
        scales: valueScale,
        legend,
        axes: chartAxes(theme, false),
        series: [
          {},
          { label: 'records', stroke: accent, fill: `${accent}66`, paths: bars, points: { show: false } },
        ],
      },
    },
    {
      name: 'record-speed',
      options: {
        title: 'Tokens/s per record',
        scales: valueScale,
        legend,
        axes: chartAxes(theme, false),
        series: [{}, { label: 'records', stroke: ok, fill: `${ok}66`, paths: bars, points: { show: false } }],
      },
    },
  ]
}

type PanelOptions = Omit<uPlot.Options, 'width' | 'height'>

function addPanel(container: HTMLElement, name: PanelName, options: PanelOptions): Panel {
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
