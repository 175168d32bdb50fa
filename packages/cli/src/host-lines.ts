// The per-host lines of a pool run: in the live panel and after the summary.
import type { HostReport } from '@spout/core'
import { displayWidth, fitLine, formatCount, formatRate } from './format.ts'
import type { Style } from './style.ts'

const stateMark = { up: '●', checking: '◌', down: '○' } as const

/** `● http://gpu-a:11434   3/4 slots · 81.5 tok/s · 120 done` (down: `○ … down: connection refused`). */
export function hostPanelLines(reports: readonly HostReport[], width: number, style: Style): string[] {
  const hostWidth = Math.min(32, Math.max(...reports.map((report) => displayWidth(report.host))))
  return reports.map((report) => {
    const host = fitLine(report.host, hostWidth)
    const label = host + ' '.repeat(Math.max(0, hostWidth - displayWidth(host)))
    const slots = `${report.inFlight}/${report.slots} ${report.fixed ? 'slots' : 'learned'}`
    const parts = [
      slots,
      `${formatRate(report.tokensPerSecond)} tok/s`,
      `${formatCount(report.records)} done`,
    ]
    if (report.failures > 0) parts.push(`${formatCount(report.failures)} failed attempts`)
    let line = `${stateMark[report.state]} ${label}  ${parts.join(' · ')}`
    if (report.state !== 'up') line += ` · ${report.state}${report.reason ? `: ${report.reason}` : ''}`
    const fitted = fitLine(line, width)
    return report.state === 'up' ? style.dim(fitted) : style.yellow(fitted)
  })
}

/** After the summary: `spout: host http://gpu-a:11434: 120 records · 4 slots (learned) · 15,230 tokens`. */
export function hostSummaryLines(reports: readonly HostReport[]): string[] {
  return reports.map((report) => {
    const parts = [
      `${formatCount(report.records)} record${report.records === 1 ? '' : 's'}`,
      `${report.slots} slot${report.slots === 1 ? '' : 's'} (${report.fixed ? 'fixed' : 'learned'})`,
      `${formatCount(report.tokens)} tokens`,
    ]
    if (report.failures > 0) parts.push(`${formatCount(report.failures)} failed attempts`)
    if (report.state !== 'up') parts.push(`${report.state}${report.reason ? `: ${report.reason}` : ''}`)
    return `spout: host ${report.host}: ${parts.join(' · ')}`
  })
}
