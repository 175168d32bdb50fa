// The hub bench's last two lines: our hub against the reference relay as ratios (what a noisy
// machine still compares fairly), with the absolute p99 and CPU beside them, and the issue's targets.
import type { HubBenchRow } from './hub.bench.ts'

const format = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'none arrived'
const ratio = (ours: number, theirs: number) => (theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : 'n/a')

export function printVerdict(
  hubRuns: HubBenchRow[],
  hub: HubBenchRow,
  reference: HubBenchRow,
  shared: HubBenchRow | undefined,
): void {
  console.log(
    `our hub / reference (below 1 is better): p99 ${ratio(hub.p99, reference.p99)}, p50 ${ratio(hub.p50, reference.p50)}, CPU ${ratio(hub.cpuPercent, reference.cpuPercent)}, RSS peak ${ratio(hub.hubRssPeakMiB, reference.hubRssPeakMiB)}; held ${format(hub.deliveredPercent, 2)}% vs ${format(reference.deliveredPercent, 2)}%; absolute: p99 ${format(hub.p99, 1)} ms (target <= 25), CPU ${format(hub.cpuPercent)}% of one core (target <= 30)`,
  )
  const targets: [string, boolean][] = [
    [
      'every event delivered to every viewer',
      hubRuns.every((row) => row.missingEvents === 0 && row.closedViewers === 0),
    ],
    ['p99 <= 25 ms', hub.p99 <= 25],
    ['hub CPU <= 30% of one core', hub.cpuPercent <= 30],
    [
      'p99 and CPU no worse than the reference',
      hub.p99 <= reference.p99 && hub.cpuPercent <= reference.cpuPercent,
    ],
  ]
  if (shared) {
    targets.push(['two hubs on Redis: every event held by every viewer', shared.missingEvents === 0])
    targets.push(['two hubs on Redis: p99 within 1.5x of one hub', shared.p99 <= 1.5 * hub.p99])
  }
  console.log(
    `targets (our hub): ${targets.map(([name, met]) => `${name}: ${met ? 'met' : 'NOT met'}`).join('; ')}`,
  )
}
