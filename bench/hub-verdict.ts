// What the hub bench prints: a row per hub, then our hub against the reference relay as ratios
// (what a noisy machine still compares fairly), with the absolute p99 and CPU beside them, the
// issue's targets, and the lockstep job's stress line.
import type { HubBenchOptions, HubBenchRow } from './hub.bench.ts'

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

/** The table: one row per hub, then every run of ours. */
export function printRows(
  resolved: Required<HubBenchOptions>,
  rows: HubBenchRow[],
  hubRuns: HubBenchRow[],
): void {
  console.log(
    `\nhub fan-out: ${resolved.chunksPerSecond} chunks/s in (${resolved.job} records) for ${resolved.seconds} s after ${resolved.warmUpSeconds} s of warm-up, ${resolved.viewers} viewers in 2 processes, each hub in its own process; hub: median p99 of ${resolved.hubRepeats} runs`,
  )
  console.log(
    'hub       | events sent | held % | viewers complete | closed | p50 ms | p99 ms | max ms | end lag median/max ms | hub CPU % of one core | hub RSS peak MiB | viewer processes CPU % | MiB read per viewer',
  )
  for (const row of rows) {
    console.log(
      [
        row.hub.padEnd(9),
        row.sent,
        format(row.deliveredPercent, 2),
        `${row.completeViewers}/${resolved.viewers}`,
        row.closedViewers,
        format(row.p50, 1),
        format(row.p99, 1),
        format(row.max, 1),
        `${format(row.endLagMedian)}/${format(row.endLagMax)}`,
        format(row.cpuPercent),
        format(row.hubRssPeakMiB),
        format(row.viewerCpuPercent),
        format(row.wireMiBPerViewer, 1),
      ].join(' | '),
    )
  }
  console.log(
    `hub runs (p50/p99/max ms, CPU % (its kernel part), longest event-loop stall of hub/viewers ms, tick ms): ${hubRuns.map((row) => `${format(row.p50, 1)}/${format(row.p99, 1)}/${format(row.max, 1)}, ${format(row.cpuPercent)}% (kernel ${format(row.systemCpuPercent)}%), ${format(row.hubLoopDelayMax)}/${format(row.viewerLoopDelayMax)}, ${format(row.tickMs, 1)}`).join('; ')}`,
  )
}

/**
 * The stress case beside the verdict: the same load with every record ending in the same tick, a
 * frame of every slot's whole response to every viewer at once (about 90 KB × 500 every 1.9 s).
 */
export function printStress(hub: HubBenchRow, reference: HubBenchRow): void {
  console.log(
    `lockstep job (stress, not in the verdict: every record ends in the same tick): our hub p50/p99/max ${format(hub.p50, 1)}/${format(hub.p99, 1)}/${format(hub.max, 1)} ms at ${format(hub.cpuPercent)}% (held ${format(hub.deliveredPercent, 2)}%), reference ${format(reference.p50, 1)}/${format(reference.p99, 1)}/${format(reference.max, 1)} ms at ${format(reference.cpuPercent)}%: p99 ${ratio(hub.p99, reference.p99)}, CPU ${ratio(hub.cpuPercent, reference.cpuPercent)}`,
  )
}
