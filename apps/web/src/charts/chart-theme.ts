import type uPlot from 'uplot'

/** The page's colours and font as the charts draw them (CSS custom properties, with fallbacks). */
export interface ChartTheme {
  accent: string
  ok: string
  danger: string
  warning: string
  muted: string
  border: string
  font: string
}

export function readChartTheme(container: HTMLElement): ChartTheme {
  const style = getComputedStyle(container)
  const color = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback
  return {
    accent: color('--accent', '#2457c5'),
    ok: color('--ok', '#1f7a3d'),
    danger: color('--danger', '#b42318'),
    warning: color('--warning', '#8a5a00'),
    muted: color('--text-muted', '#6b6b66'),
    border: color('--border', '#deded8'),
    font: `10px ${style.getPropertyValue('--sans').trim() || 'sans-serif'}`,
  }
}

const clock = (_plot: uPlot, splits: number[]): string[] =>
  splits.map((split) => new Date(split * 1000).toLocaleTimeString([], { hour12: false }))

/** A plot's two axes; `xTime`: the x axis shows clock times. */
export function chartAxes(theme: ChartTheme, xTime: boolean): uPlot.Axis[] {
  const { muted: stroke, font, border } = theme
  return [
    {
      stroke,
      font,
      size: 22,
      grid: { stroke: border, width: 1 },
      ticks: { show: false },
      ...(xTime ? { values: clock, space: 70 } : {}),
    },
    { stroke, font, grid: { stroke: border, width: 1 }, ticks: { show: false }, size: 36 },
  ]
}
